"""Accessibility (issue 13, item 1): axe-core finds no serious or critical
WCAG 2.2 AA violation on any page, and names, live regions and focus behave
for screen reader and keyboard users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pmd.models import ActivityEntry, BatchDownloadRequest
from posts.public_ids import user_sqid
from tests.browser.axe import assert_accessible
from tests.factories import make_post, make_posts


@pytest.fixture
def dashboard(page, owner, log_in):
    log_in(page, owner)

    def open_dashboard(query: str = ""):
        page.goto(f"/u/{user_sqid(owner.pk)}/posts{query}")
        expect(page.locator("#post-table")).to_be_visible()
        return page

    return open_dashboard


@pytest.fixture
def downloads(owner):
    """One download request in each state the panel shows."""
    now = timezone.now()
    made = {}
    for status, extra in (
        ("pending", {}),
        ("processing", {"progress": 3, "started_at": now}),
        ("ready", {"completed_at": now, "expires_at": now + timedelta(days=7),
                   "file_path": "bdr/x.zip", "file_size_bytes": 2048}),
        ("failed", {"error_message": "The vault was unreachable."}),
        ("expired", {"expires_at": now - timedelta(days=1)}),
    ):  # fmt: skip
        made[status] = BatchDownloadRequest.objects.create(
            user=owner, post_ids=list(range(1, 7)), artwork_count=6, status=status, **extra
        )
    return made


def with_hidden_and_moderated(owner) -> list:
    posts = make_posts(owner, 12)
    posts += make_posts(owner, 3, hidden_by_user=True)
    posts += make_posts(owner, 1, hidden_by_mod=True)
    return posts


def test_login_page(page):
    page.goto("/accounts/login/")
    assert_accessible(page)
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").filter(has_text="correct username")).to_be_visible()
    assert_accessible(page)


def test_profile(page, owner, log_in):
    make_posts(owner, 5)
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/")
    expect(page.get_by_role("link", name="Post Management Dashboard")).to_be_visible()
    assert_accessible(page)


def test_dashboard_empty(dashboard):
    page = dashboard()
    expect(page.locator(".empty-state")).to_have_text("No posts yet.")
    assert_accessible(page)


def test_dashboard_with_a_selection_hidden_rows_and_downloads(dashboard, owner, downloads):
    with_hidden_and_moderated(owner)
    ActivityEntry.objects.create(user=owner, action="hide", post_ids=[1, 2, 3], count=3)
    page = dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text("16")
    expect(page.locator("#post-table tbody tr.is-hidden")).to_have_count(4)
    assert_accessible(page)


def test_dashboard_with_the_download_dialog_open(dashboard, owner):
    make_posts(owner, 5)
    page = dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Request download").click()
    expect(page.get_by_role("dialog", name="Download 5 artworks")).to_be_visible()
    assert_accessible(page)


def test_dashboard_recently_deleted(dashboard, owner):
    make_posts(owner, 4, deleted_by_user=True, deleted_by_user_date=timezone.now())
    page = dashboard("?view=deleted")
    expect(page.locator("#post-table tbody tr")).to_have_count(4)
    page.locator("#post-table tbody tr").first.locator(".col-format").click()
    assert_accessible(page)


def test_dashboard_at_375_pixels(dashboard, owner, downloads):
    with_hidden_and_moderated(owner)
    page = dashboard()
    page.set_viewport_size({"width": 375, "height": 740})
    assert_accessible(page)
    page.locator("#post-table tbody tr").first.locator("[data-select-row]").check()
    expect(page.locator("[data-selected-count]")).to_have_text("1")
    assert_accessible(page)


@pytest.mark.parametrize(
    "path",
    ["/admin/pmd/batchdownloadrequest/", "/admin/pmd/activityentry/", "/admin/posts/post/"],
)
def test_admin_changelists(page, staff, owner, log_in, downloads, path):
    make_post(owner, title="Sunset Castle", write_file=False)
    ActivityEntry.objects.create(user=owner, action="hide", post_ids=[1, 2], count=2)
    log_in(page, staff)
    page.goto(path)
    expect(page.locator("#result_list")).to_be_visible()
    assert_accessible(page)
