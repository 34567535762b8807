"""The "Download requests" panel and its rows (templates/pmd/_download_*.html)."""

from __future__ import annotations

import re
from datetime import timedelta

from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from pmd import downloads
from pmd.downloads import build
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post
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
        assert f'hx-post="/u/{user_sqid(owner.pk)}/posts/downloads/{failed.pk}/retry"' in row
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
        assert f'hx-get="/u/{user_sqid(owner.pk)}/posts/downloads?bdr={bdr.pk}"' in wrapper.group(0)
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


class TestPageViews:
    """The panel's fragments come from the page's own URLs, not the JSON API."""

    def _url(self, owner, suffix: str = "") -> str:
        return f"/u/{user_sqid(owner.pk)}/posts/downloads{suffix}"

    def test_it_serves_the_panel_with_its_highlight(self, owner, owner_client):
        post = make_post(owner, write_file=False)
        old = make_bdr(owner, [post], created_at=timezone.now() - timedelta(days=2))
        for _ in range(20):
            make_bdr(owner, [post])
        response = owner_client.get(self._url(owner), {"bdr": str(old.pk)})
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="bdr-panel"' in html and "is-highlighted" in _row(html, old)
        assert html.count('class="bdr-row') == 21

    def test_it_serves_one_row(self, owner, other, owner_client):
        bdr = make_bdr(owner, [make_post(owner, write_file=False)])
        response = owner_client.get(self._url(owner, f"/{bdr.pk}"))
        assert response.status_code == 200
        assert _row(response.content.decode(), bdr)
        theirs = make_bdr(other, [make_post(other, write_file=False)])
        response = owner_client.get(self._url(owner, f"/{theirs.pk}"))
        assert (response.status_code, response.json()) == (
            404,
            {"error": "No such download request."},
        )

    def test_a_retry_answers_with_the_refreshed_panel(self, owner, owner_client):
        failed = make_bdr(owner, [make_post(owner, write_file=False)], status=Status.FAILED)
        response = owner_client.post(
            self._url(owner, f"/{failed.pk}/retry"), headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        retry = BatchDownloadRequest.objects.get(retry_of=failed)
        html = response.content.decode()
        assert 'data-bdr-status="pending"' in _row(html, retry)
        assert "Retried" in _row(html, failed)

    def test_a_refused_retry_is_a_json_error_for_the_toast(self, owner, other, owner_client):
        ready = make_bdr(owner, [make_post(owner, write_file=False)], status=Status.READY)
        response = owner_client.post(self._url(owner, f"/{ready.pk}/retry"))
        assert (response.status_code, response.json()) == (
            409,
            {"error": "Only a failed download can be retried."},
        )
        theirs = make_bdr(other, [make_post(other, write_file=False)], status=Status.FAILED)
        response = owner_client.post(self._url(owner, f"/{theirs.pk}/retry"))
        assert response.status_code == 404
        assert BatchDownloadRequest.objects.count() == 2

    def test_a_retry_needs_the_csrf_token_and_a_post(self, owner):
        failed = make_bdr(owner, [make_post(owner, write_file=False)], status=Status.FAILED)
        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        assert client.post(self._url(owner, f"/{failed.pk}/retry")).status_code == 403
        assert client.get(self._url(owner, f"/{failed.pk}/retry")).status_code == 405
        assert not BatchDownloadRequest.objects.filter(retry_of=failed).exists()
