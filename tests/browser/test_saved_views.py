"""Saved views in Chromium at 1280 and 375 px: save the current search as a
tab with its count, then rename, reorder and delete it; axe clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from pmd.models import SavedView
from posts.public_ids import user_sqid
from testing.factories import make_posts
from tests.browser.axe import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(params=[1280, 375], ids=["desktop", "phone"])
def dashboard(request, page, owner, log_in):
    page.set_viewport_size({"width": request.param, "height": 900})
    make_posts(owner, 4, file_format="gif", frame_count=6, title="Walk cycle")
    make_posts(owner, 3, title="Still")
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts?q=frames%3A%3E1&sort=title&dir=asc")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(4)
    return page


def tabs(page):
    return page.get_by_role("navigation", name="Which posts")


def save_view(page, name: str) -> None:
    tabs(page).get_by_role("button", name="Save view").click()
    dialog = page.get_by_role("dialog", name="Save this view")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()


def test_save_rename_reorder_delete(dashboard, owner):
    page = dashboard
    save_view(page, "Animations")
    tab = tabs(page).get_by_role("link", name="Animations 4")
    expect(tab).to_have_attribute("aria-current", "page")
    view = SavedView.objects.get(user=owner)
    assert (view.search, view.sort, view.direction) == ("frames:>1", "title", "asc")
    # A second view, from another search; then the first tab brings the first back.
    page.get_by_role("searchbox", name="Search posts").fill("-frames:>1")
    page.get_by_role("searchbox", name="Search posts").press("Enter")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(3)
    save_view(page, "Stills")
    expect(tabs(page).get_by_role("link", name="Stills 3")).to_be_visible()
    tabs(page).get_by_role("link", name="Animations 4").click()
    expect(page).to_have_url(re.compile(r"q=frames%3A%3E1&sort=title&dir=asc"))
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(4)
    assert_accessible(page)

    tabs(page).get_by_role("button", name="Manage views").click()
    manage = page.get_by_role("dialog", name="Saved views")
    expect(manage.get_by_role("textbox")).to_have_count(2)
    assert_accessible(page)
    manage.get_by_label("Name of view 2").fill("Still frames")
    manage.get_by_role("button", name="Rename view “Stills”").click()
    expect(tabs(page).get_by_role("link", name="Still frames 3")).to_be_visible()
    manage.get_by_role("button", name="Move “Still frames” up").click()
    expect(tabs(page).locator(".saved-view-tab").first).to_contain_text("Still frames")
    manage.get_by_role("button", name="Delete view “Animations”").click()
    expect(tabs(page).locator(".saved-view-tab")).to_have_count(1)
    # A name in use is refused where it was typed.
    manage.get_by_label("Name of view 1").fill("")
    manage.get_by_role("button", name="Rename view “Still frames”").click()
    expect(manage.get_by_role("alert")).to_contain_text("Give the view a name")
    page.keyboard.press("Escape")
    expect(manage).to_be_hidden()
    assert list(SavedView.objects.values_list("name", "position")) == [("Still frames", 0)]
