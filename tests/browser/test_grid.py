"""The grid in Chromium at 1280 and 375 px: exact integer zoom with nearest
neighbour, GIFs still until hovered or focused and always still under reduced
motion, the table's selection, keyboard and actions; axe clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_post
from tests.browser.axe import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture(params=[1280, 375], ids=["desktop", "phone"])
def grid(request, page, owner, log_in):
    page.set_viewport_size({"width": request.param, "height": 900})
    posts = [make_post(owner, file_format="png", title=f"Sprite {n}") for n in range(3)]
    walker = make_post(owner, file_format="gif", title="Walker")
    assert walker.frame_count > 1
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts?layout=grid&zoom=3")
    expect(page.locator("#post-table [data-post-item]")).to_have_count(4)
    return page, posts, walker


def test_tiles_are_whole_multiples_drawn_pixelated(grid):
    page, posts, walker = grid
    for post in [*posts, walker]:
        img = page.locator(f'[data-post-id="{post.pk}"] img')
        expect(img).to_have_css("image-rendering", "pixelated")
        box = img.bounding_box()
        zoom = box["width"] / post.width
        assert zoom == int(zoom) and 1 <= zoom <= 3, (post.width, box)
        assert box["height"] == post.height * zoom
    assert_accessible(page)


def _hover_art(img) -> None:
    """Point at the artwork's bottom-right corner: a small sprite (8 px at 3×,
    as the factory sometimes draws one) lies mostly under the tile's checkbox,
    which would take the pointer at its centre."""
    box = img.bounding_box()
    img.hover(position={"x": box["width"] - 2, "y": box["height"] - 2})


def test_a_gif_plays_only_while_hovered_or_focused(grid):
    page, _, walker = grid
    img = page.locator(f'[data-post-id="{walker.pk}"] img')
    still = f"/art/{walker.public_sqid}/still"
    expect(img).to_have_attribute("src", still)
    _hover_art(img)
    expect(img).to_have_attribute("src", f"/art/{walker.public_sqid}")
    page.mouse.move(0, 0)
    expect(img).to_have_attribute("src", still)
    page.locator(f'[data-post-id="{walker.pk}"] [data-select-row]').focus()
    expect(img).to_have_attribute("src", f"/art/{walker.public_sqid}")


def test_reduced_motion_keeps_every_gif_still(grid):
    page, _, walker = grid
    page.emulate_media(reduced_motion="reduce")
    img = page.locator(f'[data-post-id="{walker.pk}"] img')
    _hover_art(img)
    page.locator(f'[data-post-id="{walker.pk}"] [data-select-row]').focus()
    expect(img).to_have_attribute("src", f"/art/{walker.public_sqid}/still")
    assert page.evaluate("() => document.querySelector('img[data-animated]').complete")


def test_selection_keyboard_and_actions_work_as_in_the_table(grid):
    page, posts, walker = grid
    page.locator(f'[data-post-id="{posts[0].pk}"] .tile-title').click()
    expect(page.locator("[data-selected-count]")).to_have_text("1")
    page.locator(f'[data-post-id="{posts[2].pk}"] .tile-title').click(modifiers=["Shift"])
    expect(page.locator("[data-selected-count]")).to_have_text("3")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    page.get_by_role("button", name="Hide “Walker”").click()
    expect(page.get_by_role("button", name="Unhide “Walker”")).to_be_visible()
    assert Post.objects.get(pk=walker.pk).hidden_by_user
    page.locator("select[name=layout]").select_option("table")
    expect(page.locator("table.posts")).to_be_visible()
    expect(page.locator("[data-selected-count]")).to_have_text("2")
    assert_accessible(page)
