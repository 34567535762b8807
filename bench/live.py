"""Issue 6: live status over SSE. How many idle streams one ASGI web process
holds, what they cost in memory, and how fast an event reaches them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import bench_owner, mark, median, p95, private_vault_settings

CONNECTIONS = 1000
LATENCY_TARGET_MS = 300
RSS_TARGET_MB = 300


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class StreamReader:
    """Many SSE streams read by one asyncio loop, so the reader itself adds no
    delay (a thread per stream would, with a thousand of them)."""

    def __init__(self, url: str, cookie: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.cookie = cookie
        self.arrivals: list[list[float]] = []

    async def open(self, count: int) -> None:
        self.streams = [await self._open_one() for _ in range(count)]
        self.arrivals = [[] for _ in self.streams]
        self.tasks = [
            asyncio.create_task(self._read(index, reader))
            for index, (reader, _) in enumerate(self.streams)
        ]

    async def _open_one(self):
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Accept: text/event-stream\r\nCookie: {self.cookie}\r\n\r\n".encode()
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(head.decode(errors="replace"))
        buffer = b""
        while b"stream-open" not in buffer:
            buffer += await reader.read(65536)
        return reader, writer

    async def _read(self, index: int, reader) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await reader.read(65536)
            if not data:
                return
            now = loop.time()
            self.arrivals[index].extend([now] * data.count(b"event: bdr_update"))

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for _, writer in self.streams:
            writer.close()


async def _fan_out(server_url: str, cookie: str, user_id: int, rounds: int):
    from pmd.live import BDR_UPDATE, publish

    loop = asyncio.get_running_loop()
    reader = StreamReader(f"{server_url}/api/pmd/bdr/sse", cookie)
    started = loop.time()
    await reader.open(CONNECTIONS)
    opened_in = loop.time() - started
    await asyncio.sleep(2)
    delays = []
    for round_number in range(rounds):
        sent = loop.time()
        await loop.run_in_executor(None, publish, user_id, BDR_UPDATE, {"round": round_number})
        deadline = sent + 10
        while loop.time() < deadline and any(len(a) <= round_number for a in reader.arrivals):
            await asyncio.sleep(0.01)
        this_round = [
            (a[round_number] - sent) * 1000 for a in reader.arrivals if len(a) > round_number
        ]
        print(
            f"  round {round_number}: first {min(this_round):.0f} ms, "
            f"median {median(this_round):.0f} ms, last {max(this_round):.0f} ms"
        )
        delays += this_round
        await asyncio.sleep(0.5)
    missing = sum(1 for a in reader.arrivals if len(a) < rounds)
    reader.close()
    return opened_in, delays, missing


def _idle_streams() -> list[str]:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from testing.live import AsgiServer, session_cookies

    user, _ = get_user_model().objects.get_or_create(username="bench_sse")
    cookie = "; ".join(f"{k}={v}" for k, v in session_cookies(user).items())
    # The streams are one user's: the per-user cap (a policy, 10 by default)
    # is lifted so that this measures what one web process holds.
    server = AsgiServer(
        PMD_EVENT_CHANNEL_PREFIX=settings.PMD_EVENT_CHANNEL_PREFIX,
        PMD_SSE_MAX_STREAMS_PER_USER=str(CONNECTIONS),
    ).start()
    try:
        baseline = _rss_mb(server.process.pid)
        rss_holder = {}

        async def measure():
            result = await _fan_out(server.url, cookie, user.pk, rounds=5)
            return result

        async def with_rss():
            task = asyncio.create_task(measure())
            while not task.done():
                rss_holder["peak"] = max(rss_holder.get("peak", 0), _rss_mb(server.process.pid))
                await asyncio.sleep(0.5)
            return await task

        opened_in, delays, missing = asyncio.run(with_rss())
    finally:
        server.stop()
    rss = rss_holder["peak"]
    return [
        f"| open streams | {CONNECTIONS:,} (opened one after another in {opened_in:.1f} s); "
        f"streams that missed an event: {missing} |",
        f"| web process RSS | {baseline:.0f} MB idle, peak {rss:.0f} MB with {CONNECTIONS:,} "
        f"streams {mark(rss < RSS_TARGET_MB)} (target < {RSS_TARGET_MB} MB) |",
        f"| publish → event on all {CONNECTIONS:,} streams (5 rounds, "
        f"{len(delays):,} deliveries) | median {median(delays):.0f} ms, "
        f"p95 {p95(delays):.0f} ms, slowest {max(delays):.0f} ms "
        f"{mark(p95(delays) < LATENCY_TARGET_MS and not missing)} |",
    ]


WORKER_REQUESTS = 25  # each announces processing and ready: 50 events


def _worker_latency() -> list[str]:
    """Delay from a real Celery worker's commit of a status change to the
    event arriving on an open stream: `started_at` and `completed_at` are set
    in the very transaction that commits processing and ready."""
    import tempfile
    import uuid
    from datetime import datetime

    from django.conf import settings

    from pmd.downloads import download_request_create
    from pmd_project.celery import app
    from testing.factories import make_post
    from testing.live import AsgiServer, session_cookies
    from testing.sse import SseClient
    from testing.worker import CeleryWorker

    owner = bench_owner("bench_live", posts=0)
    work = Path(tempfile.mkdtemp(prefix="pmd-bench-live-", dir="/tmp"))
    queue = f"pmd-bench-live-{uuid.uuid4().hex[:8]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    overrides = private_vault_settings(work, PMD_BDR_DAILY_LIMIT=10**6)
    overrides.enable()
    env = {
        "PMD_VAULT_ROOT": str(work),
        "PMD_EVENT_CHANNEL_PREFIX": settings.PMD_EVENT_CHANNEL_PREFIX,
    }
    worker = CeleryWorker(queue=queue, log_dir=work, pool="solo", **env).start()
    server = AsgiServer(CELERY_TASK_DEFAULT_QUEUE=queue, **env).start()
    client = None
    delays: list[float] = []
    try:
        posts = [make_post(owner) for _ in range(4)]
        client = SseClient(f"{server.url}/api/pmd/bdr/sse", cookies=session_cookies(owner)).start()
        for _ in range(WORKER_REQUESTS):
            bdr = download_request_create(
                user=owner, post_ids=[post.pk for post in posts], include_comments=False,
                include_reactions=False, send_email=False,
            )  # fmt: skip
            pending = {"processing": "started_at", "ready": "completed_at"}
            while pending:
                event = client.next_event(timeout=30, event="bdr_update")
                item = event.json()
                if item["id"] != str(bdr.pk) or item["status"] not in pending:
                    continue
                committed = datetime.fromisoformat(item[pending.pop(item["status"])])
                delays.append((event.received_wall - committed.timestamp()) * 1000)
    finally:
        if client:
            client.close()
        server.stop()
        worker.stop()
        overrides.disable()
        app.conf.task_default_queue = previous_queue
    return [
        f"| worker commit → event on the page's stream ({len(delays)} status changes of "
        f"{WORKER_REQUESTS} requests, real Celery worker, through Redis) | median "
        f"{median(delays):.0f} ms, p95 {p95(delays):.0f} ms, slowest {max(delays):.0f} ms "
        f"{mark(p95(delays) < LATENCY_TARGET_MS)} (target p95 < {LATENCY_TARGET_MS} ms) |"
    ]


def run() -> str:
    rows = _worker_latency() + _idle_streams()
    return "\n".join(
        [
            "## Live status over SSE",
            "",
            "Latency: a real Celery worker builds small download requests while one stream "
            "listens; each event's delay is measured from the commit time the worker wrote "
            "into the same transaction. Load: one uvicorn process holding "
            f"{CONNECTIONS:,} idle SSE streams on loopback (one asyncio reader), events "
            "published from another process through Redis, as the worker does.",
            "",
            "| what | measured |",
            "|---|---|",
            *rows,
        ]
    )
