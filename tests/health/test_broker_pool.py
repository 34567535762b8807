"""No request thread waits without end on the broker's connection pool: an
enqueue that finds every connection taken gives up in bounded time and leaves
its request pending for the recovery job, as when Redis is down."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from pmd.downloads.queue import enqueue_build
from pmd.models import BatchDownloadRequest
from pmd_project.celery import app
from testing.factories import make_post
from testing.services import require_redis
from testing.worker import queued_messages
from tests.pmd.bdr_helpers import make_bdr

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_an_enqueue_with_no_free_broker_connection_leaves_the_request_pending(
    owner, empty_test_queue
):
    require_redis()
    bdr = make_bdr(owner, [make_post(owner)])
    # Every connection of the pool taken, as kombu's control mailbox took
    # them all during a burst of worker pings.
    held = [app.pool.acquire(block=True) for _ in range(app.conf.broker_pool_limit)]
    thread = ThreadPoolExecutor(max_workers=1)
    try:
        enqueued = thread.submit(enqueue_build, bdr.pk)
        # Generous: the pool's wait is a second; an unbounded wait never ends.
        assert enqueued.result(timeout=30) is False
    finally:
        for connection in held:
            connection.release()
        thread.shutdown(wait=True)
    bdr.refresh_from_db()
    assert bdr.status == BatchDownloadRequest.Status.PENDING
    assert queued_messages(empty_test_queue) == 0

    # With connections free again, the same enqueue reaches the queue.
    assert enqueue_build(bdr.pk) is True
    assert queued_messages(empty_test_queue) == 1
