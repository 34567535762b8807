"""Accessibility: axe-core finds no serious or critical
WCAG 2.2 AA violation on any page, and names, live regions and focus behave
for screen reader and keyboard users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pmd.models import ActivityEntry, BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post, make_posts
from tests.browser.axe import WCAG_22_AA, assert_accessible

# Every icon the pages show; none may reach the accessibility tree.
ICONS = "🙈👁🗑↩⬇🗂⌨↻▦←→«»‹›▲▼"


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
            user=owner, post_ids=list(range(1, 7)), artwork_count=6, status=status,
            created_at=now - timedelta(hours=3), **extra,
        )  # fmt: skip
    return made


def with_hidden_and_moderated(owner) -> list:
    posts = make_posts(owner, 12)
    posts += make_posts(owner, 3, hidden_by_user=True)
    posts += make_posts(owner, 1, hidden_by_mod=True)
    # Muted text ("—" for no description) in a dimmed row.
    posts += make_posts(owner, 1, hidden_by_user=True, description="")
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


def test_dashboard_empty(open_dashboard):
    page = open_dashboard()
    expect(page.locator(".empty-state")).to_have_text("No posts yet.")
    assert_accessible(page)


def test_dashboard_with_a_selection_hidden_rows_and_downloads(open_dashboard, owner, downloads):
    with_hidden_and_moderated(owner)
    ActivityEntry.objects.create(user=owner, action="hide", post_ids=[1, 2, 3], count=3)
    page = open_dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text("17")
    expect(page.locator("#post-table tbody tr.is-hidden")).to_have_count(5)
    assert_accessible(page)


def test_dashboard_with_the_download_dialog_open(open_dashboard, owner):
    make_posts(owner, 5)
    page = open_dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Request download").click()
    expect(page.get_by_role("dialog", name="Download 5 artworks")).to_be_visible()
    assert_accessible(page)


def test_dashboard_with_the_hashtag_dialog_open_and_its_refusal_shown(open_dashboard, owner):
    make_posts(owner, 5)
    page = open_dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Add hashtag…", exact=True).click()
    dialog = page.get_by_role("dialog", name="Add a hashtag to 5 posts")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_label("Hashtag").fill("two words")
    page.keyboard.press("Enter")
    expect(dialog.locator("#hashtag-error")).to_contain_text("' ' is not one.")
    # The refusal is part of the field's description, so it is read with it.
    described = dialog.get_by_label("Hashtag").evaluate(
        "field => field.getAttribute('aria-describedby').split(' ')"
        ".map(id => document.getElementById(id).textContent).join(' ')"
    )
    assert "' ' is not one." in described
    assert_accessible(page)


def test_dashboard_with_an_undo_toast(open_dashboard, owner):
    with_hidden_and_moderated(owner)
    page = open_dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Hide", exact=True).click()
    toast = page.locator("#toasts .toast").filter(has_text="posts hidden")
    expect(toast.get_by_role("button", name="Undo", exact=True)).to_be_visible()
    assert_accessible(page)


def test_dashboard_with_a_split_download_offered(open_dashboard, owner):
    posts = make_posts(owner, 300)
    for _ in range(6):
        BatchDownloadRequest.objects.create(user=owner, post_ids=[posts[0].pk], artwork_count=1)
    page = open_dashboard("?size=512")
    page.get_by_role("button", name="Select page", exact=True).click()
    # The button's name says what it does; the reason it describes it with says what fits.
    split = page.get_by_role("button", name="Split into 2 downloads (uses 2 of today's 2)")
    expect(split).to_have_accessible_description(
        "Only 2 downloads are left today: the first 256 of 300 posts fit."
    )
    split.click()
    dialog = page.get_by_role("dialog", name="Download the first 256 of 300 artworks")
    expect(dialog).to_have_accessible_description(
        "Only 2 downloads are left today: the first 256 of 300 posts fit. Request those?"
    )
    # The status line that says "Requesting download 2 of 5…" is a live region already.
    expect(dialog.get_by_role("status")).to_have_count(1)
    assert_accessible(page)


def test_dashboard_recently_deleted(open_dashboard, owner):
    make_posts(owner, 4, deleted_by_user=True, deleted_by_user_date=timezone.now())
    page = open_dashboard("?view=deleted")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(4)
    page.locator("#post-table tbody tr[data-post-id]").first.locator(".col-format").click()
    assert_accessible(page)


def test_dashboard_at_375_pixels(open_dashboard, owner, downloads):
    with_hidden_and_moderated(owner)
    page = open_dashboard()
    page.set_viewport_size({"width": 375, "height": 740})
    assert_accessible(page)
    page.locator("#post-table tbody tr[data-post-id]").first.locator("[data-select-row]").check()
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
    # WCAG rules only: axe's best-practice "label-title-only" does not count the
    # alt text of the magnifier image that labels Django's own search field.
    assert_accessible(page, tags=WCAG_22_AA)


# Names: what a screen reader announces for each control.


def test_controls_are_named_without_their_icons_and_row_controls_name_their_post(
    open_dashboard, owner, downloads
):
    post = make_post(owner, title="Sunset Castle", write_file=False)
    page = open_dashboard()
    for name in (
        "Hide",
        "Unhide",
        "Delete",
        "Add hashtag…",
        "Remove hashtag…",
        "Request download",
        "Keyboard shortcuts",
    ):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)
    expect(
        page.get_by_role("heading", name="Post Management Dashboard", exact=True)
    ).to_be_visible()
    expect(page.get_by_role("link", name="Back to profile", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Recently deleted", exact=True)).to_be_visible()
    row = page.locator(f'tr[data-post-id="{post.pk}"]')
    expect(row.get_by_role("checkbox", name="Select “Sunset Castle”", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name="Hide “Sunset Castle”", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name="Delete “Sunset Castle”", exact=True)).to_be_visible()
    # No icon is part of what a screen reader reads, in a name or as text.
    tree = page.locator("body").aria_snapshot()
    assert not set(ICONS) & set(tree), sorted(set(ICONS) & set(tree))
    # Every row's controls differ: no two buttons on the page share a name.
    names = page.get_by_role("button").evaluate_all("buttons => buttons.map(b => b.ariaLabel)")
    row_names = [name for name in names if name]
    assert len(row_names) == len(set(row_names))
    ready = page.locator(f"#bdr-{downloads['ready'].pk}")
    expect(
        ready.get_by_role("link", name="Download 6 artworks, requested 3 hours ago", exact=True)
    ).to_be_visible()
    failed = page.locator(f"#bdr-{downloads['failed'].pk}")
    expect(
        failed.get_by_role(
            "button", name="Retry the download of 6 artworks, requested 3 hours ago", exact=True
        )
    ).to_be_visible()
    # No emoji is part of any accessible name.
    assert (
        page.evaluate("""() => [...document.querySelectorAll('[aria-hidden="true"]')].length""")
        > 10
    )


def test_recently_deleted_rows_name_their_post(open_dashboard, owner):
    make_post(owner, title="Old Moon", write_file=False, deleted_by_user=True)
    page = open_dashboard("?view=deleted")
    expect(page.get_by_role("button", name="Restore “Old Moon”", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox", name="Select “Old Moon”", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Restore", exact=True)).to_be_visible()


# Live regions: toasts are announced because their regions exist from load.


def test_toasts_go_to_live_regions_that_exist_on_load(open_dashboard, owner):
    from posts.models import Post

    kept, gone = (
        make_post(owner, title="Kept", write_file=False),
        make_post(owner, title="Gone", write_file=False),
    )
    page = open_dashboard()
    polite = page.locator("#toasts")
    assertive = page.locator("#toast-alerts")
    expect(polite).to_have_attribute("role", "status")
    expect(polite).to_have_attribute("aria-live", "polite")
    expect(assertive).to_have_attribute("role", "alert")
    expect(assertive).to_have_attribute("aria-live", "assertive")
    page.get_by_role("button", name="Hide “Kept”", exact=True).click()
    expect(polite.locator(".toast .toast-text")).to_have_text("1 post hidden.")
    # Meanwhile, in another tab, "Gone" is deleted: the server refuses.
    Post.objects.filter(pk=gone.pk).update(
        deleted_by_user=True, deleted_by_user_date=timezone.now()
    )
    page.get_by_role("button", name="Hide “Gone”", exact=True).click()
    expect(assertive.locator(".toast")).to_contain_text(f"Post {gone.pk} is deleted.")
    # The toasts themselves carry no role: the regions announce them.
    assert page.locator(".toast[role]").count() == 0
    assert kept.pk != gone.pk


# Focus: back to where the user was after each dialog and each swap.


def test_each_dialog_gives_focus_back_to_its_opener_on_escape(open_dashboard, owner):
    post = make_post(owner, title="Sunset Castle", write_file=False)
    make_posts(owner, 3)
    page = open_dashboard()
    help_button = page.get_by_role("button", name="Keyboard shortcuts", exact=True)
    help_button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_button).to_be_focused()

    page.get_by_role("button", name="Select page", exact=True).click()
    download = page.get_by_role("button", name="Request download", exact=True)
    download.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Download 4 artworks")).to_be_visible()
    page.keyboard.press("Escape")
    expect(download).to_be_focused()

    trash = page.get_by_role("button", name="Delete “Sunset Castle”", exact=True)
    trash.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Delete “Sunset Castle”?")).to_be_visible()
    page.keyboard.press("Escape")
    expect(trash).to_be_focused()
    assert not type(post).objects.filter(deleted_by_user=True).exists()


def test_after_a_delete_focus_goes_to_the_table_summary(open_dashboard, owner):
    make_post(owner, title="Sunset Castle", write_file=False)
    make_posts(owner, 3)
    page = open_dashboard()
    page.get_by_role("button", name="Delete “Sunset Castle”", exact=True).focus()
    page.keyboard.press("Enter")
    page.get_by_role("dialog", name="Delete “Sunset Castle”?").get_by_role(
        "button", name="Delete", exact=True
    ).click()
    expect(page.get_by_role("status").filter(has_text="1 post deleted")).to_be_visible()
    # The row and its trash are gone: focus lands on "1–3 of 3", not on <body>.
    expect(page.locator(".table-summary")).to_be_focused()
    expect(page.locator(".table-summary")).to_contain_text("1–3 of 3")


def test_a_sort_swaps_the_table_and_focus_stays_on_that_header(open_dashboard, owner):
    make_posts(owner, 40)
    page = open_dashboard()
    size = page.get_by_role("link", name="Size", exact=True)
    size.focus()
    page.keyboard.press("Enter")
    header = page.locator("th", has=size)
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(size).to_be_focused()
    page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(size).to_be_focused()
    # A mouse click too.
    page.get_by_role("link", name="Title", exact=True).click()
    expect(page.locator("th.col-title")).to_have_attribute("aria-sort", "ascending")
    expect(page.get_by_role("link", name="Title", exact=True)).to_be_focused()


def test_the_row_eye_keeps_focus_across_the_swap(open_dashboard, owner):
    make_post(owner, title="Sunset Castle", write_file=False)
    page = open_dashboard()
    page.get_by_role("button", name="Hide “Sunset Castle”", exact=True).focus()
    page.keyboard.press("Enter")
    unhide = page.get_by_role("button", name="Unhide “Sunset Castle”", exact=True)
    expect(unhide).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Hide “Sunset Castle”", exact=True)).to_be_focused()


def test_a_bulk_action_that_disables_its_button_leaves_focus_on_the_table(open_dashboard, owner):
    make_posts(owner, 5)
    page = open_dashboard()
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Hide", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="5 posts hidden")).to_be_visible()
    expect(page.get_by_role("button", name="Hide", exact=True)).to_be_disabled()
    expect(page.locator(".table-summary")).to_be_focused()
