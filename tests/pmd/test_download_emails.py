"""Emails about download requests (SPEC §8)."""

from __future__ import annotations

from django.core import mail
from django.core.files.storage import storages

from pmd import downloads, emails
from pmd.models import BatchDownloadRequest
from pmd.tasks import send_bdr_email
from posts.public_ids import user_sqid
from tests.factories import make_post, make_user
from tests.live import free_port
from tests.pmd.bdr_helpers import make_bdr

Status = BatchDownloadRequest.Status


def _build(bdr, capture) -> BatchDownloadRequest:
    with capture(execute=True):
        downloads.download_request_build(bdr.pk)
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
        downloads.download_request_build(bdr.pk)
        assert emails.send_download_email(bdr.pk, "ready") is True
        text, html = _parts(mail.outbox[0])
        assert 'Hi <img src=x onerror="alert(1)">&co,' in text
        assert "<img src=x" not in html
        assert "Hi &lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;co," in html

    def test_it_is_not_sent_for_a_request_that_is_no_longer_ready(self, owner):
        bdr = make_bdr(owner, [make_post(owner)], status=Status.EXPIRED, send_email=True)
        assert emails.send_download_email(bdr.pk, "ready") is False
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


class TestSendingErrors:
    def test_a_failure_to_send_is_logged_and_retried_and_never_changes_the_request(
        self, owner, settings, caplog
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = free_port()  # nothing listens there
        settings.EMAIL_TIMEOUT = 2
        settings.PMD_EMAIL_MAX_RETRIES = 2
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        downloads.download_request_build(bdr.pk)

        # apply() runs the task here, retries included (without their waits).
        assert send_bdr_email.apply(args=[str(bdr.pk), "ready"]).get() == "gave up"

        attempts = [r for r in caplog.records if "email attempt" in r.getMessage()]
        assert len(attempts) == 2
        assert all(record.levelname == "WARNING" for record in attempts)
        assert any("not sent after 3 attempts" in r.getMessage() for r in caplog.records)
        bdr.refresh_from_db()
        assert bdr.status == Status.READY


def test_it_sends_through_a_real_smtp_server(owner, settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.DEFAULT_FROM_EMAIL = "PixelPosts <noreply@pixelposts.test>"
    bdr = make_bdr(owner, [make_post(owner)], send_email=True)
    downloads.download_request_build(bdr.pk)

    assert send_bdr_email.apply(args=[str(bdr.pk), "ready"]).get() == "sent"

    received = smtp_server.wait_for(lambda m: str(bdr.pk) in m.get_body(("plain",)).get_content())
    assert received["To"] == "alice@example.com"
    assert received["From"] == "PixelPosts <noreply@pixelposts.test>"
    assert received["Subject"] == "Your download of 1 artwork is ready"
    link = emails.download_link(bdr)
    assert link in received.get_body(("plain",)).get_content()
    assert f'href="{link}"' in received.get_body(("html",)).get_content()
