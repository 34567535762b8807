"""The download request admin for support staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.storage import storages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pmd import downloads
from pmd.downloads import build, storage
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post
from tests.pmd.bdr_helpers import make_bdr

Status = BatchDownloadRequest.Status
CHANGELIST = reverse("admin:pmd_batchdownloadrequest_changelist")


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def _ready(owner, **fields) -> BatchDownloadRequest:
    bdr = make_bdr(owner, [make_post(owner)], **fields)
    build.download_request_build(bdr.pk)
    bdr.refresh_from_db()
    return bdr


def _act(client: Client, action: str, requests) -> list[str]:
    response = client.post(
        CHANGELIST,
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(bdr.pk) for bdr in requests]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(message) for message in get_messages(response.wsgi_request)]


class TestChangelist:
    def test_it_lists_searches_and_filters(self, owner, other, staff_client):
        mine = _ready(owner)
        theirs = make_bdr(other, [make_post(other)], status=Status.FAILED)
        response = staff_client.get(CHANGELIST)
        assert response.status_code == 200
        html = response.content.decode()
        assert str(mine.pk) in html and str(theirs.pk) in html
        for header in ("User", "Status", "Artwork count", "Size", "Created", "Expires"):
            assert f">{header}</a>" in html
        assert (
            f'<td class="field-expires"><time datetime="{mine.expires_at.isoformat()}" '
            f'title="{mine.expires_at.strftime("%Y-%m-%d %H:%M:%S")} UTC">'
            "6\xa0days, 23\xa0hours from now</time></td>"
        ) in html

        def found(query: str) -> set[str]:
            result = staff_client.get(CHANGELIST, query)
            return {str(bdr.pk) for bdr in result.context["cl"].result_list}

        assert found({"q": "alice"}) == {str(mine.pk)}
        assert found({"q": "bob@example.com"}) == {str(theirs.pk)}
        assert found({"q": str(theirs.pk)}) == {str(theirs.pk)}
        assert found({"status__exact": "ready"}) == {str(mine.pk)}

    def test_the_request_fields_are_read_only_and_link_to_the_users_pmd(self, owner, staff_client):
        bdr = _ready(owner)
        response = staff_client.get(reverse("admin:pmd_batchdownloadrequest_change", args=[bdr.pk]))
        html = response.content.decode()
        assert response.status_code == 200
        for field in ("status", "post_ids", "user", "send_email", "expires_at"):
            assert f'name="{field}"' not in html
        assert f'href="/u/{user_sqid(owner.pk)}/posts?bdr={bdr.pk}"' in html

    def test_staff_cannot_add_requests(self, staff_client):
        response = staff_client.get(reverse("admin:pmd_batchdownloadrequest_add"))
        assert response.status_code == 403

    def test_it_is_for_staff_only(self, owner_client):
        response = owner_client.get(CHANGELIST)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


class TestActions:
    def test_retry_failed_retries_the_failed_ones_and_says_how_many(self, owner, staff_client):
        failed = make_bdr(owner, [make_post(owner)], status=Status.FAILED)
        ready = _ready(owner)
        messages = _act(staff_client, "retry_failed", [failed, ready])
        assert messages == ["1 failed request retried."]
        retry = BatchDownloadRequest.objects.get(retry_of=failed)
        assert retry.status == Status.PENDING
        assert BatchDownloadRequest.objects.count() == 3

    def test_retry_failed_reports_what_it_could_not_retry(self, owner, staff_client):
        failed = make_bdr(owner, [make_post(owner)], status=Status.FAILED)
        downloads.download_request_retry(bdr=failed)
        messages = _act(staff_client, "retry_failed", [failed])
        assert messages[0] == "0 failed requests retried."
        assert messages[1] == f"Not retried: {failed.pk}: This download has been retried already."

    def test_expire_now_expires_and_deletes_the_file(
        self, owner, staff_client, django_capture_on_commit_callbacks
    ):
        ready = _ready(owner)
        pending = make_bdr(owner, [make_post(owner)])
        with django_capture_on_commit_callbacks(execute=True):
            messages = _act(staff_client, "expire_now", [ready, pending])
        assert messages == ["1 request expired and its file deleted."]
        ready.refresh_from_db()
        assert (ready.status, ready.file_path) == (Status.EXPIRED, "")
        assert not storages["vault"].exists(storage.zip_name(ready))
        pending.refresh_from_db()
        assert pending.status == Status.PENDING

    def test_resend_email_sends_ready_and_failed_ones(self, owner, staff_client):
        ready = _ready(owner)
        failed = make_bdr(owner, [make_post(owner)], status=Status.FAILED, error_message="Oops.")
        pending = make_bdr(owner, [make_post(owner)])
        messages = _act(staff_client, "resend_email", [ready, failed, pending])
        assert messages == ["2 emails sent.", "1 not sent: the request is pending (1)."]
        assert sorted(message.subject for message in mail.outbox) == [
            "Your download of 1 artwork could not be built",
            "Your download of 1 artwork is ready",
        ]

    def test_resend_email_skips_what_no_longer_holds_and_says_why(self, owner, staff_client):
        """Issue 11 item 9: a ready request past expires_at (before cleanup ran)
        and a failed one already retried get no email."""
        ready = _ready(owner)
        stale = _ready(owner)
        BatchDownloadRequest.objects.filter(pk=stale.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        posts = [make_post(owner)]
        retried = make_bdr(owner, posts, status=Status.FAILED, error_message="Oops.")
        make_bdr(owner, posts, retry_of=retried)
        expired = make_bdr(owner, posts, status=Status.EXPIRED)
        mail.outbox.clear()

        messages = _act(staff_client, "resend_email", [ready, stale, retried, expired])

        assert messages == [
            "1 email sent.",
            "3 not sent: the download has expired (2); the request was retried (1).",
        ]
        assert [message.subject for message in mail.outbox] == [
            "Your download of 1 artwork is ready"
        ]
        assert str(ready.pk) in mail.outbox[0].body
        stale.refresh_from_db()
        assert stale.status == Status.READY  # the action only reports; cleanup expires it

    def test_resend_email_says_so_when_none_was_sent(self, owner, staff_client):
        pending = make_bdr(owner, [make_post(owner)])
        messages = _act(staff_client, "resend_email", [pending])
        assert messages == ["0 emails sent.", "1 not sent: the request is pending (1)."]
        assert mail.outbox == []
