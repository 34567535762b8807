"""The "Edit…" dialog and "Set licence…" in Chromium, at a desktop's and a
phone's width: Mixed, preview (nothing written), apply, Undo; axe clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import ensure_licenses, make_posts
from tests.browser.axe import assert_accessible


@pytest.fixture
def open_dashboard(page, owner, log_in):
    ensure_licenses()
    log_in(page, owner)

    def go(width: int):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/u/{user_sqid(owner.pk)}/posts")
        expect(page.locator("#post-table")).to_be_visible()
        return page

    return go


def titles_and_licenses(posts) -> list[tuple]:
    found = Post.objects.filter(pk__in=[p.pk for p in posts])
    rows = {row[0]: row[1:] for row in found.values_list("id", "title", "license")}
    return [rows[p.pk] for p in posts]


def select(page, posts) -> None:
    for post in posts:
        page.locator(f'tr[data-post-id="{post.pk}"] [data-select-row]').check()
    expect(page.locator("[data-selected-count]")).to_have_text(str(len(posts)))


@pytest.mark.parametrize("width", [1280, 375])
def test_edit_shows_mixed_previews_applies_and_undoes(open_dashboard, owner, width):
    posts = make_posts(owner, 2, title="Knight v2") + make_posts(owner, 1, title="Queen v3")
    original = titles_and_licenses(posts)
    page = open_dashboard(width)
    select(page, posts)
    page.get_by_role("button", name="Edit…").click()
    dialog = page.locator("#edit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Edit 3 posts")
    title = dialog.locator('[data-edit-field="title"]')
    expect(title.locator("[data-edit-now]")).to_have_text("(Mixed)")
    expect(dialog.locator('[data-edit-field="license"] [data-edit-now]')).to_have_text(
        "(now: “all rights reserved”)"
    )
    title.locator("[data-edit-op]").select_option("regex")
    title.locator('[name="title-find"]').fill(r" v(\d)$")
    title.locator('[name="title-value"]').fill(r" (version \1)")
    dialog.locator("[data-edit-license]").select_option("CC-BY-4.0")
    assert_accessible(page, "#edit-dialog")

    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-edit-preview]")).to_contain_text(
        "3 posts would change, 0 stay the same, 0 cannot take this edit."
    )
    expect(dialog.locator(".edit-samples")).to_contain_text("Knight (version 2)")
    assert titles_and_licenses(posts) == original, "the preview wrote something"
    assert_accessible(page, "#edit-dialog")

    dialog.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status").filter(has_text="3 posts edited.")).to_be_visible()
    expect(dialog).to_be_hidden()
    assert titles_and_licenses(posts) == [
        ("Knight (version 2)", "CC-BY-4.0"),
        ("Knight (version 2)", "CC-BY-4.0"),
        ("Queen (version 3)", "CC-BY-4.0"),
    ]
    expect(page.locator("#post-table")).to_contain_text("Queen (version 3)")
    expect(page.locator("[data-recent-activity]")).to_contain_text("Edited 3 posts")

    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Undid editing 3 posts.")).to_be_visible()
    assert titles_and_licenses(posts) == original
    expect(page.locator("#post-table")).to_contain_text("Queen v3")


def test_a_field_left_at_keep_is_not_sent_and_a_bad_pattern_is_said(open_dashboard, owner):
    posts = make_posts(owner, 2, title="Same")
    page = open_dashboard(1280)
    select(page, posts)
    sent = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.post_data_json)
            if request.url.endswith("/api/pmd/edit/preview")
            else None
        ),
    )
    page.get_by_role("button", name="Edit…").click()
    dialog = page.locator("#edit-dialog")
    expect(dialog.locator('[data-edit-field="title"] [data-edit-now]')).to_have_text(
        "(now: “Same”)"
    )
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-edit-preview]")).to_contain_text("Nothing to change")
    description = dialog.locator('[data-edit-field="description"]')
    description.locator("[data-edit-op]").select_option("regex")
    description.locator('[name="description-find"]').fill("(")
    dialog.get_by_role("button", name="Preview").click()
    expect(dialog.locator("[data-edit-preview]")).to_contain_text("not a regular expression")
    assert sent and set(sent[0]) == {"post_ids", "description"}
    expect(dialog.get_by_role("button", name="Apply")).to_be_disabled()


@pytest.mark.parametrize("width", [1280, 375])
def test_set_licence_and_its_undo(open_dashboard, owner, width):
    posts = make_posts(owner, 2, license_id="CC0-1.0") + make_posts(owner, 1)
    page = open_dashboard(width)
    select(page, posts)
    page.get_by_role("button", name="Set licence…").click()
    dialog = page.locator("#license-dialog")
    dialog.get_by_label("Licence").select_option("CC-BY-SA-4.0")
    assert_accessible(page, "#license-dialog")
    dialog.get_by_role("button", name="Set licence").click()
    expect(
        page.get_by_role("status").filter(has_text="3 posts set to CC-BY-SA-4.0.")
    ).to_be_visible()
    assert [row[1] for row in titles_and_licenses(posts)] == ["CC-BY-SA-4.0"] * 3
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Undid")).to_be_visible()
    assert [row[1] for row in titles_and_licenses(posts)] == ["CC0-1.0", "CC0-1.0", None]


@pytest.mark.parametrize("width", [1280, 375])
def test_support_acts_in_the_owners_dashboard(page, owner, log_in, width):
    from django.contrib.auth.models import Permission

    from pmd.models import ActivityEntry
    from testing.factories import make_user

    support = make_user("sam", is_staff=True)
    support.user_permissions.add(Permission.objects.get(codename="act_for_others"))
    posts = make_posts(owner, 2)
    log_in(page, support)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"/u/{user_sqid(owner.pk)}/posts")
    expect(page.get_by_role("note")).to_contain_text("You are in alice’s dashboard as support")
    assert_accessible(page)
    select(page, posts[:1])
    page.get_by_role("button", name="Hide", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="1 post hidden")).to_be_visible()
    assert Post.objects.get(pk=posts[0].pk).hidden_by_user
    entry = ActivityEntry.objects.get()
    assert (entry.user_id, entry.actor_id) == (owner.pk, support.pk)
    expect(page.locator("[data-recent-activity]")).to_contain_text("(by support: sam)")


@pytest.mark.parametrize("width", [1280, 375])
def test_the_hashtag_manager_sorts_merges_and_undoes(open_dashboard, owner, width):
    tagged = make_posts(owner, 3, hashtags="pixelart cat") + make_posts(
        owner, 1, hashtags="pixleart"
    )
    page = open_dashboard(width)
    panel = page.locator("[data-hashtag-panel]")
    panel.get_by_role("button", name="Show hashtags").click()
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("#cat")  # most used first, then A to Z
    panel.get_by_role("button", name="Hashtag", exact=True).click()
    expect(panel.locator('th[data-sort-key="hashtag"]')).to_have_attribute("aria-sort", "ascending")
    expect(rows.first).to_contain_text("#cat")
    panel.get_by_role("button", name="Hashtag", exact=True).click()
    expect(rows.first).to_contain_text("#pixleart")
    expect(panel).to_contain_text("#pixleart → #pixelart (one letter apart)")
    assert_accessible(page, "[data-hashtag-panel]")

    panel.get_by_role("button", name="Merge #pixleart into #pixelart").click()
    dialog = page.locator("#hashtag-manager-dialog")
    expect(dialog).to_contain_text("1 post will change: #pixleart merges into #pixelart")
    assert_accessible(page, "#hashtag-manager-dialog")
    dialog.get_by_role("button", name="Merge").click()
    expect(
        page.get_by_role("status").filter(has_text="Renamed #pixleart to #pixelart on 1 post.")
    ).to_be_visible()
    expect(rows).to_have_count(2)
    assert Post.objects.get(pk=tagged[3].pk).hashtags == "pixelart"
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(rows).to_have_count(3)
    assert Post.objects.get(pk=tagged[3].pk).hashtags == "pixleart"
