"""Issue 5: download requests. Building ZIPs in a real Celery worker beside
`zip -0` and `cat` of the same files, the worker's peak memory, and a 2.5 GB
download through uvicorn with the web process's peak memory.

    python -m bench downloads      (a section of `make bench`)

Everything big lives in a temporary folder under /tmp, deleted at the end.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import mark, private_vault_settings
from testing.live import AsgiServer
from testing.worker import CeleryWorker

USERNAME = "bench_downloads"
ARTWORKS = 128
SIZES_MIB = (2, 20)
RUNS = 3
TARGET_RATIO = 1.1
TARGET_RSS_MB = 150
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


def _make_artworks(owner, vault: Path, size_mib: int) -> list:
    """ARTWORKS posts with files of incompressible bytes behind a PNG signature."""
    from django.utils import timezone

    from posts.models import Comment, Post, Reaction

    folder = vault / "art" / f"bench-{size_mib}"
    folder.mkdir(parents=True, exist_ok=True)
    size = size_mib << 20
    now = timezone.now()
    posts = []
    for number in range(ARTWORKS):
        path = folder / f"{number}.png"
        with open(path, "wb") as handle:
            handle.write(PNG_SIGNATURE)
            remaining = size - len(PNG_SIGNATURE)
            while remaining:
                chunk = os.urandom(min(remaining, 4 << 20))
                handle.write(chunk)
                remaining -= len(chunk)
        posts.append(
            Post(
                owner=owner,
                title=f"Bench {size_mib} MiB #{number} ✨",
                description="",
                hashtags="bench pixelart",
                created_at=now - timedelta(seconds=number),
                width=256,
                height=256,
                file_format="png",
                file_bytes=size,
                art=str(path.relative_to(vault)),
            )
        )
    posts = Post.objects.bulk_create(posts)
    # A little social data, so comments.json and reactions.json are real work.
    Comment.objects.bulk_create(
        Comment(post=post, author=owner, body=f"Comment {n} on {post.pk} 🔥", created_at=now)
        for post in posts
        for n in range(3)
    )
    Reaction.objects.bulk_create(
        Reaction(post=post, user=owner, emoji=emoji, created_at=now)
        for post in posts
        for emoji in ("🔥", "⭐")
    )
    return posts


def _timed(command: list[str] | str, *, cwd: Path, shell: bool = False) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, shell=shell, check=True)
    return time.perf_counter() - started


def _request_and_wait(owner, posts) -> tuple[object, float, float]:
    """(ready request, seconds from claim to ready, seconds from request to ready)."""
    from pmd import downloads
    from pmd.models import BatchDownloadRequest

    started = time.perf_counter()
    bdr = downloads.download_request_create(
        user=owner,
        post_ids=[post.pk for post in posts],
        include_comments=True,
        include_reactions=True,
        send_email=False,
    )
    deadline = time.monotonic() + 1800
    while True:
        bdr.refresh_from_db()
        if bdr.status == BatchDownloadRequest.Status.READY:
            break
        if bdr.status == BatchDownloadRequest.Status.FAILED or time.monotonic() > deadline:
            raise RuntimeError(f"bench request {bdr.status}: {bdr.error_message}")
        time.sleep(0.02)
    wall = time.perf_counter() - started
    return bdr, (bdr.completed_at - bdr.started_at).total_seconds(), wall


def _sync() -> None:
    # Each timed step starts with the dirty pages of the previous one on disk.
    subprocess.run(["sync"], check=True)


def _build_section(owner, vault: Path, work: Path, queue: str, size_mib: int):
    """Build ARTWORKS x size_mib MiB RUNS times, beside zip -0 and cat."""
    from django.core.files.storage import storages

    posts = _make_artworks(owner, vault, size_mib)
    source = vault / "art" / f"bench-{size_mib}"
    files = " ".join(f"{n}.png" for n in range(ARTWORKS))
    # The solo pool builds in the worker process itself, so its VmHWM is the
    # build's peak (a prefork child does the same work in the same way).
    worker = CeleryWorker(
        queue=queue, log_dir=work, pool="solo", PMD_VAULT_ROOT=str(vault), LOG_LEVEL="WARNING"
    ).start()
    timings: dict[str, list[float]] = {"zip": [], "cat": [], "build": [], "wall": []}
    kept = None
    try:
        startup_rss = _peak_rss_mb(worker.pid)
        for run in range(RUNS):
            # Rotate the order, so no method always runs on a warmer disk.
            steps = ["zip", "cat", "build"][run:] + ["zip", "cat", "build"][:run]
            for step in steps:
                _sync()
                if step == "zip":
                    timings["zip"].append(
                        _timed(["zip", "-0", "-q", "-r", str(work / "zip0.zip"), "."], cwd=source)
                    )
                    (work / "zip0.zip").unlink()
                elif step == "cat":
                    timings["cat"].append(
                        _timed(f"cat {files} > {work / 'cat.bin'}", cwd=source, shell=True)
                    )
                    (work / "cat.bin").unlink()
                else:
                    bdr, build, wall = _request_and_wait(owner, posts)
                    timings["build"].append(build)
                    timings["wall"].append(wall)
                    if kept is not None:
                        storages["vault"].delete(kept.file_path)
                    kept = bdr
        peak = _peak_rss_mb(worker.pid)
    finally:
        worker.stop()
    shutil.rmtree(source)
    return {name: statistics.median(values) for name, values in timings.items()}, {
        "runs": timings,
        "peak_rss": peak,
        "startup_rss": startup_rss,
        "zip_bytes": kept.file_size_bytes,
        "bdr": kept,
    }


def _download(owner, bdr, vault: Path, queue: str) -> dict[str, float]:
    """Download the ZIP of `bdr` through uvicorn; the web process's peak RSS."""
    import httpx
    from django.conf import settings
    from django.test import Client

    web = AsgiServer(
        PMD_VAULT_ROOT=str(vault), CELERY_TASK_DEFAULT_QUEUE=queue, LOG_LEVEL="WARNING"
    ).start()
    port = web.port
    try:
        client = Client()
        client.force_login(owner)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        url = f"http://127.0.0.1:{port}/api/pmd/bdr/{bdr.pk}/download"
        with httpx.Client(cookies={settings.SESSION_COOKIE_NAME: cookie}, timeout=120) as http:
            probe = http.get(f"http://127.0.0.1:{port}/api/pmd/bdr")
            assert probe.status_code == 200, probe.text
            before = _peak_rss_mb(web.process.pid)
            received = 0
            samples: list[float] = []
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    samples.append(_peak_rss_mb(web.process.pid))
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            with http.stream("GET", url) as response:
                assert response.status_code == 200, response.read()[:300]
                length = int(response.headers["Content-Length"])
                for chunk in response.iter_bytes(1 << 20):
                    received += len(chunk)
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
        if received != length or length != bdr.file_size_bytes:
            raise RuntimeError(f"downloaded {received} of {length} bytes")
        return {
            "bytes": received,
            "seconds": seconds,
            "before_rss": before,
            "peak_rss": max([_peak_rss_mb(web.process.pid), *samples]),
        }
    finally:
        web.stop()


def _forget_queue(broker_url: str, queue: str) -> None:
    """Drop the bench queue's keys (its bindings outlive the run otherwise)."""
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=1)
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass


def run() -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.storage import storages

    from pmd.models import BatchDownloadRequest
    from pmd_project.celery import app
    from posts.models import Post

    if not shutil.which("zip"):
        raise SystemExit("bench.downloads needs Info-ZIP's zip (apt-get install zip)")
    owner, _ = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": "bench-downloads@example.com"}
    )
    work = Path(tempfile.mkdtemp(prefix="pmd-bench-downloads-", dir="/tmp"))
    vault = work / "vault"
    vault.mkdir()
    queue = f"pmd-bench-{uuid.uuid4().hex[:10]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    overrides = private_vault_settings(vault)
    overrides.enable()
    rows, builds, memory = [], {}, {}
    try:
        BatchDownloadRequest.objects.filter(user=owner).delete()
        Post.objects.filter(owner=owner).delete()
        for size_mib in SIZES_MIB:
            print(f"  downloads: {ARTWORKS} x {size_mib} MiB, {RUNS} runs", flush=True)
            medians, facts = _build_section(owner, vault, work, queue, size_mib)
            builds[size_mib] = (medians, facts)
        big = builds[SIZES_MIB[-1]][1]
        print(f"  downloads: {big['zip_bytes'] / 1e9:.2f} GB through uvicorn", flush=True)
        memory = _download(owner, big["bdr"], vault, queue)
        assert storages["vault"].exists(big["bdr"].file_path)
    finally:
        overrides.disable()
        app.conf.task_default_queue = previous_queue
        BatchDownloadRequest.objects.filter(user=owner).delete()
        Post.objects.filter(owner=owner).delete()
        shutil.rmtree(work, ignore_errors=True)
        _forget_queue(settings.CELERY_BROKER_URL, queue)

    for size_mib, (medians, facts) in builds.items():
        ratio = medians["build"] / medians["zip"]
        rows.append(
            f"| {ARTWORKS} × {size_mib} MiB ({facts['zip_bytes'] / 2**20:,.0f} MiB ZIP) "
            f"| {medians['build']:.2f} s | {medians['wall']:.2f} s | {medians['zip']:.2f} s "
            f"| {medians['cat']:.2f} s | {ratio:.2f}x {mark(ratio <= TARGET_RATIO)} "
            f"| {facts['peak_rss']:.0f} MB {mark(facts['peak_rss'] < TARGET_RSS_MB)} "
            f"(idle {facts['startup_rss']:.0f}) |"
        )
    runs = [
        f"{ARTWORKS} × {size_mib} MiB: "
        + "; ".join(
            f"{name} {', '.join(f'{value:.2f}' for value in facts['runs'][name])}"
            for name in ("build", "zip", "cat")
        )
        for size_mib, (_, facts) in builds.items()
    ]
    speed = memory["bytes"] / memory["seconds"] / 1e6
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            "## Download requests",
            "",
            f"{now}; {os.cpu_count()} cores; medians of {RUNS} runs, order rotated, `sync` "
            "before each step; files of incompressible random bytes in /tmp.",
            "",
            "**Building the ZIP** in a real Celery worker (solo pool), with comments.json and "
            "reactions.json, beside Info-ZIP `zip -0 -q -r` and `cat` of the same files "
            f"(the disk's floor). Targets: ≤ {TARGET_RATIO}x `zip -0`, worker peak RSS "
            f"< {TARGET_RSS_MB} MB.",
            "",
            "| artworks | build (claim → ready) | request → ready | `zip -0` | `cat` "
            "| build / `zip -0` | worker peak RSS |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Every run, in seconds (the disk of this machine is noisy; the order of the "
            "three steps rotates between runs):",
            "",
            *(f"- {line}" for line in runs),
            "",
            f"**Downloading** the {memory['bytes'] / 1e9:.2f} GB ZIP through uvicorn "
            f"(`GET /api/pmd/bdr/<id>/download`, async streamed): {memory['seconds']:.1f} s "
            f"({speed:,.0f} MB/s); web process peak RSS {memory['peak_rss']:.0f} MB "
            f"{mark(memory['peak_rss'] < TARGET_RSS_MB)} (target < {TARGET_RSS_MB} MB; "
            f"{memory['before_rss']:.0f} MB before the download).",
            "",
        ]
    )
    return report
