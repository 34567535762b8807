from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from pmd.downloads.events import bdr_changed
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post, make_posts
from testing.live import AsgiServer, session_cookies
from testing.worker import TEST_QUEUE

RECORD_EVENTS = """
window.__events = [];
document.querySelector('[data-live]').addEventListener('htmx:sseMessage', (event) => {
  if (event.detail.type === 'bdr_update') window.__events.push(JSON.parse(event.detail.data));
});
"""


def _open(page, owner, base=""):
    page.goto(f"{base}/u/{user_sqid(owner.pk)}/posts")
    expect(page.locator("[data-live-text]")).to_have_text("Live")
    page.evaluate(RECORD_EVENTS)


def test_a_request_goes_pending_processing_ready_live_with_a_toast(
    page, owner, log_in, celery_worker
):
    for _ in range(6):
        make_post(owner, file_format="gif")
    log_in(page, owner)
    _open(page, owner)
    expect(page.locator("[data-requests-left-text]")).to_have_text("8 of 8 requests left today")
    page.get_by_role("button", name="Select page", exact=True).click()
    page.get_by_role("button", name="Request download", exact=True).click()
    dialog = page.get_by_role("dialog", name="Download 6 artworks")
    dialog.get_by_label("Include comments").check()
    dialog.get_by_role("button", name="Request download").click()

    expect(
        page.locator(".toast").filter(has_text="Download of 6 artworks requested")
    ).to_be_visible()
    ready = page.locator(".toast").filter(has_text="Your download of 6 artworks is ready.")
    expect(ready).to_be_visible(timeout=20_000)
    row = page.locator("[data-bdr-status]").first
    expect(row).to_have_attribute("data-bdr-status", "ready")
    # The link names its request, not just "Download".
    expect(
        row.get_by_role("link", name=re.compile(r"^Download 6 artworks, requested "))
    ).to_be_visible()
    expect(page.locator("[data-requests-left-text]")).to_have_text("7 of 8 requests left today")
    statuses = [event["status"] for event in page.evaluate("window.__events")]
    # Every step arrived live, in order, without a reload.
    assert statuses[0] == "pending"
    assert "processing" in statuses
    assert statuses[-1] == "ready"
    assert statuses.index("processing") < statuses.index("ready")
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_burst_of_updates_ends_on_the_last_state_with_its_toast(page, owner, log_in):
    bdr = BatchDownloadRequest.objects.create(
        user=owner, post_ids=list(range(1, 9)), artwork_count=8, status="processing",
        started_at=timezone.now(),
    )  # fmt: skip
    log_in(page, owner)
    _open(page, owner)
    # Eight progress steps and the ready in a few milliseconds, as a fast
    # build sends them: the panel refreshes while later events arrive.
    for done in range(1, 9):
        BatchDownloadRequest.objects.filter(pk=bdr.pk).update(progress=done)
        bdr.progress = done
        bdr_changed(bdr)
    now = timezone.now()
    bdr.transition("ready", completed_at=now, expires_at=now + timedelta(days=7),
                   file_path="bdr/x.zip", file_size_bytes=10)  # fmt: skip
    bdr_changed(bdr)
    expect(
        page.locator(".toast").filter(has_text="Your download of 8 artworks is ready.")
    ).to_be_visible()
    expect(page.locator(f"#bdr-{bdr.pk}")).to_have_attribute("data-bdr-status", "ready")
    assert [event["progress"] for event in page.evaluate("window.__events")][-1] == 8


def test_retry_from_the_panel_shows_the_new_request_in_place(page, owner, log_in):
    post = make_post(owner, write_file=False)
    failed = BatchDownloadRequest.objects.create(
        user=owner, post_ids=[post.pk], artwork_count=1, status="failed", error_message="Oops."
    )
    log_in(page, owner)
    _open(page, owner)
    page.locator(f"#bdr-{failed.pk}").get_by_role("button", name=re.compile("^Retry")).click()
    # The page's own fragment answers (with the CSRF token htmx sends), in place.
    retry = BatchDownloadRequest.objects.filter(retry_of=failed)
    expect(page.locator("[data-bdr-status=pending]")).to_have_count(1)
    expect(page.locator(f"#bdr-{failed.pk}")).to_contain_text("Retried")
    assert retry.count() == 1
    expect(page.locator(f"#bdr-{retry.get().pk}")).to_be_visible()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_more_than_128_selected_offers_a_split_instead_of_refusing(page, owner, log_in):
    make_posts(owner, 130)
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts?size=256")
    page.get_by_role("button", name="Select page", exact=True).click()
    expect(page.get_by_role("button", name="Request download", exact=True)).to_have_count(0)
    split = page.get_by_role("button", name="Split into 2 downloads (uses 2 of today's 8)")
    expect(split).to_be_enabled()
    expect(page.locator("[data-download-reason]")).to_have_text("")
    # (tests/browser/test_downloads_split.py sends splits.)


def test_the_email_link_highlights_its_request(page, owner, log_in):
    bdr = BatchDownloadRequest.objects.create(
        user=owner, post_ids=[1], artwork_count=1, status="failed", error_message="No luck."
    )
    log_in(page, owner)
    page.goto(f"/u/{user_sqid(owner.pk)}/posts?bdr={bdr.pk}")
    row = page.locator(f"#bdr-{bdr.pk}")
    expect(row).to_have_class(re.compile("is-highlighted"))
    expect(row).to_be_focused()
    expect(row).to_contain_text("No luck.")


@pytest.fixture
def own_server(session_vault, transactional_db):
    """A web process of this test's own, to restart."""
    server = AsgiServer(PMD_VAULT_ROOT=str(session_vault), CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE)
    yield server.start()
    server.stop()


@pytest.mark.fault
def test_after_the_web_process_restarts_the_page_reconnects_and_catches_up(
    page, owner, own_server, chaos
):
    page.context.add_cookies(
        [{"name": k, "value": v, "url": own_server.url} for k, v in session_cookies(owner).items()]
    )
    _open(page, owner, base=own_server.url)
    own_server.stop()
    expect(page.locator("[data-live-text]")).to_have_text("Reconnecting…")
    # While no web process runs, the worker finishes a request.
    bdr = BatchDownloadRequest.objects.create(
        user=owner, post_ids=[1, 2], artwork_count=2, status="processing"
    )
    now = timezone.now()
    bdr.transition("ready", completed_at=now, expires_at=now + timedelta(days=7),
                   file_path="bdr/x.zip", file_size_bytes=10)  # fmt: skip
    bdr_changed(bdr)
    own_server.start()
    expect(page.locator("[data-live-text]")).to_have_text("Live", timeout=20_000)
    expect(page.locator(f"#bdr-{bdr.pk}")).to_have_attribute("data-bdr-status", "ready")
    expect(
        page.locator(".toast").filter(has_text="Your download of 2 artworks is ready.")
    ).to_be_visible()
    chaos(
        fault="the web process restarts while a page is open",
        user_saw="“Reconnecting…”, then “Live” and the ready toast, without a reload",
        end_state="the page caught up with the change made while the server was down",
    )
