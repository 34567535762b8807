"""The search language in the table's search box, at 1280 and 375 px: results,
the note that points at a search it cannot read, the "?" operators popover,
and axe finds nothing blocking in any of them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from posts.public_ids import user_sqid
from testing.factories import make_posts
from tests.browser.axe import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(params=[1280, 375], ids=["desktop", "phone"])
def dashboard(request, page, owner, log_in):
    page.set_viewport_size({"width": request.param, "height": 900})
    make_posts(owner, 5, title="Neon frog", width=32, height=32, hashtags="pixelart")
    make_posts(
        owner, 3, title="Castle", width=64, height=64, file_format="gif", frame_count=8, hashtags=""
    )
    make_posts(owner, 2, title="Hidden castle", hidden_by_user=True, color_count=4, hashtags="")
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(10)
    return page


def search(page, text: str) -> None:
    box = page.get_by_role("searchbox", name="Search posts")
    box.fill(text)
    box.press("Enter")


def test_operators_filter_the_table(dashboard):
    page = dashboard
    search(page, "frames:>1 -is:hidden")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"q=frames%3A%3E1(%20|\+)-is%3Ahidden"))
    expect(page.locator("#table-summary")).to_contain_text("1–3 of 3 matching")
    search(page, "#pixelart size:32x32")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(5)
    search(page, "colors:<=4")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(2)
    assert_accessible(page)


def test_a_search_it_cannot_read_is_shown_with_where(dashboard):
    page = dashboard
    search(page, "castle w:>-1")
    note = page.locator("#search-note[role=alert]")
    expect(note).to_contain_text("Could not read 'w:>-1' at character 8")
    expect(note.locator("mark")).to_have_text("w:>-1")
    box = page.get_by_role("searchbox", name="Search posts")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_attribute("aria-describedby", "search-note")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(0)
    assert_accessible(page)
    search(page, "castle")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(5)
    expect(box).not_to_have_attribute("aria-invalid", "true")


def test_the_help_lists_the_operators(dashboard):
    page = dashboard
    page.get_by_role("button", name="Search operators").click()
    help_box = page.locator("#search-help")
    expect(help_box).to_be_visible()
    for example in ("size:32x32", "colors:<=16", "before:2026-01-01", "-term", "format:gif"):
        expect(help_box).to_contain_text(example)
    box = help_box.bounding_box()
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, "the help fits the screen"
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()


def test_counts_beside_the_filters_follow_the_search_and_choose(dashboard):
    page = dashboard
    facets = page.get_by_role("navigation", name="Filters with their counts")
    expect(facets.get_by_role("link", name="Hidden 2")).to_be_visible()
    expect(facets.get_by_role("link", name="GIF 3")).to_be_visible()
    search(page, "castle")
    expect(facets.get_by_role("link", name="All 5").first).to_have_attribute("aria-current", "true")
    facets.get_by_role("link", name="Hidden 2").click()
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"visibility=hidden"))
    # The form's own control follows the link, so the next change keeps it.
    expect(page.locator("select[name=visibility]")).to_have_value("hidden")
    page.locator("select[name=format]").select_option("gif")
    expect(page).to_have_url(
        re.compile(r"visibility=hidden.*format=gif|format=gif.*visibility=hidden")
    )
    assert_accessible(page)
    search(page, "")
    page.locator("select[name=visibility]").select_option("all")
    page.locator("select[name=format]").select_option("all")
    facets.get_by_role("link", name="#pixelart 5").click()
    expect(page.get_by_role("searchbox", name="Search posts")).to_have_value("#pixelart")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(5)
