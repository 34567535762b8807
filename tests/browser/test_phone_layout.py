"""The phone layout: below 640 px each post is a card, the
selection's actions hold the bottom of the screen while posts are selected,
and nothing scrolls sideways."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from posts.models import Post
from testing.factories import make_posts

PHONE = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def browser_context_args(browser_context_args):
    """A touch screen 375 px wide."""
    return {**browser_context_args, "viewport": PHONE, "has_touch": True, "is_mobile": True}


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_tap_three_cards_hide_them_from_the_fixed_selection_bar(open_dashboard, owner):
    make_posts(owner, 10)
    page = open_dashboard()
    assert scroll_width(page) <= PHONE["width"]
    cards = page.locator("#post-table tbody tr[data-post-id]")
    # A card: one column, its title readable beside its thumbnail.
    first = cards.first.bounding_box()
    assert first["x"] >= 0 and first["x"] + first["width"] <= PHONE["width"]
    expect(cards.first.locator(".col-title")).to_be_visible()
    expect(cards.first.locator(".col-description")).to_be_hidden()
    assert cards.nth(1).bounding_box()["y"] >= first["y"] + first["height"]

    bar = page.locator("[data-selection-bar]")
    actions = bar.locator("[data-action-bar]")
    expect(bar).to_have_css("position", "static")
    expect(actions).to_be_hidden()
    chosen = []
    for index in (0, 2, 5):
        card = cards.nth(index)
        chosen.append(card.get_attribute("data-post-id"))
        title = card.locator(".col-title .truncate").inner_text()
        card.get_by_role("checkbox", name=f"Select “{title}”", exact=True).tap()
    expect(bar.locator(".selected-count")).to_have_text("3 selected")
    expect(actions).to_have_css("position", "fixed")
    expect(actions.locator(".action-bar-count")).to_have_text("3 selected")
    box = actions.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(PHONE["height"], abs=1)
    assert box["width"] == pytest.approx(PHONE["width"], abs=1)
    assert scroll_width(page) <= PHONE["width"]

    actions.get_by_role("button", name="Hide", exact=True).tap()
    expect(page.get_by_role("status").filter(has_text="3 posts hidden")).to_be_visible()
    for post_id in chosen:
        card = page.locator(f'tr[data-post-id="{post_id}"]')
        expect(card).to_have_class("is-hidden")
        expect(card.locator(".row-status")).to_have_text("Hidden")
        expect(card.locator(".row-status")).to_be_visible()
    others = page.locator("#post-table tbody tr[data-post-id]:not(.is-hidden)")
    expect(others).to_have_count(7)
    expect(others.locator(".row-status").first).to_have_text("Visible")
    assert {
        str(pk) for pk in Post.objects.filter(hidden_by_user=True).values_list("id", flat=True)
    } == set(chosen)
    # Nothing is selected any more: the actions leave the screen's edge.
    expect(actions).to_be_hidden()
    assert scroll_width(page) <= PHONE["width"]


def test_sorting_and_filters_stay_reachable_on_a_phone(open_dashboard, owner):
    make_posts(owner, 20, title="Frog")
    make_posts(owner, 5, title="Castle")
    page = open_dashboard()
    title = page.get_by_role("link", name="Title", exact=True)
    expect(title).to_be_visible()
    title.tap()
    expect(page.locator("th.col-title")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#post-table tbody .col-title").first).to_have_text("Castle")
    page.get_by_label("Show").select_option("hidden")
    expect(page.locator(".empty-state")).to_contain_text("No posts match")
    page.get_by_label("Show").select_option("all")
    page.get_by_label("Search posts").fill("frog")
    expect(page.locator(".table-summary")).to_contain_text("of 20 matching")
    expect(page).to_have_url(re.compile(r"q=frog"))
    assert scroll_width(page) <= PHONE["width"]


def test_long_values_of_a_card_stay_apart(open_dashboard, owner):
    """ "1 week, 5 days ago", the format and "108.1 KB" are wider together than
    a 375 px card: no cell runs over another or out of itself."""
    make_posts(
        owner,
        1,
        created_at=timezone.now() - timedelta(days=12, hours=3),
        file_bytes=110_700,
    )
    page = open_dashboard()
    card = page.locator("#post-table tbody tr[data-post-id]").first
    expect(card.locator(".col-uploaded")).to_have_text("1\xa0week, 5\xa0days ago")
    cells = [".col-title", ".col-uploaded", ".col-format", ".col-size", ".col-visibility"]
    boxes = {cell: card.locator(cell).bounding_box() for cell in cells}
    for first, second in itertools.combinations(cells, 2):
        a, b = boxes[first], boxes[second]
        apart = (
            a["x"] + a["width"] <= b["x"] + 0.5
            or b["x"] + b["width"] <= a["x"] + 0.5
            or a["y"] + a["height"] <= b["y"] + 0.5
            or b["y"] + b["height"] <= a["y"] + 0.5
        )
        assert apart, (first, second, a, b)
    for cell in cells[:4]:
        assert card.locator(cell).evaluate("cell => cell.scrollWidth <= cell.clientWidth"), cell
    assert scroll_width(page) <= PHONE["width"]
