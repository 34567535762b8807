"""Jobs with a real Celery worker: progress on the owner's event stream, and
the faults a job must survive (a worker killed mid-job, Redis restarted
mid-job, a chunk whose transaction keeps failing), each ending done or
failed with exact counts, no chunk applied twice and no post half-changed.

The chunks are slowed, or made to fail, by a trigger on the posts table,
so the faults land mid-job, against the real database."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

from pmd.jobs.events import JOB_UPDATE
from pmd.jobs.recover import jobs_recover
from pmd.jobs.service import job_create
from pmd.models import ActivityEntry, Job
from posts.models import Post
from testing.factories import make_posts, make_user
from testing.live import free_port, session_cookies
from testing.services import require_redis
from testing.sse import SseClient
from testing.worker import CeleryWorker
from tests.pmd.test_live import _private_redis

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgresql_only,
    pytest.mark.django_db(transaction=True),
]

CHUNK = 16
LEASE_SECONDS = 6
TABLE = Post._meta.db_table


def _wait(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout} s")
        time.sleep(0.05)


def _job(job) -> Job:
    return Job.objects.defer("post_ids").get(pk=job.pk)


@pytest.fixture
def post_trigger():
    """install(body): a BEFORE UPDATE trigger on each post row running the
    PL/pgSQL `body`, removed after the test."""

    def install(body: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE OR REPLACE FUNCTION pmd_test_post_update() RETURNS trigger AS $$ "
                f"BEGIN {body} RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER pmd_test_post_update BEFORE UPDATE ON {TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION pmd_test_post_update()"
            )

    yield install
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS pmd_test_post_update ON {TABLE}")
        cursor.execute("DROP FUNCTION IF EXISTS pmd_test_post_update()")


@pytest.fixture
def worker_env(session_vault):
    return {
        "PMD_VAULT_ROOT": str(session_vault),
        "PMD_JOB_CHUNK": str(CHUNK),
        "PMD_BDR_LEASE_SECONDS": str(LEASE_SECONDS),
    }


def _worker(queue, session_vault, env, **more) -> CeleryWorker:
    return CeleryWorker(queue=queue, log_dir=Path(session_vault).parent, **env, **more).start()


def _assert_applied_once(job: Job, posts: list[Post]) -> None:
    """Every post changed by exactly one chunk, each chunk recorded once."""
    entries = list(ActivityEntry.objects.filter(job_id=job.pk).order_by("chunk"))
    chunks = [entry.chunk for entry in entries]
    assert len(chunks) == len(set(chunks))
    changed = [post_id for entry in entries for post_id in entry.changed_ids]
    assert sorted(changed) == sorted(post.pk for post in posts)
    assert job.changed == len(changed)


def test_progress_reaches_the_owners_stream_after_each_chunk(
    asgi_server, celery_test_queue, session_vault, worker_env, settings
):
    require_redis()
    settings.PMD_JOB_CHUNK = CHUNK
    owner = make_user("jo")
    posts = make_posts(owner, CHUNK * 3 + 5)
    stream = SseClient(f"{asgi_server.url}/api/pmd/bdr/sse", cookies=session_cookies(owner))
    stream.start()
    worker = _worker(celery_test_queue, session_vault, worker_env)
    try:
        job = job_create(user=owner, action_name="hide", post_ids=[p.pk for p in posts])
        seen = []
        while not seen or seen[-1]["status"] not in ("done", "failed"):
            seen.append(stream.next_event(timeout=30, event=JOB_UPDATE).json())
    finally:
        stream.close()
        worker.stop()
    assert {item["id"] for item in seen} == {str(job.pk)}
    assert seen[0]["status"] == "queued"
    progress = [item["done"] for item in seen if item["status"] == "running"]
    assert progress == sorted(progress) and CHUNK in progress and CHUNK * 3 in progress
    last = seen[-1]
    assert (last["status"], last["done"], last["changed"], last["total"]) == (
        "done", len(posts), len(posts), len(posts),
    )  # fmt: skip
    assert last["undoable"] is True
    assert Post.objects.filter(owner=owner, hidden_by_user=True).count() == len(posts)


@pytest.mark.fault
def test_a_worker_killed_mid_job_is_taken_over_without_applying_a_chunk_twice(
    celery_test_queue, session_vault, worker_env, settings, post_trigger, chaos
):
    require_redis()
    settings.PMD_JOB_CHUNK = CHUNK
    settings.PMD_BDR_LEASE_SECONDS = LEASE_SECONDS
    owner = make_user("kim")
    posts = make_posts(owner, CHUNK * 6)
    # About half a second per chunk: the kill lands inside one.
    post_trigger("PERFORM pg_sleep(0.03);")
    first = _worker(celery_test_queue, session_vault, worker_env)
    try:
        job = job_create(user=owner, action_name="hide", post_ids=[p.pk for p in posts])
        _wait(lambda: _job(job).done >= CHUNK, "a first chunk committed")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        killed_at = time.monotonic()
    finally:
        first.stop()
    stalled = _job(job)
    assert stalled.status == "running" and stalled.done < len(posts)
    assert stalled.done % CHUNK == 0  # whole chunks only: the killed one rolled back
    second = _worker(celery_test_queue, session_vault, worker_env)
    try:
        # The beat job's work, called as beat would every 30 seconds.
        _wait(lambda: jobs_recover().taken_back == 1, "taken over", timeout=LEASE_SECONDS + 10)
        _wait(lambda: _job(job).status == "done", "done after the takeover")
    finally:
        second.stop()
    took = time.monotonic() - killed_at
    job = _job(job)
    assert (job.done, job.changed, job.skipped, job.failed) == (len(posts), len(posts), 0, 0)
    _assert_applied_once(job, posts)
    chaos(
        fault="worker SIGKILLed in the middle of a job's chunk",
        user_saw=f"progress paused at {stalled.done}/{len(posts)}, then went on to done",
        end_state=f"done in {took:.0f} s after the kill (lease {LEASE_SECONDS} s); "
        "every post changed by exactly one chunk",
    )


@pytest.mark.fault
def test_a_redis_restart_mid_job_loses_nothing(
    celery_test_queue, session_vault, worker_env, settings, post_trigger, chaos
):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_process = _private_redis(port)
    settings.PMD_JOB_CHUNK = CHUNK
    owner = make_user("lee")
    posts = make_posts(owner, CHUNK * 5)
    post_trigger("PERFORM pg_sleep(0.03);")
    # Asked for directly: this test's broker is the private Redis.
    job = Job.objects.create(
        user=owner, action="hide", post_ids=[p.pk for p in posts], total=len(posts)
    )
    worker = _worker(celery_test_queue, session_vault, worker_env, REDIS_URL=url)
    try:
        # Not made the current app: shared tasks sent later in this process
        # (.delay()) would go to this test's broker, long gone by then.
        with Celery(broker=url, set_as_current=False) as app:
            app.send_task("pmd.tasks.run_job", args=[str(job.pk)], queue=worker.queue)
        _wait(lambda: _job(job).done >= CHUNK, "a first chunk committed")
        redis_process.terminate()
        redis_process.wait(10)
        down_at = _job(job).done
        time.sleep(1)
        redis_process = _private_redis(port)
        _wait(lambda: _job(job).status in ("done", "failed"), "finished")
        redis.Redis.from_url(url).ping()
    finally:
        worker.stop()
        redis_process.terminate()
        redis_process.wait(10)
    job = _job(job)
    assert (job.status, job.done, job.failed) == ("done", len(posts), 0)
    _assert_applied_once(job, posts)
    chaos(
        fault="Redis restarted in the middle of a job",
        user_saw=f"no progress events while Redis was down (at {down_at}/{len(posts)})",
        end_state="done with every post changed once; the job never needed the broker",
    )


@pytest.mark.fault
def test_a_chunk_whose_transaction_fails_is_counted_failed_and_left_whole(
    celery_test_queue, session_vault, worker_env, settings, post_trigger, chaos
):
    require_redis()
    settings.PMD_JOB_CHUNK = CHUNK
    owner = make_user("max")
    posts = make_posts(owner, CHUNK * 3)
    broken = posts[CHUNK + 3]
    post_trigger(f"IF OLD.id = {broken.pk} THEN RAISE EXCEPTION 'injected fault'; END IF;")
    worker = _worker(celery_test_queue, session_vault, worker_env)
    try:
        job = job_create(user=owner, action_name="hide", post_ids=[p.pk for p in posts])
        _wait(lambda: _job(job).status in ("done", "failed"), "finished")
    finally:
        worker.stop()
    job = _job(job)
    assert (job.status, job.done, job.changed, job.failed) == (
        "failed", CHUNK * 2, CHUNK * 2, CHUNK,
    )  # fmt: skip
    # The failed chunk's posts are all as they were; the others all hidden.
    hidden = set(Post.objects.filter(hidden_by_user=True).values_list("id", flat=True))
    assert hidden == {p.pk for p in posts[:CHUNK] + posts[CHUNK * 2 :]}
    _assert_applied_once(job, posts[:CHUNK] + posts[CHUNK * 2 :])
    assert "database error" in job.error_message
    chaos(
        fault="one chunk's transaction fails every time (a trigger raises)",
        user_saw=f"Failed: {job.failed} posts could not be changed, the rest done",
        end_state="failed with exact counts; that chunk's posts untouched",
    )
