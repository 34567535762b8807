from __future__ import annotations

import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from posts.models import Post
from posts.public_ids import user_sqid
from tests.factories import make_post, make_posts

RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver(() => {
  const text = document.querySelector('[data-progress-text]')?.textContent;
  if (text && window.__progress.at(-1) !== text) window.__progress.push(text);
}).observe(document.body, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture
def open_dashboard(page, owner, log_in):
    log_in(page, owner)

    def go(query: str = ""):
        page.goto(f"/u/{user_sqid(owner.pk)}/posts{query}")
        expect(page.locator("#post-table")).to_be_visible()
        page.evaluate(RECORD_PROGRESS)
        return page

    return go


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
    page = open_dashboard()
    rows = page.locator("#post-table tbody tr")
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
    page = open_dashboard("?size=512")
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
    page = open_dashboard("?size=512")
    sent = action_requests(page)
    page.get_by_role("button", name="Select page", exact=True).click()
    order = page.evaluate(
        f"JSON.parse(localStorage.getItem('pmd:selection:{user_sqid(owner.pk)}'))"
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
    page = open_dashboard()
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
    page = open_dashboard()
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
    page = open_dashboard()
    row = page.locator(f'tr[data-post-id="{post.pk}"]')
    row.get_by_role("button", name="Hide “Eye test”", exact=True).click()
    expect(row).to_have_class("is-hidden")
    row.get_by_role("button", name="Unhide “Eye test”", exact=True).click()
    expect(row).not_to_have_class("is-hidden")
    post.refresh_from_db()
    assert post.hidden_by_user is False


def test_buttons_say_why_they_are_disabled(open_dashboard, owner):
    make_posts(owner, 3)
    page = open_dashboard()
    expect(page.get_by_role("button", name="Hide", exact=True)).to_be_disabled()
    expect(page.locator("[data-bulk-reason]")).to_have_text("Select posts to act on them.")
    page.locator("#post-table tbody tr").first.locator(".col-format").click()
    expect(page.get_by_role("button", name="Hide", exact=True)).to_be_enabled()
