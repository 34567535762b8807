"""Emails about download requests: sent only when asked, and only while true."""

from __future__ import annotations

import smtplib
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.files.storage import storages
from django.db import DatabaseError
from django.utils import timezone

from pmd.downloads import build, emails
from pmd.models import BatchDownloadRequest
from pmd.tasks import send_bdr_email
from posts.public_ids import user_sqid
from testing.factories import make_post, make_user
from testing.live import free_port
from testing.services import require_redis
from testing.worker import CeleryWorker, SmtpServer
from tests.pmd.bdr_helpers import make_bdr

Status = BatchDownloadRequest.Status


def _build(bdr, capture) -> BatchDownloadRequest:
    with capture(execute=True):
        build.download_request_build(bdr.pk)
    bdr.refresh_from_db()
    return bdr


def _parts(message) -> tuple[str, str]:
    html = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(html) == 1
    return message.body, html[0]


class TestReadyEmail:
    def test_it_sends_count_link_and_expiry_as_text_and_html(
        self, owner, eager_tasks, django_capture_on_commit_callbacks, settings
    ):
        settings.SITE_URL = "https://pixels.example"
        bdr = make_bdr(owner, [make_post(owner), make_post(owner)], send_email=True)
        bdr = _build(bdr, django_capture_on_commit_callbacks)
        assert bdr.status == Status.READY

        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["alice@example.com"]
        assert message.subject == "Your download of 2 artworks is ready"
        link = f"https://pixels.example/u/{user_sqid(owner.pk)}/posts?bdr={bdr.pk}"
        expiry = bdr.expires_at.strftime("%-d %B %Y, %H:%M") + " UTC"
        text, html = _parts(message)
        for part in (text, html):
            assert link in part
            assert "2 artworks" in part
            assert expiry in part
        assert f'href="{link}"' in html
        assert "could not be included" not in text

    def test_it_says_how_many_artworks_are_missing(
        self, owner, eager_tasks, django_capture_on_commit_callbacks
    ):
        kept, lost = make_post(owner), make_post(owner)
        storages["vault"].delete(lost.art.name)
        bdr = _build(
            make_bdr(owner, [kept, lost], send_email=True), django_capture_on_commit_callbacks
        )
        assert (bdr.status, bdr.artwork_count) == (Status.READY, 1)
        text, html = _parts(mail.outbox[0])
        assert mail.outbox[0].subject == "Your download of 1 artwork is ready"
        assert "1 of the artworks you selected could not be included" in text
        assert "1 of the artworks you selected could not be included" in html

    def test_it_is_sent_only_when_asked(
        self, owner, eager_tasks, django_capture_on_commit_callbacks
    ):
        bdr = _build(make_bdr(owner, [make_post(owner)]), django_capture_on_commit_callbacks)
        assert bdr.status == Status.READY
        assert mail.outbox == []

    def test_it_escapes_user_text_in_html_only(self, db):
        user = make_user("zoe")
        user.username = '<img src=x onerror="alert(1)">&co'
        user.save()
        bdr = make_bdr(user, [make_post(user)], send_email=True)
        build.download_request_build(bdr.pk)
        assert emails.send_download_email(bdr.pk, "ready") == emails.SENT
        text, html = _parts(mail.outbox[0])
        assert 'Hi <img src=x onerror="alert(1)">&co,' in text
        assert "<img src=x" not in html
        assert "Hi &lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;co," in html

    def test_it_is_not_sent_for_a_request_that_is_no_longer_ready(self, owner):
        bdr = make_bdr(owner, [make_post(owner)], status=Status.EXPIRED, send_email=True)
        assert emails.send_download_email(bdr.pk, "ready") == "the download has expired"
        bdr.status = Status.PENDING
        bdr.save()
        assert emails.send_download_email(bdr.pk, "ready") == "the request is pending"
        assert mail.outbox == []

    def test_it_is_not_sent_once_past_expiry_even_before_cleanup_runs(self, owner, eager_tasks):
        """Issue 11 item 9: stored as ready, past expires_at: its link answers 410."""
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        build.download_request_build(bdr.pk)
        mail.outbox.clear()
        BatchDownloadRequest.objects.filter(pk=bdr.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert BatchDownloadRequest.objects.get(pk=bdr.pk).status == Status.READY
        assert emails.send_download_email(bdr.pk, "ready") == "the download has expired"
        assert send_bdr_email.apply(args=[str(bdr.pk), "ready"]).get() == (
            "the download has expired"
        )
        assert mail.outbox == []

    def test_a_user_without_an_address_gets_none(self, owner):
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        build.download_request_build(bdr.pk)
        mail.outbox.clear()
        owner.email = ""
        owner.save()
        assert emails.send_download_email(bdr.pk, "ready") == "the user has no email address"
        assert mail.outbox == []


class TestFailedEmail:
    def test_it_gives_the_reason_and_invites_a_retry(
        self, owner, eager_tasks, django_capture_on_commit_callbacks
    ):
        post = make_post(owner)
        storages["vault"].delete(post.art.name)
        bdr = _build(make_bdr(owner, [post], send_email=True), django_capture_on_commit_callbacks)
        assert bdr.status == Status.FAILED

        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.subject == "Your download of 1 artwork could not be built"
        text, html = _parts(message)
        link = emails.download_link(bdr)
        for part in (text, html):
            assert "The artwork could not be read, so there is nothing to download" in part
            assert "retry" in part
            assert link in part

    def test_it_is_not_sent_for_a_failed_request_that_was_retried(self, owner):
        """Issue 11 item 9: the retry has news of its own."""
        posts = [make_post(owner)]
        failed = make_bdr(
            owner, posts, status=Status.FAILED, error_message="Oops.", send_email=True
        )
        assert emails.email_skip_reason(failed, "failed") is None
        make_bdr(owner, posts, retry_of=failed, send_email=True)
        assert emails.send_download_email(failed.pk, "failed") == "the request was retried"
        assert send_bdr_email.apply(args=[str(failed.pk), "failed"]).get() == (
            "the request was retried"
        )
        assert mail.outbox == []

    def test_it_is_not_sent_for_a_request_that_is_not_failed(self, owner):
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        build.download_request_build(bdr.pk)
        mail.outbox.clear()
        assert emails.send_download_email(bdr.pk, "failed") == "the request is ready"
        assert emails.send_download_email(uuid.uuid4(), "failed") == "the request is gone"
        assert mail.outbox == []


class TestSendingErrors:
    def test_the_task_retries_through_celerys_own_options(self):
        task = send_bdr_email
        assert set(task.autoretry_for) == {smtplib.SMTPException, OSError, DatabaseError}
        assert task.retry_backoff == settings.PMD_EMAIL_RETRY_BASE_SECONDS
        assert task.retry_backoff_max == settings.PMD_RETRY_BACKOFF_MAX_SECONDS
        assert task.retry_jitter is True
        assert task.max_retries == settings.PMD_EMAIL_MAX_RETRIES

    def test_a_failure_to_send_is_logged_and_retried_and_never_changes_the_request(
        self, owner, settings, caplog, monkeypatch
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = free_port()  # nothing listens there
        settings.EMAIL_TIMEOUT = 2
        monkeypatch.setattr(send_bdr_email, "max_retries", 2)
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        build.download_request_build(bdr.pk)

        # apply() runs the task here, Celery's retries included (without their waits).
        result = send_bdr_email.apply(args=[str(bdr.pk), "ready"])

        assert result.failed() and isinstance(result.result, OSError)
        attempts = [r for r in caplog.records if "email attempt" in r.getMessage()]
        assert len(attempts) == 2
        for number, record in enumerate(attempts, start=1):
            assert f"ready email attempt {number} failed, will retry" in record.getMessage()
        assert all(record.levelname == "WARNING" for record in attempts)
        [gave_up] = [r for r in caplog.records if "not sent after 3 attempts" in r.getMessage()]
        assert gave_up.levelname == "ERROR"
        bdr.refresh_from_db()
        assert bdr.status == Status.READY


class RefusingSmtpServer(SmtpServer):
    """A mail server that answers "try again later" to the first messages."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals
        self.refused = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        if self.refused < self.refusals:
            self.refused += 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_real_worker_retries_until_the_mail_server_accepts(
    transactional_db, owner, session_vault, celery_test_queue
):
    require_redis()
    smtp = RefusingSmtpServer(refusals=2)
    smtp.controller.start()
    worker = CeleryWorker(
        queue=celery_test_queue,
        log_dir=Path(session_vault).parent,
        PMD_VAULT_ROOT=str(session_vault),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_TIMEOUT="2",
        PMD_EMAIL_RETRY_BASE_SECONDS="1",
    )
    try:
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        # Ready: the build queues the email, as in production.
        build.download_request_build(bdr.pk)
        worker.start()
        message = smtp.wait_for(lambda m: str(bdr.pk) in m.get_body(("plain",)).get_content(), 30)
        time.sleep(0.5)  # a duplicate would arrive now
    finally:
        worker.stop()
        smtp.controller.stop()
    assert smtp.refused == 2
    assert len(smtp.received) == 1
    assert message["Subject"] == "Your download of 1 artwork is ready"
    log = worker.log_tail(50_000)
    for attempt in (1, 2):
        assert f"ready email attempt {attempt} failed, will retry" in log
    assert log.count("retry: Retry in") == 2  # Celery's own retry, twice
    bdr.refresh_from_db()
    assert bdr.status == Status.READY


def test_it_sends_through_a_real_smtp_server(owner, settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.DEFAULT_FROM_EMAIL = "PixelPosts <noreply@pixelposts.test>"
    bdr = make_bdr(owner, [make_post(owner)], send_email=True)
    build.download_request_build(bdr.pk)

    assert send_bdr_email.apply(args=[str(bdr.pk), "ready"]).get() == emails.SENT

    received = smtp_server.wait_for(lambda m: str(bdr.pk) in m.get_body(("plain",)).get_content())
    assert received["To"] == "alice@example.com"
    assert received["From"] == "PixelPosts <noreply@pixelposts.test>"
    assert received["Subject"] == "Your download of 1 artwork is ready"
    link = emails.download_link(bdr)
    assert link in received.get_body(("plain",)).get_content()
    assert f'href="{link}"' in received.get_body(("html",)).get_content()
