"""The timeline in Chromium at 1280 and 375 px: month group rows when sorted
by date, and "Select this month" selecting that month's posts on every page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from posts.public_ids import user_sqid
from testing.factories import make_post
from tests.browser.axe import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(params=[1280, 375], ids=["desktop", "phone"])
def dashboard(request, page, owner, log_in):
    page.set_viewport_size({"width": request.param, "height": 900})
    march = [
        make_post(owner, created_at=datetime(2026, 3, day, tzinfo=UTC), write_file=False)
        for day in range(1, 21)
    ]
    february = [
        make_post(owner, created_at=datetime(2026, 2, day, tzinfo=UTC), write_file=False)
        for day in (3, 9)
    ]
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts?size=16&page=2")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(6)
    return page, march, february


def test_select_this_month_selects_it_on_every_page(dashboard):
    page, march, february = dashboard
    groups = page.locator("tr.month-row")
    expect(groups).to_have_count(2)
    expect(groups.first).to_contain_text("March 2026")
    expect(groups.first).to_contain_text("20 posts")
    expect(groups.nth(1)).to_contain_text("February 2026")
    assert_accessible(page)
    page.get_by_role("button", name="Select all 20 posts of March 2026").click()
    expect(page.locator("[data-selected-count]")).to_have_text("20")
    selected = page.evaluate("window.PMD.selection.ids()")
    assert sorted(selected) == sorted(post.pk for post in march)
    page.get_by_role("button", name="Select all 2 posts of February 2026").click()
    expect(page.locator("[data-selected-count]")).to_have_text("22")
    assert_accessible(page)
