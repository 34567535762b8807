from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_posts


def selected_count(page) -> str:
    return page.locator("[data-selected-count]").inner_text()


def row_titles(page) -> list[str]:
    return page.locator("#post-table tbody .col-title .truncate").all_inner_texts()


@pytest.fixture
def open_dashboard(open_dashboard, owner):
    """The dashboard opens with the owner's 100 posts."""
    make_posts(owner, 100)
    return open_dashboard


def test_clicking_headers_sorts_both_ways(open_dashboard, owner):
    page = open_dashboard()
    page.get_by_role("link", name="Size").click()
    size_header = page.locator("th", has=page.get_by_role("link", name="Size"))
    expect(size_header).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=size&dir=desc"))
    biggest = Post.objects.filter(owner=owner).order_by("-file_bytes", "-id").first()
    expect(page.locator("#post-table tbody tr[data-post-id]").first).to_have_attribute(
        "data-post-id", str(biggest.pk)
    )
    page.get_by_role("link", name="Size").click()
    expect(size_header).to_have_attribute("aria-sort", "ascending")
    smallest = Post.objects.filter(owner=owner).order_by("file_bytes", "id").first()
    expect(page.locator("#post-table tbody tr[data-post-id]").first).to_have_attribute(
        "data-post-id", str(smallest.pk)
    )
    # Only the table was swapped: the page itself never reloaded.
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_paging_page_size_and_back_button(open_dashboard):
    page = open_dashboard()
    expect(page.locator(".table-summary")).to_contain_text("1–32 of 100")
    page.get_by_role("link", name="Next", exact=True).click()
    expect(page.locator(".table-summary")).to_contain_text("33–64 of 100")
    expect(page).to_have_url(re.compile(r"page=2"))
    page.get_by_role("link", name="Last", exact=True).click()
    expect(page.locator(".table-summary")).to_contain_text("97–100 of 100")
    page.go_back()
    expect(page.locator(".table-summary")).to_contain_text("33–64 of 100")
    page.get_by_label("Per page").select_option("64")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(64)
    page.get_by_label("Go to page").fill("9")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".table-note")).to_have_text("There is no page 9; showing page 2 of 2.")


def test_a_page_past_the_end_shows_the_last_with_its_number_and_says_so_by_the_pager(
    open_dashboard,
):
    page = open_dashboard()
    page.get_by_label("Go to page").fill("999")
    page.get_by_role("button", name="Go").click()
    note = page.locator("[data-clamp-note]")
    expect(note).to_have_text("There is no page 999; showing page 4 of 4.")
    expect(page.locator(".table-summary")).to_contain_text("97–100 of 100")
    # The address names the page shown, and the note is where the person looks.
    expect(page).to_have_url(re.compile(r"/posts\?page=4$"))
    expect(note).to_be_in_viewport()
    expect(page.get_by_role("button", name="Go")).to_be_in_viewport()


def test_each_tab_keeps_its_own_selection_through_its_reloads(open_dashboard, owner):
    first = open_dashboard()
    second = first.context.new_page()
    second.goto(first.url)
    rows = first.locator("#post-table tbody tr[data-post-id]")
    ids = [rows.nth(index).get_attribute("data-post-id") for index in range(3)]
    rows.nth(0).locator(".col-format").click()
    rows.nth(1).locator(".col-format").click()
    second.locator("#post-table tbody tr[data-post-id]").nth(2).locator(".col-format").click()
    expect(second.locator("[data-selected-count]")).to_have_text("1")
    for tab, chosen in ((first, ids[:2]), (second, ids[2:])):
        tab.reload()
        expect(tab.locator("[data-selected-count]")).to_have_text(str(len(chosen)))
        for post_id in ids:
            box = tab.locator(f'tr[data-post-id="{post_id}"] [data-select-row]')
            if post_id in chosen:
                expect(box).to_be_checked()
            else:
                expect(box).not_to_be_checked()


def test_back_to_a_page_from_before_an_action_shows_it_as_it_is_now(open_dashboard, owner):
    page = open_dashboard()
    expect(page.locator("[data-total-count]")).to_have_text("100")
    page.get_by_role("link", name="Next", exact=True).click()
    expect(page.locator(".table-summary")).to_contain_text("33–64 of 100")
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("dialog", name="Delete 32 posts?").get_by_role("button", name="Delete").click()
    expect(page.locator("[data-total-count]")).to_have_text("68")
    page.go_back()
    expect(page.locator(".table-summary")).to_contain_text("1–32 of 68")
    expect(page.locator("[data-total-count]")).to_have_text("68")
    # The page still works: the selection badges, the rows, the next swap.
    page.get_by_role("button", name="Select page", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text("32")
    page.get_by_role("link", name="Title", exact=True).click()
    expect(page.locator("th.col-title")).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("[data-selected-count]")).to_have_text("32")
    assert page.evaluate("sessionStorage.getItem('htmx-history-cache')") is None


def test_recently_deleted_sorts_by_when_each_was_deleted(open_dashboard, owner):
    now = timezone.now()
    deleted = make_posts(owner, 3, deleted_by_user=True, deleted_by_user_date=now)
    for hours, post in zip((5, 1, 3), deleted, strict=True):
        Post.objects.filter(pk=post.pk).update(deleted_by_user_date=now - timedelta(hours=hours))
    page = open_dashboard("?view=deleted")
    header = page.locator("th.col-visibility")
    expect(header).to_have_text("Deleted")
    header.get_by_role("link", name="Deleted").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    newest_first = [str(deleted[1].pk), str(deleted[2].pk), str(deleted[0].pk)]
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(3)
    assert (
        page.locator("#post-table tbody tr[data-post-id]").evaluate_all(
            "rows => rows.map(row => row.dataset.postId)"
        )
        == newest_first
    )
    header.get_by_role("link", name="Deleted").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#post-table tbody tr[data-post-id]").first).to_have_attribute(
        "data-post-id", str(deleted[0].pk)
    )
    # Back to the posts, whose table has no such column: sorted as it starts.
    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page.locator("th.col-visibility")).to_have_text("Visible")
    expect(page.locator("th.col-uploaded")).to_have_attribute("aria-sort", "descending")
    expect(page.locator(".table-note")).to_have_count(0)


def test_select_page_and_shift_click_range(open_dashboard):
    page = open_dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text("32")
    expect(page.locator("[data-select-page]")).to_be_checked()
    page.get_by_role("button", name="Unselect all").click()
    expect(page.locator("[data-selected-count]")).to_have_text("0")
    rows = page.locator("#post-table tbody tr[data-post-id]")
    rows.nth(1).locator(".col-format").click()
    rows.nth(5).locator(".col-uploaded").click(modifiers=["Shift"])
    expect(page.locator("[data-selected-count]")).to_have_text("5")
    for index in range(1, 6):
        expect(rows.nth(index).locator("[data-select-row]")).to_be_checked()
    expect(rows.nth(0).locator("[data-select-row]")).not_to_be_checked()
    expect(page.locator("[data-select-page]")).to_have_js_property("indeterminate", True)
    # The checkbox is labelled with the post's title.
    title = rows.nth(7).locator(".col-title .truncate").inner_text()
    page.get_by_role("checkbox", name=f"Select “{title}”", exact=True).check()
    expect(page.locator("[data-selected-count]")).to_have_text("6")


def test_select_all_with_a_search_selects_every_match_on_all_pages(page, owner, log_in):
    make_posts(owner, 600, title="Frog sprite")
    make_posts(owner, 30, title="Castle")
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts")
    page.get_by_label("Search posts").fill("frog")
    expect(page.locator(".table-summary")).to_contain_text("of 600 matching")
    expect(page).to_have_url(re.compile(r"q=frog"))
    with page.expect_response(lambda r: "/api/pmd/posts/ids" in r.url and "cursor=" in r.url):
        page.get_by_role("button", name="Select all", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text("600")
    stored = page.evaluate(
        f"JSON.parse(sessionStorage.getItem('pmd:selection:{user_sqid(owner.pk)}'))"
    )
    assert set(stored) == set(Post.objects.filter(title="Frog sprite").values_list("id", flat=True))


def test_selection_survives_sorting_paging_and_reload(open_dashboard):
    page = open_dashboard()
    rows = page.locator("#post-table tbody tr[data-post-id]")
    first_id = rows.first.get_attribute("data-post-id")
    rows.first.locator(".col-format").click()
    page.get_by_role("link", name="Next", exact=True).click()
    expect(page.locator(".table-summary")).to_contain_text("33–64")
    rows.first.locator(".col-format").click()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.get_by_role("link", name="Title").click()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.reload()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.goto(page.url.split("?")[0])
    expect(page.locator(f'tr[data-post-id="{first_id}"] [data-select-row]')).to_be_checked()


def test_keyboard_shortcuts(open_dashboard):
    page = open_dashboard()
    page.locator("body").press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")
    rows = page.locator("#post-table tbody tr[data-post-id]")
    expect(rows.nth(1)).to_be_focused()
    expect(rows.nth(1).locator("[data-select-row]")).to_be_checked()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Shift+X")
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    page.keyboard.press("k")
    expect(rows.nth(2)).to_be_focused()
    page.keyboard.press("/")
    expect(page.get_by_label("Search posts")).to_be_focused()
    page.keyboard.type("x")  # typing in a field never triggers a shortcut
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    page.get_by_label("Search posts").press("Escape")
    page.locator("h1").click()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()


def test_a_live_panel_refresh_keeps_the_shift_range_anchor(open_dashboard):
    page = open_dashboard()
    page.locator("body").press("j")
    page.keyboard.press("x")
    # A download panel refresh (as on every live update) between two keys,
    # awaited until htmx has settled it.
    page.evaluate(
        """() => new Promise((settled) => {
          document.body.addEventListener("htmx:afterSettle", settled, { once: true });
          document.body.dispatchEvent(new CustomEvent("pmd:bdr-changed"));
        })"""
    )
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Shift+X")
    expect(page.locator("[data-selected-count]")).to_have_text("3")


def test_the_table_works_at_375_pixels(open_dashboard):
    page = open_dashboard()
    page.set_viewport_size({"width": 375, "height": 800})
    # Rows are cards on a phone: minor cells hide, the title shows, and the
    # header's sort links stay reachable.
    expect(page.locator("td.col-description").first).to_be_hidden()
    expect(page.locator("td.col-title").first).to_be_visible()
    expect(page.locator("th.col-title")).to_be_visible()
    # The page itself never scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("button", name="Select page", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text("32")


def test_htmx_works_under_the_content_security_policy(open_dashboard):
    page = open_dashboard()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.reload()
    page.get_by_role("link", name="Title").click()
    expect(page).to_have_url(re.compile(r"sort=title"))
    expect(page.locator("th.col-title")).to_have_attribute("aria-sort", "ascending")
    assert violations == []
