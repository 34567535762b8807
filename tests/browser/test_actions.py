from __future__ import annotations

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pmd.models import ActivityEntry
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_post, make_posts
from tests.browser.axe import assert_accessible

RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver(() => {
  const text = document.querySelector('[data-progress-text]')?.textContent;
  if (text && window.__progress.at(-1) !== text) window.__progress.push(text);
}).observe(document.body, {subtree: true, childList: true, characterData: true});
"""


def action_requests(page) -> list[dict]:
    sent: list[dict] = []
    page.on(
        "request",
        lambda request: (
            sent.append(json.loads(request.post_data))
            if request.url.endswith("/api/pmd/action")
            else None
        ),
    )
    return sent


def test_hide_five_selected_posts(open_dashboard, owner):
    make_posts(owner, 40)
    page = open_dashboard(record=RECORD_PROGRESS)
    rows = page.locator("#post-table tbody tr[data-post-id]")
    for index in range(5):
        rows.nth(index).locator(".col-format").click()
    chosen = [int(rows.nth(i).get_attribute("data-post-id")) for i in range(5)]
    page.get_by_role("button", name="Hide", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="5 posts hidden")).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text("0")
    for post_id in chosen:
        expect(page.locator(f'tr[data-post-id="{post_id}"]')).to_have_class("is-hidden")
    assert set(Post.objects.filter(hidden_by_user=True).values_list("id", flat=True)) == set(chosen)
    expect(page.locator("[data-recent-activity]")).to_contain_text("Hid 5 posts")


def test_hiding_300_posts_sends_128_128_44_with_progress(open_dashboard, owner):
    make_posts(owner, 300)
    page = open_dashboard("?size=512", record=RECORD_PROGRESS)
    sent = action_requests(page)
    page.get_by_role("button", name="Select page", exact=True).click()
    expect(page.locator("[data-selected-count]")).to_have_text("300")
    page.get_by_role("button", name="Hide", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="300 posts hidden")).to_be_visible()
    assert [len(body["post_ids"]) for body in sent] == [128, 128, 44]
    assert {body["action"] for body in sent} == {"hide"}
    progress = page.evaluate("window.__progress")
    assert "Hiding 300 posts… 128/300" in progress
    assert "Hiding 300 posts… 256/300" in progress
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == 300
    expect(page.locator("#post-table tbody tr.is-hidden")).to_have_count(300)


def test_a_refused_chunk_stops_the_run_and_keeps_the_rest_selected(open_dashboard, owner):
    make_posts(owner, 300)
    page = open_dashboard("?size=512", record=RECORD_PROGRESS)
    sent = action_requests(page)
    page.get_by_role("button", name="Select page", exact=True).click()
    order = page.evaluate(
        f"JSON.parse(sessionStorage.getItem('pmd:selection:{user_sqid(owner.pk)}'))"
    )
    # Meanwhile, in another tab, a post of the second chunk is deleted: the
    # server refuses that chunk as a whole.
    gone = order[200]
    Post.objects.filter(pk=gone).update(deleted_by_user=True, deleted_by_user_date=timezone.now())
    page.get_by_role("button", name="Hide", exact=True).click()
    alert = page.get_by_role("alert").filter(has_text="not hidden")
    expect(alert).to_contain_text("Hid 128 posts of 300.")
    expect(alert).to_contain_text(f"172 posts were not hidden: Post {gone} is deleted.")
    expect(alert).to_contain_text("They are still selected.")
    assert [len(body["post_ids"]) for body in sent] == [128, 128]
    expect(page.locator("[data-selected-count]")).to_have_text("172")
    assert set(Post.objects.filter(hidden_by_user=True).values_list("id", flat=True)) == set(
        order[:128]
    )


def test_delete_asks_first_and_cancel_or_escape_changes_nothing(open_dashboard, owner):
    make_posts(owner, 10)
    page = open_dashboard(record=RECORD_PROGRESS)
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete 10 posts?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert not Post.objects.filter(deleted_by_user=True).exists()
    expect(page.locator("[data-selected-count]")).to_have_text("10")
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status").filter(has_text="10 posts deleted")).to_be_visible()
    assert (
        Post.objects.filter(deleted_by_user=True, deleted_by_user_date__isnull=False).count() == 10
    )
    expect(page.locator(".empty-state")).to_have_text("No posts yet.")


def test_restore_brings_a_post_back_to_the_profile(open_dashboard, owner, page):
    post = make_post(owner, title="Comeback frog")
    page = open_dashboard(record=RECORD_PROGRESS)
    page.locator(f'tr[data-post-id="{post.pk}"]').get_by_role(
        "button", name="Delete “Comeback frog”", exact=True
    ).click()
    page.get_by_role("dialog", name="Delete “Comeback frog”?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.get_by_role("status").filter(has_text="1 post deleted")).to_be_visible()
    page.goto(f"/u/{user_sqid(owner.pk)}/")
    expect(page.get_by_text("Comeback frog")).to_have_count(0)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts")
    page.get_by_role("link", name="Recently deleted").click()
    row = page.locator(f'tr[data-post-id="{post.pk}"]')
    expect(row).to_be_visible()
    row.locator(".col-format").click()
    page.get_by_role("button", name="Restore", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="1 post restored")).to_be_visible()
    page.goto(f"/u/{user_sqid(owner.pk)}/")
    expect(page.get_by_text("Comeback frog")).to_be_visible()


def test_the_row_eye_hides_and_unhides_one_post(open_dashboard, owner):
    post = make_post(owner, title="Eye test", write_file=False)
    page = open_dashboard(record=RECORD_PROGRESS)
    row = page.locator(f'tr[data-post-id="{post.pk}"]')
    row.get_by_role("button", name="Hide “Eye test”", exact=True).click()
    expect(row).to_have_class("is-hidden")
    row.get_by_role("button", name="Unhide “Eye test”", exact=True).click()
    expect(row).not_to_have_class("is-hidden")
    post.refresh_from_db()
    assert post.hidden_by_user is False


def test_buttons_say_why_they_are_disabled(open_dashboard, owner):
    make_posts(owner, 3)
    page = open_dashboard(record=RECORD_PROGRESS)
    expect(page.get_by_role("button", name="Hide", exact=True)).to_be_disabled()
    expect(page.locator("[data-bulk-reason]")).to_have_text("Select posts to act on them.")
    page.locator("#post-table tbody tr[data-post-id]").first.locator(".col-format").click()
    expect(page.get_by_role("button", name="Hide", exact=True)).to_be_enabled()


# Undo: the toast offers it; it reverses exactly the posts that changed.


def undo_requests(page) -> list[dict]:
    sent: list[dict] = []
    page.on(
        "request",
        lambda request: (
            sent.append(json.loads(request.post_data))
            if request.url.endswith("/api/pmd/action/undo")
            else None
        ),
    )
    return sent


def select_rows(page, post_ids) -> None:
    for post_id in post_ids:
        page.locator(f'tr[data-post-id="{post_id}"] .col-format').click()
    expect(page.locator("[data-selected-count]")).to_have_text(str(len(post_ids)))


@pytest.mark.parametrize(
    ("action", "label", "start", "message", "undone"),
    [
        ("hide", "Hide", False, "2 posts hidden (1 was already hidden).", "Undid hiding 2 posts."),
        (
            "unhide",
            "Unhide",
            True,
            "2 posts unhidden (1 was not hidden).",
            "Undid unhiding 2 posts.",
        ),
    ],
)
def test_undo_of_hide_and_unhide_reverses_only_the_posts_that_changed(
    open_dashboard, owner, action, label, start, message, undone
):
    changing = make_posts(owner, 2, hidden_by_user=start)
    (already,) = make_posts(owner, 1, hidden_by_user=not start)
    make_posts(owner, 2, hidden_by_user=start)
    page = open_dashboard(record=RECORD_PROGRESS)
    sent = undo_requests(page)
    select_rows(page, [post.pk for post in changing] + [already.pk])
    page.get_by_role("button", name=label, exact=True).click()
    toast = page.locator("#toasts .toast").filter(has_text=message)
    expect(toast).to_be_visible()
    toast.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=undone)).to_be_visible()
    expect(toast).to_have_count(0)
    assert len(sent) == 1
    states = dict(Post.objects.filter(owner=owner).values_list("id", "hidden_by_user"))
    assert [states[post.pk] for post in changing] == [start, start]
    # Already in the wanted state before the action: the undo leaves it so.
    assert states[already.pk] is (not start)
    expect(page.locator("[data-recent-activity] li").first).to_contain_text(undone.rstrip("."))
    for post in changing:
        row = page.locator(f'tr[data-post-id="{post.pk}"]')
        if start:
            expect(row).to_have_class("is-hidden")
        else:
            expect(row).not_to_have_class("is-hidden")


def test_undo_of_a_delete_restores_the_post(open_dashboard, owner):
    post = make_post(owner, title="Oops frog", write_file=False)
    make_posts(owner, 2)
    page = open_dashboard(record=RECORD_PROGRESS)
    page.get_by_role("button", name="Delete “Oops frog”", exact=True).click()
    page.get_by_role("dialog", name="Delete “Oops frog”?").get_by_role(
        "button", name="Delete"
    ).click()
    toast = page.locator("#toasts .toast").filter(has_text="1 post deleted")
    expect(toast).to_be_visible()
    expect(page.locator(f'tr[data-post-id="{post.pk}"]')).to_have_count(0)
    toast.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Undid deleting 1 post.")).to_be_visible()
    expect(page.locator(f'tr[data-post-id="{post.pk}"]')).to_be_visible()
    post.refresh_from_db()
    assert (post.deleted_by_user, post.deleted_by_user_date) == (False, None)


def test_undo_of_a_restore_deletes_again(open_dashboard, owner):
    posts = make_posts(owner, 3, deleted_by_user=True, deleted_by_user_date=timezone.now())
    page = open_dashboard("?view=deleted", record=RECORD_PROGRESS)
    select_rows(page, [post.pk for post in posts[:2]])
    page.get_by_role("button", name="Restore", exact=True).click()
    toast = page.locator("#toasts .toast").filter(has_text="2 posts restored.")
    expect(toast).to_be_visible()
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(1)
    toast.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Undid restoring 2 posts.")).to_be_visible()
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(3)
    assert Post.objects.filter(owner=owner, deleted_by_user=True).count() == 3


def test_u_undoes_from_the_keyboard_and_the_toast_neither_steals_focus_nor_hurries(
    open_dashboard, owner, page
):
    post = make_post(owner, title="Sunset Castle", write_file=False)
    make_posts(owner, 2)
    page.clock.install()
    page = open_dashboard(record=RECORD_PROGRESS)
    eye = page.get_by_role("button", name="Hide “Sunset Castle”", exact=True)
    eye.focus()
    page.keyboard.press("Enter")
    toast = page.locator("#toasts .toast").filter(has_text="1 post hidden.")
    expect(toast).to_be_visible()
    undo_button = toast.get_by_role("button", name="Undo", exact=True)
    expect(undo_button).to_have_attribute("aria-keyshortcuts", "u")
    # Focus stays on the row's control (now "Unhide …"), not on the toast.
    unhide = page.get_by_role("button", name="Unhide “Sunset Castle”", exact=True)
    expect(unhide).to_be_focused()
    # The Undo is on offer for at least 10 seconds.
    page.clock.fast_forward(10_500)
    expect(undo_button).to_be_visible()
    page.keyboard.press("u")
    expect(page.get_by_role("status").filter(has_text="Undid hiding 1 post.")).to_be_visible()
    expect(toast).to_have_count(0)
    post.refresh_from_db()
    assert post.hidden_by_user is False
    expect(page.get_by_role("button", name="Hide “Sunset Castle”", exact=True)).to_be_focused()
    # Nothing is on offer now: `u` does nothing more.
    page.keyboard.press("u")
    assert ActivityEntry.objects.filter(undo_of__isnull=False).count() == 1
    # An offer that is never taken goes away in the end.
    page.get_by_role("button", name="Hide “Sunset Castle”", exact=True).click()
    expect(toast).to_be_visible()
    page.mouse.move(0, 0)
    page.clock.fast_forward(16_000)
    expect(page.locator(".toast-action")).to_have_count(0)
    page.keyboard.press("u")
    post.refresh_from_db()
    assert post.hidden_by_user is True


def test_the_undo_button_is_reachable_with_tab_and_the_help_lists_u(open_dashboard, owner):
    make_posts(owner, 3)
    page = open_dashboard(record=RECORD_PROGRESS)
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Hide", exact=True).click()
    undo_button = page.locator("#toasts").get_by_role("button", name="Undo", exact=True)
    expect(undo_button).to_be_visible()
    page.get_by_role("link", name="Back to profile").focus()
    for _ in range(80):
        page.keyboard.press("Tab")
        if undo_button.evaluate("button => button === document.activeElement"):
            break
    expect(undo_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Undid hiding 3 posts.")).to_be_visible()
    assert not Post.objects.filter(hidden_by_user=True).exists()
    # Focus was on the button, which left with its toast: it goes to the table.
    expect(page.locator(".table-summary")).to_be_focused()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog.locator("dt", has_text="u")).to_be_visible()
    expect(help_dialog).to_contain_text("Undo the last action")


def test_undo_of_a_300_post_hide_sends_one_undo_per_request_with_progress(open_dashboard, owner):
    make_posts(owner, 300)
    page = open_dashboard("?size=512", record=RECORD_PROGRESS)
    sent = undo_requests(page)
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Hide", exact=True).click()
    toast = page.locator("#toasts .toast").filter(has_text="300 posts hidden.")
    expect(toast).to_be_visible()
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == 300
    toast.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Undid hiding 300 posts.")).to_be_visible()
    hides = list(ActivityEntry.objects.filter(action="hide").order_by("id"))
    assert [len(entry.changed_ids) for entry in hides] == [128, 128, 44]
    assert sent == [{"activity_id": entry.pk} for entry in hides]
    progress = page.evaluate("window.__progress")
    assert "Undoing hiding 300 posts… 128/300" in progress
    assert "Undoing hiding 300 posts… 256/300" in progress
    assert not Post.objects.filter(owner=owner, hidden_by_user=True).exists()
    expect(page.locator("#post-table tbody tr.is-hidden")).to_have_count(0)
    expect(page.locator("[data-recent-activity] li").first).to_contain_text(
        "Undid hiding 300 posts"
    )


# Bulk hashtags: add or remove one tag on every selected post.


def test_add_and_remove_a_hashtag_on_a_selection_across_two_pages(open_dashboard, owner):
    make_posts(owner, 40, hashtags="retro")
    page = open_dashboard("?size=16", record=RECORD_PROGRESS)
    sent = action_requests(page)
    rows = page.locator("#post-table tbody tr[data-post-id]")
    first_page = [int(rows.nth(i).get_attribute("data-post-id")) for i in (0, 3)]
    select_rows(page, first_page)
    page.get_by_role("link", name="Next").click()
    expect(page.locator(".page-of")).to_have_text("Page 2 of 3")
    second_page = [int(rows.nth(i).get_attribute("data-post-id")) for i in (1, 2, 5)]
    for post_id in second_page:
        page.locator(f'tr[data-post-id="{post_id}"] .col-format').click()
    expect(page.locator("[data-selected-count]")).to_have_text("5")
    chosen = set(first_page + second_page)

    page.get_by_role("button", name="Add hashtag…", exact=True).click()
    dialog = page.get_by_role("dialog", name="Add a hashtag to 5 posts")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Hashtag")).to_be_focused()
    page.keyboard.type("#Heron_7")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Added #heron_7 to 5 posts.")).to_be_visible()
    expect(dialog).to_be_hidden()
    assert sent[-1] == {
        "action": "add_hashtag",
        "post_ids": sent[-1]["post_ids"],
        "hashtag": "#Heron_7",
    }
    assert set(sent[-1]["post_ids"]) == chosen
    assert set(Post.objects.filter(hashtags="retro heron_7").values_list("id", flat=True)) == chosen
    expect(page.locator("[data-selected-count]")).to_have_text("0")
    expect(page.locator("[data-recent-activity] li").first).to_contain_text(
        "Added #heron_7 to 5 posts"
    )

    page.get_by_label("Search posts").fill("#heron_7")
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(5)
    shown = {int(i) for i in page.locator("#post-table tbody tr[data-post-id]").evaluate_all(
        "rows => rows.map(row => row.dataset.postId)"
    )}  # fmt: skip
    assert shown == chosen

    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Remove hashtag…", exact=True).click()
    dialog = page.get_by_role("dialog", name="Remove a hashtag from 5 posts")
    dialog.get_by_label("Hashtag").fill("HERON_7")
    dialog.get_by_role("button", name="Remove", exact=True).click()
    expect(
        page.get_by_role("status").filter(has_text="Removed #heron_7 from 5 posts.")
    ).to_be_visible()
    expect(page.locator(".empty-state")).to_contain_text("No posts match.")
    assert Post.objects.filter(owner=owner).exclude(hashtags="retro").count() == 0


def test_the_hashtag_dialog_shows_the_servers_refusal_beside_the_field(open_dashboard, owner):
    make_posts(owner, 3, hashtags="retro")
    page = open_dashboard(record=RECORD_PROGRESS)
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Add hashtag…", exact=True).click()
    dialog = page.get_by_role("dialog", name="Add a hashtag to 3 posts")
    field = dialog.get_by_label("Hashtag")
    field.fill("pixel-art")
    dialog.get_by_role("button", name="Add", exact=True).click()
    error = dialog.locator("#hashtag-error")
    expect(error).to_have_text("A hashtag takes letters, digits and _ only; '-' is not one.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(dialog).to_be_visible()
    assert not Post.objects.exclude(hashtags="retro").exists()
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    field.fill("pixel_art")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(
        page.get_by_role("status").filter(has_text="Added #pixel_art to 3 posts.")
    ).to_be_visible()
    assert Post.objects.filter(hashtags="retro pixel_art").count() == 3
    # Cancel and Escape change nothing.
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Remove hashtag…", exact=True).click()
    dialog = page.get_by_role("dialog", name="Remove a hashtag from 3 posts")
    expect(dialog.locator("#hashtag-error")).to_be_hidden()
    dialog.get_by_label("Hashtag").fill("pixel_art")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Remove hashtag…", exact=True)).to_be_focused()
    assert Post.objects.filter(hashtags="retro pixel_art").count() == 3


def test_posts_without_room_are_reported_and_stay_selected_and_undo_removes_the_rest(
    open_dashboard, owner
):
    full = make_posts(owner, 2, hashtags=" ".join(f"t{n}" for n in range(16)))
    roomy = make_posts(owner, 3, hashtags="retro")
    page = open_dashboard(record=RECORD_PROGRESS)
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Add hashtag…", exact=True).click()
    page.get_by_role("dialog", name="Add a hashtag to 5 posts").get_by_label("Hashtag").fill("fox")
    page.keyboard.press("Enter")
    toast = page.locator("#toasts .toast").filter(has_text="Added #fox to 3 posts.")
    expect(toast).to_contain_text(
        "2 posts have no room for another hashtag (at most 16 per post), so #fox was not added "
        "to them. They are still selected."
    )
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    for post in full:
        expect(page.locator(f'tr[data-post-id="{post.pk}"]')).to_have_class("is-selected")
    toast.get_by_role("button", name="Undo", exact=True).click()
    expect(
        page.get_by_role("status").filter(has_text="Undid adding #fox to 3 posts.")
    ).to_be_visible()
    assert set(Post.objects.filter(owner=owner).values_list("hashtags", flat=True)) == {
        "retro",
        full[0].hashtags,
    }
    assert len(roomy) == 3


def test_closing_the_tab_during_a_chunked_run_asks_first(open_dashboard, owner):
    make_posts(owner, 300)
    page = open_dashboard("?size=512", record=RECORD_PROGRESS)
    chunks = []

    def hold_the_second_chunk(route):
        chunks.append(route)
        if len(chunks) != 2:
            route.continue_()

    page.get_by_role("button", name="Select page", exact=True).click()
    page.route("**/api/pmd/action", hold_the_second_chunk)
    page.get_by_role("button", name="Hide", exact=True).click()
    expect(page.locator("[data-progress-text]")).to_have_text("Hiding 300 posts… 128/300")

    # Closing (or reloading) now would cut the run short: the browser asks first.
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()
    assert not page.is_closed()

    chunks[1].continue_()
    expect(page.get_by_role("status").filter(has_text="300 posts hidden")).to_be_visible()
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == 300
    # The run is over: the tab closes without a question.
    with page.expect_event("close"):
        page.close(run_before_unload=True)


@pytest.mark.parametrize("width", [1280, 375])
def test_delete_forever_asks_naming_the_count_and_offers_no_undo(
    open_dashboard, page, owner, width
):
    posts = make_posts(owner, 3, deleted_by_user=True, deleted_by_user_date=timezone.now())
    page.set_viewport_size({"width": width, "height": 800})
    page = open_dashboard("?view=deleted")
    expect(page.locator("#table-summary")).to_contain_text("deleted in the last 30 days")
    select_rows(page, [post.pk for post in posts[:2]])
    page.get_by_role("button", name="Delete forever", exact=True).click()
    dialog = page.locator("#confirm-delete-forever")
    expect(dialog.get_by_role("heading")).to_have_text("Delete 2 posts forever?")
    assert_accessible(page)
    dialog.get_by_role("button", name="Cancel").click()
    assert Post.objects.filter(owner=owner).count() == 3
    page.get_by_role("button", name="Delete forever", exact=True).click()
    dialog.get_by_role("button", name="Delete forever").click()
    toast = page.locator("#toasts .toast").filter(has_text="2 posts deleted forever.")
    expect(toast).to_be_visible()
    expect(toast.get_by_role("button", name="Undo")).to_have_count(0)
    expect(page.locator("#post-table tbody tr[data-post-id]")).to_have_count(1)
    assert list(Post.objects.filter(owner=owner).values_list("id", flat=True)) == [posts[2].pk]
