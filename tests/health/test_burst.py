"""Readiness under load, as production sees it: a real web process (uvicorn)
and a real worker, probed by many anonymous clients at once, and workers of
two deployments on one Redis. A module of its own: the worker lives as long
as the module."""

from __future__ import annotations

import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.test import Client

from pmd_project.health import readiness
from testing.factories import make_post, make_user
from testing.live import AsgiServer, session_cookies
from testing.worker import TEST_QUEUE, CeleryWorker
from tests.health.helpers import beat_ran_just_now, get

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("transactional_db")]

PROBES, AT_ONCE = 200, 50


def thread_count(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^Threads:\s+(\d+)$", status, re.MULTILINE)
    assert found, status
    return int(found[1])


def _probe(url: str) -> int | str:
    try:
        return httpx.get(url, timeout=30).status_code
    except httpx.HTTPError as error:
        return type(error).__name__


def test_a_burst_of_anonymous_probes_leaves_the_process_serving(celery_worker, session_vault):
    beat_ran_just_now()
    owner = make_user("burst")
    posts = [make_post(owner) for _ in range(2)]
    server = AsgiServer(
        PMD_VAULT_ROOT=str(session_vault), CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE
    ).start()
    try:
        ready = f"{server.url}/health/ready"
        # A freshly started process is ready on its first probe.
        first = httpx.get(ready, timeout=10)
        assert first.status_code == 200, first.text
        threads_before = thread_count(server.process.pid)

        with ThreadPoolExecutor(AT_ONCE) as clients:
            answers = list(clients.map(_probe, [ready] * PROBES))
        assert answers == [200] * PROBES, sorted(set(map(str, answers)))

        deadline = time.monotonic() + 5
        while (status := _probe(ready)) != 200:
            assert time.monotonic() < deadline, f"not ready 5 s after the burst: {status}"
            time.sleep(0.1)

        # The session's CSRF secret, as the cookie and the header both carry it.
        token = secrets.token_hex(16)
        cookies = {**session_cookies(owner), "csrftoken": token}
        with httpx.Client(base_url=server.url, cookies=cookies, timeout=2) as client:
            started = time.monotonic()
            response = client.post(
                "/api/pmd/bdr",
                json={"post_ids": [post.pk for post in posts]},
                headers={"X-CSRFToken": token},
            )
        assert response.status_code == 201, response.text
        assert time.monotonic() - started < 2

        deadline = time.monotonic() + 10
        while (threads := thread_count(server.process.pid)) > threads_before + 5:
            assert time.monotonic() < deadline, f"threads {threads_before} -> {threads}"
            time.sleep(0.2)
    finally:
        server.stop()


def test_readiness_counts_only_the_workers_of_its_own_queue(celery_worker, staff, tmp_path):
    """Two deployments on one Redis: ours consumes TEST_QUEUE, the other's
    worker another queue. Ours is ready exactly while its own worker runs."""
    beat_ran_just_now()
    client = Client()
    client.force_login(staff)

    def fresh_report() -> dict:
        readiness.forget()
        return get(client, "/health/ready").json()

    other = CeleryWorker(queue=f"{TEST_QUEUE}-other", log_dir=tmp_path).start()
    try:
        reports = [fresh_report() for _ in range(30)]
        assert [report["status"] for report in reports] == ["ok"] * 30, reports
        celery_worker.stop()
        try:
            reports = [fresh_report() for _ in range(10)]
            # "consumes" when no worker of the queue was ever heard of, "has
            # been heard of for N s" when an earlier test's worker was: in
            # random order either comes first; never ready on the other queue.
            said = [report["checks"]["worker"] for report in reports]
            assert all(
                re.fullmatch(
                    rf"Unavailable: no worker (consumes the queue {re.escape(repr(TEST_QUEUE))}"
                    rf"|of the queue {re.escape(repr(TEST_QUEUE))} has been heard of for \d+ s)",
                    text,
                )
                for text in said
            ), said
        finally:
            celery_worker.start()
    finally:
        other.stop()
