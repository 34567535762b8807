"""The "Download requests" panel and its rows (templates/pmd/_download_*.html)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from pmd import downloads
from pmd.downloads import build
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from tests.factories import make_post
from tests.pmd.bdr_helpers import make_bdr

Status = BatchDownloadRequest.Status


def _panel(user, highlight: str | None = None) -> str:
    request = RequestFactory().get("/")
    request.user = user
    context = downloads.download_panel_context(user, highlight=highlight)
    return render_to_string("pmd/_download_requests.html", context, request=request)


def _row(html: str, bdr) -> str:
    match = re.search(rf'<li id="bdr-{bdr.pk}".*?</li>', html, re.S)
    assert match, f"no row for {bdr.pk}"
    return match.group(0)


class TestPanel:
    def test_it_shows_the_empty_state_and_the_allowance(self, owner):
        html = _panel(owner)
        assert "<h2" in html and "Download requests" in html
        assert "8 of 8 requests left today" in html
        assert 'data-requests-left="8"' in html
        assert "No download requests yet" in html

    def test_it_counts_todays_requests_but_not_retries(self, owner):
        post = make_post(owner, write_file=False)
        failed = make_bdr(owner, [post], status=Status.FAILED)
        make_bdr(owner, [post], retry_of=failed)
        make_bdr(owner, [post], created_at=timezone.now() - timedelta(days=1))
        assert "7 of 8 requests left today" in _panel(owner)

    def test_each_status_has_its_row(self, owner):
        post = make_post(owner)
        pending = make_bdr(owner, [post])
        processing = make_bdr(
            owner, [post, post], status=Status.PROCESSING, progress=1, artwork_count=4
        )
        ready = make_bdr(owner, [post])
        build.download_request_build(ready.pk)
        failed = make_bdr(
            owner, [post], status=Status.FAILED, error_message="Nothing <b>readable</b>."
        )
        expired = make_bdr(owner, [post], status=Status.EXPIRED)
        html = _panel(owner)

        row = _row(html, pending)
        assert 'data-bdr-status="pending"' in row and "Queued" in row
        row = _row(html, processing)
        assert 'data-bdr-status="processing"' in row
        assert '<progress class="bdr-progress" max="4" value="1"' in row
        assert "1 of 4" in row
        row = _row(html, ready)
        assert f'href="/api/pmd/bdr/{ready.pk}/download"' in row
        ready.refresh_from_db()  # the build set expires_at, 7 days ahead
        assert (
            '<span class="bdr-expiry muted">expires <time '
            f'datetime="{ready.expires_at.isoformat()}" '
            f'title="{ready.expires_at.strftime("%Y-%m-%d %H:%M:%S")} UTC">'
            "6\xa0days, 23\xa0hours from now</time></span>"
        ) in row
        row = _row(html, failed)
        assert "Nothing &lt;b&gt;readable&lt;/b&gt;." in row
        assert f'hx-post="/api/pmd/bdr/{failed.pk}/retry"' in row
        assert 'hx-target="#bdr-panel"' in row
        row = _row(html, expired)
        assert 'data-bdr-status="expired"' in row and "Expired" in row
        assert "href" not in row

    def test_a_ready_request_past_its_expiry_shows_as_expired(self, owner):
        bdr = make_bdr(
            owner,
            [make_post(owner, write_file=False)],
            status=Status.READY,
            expires_at=timezone.now() - timedelta(minutes=1),
            file_path="bdr/x/y.zip",
        )
        row = _row(_panel(owner), bdr)
        assert 'data-bdr-status="expired"' in row
        assert "href" not in row

    def test_a_retried_failure_has_no_second_retry(self, owner):
        post = make_post(owner, write_file=False)
        failed = make_bdr(owner, [post], status=Status.FAILED)
        downloads.download_request_retry(bdr=failed)
        row = _row(_panel(owner), failed)
        assert "hx-post" not in row
        assert "Retried" in row

    def test_it_shows_the_20_newest_and_the_highlighted_one(self, owner):
        post = make_post(owner, write_file=False)
        now = timezone.now()
        requests = [
            make_bdr(owner, [post], created_at=now - timedelta(minutes=n)) for n in range(22)
        ]
        html = _panel(owner)
        assert html.count('class="bdr-row') == 20
        assert f"bdr-{requests[20].pk}" not in html

        oldest = requests[21]
        html = _panel(owner, highlight=str(oldest.pk))
        assert html.count('class="bdr-row') == 21
        row = _row(html, oldest)
        assert "is-highlighted" in row and "aria-current" in row

    def test_the_page_refreshes_the_panel_with_its_highlight(self, client, owner):
        bdr = make_bdr(owner, [make_post(owner, write_file=False)])
        client.force_login(owner)
        html = client.get(f"/u/{user_sqid(owner.pk)}/posts?bdr={bdr.pk}").content.decode()
        wrapper = re.search(r"<div data-bdr-refresh[^>]*>", html)
        assert wrapper, "no refreshing wrapper around the panel"
        assert f'hx-get="/api/pmd/bdr?bdr={bdr.pk}"' in wrapper.group(0)
        assert "sse:bdr_update" in wrapper.group(0)
        # The wrapper stays; only what is inside it is replaced.
        assert 'hx-swap="innerHTML"' in wrapper.group(0)
        assert html.index("data-bdr-refresh") < html.index('id="bdr-panel"')
        assert "{#" not in html and "{%" not in html  # no template syntax shown as text

    def test_a_bad_or_foreign_highlight_is_ignored(self, owner, other):
        theirs = make_bdr(other, [make_post(other, write_file=False)])
        for highlight in ("nonsense", str(theirs.pk)):
            html = _panel(owner, highlight=highlight)
            assert "is-highlighted" not in html
            assert str(theirs.pk) not in html
