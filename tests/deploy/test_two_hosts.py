"""Shared nothing but PostgreSQL, Redis and the bucket, so a host can be added
or lost without a copy of anything to keep in step.

Two web processes and two workers, each in a working directory of its own
with its own scratch folder and an empty local vault folder nobody shares:
a download requested through web A is built by worker B, the page's live
stream open on web B hears it become ready, and the ZIP comes back through
web A byte for byte.

Worker A is made unable to take the build with Celery's remote control:
after both workers have started on the shared queue, A is told to stop
consuming it (cancel_consumer) and shown to still be alive, so only B can
take the request. Beat is not started: it must run exactly once per
deployment (docs/operating.md, "Deploying"), and nothing here waits on a schedule.

It runs on SQLite too: the four processes are on one machine here and share
the database file, as they share a PostgreSQL server in production.
"""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest

from pmd.live import BDR_UPDATE
from pmd.models import BatchDownloadRequest
from testing.factories import make_post, make_user
from testing.live import AsgiServer, session_cookies
from testing.services import require_redis
from testing.sse import SseClient
from testing.worker import CeleryWorker, _delete_queue

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CSRF = "c" * 32


class Host:
    """One machine: a working directory, an unshared vault folder, a scratch folder."""

    def __init__(self, root: Path, name: str) -> None:
        self.name = name
        self.home = root / name
        self.local_vault = self.home / "vault"
        self.scratch = self.home / "scratch"
        for folder in (self.home, self.local_vault, self.scratch):
            folder.mkdir(parents=True)

    def env(self, s3_env: dict[str, str]) -> dict[str, str]:
        return {
            **s3_env,
            "PMD_VAULT_ROOT": str(self.local_vault),
            "PMD_SCRATCH_DIR": str(self.scratch),
        }

    def files_on_disk(self) -> list[str]:
        return sorted(
            str(path.relative_to(self.home))
            for folder in (self.local_vault, self.scratch)
            for path in folder.rglob("*")
            if path.is_file()
        )


def test_a_request_made_on_web_a_is_built_by_worker_b_heard_on_web_b_and_downloaded_from_a(
    s3_vault, tmp_path
):
    require_redis()
    from pmd_project.celery import app

    queue = f"pmd-two-hosts-{uuid.uuid4().hex[:8]}"
    host_a, host_b = Host(tmp_path, "host-a"), Host(tmp_path, "host-b")
    owner = make_user("two-hosts")
    posts = [make_post(owner) for _ in range(3)]
    processes = []
    try:
        web_a = AsgiServer(
            cwd=host_a.home, CELERY_TASK_DEFAULT_QUEUE=queue, **host_a.env(s3_vault.env)
        ).start()
        processes.append(web_a)
        web_b = AsgiServer(
            cwd=host_b.home, CELERY_TASK_DEFAULT_QUEUE=queue, **host_b.env(s3_vault.env)
        ).start()
        processes.append(web_b)
        worker_a = CeleryWorker(
            queue=queue, log_dir=tmp_path, cwd=host_a.home, **host_a.env(s3_vault.env)
        ).start()
        processes.append(worker_a)
        worker_b = CeleryWorker(
            queue=queue, log_dir=tmp_path, cwd=host_b.home, **host_b.env(s3_vault.env)
        ).start()
        processes.append(worker_b)

        # Worker A stays up but stops taking builds from the shared queue.
        replies = app.control.cancel_consumer(queue, destination=[worker_a.node], reply=True)
        assert replies and worker_a.node in replies[0], replies
        queues = app.control.inspect(destination=[worker_a.node, worker_b.node]).active_queues()
        assert [q["name"] for q in queues[worker_a.node]] == []
        assert [q["name"] for q in queues[worker_b.node]] == [queue]

        cookies = {**session_cookies(owner), "csrftoken": CSRF}
        stream = SseClient(f"{web_b.url}/api/pmd/bdr/sse", cookies=cookies).start()
        try:
            with httpx.Client(base_url=web_a.url, cookies=cookies, timeout=30) as on_a:
                made = on_a.post(
                    "/api/pmd/bdr",
                    json={"post_ids": [post.pk for post in posts]},
                    headers={"X-CSRFToken": CSRF},
                )
                assert made.status_code == 201, made.text
                bdr_id = made.json()["id"]

                deadline = time.monotonic() + 60
                while True:
                    event = stream.next_event(timeout=max(deadline - time.monotonic(), 0.1))
                    if event.event == BDR_UPDATE and event.json()["status"] == "ready":
                        break
                heard = event.json()
                assert heard["id"] == bdr_id

                answer = on_a.get(heard["download_url"])
                assert answer.status_code == 302
                downloaded = httpx.get(answer.headers["location"], timeout=30)
        finally:
            stream.close()
    finally:
        for process in reversed(processes):
            process.stop()
        _delete_queue(queue)

    bdr = BatchDownloadRequest.objects.get(pk=bdr_id)
    assert bdr.status == BatchDownloadRequest.Status.READY
    # Built by worker B, not A.
    assert f"bdr {bdr_id} ready" in worker_b.log_tail(200_000)
    assert bdr_id not in worker_a.log_tail(200_000)
    # Byte for byte what was published, and it holds the artworks as stored.
    assert downloaded.status_code == 200
    assert downloaded.content == s3_vault.read(bdr.file_path)
    archive = zipfile.ZipFile(io.BytesIO(downloaded.content))
    for post in posts:
        assert archive.read(f"artworks/{post.public_sqid}.png") == s3_vault.read(post.art.name)
    # Nothing of it on either host's disk: no local vault, no scratch left.
    assert host_a.files_on_disk() == []
    assert host_b.files_on_disk() == []
