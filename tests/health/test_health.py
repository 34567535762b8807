"""/health/live and /health/ready without a worker: what a probe
and staff see when a service is missing."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import redis
from django.test import Client
from django.utils import timezone
from health_check.exceptions import ServiceUnavailable

from pmd_project import heartbeat
from pmd_project.celery import app as celery_app
from pmd_project.health import BeatLastRun
from testing.live import AsgiServer, free_port
from testing.services import require_redis
from tests.health.helpers import beat_ran_just_now, beat_task, get

CHECKS = {"database", "redis", "vault", "worker", "beat"}


def _ready(client: Client):
    response = get(client, "/health/ready")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response


class TestLive:
    def test_it_answers_without_the_database(self):
        # No db fixture: pytest-django fails any query, so this proves none is made.
        response = get(Client(), "/health/live")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert "no-store" in response["Cache-Control"]

    def test_a_plain_http_probe_is_not_redirected_to_https(self, settings):
        settings.SECURE_SSL_REDIRECT = True
        client = Client()
        assert client.get("/accounts/login/").status_code == 301  # the redirect is on
        assert get(client, "/health/live").status_code == 200

    def test_it_refuses_unsafe_methods(self):
        with ThreadPoolExecutor(max_workers=1) as thread:  # see helpers.get
            assert thread.submit(Client().post, "/health/live").result().status_code == 405

    def test_a_server_without_its_database_is_live_but_not_ready(self, django_db_blocker):
        require_redis()
        dead = f"postgres://postgres@127.0.0.1:{free_port()}/pmd"
        with django_db_blocker.unblock():
            server = AsgiServer(DATABASE_URL=dead).start()
        try:
            live = httpx.get(f"{server.url}/health/live", timeout=10)
            assert live.status_code == 200
            ready = httpx.get(f"{server.url}/health/ready", timeout=15)
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable"}
        finally:
            server.stop()


@pytest.fixture
def no_worker_heard_of():
    """No worker runs in this module, but one a fault test SIGKILLed moments
    before left its heartbeat entry on the queue, fresh for FRESH_SECONDS (as
    in production): these tests start from a queue no worker ever wrote to."""
    queue = celery_app.conf.task_default_queue
    # No Redis: no entry either (the tests that need Redis ask for it).
    with contextlib.suppress(redis.RedisError):
        heartbeat.client(celery_app.conf.broker_url, 2).delete(heartbeat.heartbeat_key(queue))


@pytest.mark.usefixtures("transactional_db", "no_worker_heard_of")
class TestReadyWithoutAWorker:
    def test_staff_see_which_check_failed(self, staff_client):
        require_redis()
        beat_ran_just_now()
        response = _ready(staff_client)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert set(body["checks"]) == CHECKS
        assert body["checks"]["worker"].startswith("Unavailable")
        assert {name for name, result in body["checks"].items() if result != "OK"} == {"worker"}

    def test_anonymous_callers_get_only_the_overall_status(self):
        require_redis()
        beat_ran_just_now()
        response = _ready(Client())
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable"}
        assert b"worker" not in response.content

    def test_a_missing_redis_is_named(self, staff_client, settings):
        beat_ran_just_now()
        settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
        body = _ready(staff_client).json()
        assert body["status"] == "unavailable"
        assert body["checks"]["redis"].startswith("Unavailable")
        assert body["checks"]["database"] == "OK"
        assert settings.REDIS_URL not in str(body)

    def test_an_unwritable_vault_is_named(self, staff_client, settings, tmp_path):
        beat_ran_just_now()
        not_a_folder = tmp_path / "file"
        not_a_folder.write_text("")
        settings.STORAGES = {
            **settings.STORAGES,
            "vault": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(not_a_folder), "base_url": None},
            },
        }
        body = _ready(staff_client).json()
        assert body["checks"]["vault"] != "OK"
        assert str(tmp_path) not in str(body)


@pytest.mark.usefixtures("transactional_db")
class TestBeatCheck:
    def test_a_recent_run_passes(self):
        beat_ran_just_now()
        BeatLastRun().run()

    def test_a_run_older_than_two_intervals_fails(self):
        beat_task(last_run_at=timezone.now() - timedelta(minutes=6))
        stale = r"beat last sent it \d+ s ago \(allowed: 300 s\)"
        with pytest.raises(ServiceUnavailable, match=stale):
            BeatLastRun().run()

    def test_a_task_never_run_counts_from_its_creation(self):
        task = beat_task(last_run_at=None)
        type(task).objects.filter(pk=task.pk).update(date_changed=timezone.now())
        BeatLastRun().run()  # just set up: not due yet
        type(task).objects.filter(pk=task.pk).update(
            date_changed=timezone.now() - timedelta(hours=1)
        )
        with pytest.raises(ServiceUnavailable, match="has not sent it since it was set up"):
            BeatLastRun().run()

    def test_a_disabled_or_missing_task_fails(self):
        task = beat_ran_just_now()
        type(task).objects.filter(pk=task.pk).update(enabled=False)
        with pytest.raises(ServiceUnavailable, match="is disabled"):
            BeatLastRun().run()
        task.delete()
        with pytest.raises(ServiceUnavailable, match="does not exist"):
            BeatLastRun().run()

    def test_staff_see_a_stale_beat_and_anonymous_callers_do_not(self, staff_client):
        beat_task(last_run_at=timezone.now() - timedelta(hours=1))
        body = _ready(staff_client).json()
        assert body["checks"]["beat"].startswith("Unavailable: beat last sent it")
        anonymous = _ready(Client())
        assert anonymous.status_code == 503
        assert anonymous.json() == {"status": "unavailable"}
