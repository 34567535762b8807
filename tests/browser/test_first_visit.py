from __future__ import annotations

import io

from django.core.management import call_command
from playwright.sync_api import expect

from posts.models import Post


def test_a_seeded_user_logs_in_opens_the_dashboard_from_the_profile(page, asgi_server):
    call_command(
        "seed_demo",
        "--user",
        "demo",
        "--password",
        "pixels-demo-2026",
        "--posts",
        "30",
        "--seed",
        "11",
        stdout=io.StringIO(),
    )
    page.goto("/")
    expect(page).to_have_url(f"{asgi_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("pixels-demo-2026")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="@demo")).to_be_visible()
    visible = Post.objects.filter(
        kind="artwork", hidden_by_user=False, hidden_by_mod=False, deleted_by_user=False
    ).count()
    thumbnails = page.locator(".art-grid img")
    expect(thumbnails).to_have_count(visible)
    # Thumbnails are real images the browser decoded.
    thumbnails.first.scroll_into_view_if_needed()
    expect(thumbnails.first).to_have_js_property("complete", True)
    assert thumbnails.first.evaluate("img => img.naturalWidth") >= 8

    page.get_by_role("link", name="Post Management Dashboard").click()
    expect(page.get_by_role("heading", name="Post Management Dashboard")).to_be_visible()
    assert page.url.endswith("/posts")
    live = Post.objects.filter(kind="artwork", deleted_by_user=False).count()
    expect(page.locator("[data-total-count]")).to_have_text(str(live))

    # `make run` again (it seeds on every start): the open session goes on.
    call_command(
        "seed_demo", "--user", "demo", "--password", "pixels-demo-2026", "--posts", "30",
        stdout=io.StringIO(),
    )  # fmt: skip
    page.reload()
    expect(page.get_by_role("heading", name="Post Management Dashboard")).to_be_visible()
    assert page.url.endswith("/posts")


def test_a_wrong_password_shows_an_error(page):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    # The page's other alert region is the (empty) one for error toasts.
    expect(page.get_by_role("alert").filter(has_text="Please enter")).to_contain_text(
        "Please enter a correct username and password"
    )
