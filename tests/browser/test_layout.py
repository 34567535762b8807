"""The pages at the widths people use them (320, 375 and 414 px phones, 1440
and 1920 px screens): nothing overlaps, nothing spills, nothing scrolls
sideways but the phone's strip of sort links, the whole table row with its
buttons fits a wide screen, and axe-core finds nothing serious. Checked from
element rectangles (tests/browser/geometry.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import expect

from pmd.models import BatchDownloadRequest
from pmd_project.errors import server_error
from posts.public_ids import user_sqid
from testing.factories import make_posts
from tests.browser.axe import assert_accessible
from tests.browser.geometry import assert_laid_out, not_fully_shown, overlaps

PHONES = [320, 375, 414]
SCREENS = [1440, 1920]
# Long titles and descriptions exist in the wild (seed_demo makes some).
LONG = "Wizard 🌸 — " + " ".join(["robot cyber slime rocket dungeon"] * 7)


@pytest.fixture
def posts_as_people_have_them(owner):
    """What a real dashboard holds: long and emoji titles, empty descriptions,
    big counts, old uploads ("1 week, 5 days ago"), hidden, moderator-hidden
    and deleted posts, and a download request in each state."""
    now = timezone.now()
    old = now - timedelta(days=12, hours=3)
    make_posts(owner, 4, title=LONG, description=LONG, created_at=old, file_bytes=110_700,
               reaction_count=12_345, comment_count=4_321, view_count=987_654)  # fmt: skip
    make_posts(owner, 3, title="Frog Cat Mushroom 🐸", description="", hidden_by_user=True)
    make_posts(owner, 2, hidden_by_mod=True, created_at=old)
    make_posts(owner, 1, title=LONG, hidden_by_user=True, hidden_by_mod=True)
    make_posts(owner, 10, file_format="webp", file_bytes=1023)
    make_posts(owner, 8, title=LONG, deleted_by_user=True, created_at=old,
               deleted_by_user_date=now - timedelta(days=5, hours=13))  # fmt: skip
    for status, extra in (
        ("processing", {"progress": 3, "started_at": now}),
        ("ready", {"completed_at": now, "expires_at": now + timedelta(days=7),
                   "file_path": "bdr/x.zip", "file_size_bytes": 2048}),
        ("failed", {"error_message": "The vault was unreachable."}),
    ):  # fmt: skip
        BatchDownloadRequest.objects.create(
            user=owner, post_ids=[1, 2], artwork_count=2, status=status, part_number=2,
            part_count=5, created_at=now - timedelta(hours=3), **extra,
        )  # fmt: skip


@pytest.fixture
def at_width(page, owner, log_in, posts_as_people_have_them):
    """The owner's page `path` in a window `width` px wide."""
    log_in(page, owner)

    def open_page(width: int, path: str = "posts"):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"/u/{user_sqid(owner.pk)}/{path}")
        return page

    return open_page


def row_tops(page) -> list[float]:
    """Where the first rows (or cards) are on the page, from its top."""
    return page.locator("#post-table tbody tr[data-post-id]").evaluate_all(
        "rows => rows.slice(0, 3).map(row => row.getBoundingClientRect().top + window.scrollY)"
    )


@pytest.mark.parametrize("width", PHONES)
def test_the_profile_fits_a_phone(at_width, width):
    page = at_width(width, "")
    tiles = page.locator(".art-tile")
    expect(tiles).to_have_count(14)
    assert_laid_out(page)
    # Two tiles a row, each inside the screen, long titles cut with an ellipsis.
    first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
    assert first["y"] == second["y"] and second["x"] + second["width"] <= width
    assert not_fully_shown(page, ".art-tile img") == []
    assert_accessible(page)


@pytest.mark.parametrize("width", PHONES)
def test_cards_of_posts_and_of_recently_deleted_fit_a_phone(at_width, width):
    page = at_width(width)
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(20)
    # Moderator-hidden cards carry the longest row of state and buttons.
    assert_laid_out(page)
    assert_accessible(page)

    page.get_by_role("link", name="Recently deleted").click()
    cards = page.locator("#post-table tbody tr[data-post-id]")
    expect(cards).to_have_count(8)
    expect(cards.first.locator(".deleted-when")).to_have_text("Deleted 5\xa0days, 13\xa0hours ago")
    assert_laid_out(page)
    assert not_fully_shown(page, "#post-table tbody [data-row-action='restore']") == []
    assert_accessible(page)


@pytest.mark.parametrize("width", [320, 375])
def test_selecting_on_a_phone_moves_nothing_and_every_badge_stays_in_view(at_width, width):
    page = at_width(width)
    badges = "[data-selection-bar] [data-select]"
    assert not_fully_shown(page, badges) == []
    before = row_tops(page)
    page.locator("#post-table tbody tr[data-post-id]").first.locator("[data-select-row]").check()
    expect(page.locator("[data-selected-count]")).to_have_text("1")

    # The actions are fixed to the bottom edge, with the count; the bar's own
    # place in the page stays as it was, so the cards do not jump.
    actions = page.locator("[data-action-bar]")
    expect(actions).to_have_css("position", "fixed")
    box = actions.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(800, abs=1)
    expect(actions.locator(".action-bar-count")).to_have_text("1 selected")
    assert row_tops(page) == before
    assert not_fully_shown(page, badges) == []
    assert_laid_out(page)
    # Scrolled to the end, the last card is above the fixed actions.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    last = page.locator("#post-table tbody tr[data-post-id]").last.bounding_box()
    assert last["y"] + last["height"] <= actions.bounding_box()["y"]
    assert_accessible(page)


@pytest.mark.parametrize("width", SCREENS)
def test_the_whole_row_fits_a_wide_screen(at_width, width):
    page = at_width(width)
    rows = page.locator("#post-table tbody tr[data-post-id]")
    expect(rows).to_have_count(20)
    assert_laid_out(page)
    scroller = page.locator(".table-scroll")
    assert scroller.evaluate("box => box.scrollWidth - box.clientWidth") == 0
    # Every column is there (the licence from 1,600 px), and every cell, each
    # row's trash included, is on screen.
    expect(page.locator("#post-table thead th:visible")).to_have_count(16 if width >= 1600 else 15)
    cells = "#post-table tbody td:not(.col-thumb)" + ("" if width >= 1600 else ":not(.col-license)")
    assert not_fully_shown(page, cells) == []
    # The visibility column is as wide as an eye and a shield, not a sentence.
    assert page.locator("th.col-visibility").bounding_box()["width"] < 100
    # Titles get the room the other columns leave.
    assert page.locator("th.col-title").bounding_box()["width"] >= 180

    # Nothing selected: "Request download" is as dim as the other disabled buttons.
    download = page.locator("[data-request-download]")
    expect(download).to_be_disabled()
    expect(download).to_have_css("box-shadow", "none")
    expect(download).to_have_css("border-color", "rgb(42, 42, 72)")

    # The first selection moves no row under the pointer.
    before = row_tops(page)
    rows.first.locator(".col-format").click()
    expect(page.locator("[data-selected-count]")).to_have_text("1")
    expect(download).to_be_enabled()
    assert row_tops(page) == before
    assert overlaps(page) == []
    assert_accessible(page)


@pytest.mark.parametrize("width", [*PHONES, *SCREENS])
def test_the_error_pages_are_the_sites_with_a_way_back(page, width, django_db_blocker):
    page.set_viewport_size({"width": width, "height": 800})
    # The 500 page as Django renders it, with no request and no database.
    with django_db_blocker.block():
        broken = server_error(RequestFactory().get("/")).content.decode()
    page.route("**/broken", lambda route: route.fulfill(status=500, body=broken,
                                                        content_type="text/html"))  # fmt: skip
    for path, heading in (
        ("/no/such/page", "There is nothing at this address"),
        ("/broken", "Something went wrong on our side"),
    ):
        response = page.goto(path)
        assert response.status == (404 if path.startswith("/no") else 500)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        # In the site's own style (its stylesheet loaded), nothing out of place.
        expect(page.locator("body")).to_have_css("background-color", "rgb(11, 11, 20)")
        assert_laid_out(page)
        assert_accessible(page)
    page.get_by_role("link", name="Go to your profile").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    icon = page.request.get("/favicon.ico")
    assert icon.ok and icon.headers["content-type"] == "image/svg+xml"
