"""Prometheus metrics in one process: /metrics refuses strangers, and each
metric moves when its event happens (the worker's side: test_deployment.py)."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from pmd.downloads import build, emails
from pmd.downloads.queue import enqueue_build
from testing.factories import make_post
from testing.live import free_port
from testing.services import require_redis
from tests.pmd.bdr_helpers import make_bdr
from tests.telemetry.helpers import has_series, sample

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def metrics_token(settings) -> str:
    settings.PMD_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client | None = None) -> str:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


class TestTheMetricsPath:
    def test_it_is_not_there_without_a_token_configured(self, staff_client, settings):
        settings.PMD_METRICS_TOKEN = ""
        assert staff_client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404

    @pytest.mark.parametrize(
        "authorization",
        [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
    )
    def test_it_refuses_a_caller_without_the_token(self, metrics_token, authorization, db):
        headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
        response = Client().get("/metrics", **headers)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"pmd_" not in response.content

    def test_a_staff_session_is_not_a_token(self, metrics_token, staff_client):
        assert staff_client.get("/metrics").status_code == 401

    def test_it_answers_the_token_in_prometheus_text_format(self, metrics_token, db):
        response = Client().get("/metrics", HTTP_AUTHORIZATION=f"bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain; version=")
        assert has_series(response.content.decode(), "pmd_http_request_duration_seconds_count")


class TestRequestLatency:
    def test_it_counts_each_request_under_its_url_name_not_its_path(
        self, metrics_token, owner_client, owner_sqid
    ):
        labels = {"view": "pmd:dashboard", "method": "GET", "status": "2xx"}
        before = sample(scrape(), "pmd_http_request_duration_seconds_count", **labels)

        assert owner_client.get(f"/u/{owner_sqid}/posts").status_code == 200

        text = scrape()
        assert sample(text, "pmd_http_request_duration_seconds_count", **labels) == before + 1
        assert sample(text, "pmd_http_request_duration_seconds_sum", **labels) > 0
        assert owner_sqid not in text

    def test_a_path_that_matches_nothing_is_one_label(self, metrics_token, db):
        labels = {"view": "unmatched", "method": "GET", "status": "4xx"}
        before = sample(scrape(), "pmd_http_request_duration_seconds_count", **labels)
        for path in ("/no-such-page", f"/{uuid.uuid4()}"):
            assert Client().get(path).status_code == 404
        assert sample(scrape(), "pmd_http_request_duration_seconds_count", **labels) == before + 2


class TestBuilds:
    def test_each_attempt_is_timed_by_its_outcome(self, metrics_token, owner):
        def count(outcome: str) -> float:
            return sample(scrape(), "pmd_bdr_build_duration_seconds_count", outcome=outcome)

        ready, skipped = count("ready"), count("skipped")
        bdr = make_bdr(owner, [make_post(owner)])
        assert build.download_request_build(bdr.pk) == "ready"
        assert build.download_request_build(bdr.pk) == "skipped"  # already built
        assert (count("ready"), count("skipped")) == (ready + 1, skipped + 1)


class TestEmails:
    @pytest.fixture
    def smtp_settings(self, settings, smtp_server):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = smtp_server.port
        settings.EMAIL_TIMEOUT = 5
        return settings

    def test_one_handed_to_the_mail_server_counts_as_sent(
        self, metrics_token, smtp_settings, smtp_server, owner
    ):
        before = sample(scrape(), "pmd_emails_total", kind="ready", outcome="sent")
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        build.download_request_build(bdr.pk)

        assert emails.send_download_email(bdr.pk, "ready") == emails.SENT

        smtp_server.wait_for(lambda m: str(bdr.pk) in m.get_body(("plain",)).get_content())
        assert sample(scrape(), "pmd_emails_total", kind="ready", outcome="sent") == before + 1

    def test_one_the_mail_server_refuses_counts_as_failed(
        self, metrics_token, smtp_settings, owner
    ):
        smtp_settings.EMAIL_PORT = free_port()  # nothing listens there
        text = scrape()
        sent = sample(text, "pmd_emails_total", kind="ready", outcome="sent")
        failed = sample(text, "pmd_emails_total", kind="ready", outcome="failed")
        bdr = make_bdr(owner, [make_post(owner)], send_email=True)
        build.download_request_build(bdr.pk)

        outcome = emails.send_download_email(bdr.pk, "ready", raise_errors=False)

        assert outcome == emails.SEND_FAILED
        text = scrape()
        assert sample(text, "pmd_emails_total", kind="ready", outcome="failed") == failed + 1
        assert sample(text, "pmd_emails_total", kind="ready", outcome="sent") == sent


class TestQueueLength:
    def test_it_is_read_from_the_broker_when_scraped(self, metrics_token, empty_test_queue, db):
        require_redis()
        assert sample(scrape(), "pmd_celery_queue_length", queue=empty_test_queue) == 0
        for _ in range(3):
            assert enqueue_build(uuid.uuid4())
        assert sample(scrape(), "pmd_celery_queue_length", queue=empty_test_queue) == 3

    def test_a_broker_that_does_not_answer_leaves_it_out(self, metrics_token, db):
        from pmd_project.telemetry import metrics

        # Not through settings: Celery's app reads its configuration once, on
        # first use, and would keep this dead broker for every later test.
        reader = metrics.QueueLength(f"redis://127.0.0.1:{free_port()}/0")
        assert list(reader.collect()) == []
