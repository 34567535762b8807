"""Pages of a site whose vault is a bucket: every artwork <img>
is a presigned redirect to the store, and the page's Content-Security-Policy
lets the browser follow it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from posts.public_ids import user_sqid
from testing.factories import make_post
from testing.live import AsgiServer, session_cookies
from testing.worker import TEST_QUEUE


@pytest.fixture
def bucket_site(s3_vault, transactional_db):
    """uvicorn serving the test database with the vault in the run's bucket."""
    server = AsgiServer(CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE, **s3_vault.env).start()
    yield server
    server.stop()


def test_the_dashboard_shows_artworks_from_the_bucket(browser, bucket_site, s3_vault, owner):
    for _ in range(5):
        make_post(owner)  # with its file, in the bucket
    context = browser.new_context(base_url=bucket_site.url)
    context.add_cookies(
        [
            {"name": name, "value": value, "url": bucket_site.url}
            for name, value in session_cookies(owner).items()
        ]
    )
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"/u/{user_sqid(owner.pk)}/posts")
    images = page.locator("table.posts tbody img")
    expect(images).to_have_count(5)
    for index in range(5):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        # A blocked or failed image is "complete" with no width.
        page.wait_for_function("image => image.complete", arg=image.element_handle())
        assert image.evaluate("image => image.naturalWidth") > 0, image.get_attribute("src")
    assert refused == []
    context.close()
