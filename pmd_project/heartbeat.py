"""Workers' heartbeat in Redis: how /health/ready knows a worker consumes its queue.

Pinging workers from a web request (Celery's `control.ping`) borrows the
broker connections that enqueueing needs, and a burst of probes deadlocks
them; the broadcast also reaches every worker on the Redis server, whatever
its deployment, so a probe counted another deployment's worker as ours or
not, at random. Instead each worker writes, every HEARTBEAT_SECONDS, its node
name into a sorted set per queue it consumes (scored by Redis's own clock),
on the broker's Redis where the queue itself lives. /health/ready then asks
one question of its own queue's set: has a worker written within
FRESH_SECONDS? A worker's warm shutdown takes its entry out at once; a killed
worker's ages out.

The writer is a consumer bootstep (pmd_project.celery): it starts once the
worker consumes and stops when it stops consuming (a lost broker connection,
a shutdown). It writes from a thread of its own, so a long task on a solo
pool does not starve it.
"""

from __future__ import annotations

import functools
import logging
import threading

import redis
from celery import bootsteps

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5
# Three heartbeats may go missing (a Redis hiccup) before the worker counts as gone.
FRESH_SECONDS = 3 * HEARTBEAT_SECONDS + 2
# Entries of killed workers are pruned once this old, and an abandoned set expires.
FORGET_SECONDS = 3600


def heartbeat_key(queue: str) -> str:
    return f"pmd:health:workers:{queue}"


@functools.cache
def client(url: str, timeout: float) -> redis.Redis:
    """One client (and connection pool) per broker URL for the process,
    never blocking longer than `timeout` on a connect or a reply."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, health_check_interval=30
    )


def _server_seconds(connection: redis.Redis) -> float:
    # Redis's clock, not the host's: workers and web processes on hosts whose
    # clocks disagree still agree on how old a heartbeat is.
    seconds, microseconds = connection.time()
    return seconds + microseconds / 1_000_000


def beat(connection: redis.Redis, node: str, queues: list[str]) -> None:
    """Record that `node` consumes `queues` now."""
    now = _server_seconds(connection)
    with connection.pipeline(transaction=False) as pipe:
        for queue in queues:
            key = heartbeat_key(queue)
            pipe.zadd(key, {node: now})
            pipe.zremrangebyscore(key, "-inf", now - FORGET_SECONDS)
            pipe.expire(key, FORGET_SECONDS)
        pipe.execute()


def leave(connection: redis.Redis, node: str, queues: list[str]) -> None:
    """Record that `node` no longer consumes `queues`."""
    with connection.pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.zrem(heartbeat_key(queue), node)
        pipe.execute()


def seconds_since_last_beat(connection: redis.Redis, queue: str) -> float | None:
    """How long ago a worker last wrote for `queue`; None if none ever did
    (or all left). One round trip."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.time()
        pipe.zrange(heartbeat_key(queue), -1, -1, withscores=True)
        (seconds, microseconds), newest = pipe.execute()
    if not newest:
        return None
    return max(0.0, seconds + microseconds / 1_000_000 - newest[0][1])


class Heartbeat(bootsteps.StartStopStep):
    """Consumer bootstep: a heartbeat for each queue the worker consumes."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queues: list[str] = []

    def start(self, parent) -> None:
        self._stop.clear()
        connection = client(parent.app.conf.broker_url, 2)

        def queues() -> list[str]:
            # Read each time: cancel_consumer and add_consumer change them.
            consumer = parent.task_consumer
            return [queue.name for queue in consumer.queues] if consumer is not None else []

        def run() -> None:
            while True:
                try:
                    current = queues()
                    gone = [queue for queue in self._queues if queue not in current]
                    if gone:
                        leave(connection, parent.hostname, gone)
                    beat(connection, parent.hostname, current)
                    self._queues = current
                except redis.RedisError as error:
                    logger.warning("could not write the worker heartbeat: %s", error)
                if self._stop.wait(HEARTBEAT_SECONDS):
                    return

        self._thread = threading.Thread(target=run, name="pmd-heartbeat", daemon=True)
        self._thread.start()

    def stop(self, parent) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._queues:
            try:
                leave(client(parent.app.conf.broker_url, 2), parent.hostname, self._queues)
            except redis.RedisError as error:
                logger.warning("could not withdraw the worker heartbeat: %s", error)
            self._queues = []

    shutdown = stop
