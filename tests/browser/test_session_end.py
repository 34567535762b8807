"""A session that ends while the dashboard is open (it expired, or the person
logged out in another tab): whatever the page asks next (a table click, a
batch action, the live stream's reconnection), the whole page goes to the
log-in form, which says so once and leads back to the dashboard. No fragment
of the page ever shows the log-in form."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from pmd.live import BDR_UPDATE, publish
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_posts

ENDED = "Your session has ended. Log in again to go back to where you were."


@pytest.fixture
def dashboard(page, owner, log_in):
    make_posts(owner, 5)

    def open_dashboard(query: str = ""):
        log_in(page, owner)
        page.goto(f"/u/{user_sqid(owner.pk)}/posts{query}")
        expect(page.locator("[data-live-text]")).to_have_text("Live")
        return page

    return open_dashboard


def end_session() -> None:
    """As an expiry does: the browser still sends its cookie, the server no longer knows it."""
    Session.objects.all().delete()


def expect_log_in_form(page, owner, query: str = "") -> None:
    expect(page).to_have_url(re.compile(r"/accounts/login/\?"))
    params = parse_qs(urlsplit(page.url).query)
    assert params["next"] == [f"/u/{user_sqid(owner.pk)}/posts{query}"]
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text(ENDED)).to_have_count(1)
    expect(page.locator(".toast")).to_have_count(0)
    expect(page.locator("#post-table")).to_have_count(0)


def test_a_table_click_takes_the_page_to_the_log_in_form_and_back(dashboard, owner):
    page = dashboard("?sort=title&dir=asc")
    end_session()
    page.get_by_role("link", name="Size", exact=True).click()
    expect_log_in_form(page, owner, "?sort=title&dir=asc")

    # Logging in again leads back to the table as it was.
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/posts\?sort=title&dir=asc$"))
    expect(page.locator("th.col-title")).to_have_attribute("aria-sort", "ascending")


def test_a_batch_action_takes_the_page_to_the_log_in_form(dashboard, owner):
    page = dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    end_session()
    page.get_by_role("button", name="Hide", exact=True).click()
    expect_log_in_form(page, owner)
    assert not Post.objects.filter(hidden_by_user=True).exists()


def test_the_live_streams_refusal_takes_the_page_to_the_log_in_form(dashboard, owner):
    page = dashboard()
    end_session()
    # The stream ends at its next event, and its reconnection is refused.
    publish(owner.pk, BDR_UPDATE, {"id": "nothing", "status": "pending"})
    expect_log_in_form(page, owner)
