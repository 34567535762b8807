"""/health/ready with every service running: a real Celery worker on this
run's queue and beat's record. A module of its own: the worker
lives as long as the module."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from django.conf import settings
from django.test import Client

from pmd_project import heartbeat
from tests.health.helpers import beat_ran_just_now, get

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("transactional_db")]


def test_staff_see_every_check_pass(celery_worker, staff):
    beat_ran_just_now()
    client = Client()
    client.force_login(staff)
    response = get(client, "/health/ready")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": dict.fromkeys(("database", "redis", "vault", "worker", "beat"), "OK"),
    }


def test_a_probe_through_uvicorn_gets_200_and_only_the_status(celery_worker, bdr_web_server):
    beat_ran_just_now()
    response = httpx.get(f"{bdr_web_server.url}/health/ready", timeout=15)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def test_it_turns_unavailable_when_the_worker_stops(celery_worker, staff):
    beat_ran_just_now()
    client = Client()
    client.force_login(staff)
    assert get(client, "/health/ready").status_code == 200
    celery_worker.stop()
    try:
        # Probes share a report for a few seconds: the next fresh one tells.
        deadline = time.monotonic() + settings.PMD_HEALTH_CACHE_SECONDS + 10
        while (body := get(client, "/health/ready").json())["status"] == "ok":
            assert time.monotonic() < deadline, "still ready long after the worker stopped"
            time.sleep(0.2)
        # A worker killed earlier in the run (the fault tests) never said goodbye:
        # its last beat is then what the report names.
        queue = re.escape(repr(celery_worker.queue))
        assert re.fullmatch(
            rf"Unavailable: (no worker consumes the queue {queue}"
            rf"|no worker of the queue {queue} has been heard of for \d+ s)",
            body["checks"]["worker"],
        ), body
    finally:
        celery_worker.start()
        # Leave it as found for the tests after this one (in any order): the
        # worker seen again, not the report of it stopped that probes share.
        deadline = time.monotonic() + settings.PMD_HEALTH_CACHE_SECONDS + 60
        while get(client, "/health/ready").status_code != 200:
            assert time.monotonic() < deadline, "the worker was not seen again"
            time.sleep(0.2)


def test_a_restarted_worker_consumes_once_start_returns(celery_worker):
    """The harness's restart appends to the same log, whose first run already
    said " ready.": start() must wait for the new process, or a test right
    after it probes a deployment with no worker."""
    client = heartbeat.client(settings.CELERY_BROKER_URL, 2)
    key = heartbeat.heartbeat_key(celery_worker.queue)
    celery_worker.stop()
    try:
        # A warm shutdown withdraws this worker's entry at once. (The queue's
        # set may still hold a worker another test killed: its entry ages.)
        assert client.zscore(key, celery_worker.node) is None
    finally:
        celery_worker.start()
    assert client.zscore(key, celery_worker.node) is not None
    age = heartbeat.seconds_since_last_beat(client, celery_worker.queue)
    assert age is not None and age < heartbeat.FRESH_SECONDS, age
