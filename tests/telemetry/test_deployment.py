"""Telemetry as a host runs it: uvicorn and a prefork Celery worker sharing
one PROMETHEUS_MULTIPROC_DIR, logging JSON lines; a request's id followed
from the web into the worker's lines; builds, emails and live streams counted
where they happen and scraped from the web's /metrics and the worker's own."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from testing.factories import make_post, make_user
from testing.live import AsgiServer, free_port, session_cookies
from testing.services import require_redis
from testing.sse import SseClient
from testing.worker import CeleryWorker, _delete_queue
from tests.telemetry.helpers import sample

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TOKEN = "deployment-metrics-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
CSRF = "c" * 32


class Host:
    def __init__(self, web: AsgiServer, worker: CeleryWorker, worker_metrics: str) -> None:
        self.web, self.worker = web, worker
        self.worker_metrics = worker_metrics

    def scrape(self, url: str | None = None) -> str:
        response = httpx.get(url or f"{self.web.url}/metrics", headers=BEARER, timeout=10)
        assert response.status_code == 200, response.text[:300]
        return response.text

    def worker_lines(self) -> list[dict]:
        return [
            json.loads(line)
            for line in self.worker.log_tail(1_000_000).splitlines()
            if line.startswith("{")
        ]


@pytest.fixture(scope="module")
def host(django_db_setup, django_db_blocker, session_vault, smtp_server, tmp_path_factory):
    require_redis()
    queue = f"pmd-telemetry-{uuid.uuid4().hex[:8]}"
    metrics_dir = tmp_path_factory.mktemp("prometheus")
    worker_metrics = f"127.0.0.1:{free_port()}"
    common = {
        "PMD_VAULT_ROOT": str(session_vault),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PMD_METRICS_TOKEN": TOKEN,
        "LOG_FORMAT": "json",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
    }
    started = []
    try:
        with django_db_blocker.unblock():
            web = AsgiServer(CELERY_TASK_DEFAULT_QUEUE=queue, **common).start()
            started.append(web)
            worker = CeleryWorker(
                queue=queue,
                log_dir=metrics_dir.parent,
                pool="prefork",  # builds run in a child process, as in production
                SITE_URL=web.url,
                PMD_WORKER_METRICS_LISTEN=worker_metrics,
                **common,
            ).start()
            started.append(worker)
        yield Host(web, worker, worker_metrics)
    finally:
        for process in reversed(started):
            process.stop()
        _delete_queue(queue)


def test_a_request_id_is_followed_into_the_worker_and_the_build_counted(host, smtp_server):
    owner = make_user("telemetry")
    posts = [make_post(owner) for _ in range(2)]
    cookies = {**session_cookies(owner), "csrftoken": CSRF}
    request_id = f"trace-{uuid.uuid4().hex[:12]}"
    before = host.scrape()

    with httpx.Client(base_url=host.web.url, cookies=cookies, timeout=30) as client:
        made = client.post(
            "/api/pmd/bdr",
            json={"post_ids": [post.pk for post in posts], "send_email": True},
            headers={"X-CSRFToken": CSRF, "X-Request-ID": request_id},
        )
        assert made.status_code == 201, made.text
        assert made.headers["X-Request-ID"] == request_id
        bdr_id = made.json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/pmd/bdr/{bdr_id}").json()["status"] != "ready":
            assert time.monotonic() < deadline, host.worker.log_tail()
            time.sleep(0.2)
    smtp_server.wait_for(lambda m: bdr_id in m.get_body(("plain",)).get_content())

    # The worker's lines about this build, and about the email the build
    # queued, carry the id of the request that asked for it.
    deadline = time.monotonic() + 10
    while not any(f"bdr {bdr_id}: ready email sent" in x["message"] for x in host.worker_lines()):
        assert time.monotonic() < deadline, host.worker.log_tail()
        time.sleep(0.1)
    about = [line for line in host.worker_lines() if bdr_id in line["message"]]
    assert {line["request_id"] for line in about} == {request_id}, about
    assert {line["task"] for line in about} == {
        "pmd.tasks.process_bdr_job",
        "pmd.tasks.send_bdr_email",
    }
    assert any(line["message"].startswith(f"bdr {bdr_id} ready:") for line in about)

    # Counted in the worker's child, scraped from the web process of its host
    # and from the worker's own exporter.
    for url in (None, f"http://{host.worker_metrics}/metrics"):
        after = host.scrape(url)
        for name, labels in [
            ("pmd_bdr_build_duration_seconds_count", {"outcome": "ready"}),
            ("pmd_emails_total", {"kind": "ready", "outcome": "sent"}),
        ]:
            assert sample(after, name, **labels) == sample(before, name, **labels) + 1, name
    labels = {"view": "pmd:api-bdr-list", "method": "POST", "status": "2xx"}
    name = "pmd_http_request_duration_seconds_count"
    assert sample(host.scrape(), name, **labels) == sample(before, name, **labels) + 1


def test_the_workers_exporter_refuses_a_caller_without_the_token(host):
    url = f"http://{host.worker_metrics}/metrics"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(url, headers=headers, timeout=10)
        assert response.status_code == 401
        assert "pmd_" not in response.text
    assert httpx.get(url.replace("/metrics", "/"), headers=BEARER).status_code == 404


def test_open_live_streams_are_counted_until_they_close(host):
    owner = make_user("telemetry-live")
    cookies = {**session_cookies(owner), "csrftoken": CSRF}
    open_before = sample(host.scrape(), "pmd_sse_streams_open")
    streams = [SseClient(f"{host.web.url}/api/pmd/bdr/sse", cookies=cookies).start()]
    try:
        streams.append(SseClient(f"{host.web.url}/api/pmd/bdr/sse", cookies=cookies).start())
        assert sample(host.scrape(), "pmd_sse_streams_open") == open_before + 2
    finally:
        for stream in streams:
            stream.close()
    deadline = time.monotonic() + 10
    while sample(host.scrape(), "pmd_sse_streams_open") != open_before:
        assert time.monotonic() < deadline, "closed streams still counted"
        time.sleep(0.1)
