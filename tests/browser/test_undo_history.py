"""Undo from Recent activity in Chromium: the dialog counts first what the
undo changes back and what it leaves (changed since); at 1280 and 375 px,
axe clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pmd.actions.run import post_action_run
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_posts
from tests.browser.axe import assert_accessible


@pytest.mark.parametrize("width", [1280, 375])
def test_undo_a_line_of_recent_activity_after_seeing_what_it_changes(page, owner, log_in, width):
    posts = make_posts(owner, 3)
    ids = [post.pk for post in posts]
    post_action_run(user=owner, action_name="hide", post_ids=ids)
    post_action_run(user=owner, action_name="unhide", post_ids=ids[:1])  # changed since
    log_in(page, owner)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"/u/{user_sqid(owner.pk)}/posts")
    activity = page.locator("[data-recent-activity]")
    activity.get_by_role("button", name="Undo: Hid 3 posts").click()
    dialog = page.get_by_role("dialog", name="Undo “Hid 3 posts”?")
    expect(dialog.get_by_role("status")).to_have_text(
        "Undo will change 2 posts back and leave 1 that changed since."
    )
    assert_accessible(page)
    dialog.get_by_role("button", name="Undo", exact=True).click()
    expect(page.locator(".toast").filter(has_text="Undid hiding 2 of 3 posts.")).to_be_visible()
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == 0
    # The line is undone now: no Undo on it, and the undo has a line of its own.
    expect(activity.get_by_text("Undid hiding 2 of 3 posts")).to_be_visible()
    expect(activity.get_by_role("button", name="Undo: Hid 3 posts")).to_have_count(0)
