"""Prometheus metrics (prometheus_client), and their exposition.

The web server may run several processes and the worker runs prefork
children, each with counters of its own. With PROMETHEUS_MULTIPROC_DIR set
(prometheus_client reads it when imported), every process of a host writes
its values to files in that folder, and a scrape adds them up: the web
process's /metrics shows the whole host, builds and emails of the workers
beside it included; a worker on a host of its own serves the same from its
main process (pmd_project.telemetry.exporter). Without it each process counts
for itself, which is right only for a single process (docs/operating.md).

The queue length is not counted by anyone: it is read from the broker, with
one pipelined LLEN per priority list, when /metrics is scraped.
"""

from __future__ import annotations

import atexit
import functools
import hmac
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

REQUEST_SECONDS = Histogram(
    "pmd_http_request_duration_seconds",
    "Time to answer a request (a stream: to its first byte), by view (URL name), method "
    "and status class.",
    ["view", "method", "status"],
)
BUILD_SECONDS = Histogram(
    "pmd_bdr_build_duration_seconds",
    "Duration of one attempt at building a download request, by outcome: ready, failed, "
    "retry (a transient failure, tried again later), skipped, superseded, error.",
    ["outcome"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf")),
)
EMAILS = Counter(
    "pmd_emails",
    "Download emails handed to the mail server (outcome sent) or refused by it (outcome "
    "failed; each attempt counts, retries included), by kind (ready, failed).",
    ["kind", "outcome"],
)
# livesum: the streams of processes still alive, added up; a process that
# ends takes its own out (mark_process_dead below).
SSE_STREAMS = Gauge(
    "pmd_sse_streams_open",
    "Live-status (SSE) streams open now.",
    multiprocess_mode="livesum",
)


def _forget_this_process() -> None:
    # The pid at exit, not at import: a forked child inherits this hook.
    multiprocess.mark_process_dead(os.getpid())


if MULTIPROCESS_DIR:
    atexit.register(_forget_this_process)


# Recording, called from where things happen.


def observe_request(view: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(view=view, method=method, status=f"{status // 100}xx").observe(seconds)


def observe_build(*, retry: type[Exception]) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Decorates a build step that returns its outcome ("ready", "failed", …):
    its duration, by outcome. A `retry` exception (a transient failure, tried
    again later) is "retry"; any other exception "error"."""

    def decorate(build: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(build)
        def observed(*args: Any, **kwargs: Any) -> str:
            started = time.monotonic()
            outcome = "error"
            try:
                outcome = build(*args, **kwargs)
            except retry:
                outcome = "retry"
                raise
            finally:
                BUILD_SECONDS.labels(outcome=outcome).observe(time.monotonic() - started)
            return outcome

        return observed

    return decorate


def send_email(message: Any, *, kind: str) -> None:
    """message.send(), counted as sent or failed (the error is raised on)."""
    try:
        message.send()
    except Exception:
        EMAILS.labels(kind=kind, outcome="failed").inc()
        raise
    EMAILS.labels(kind=kind, outcome="sent").inc()


async def count_open_stream(events: AsyncGenerator[str]) -> AsyncIterator[str]:
    """`events` as they come, counted among the open streams meanwhile. The
    count drops however the stream ends: finished, or cancelled when its
    client goes away."""
    SSE_STREAMS.inc()
    try:
        async for chunk in events:
            yield chunk
    finally:
        SSE_STREAMS.dec()
        await events.aclose()


# Reading the broker's queue on scrape.


class QueueLength:
    """pmd_celery_queue_length: messages waiting in the default queue
    (kombu keeps one Redis list per priority step). Nothing when the broker
    cannot be read within a second: an alert on absent() tells."""

    def __init__(self, broker_url: str | None = None) -> None:
        self._broker_url = broker_url
        self._client = None

    def _redis(self):
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(
                self._broker_url or settings.CELERY_BROKER_URL,
                socket_connect_timeout=1,
                socket_timeout=1,
            )
        return self._client

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from celery import current_app
        from kombu.transport.redis import PRIORITY_STEPS, Channel

        # Celery's current app is pmd_project.celery's (the last one made),
        # reached without importing that module, which imports this package.
        queue = current_app.conf.task_default_queue
        keys = [f"{queue}{Channel.sep}{step}" if step else queue for step in PRIORITY_STEPS]
        try:
            pipe = self._redis().pipeline(transaction=False)
            for key in keys:
                pipe.llen(key)
            length = sum(pipe.execute())
        except Exception as error:  # noqa: BLE001 - a scrape must answer whatever the broker does
            logger.warning("queue length unavailable: %s", error)
            return
        family = GaugeMetricFamily(
            "pmd_celery_queue_length", "Tasks waiting in the Celery queue.", labels=["queue"]
        )
        family.add_metric([queue], length)
        yield family


_broker_registry = CollectorRegistry(auto_describe=False)
_broker_registry.register(QueueLength())


def exposition(*, broker: bool) -> bytes:
    """The text a scrape gets: this host's processes (this process alone
    without PROMETHEUS_MULTIPROC_DIR), then the queue length if `broker`."""
    if MULTIPROCESS_DIR:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if broker:
        body += generate_latest(_broker_registry)
    return body


def authorized(authorization: str | None) -> bool:
    """Whether an Authorization header carries PMD_METRICS_TOKEN (compared in
    constant time). Never without a token configured."""
    token = settings.PMD_METRICS_TOKEN
    if not token or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
