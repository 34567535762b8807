"""Issue 7 §5: load. 50 artists browse, sort, select all and hide on their
dashboards for 60 s (locust, headless, on loopback) while 200 SSE listeners
stay connected, against one uvicorn process. Zero errors is the target."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.harness import ROOT, bench_owner, mark

USERS = 50
POSTS_PER_USER = 300
LISTENERS = 200
SECONDS = 60


def _prepare_users(server) -> tuple[list[dict], list]:
    import httpx

    from pmd.selectors import live_artworks
    from posts.public_ids import user_sqid
    from testing.live import session_cookies

    prepared, owners = [], []
    for number in range(USERS):
        owner = bench_owner(f"load_{number:02d}", posts=POSTS_PER_USER)
        owners.append(owner)
        token = httpx.get(f"{server.url}/accounts/login/").cookies["csrftoken"]
        ids = list(live_artworks(owner=owner).values_list("id", flat=True)[:256])
        prepared.append(
            {
                "dashboard": f"/u/{user_sqid(owner.pk)}/posts",
                "cookies": {**session_cookies(owner), "csrftoken": token},
                "post_ids": ids,
            }
        )
    return prepared, owners


class _Listeners:
    """LISTENERS open SSE streams in a thread of their own; counts any that drop."""

    def __init__(self, url: str, cookie: str) -> None:
        from bench.live import StreamReader

        self.reader = StreamReader(f"{url}/api/pmd/bdr/sse", cookie)
        self.dropped = 0
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        await self.reader.open(LISTENERS)
        self.ready.set()
        while not self.stop.is_set():
            await asyncio.sleep(0.2)
        self.dropped = sum(task.done() for task in self.reader.tasks)
        self.reader.close()


def _stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def run() -> str:
    from django.conf import settings

    from testing.live import AsgiServer, session_cookies

    work = Path(tempfile.mkdtemp(prefix="pmd-bench-load-", dir="/tmp"))
    # The listeners are one artist's tabs: the per-user stream cap (10 by
    # default) is lifted so that they load the process, as many users' would.
    server = AsgiServer(
        PMD_EVENT_CHANNEL_PREFIX=settings.PMD_EVENT_CHANNEL_PREFIX,
        PMD_SSE_MAX_STREAMS_PER_USER=str(LISTENERS),
    ).start()
    try:
        print(f"  load: preparing {USERS} users with {POSTS_PER_USER} posts each", flush=True)
        users, owners = _prepare_users(server)
        (work / "users.json").write_text(json.dumps(users))
        # The listeners are the first artist's other tabs. (Calling bench_owner
        # again would reset that user's password and end its sessions.)
        listener_owner = owners[0]
        cookie = "; ".join(f"{k}={v}" for k, v in session_cookies(listener_owner).items())
        listeners = _Listeners(server.url, cookie)
        listeners.thread.start()
        listeners.ready.wait(120)
        print(f"  load: {LISTENERS} SSE listeners open; {USERS} users for {SECONDS} s", flush=True)
        prefix = work / "locust"
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
             "--headless", "-u", str(USERS), "-r", "10", "-t", f"{SECONDS}s",
             "--host", server.url, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"],
            env={**server.env, "PMD_LOAD_USERS": str(work / "users.json")},
            check=False, cwd=ROOT,
        )  # fmt: skip
        listeners.stop.set()
        listeners.thread.join(30)
        stats = _stats(prefix)
    finally:
        server.stop()
    rows, total, failures = [], None, 0
    for row in stats:
        if row["Name"] == "Aggregated":
            total = row
            continue
        failures += int(row["Failure Count"])
        rows.append(
            f"| {row['Type']} {row['Name']} | {int(row['Request Count']):,} "
            f"| {row['Failure Count']} | {row['50%']} | {row['95%']} |"
        )
    ok = failures == 0 and listeners.dropped == 0
    return "\n".join(
        [
            "## Load",
            "",
            f"locust, headless, on loopback: {USERS} users (each their own artist with "
            f"{POSTS_PER_USER} posts) browse and sort their table, select all, list posts and "
            f"hide/unhide 64 posts, for {SECONDS} s, waiting 0.5–2 s between actions; "
            f"{LISTENERS} SSE listeners stay connected meanwhile. One uvicorn process shares "
            f"the machine's {os.cpu_count()} cores with locust, PostgreSQL and Redis "
            "(production runs one web process per core). Times in ms.",
            "",
            "| endpoint | requests | errors | p50 | p95 |",
            "|---|---|---|---|---|",
            *rows,
            f"| **all** | {int(total['Request Count']):,} | {total['Failure Count']} "
            f"| {total['50%']} | {total['95%']} |",
            "",
            f"- SSE listeners dropped during the run: {listeners.dropped} of {LISTENERS}.",
            f"- Zero errors: {mark(ok)}",
        ]
    )
