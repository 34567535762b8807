"""Issue 12: the vault on S3-compatible object storage, against moto's S3
server on loopback (testing/objectstore.py).

    python -m bench objectstore     (a section of `make bench`)

A real Celery worker builds 128 × 20 MiB artworks read from the bucket into
its scratch folder and publishes the ZIP (a multipart upload), beside Info-ZIP
`zip -0` of the same files on disk plus a boto3 upload of that ZIP to the same
bucket with the same transfer settings. Then 10 downloads of the ZIP run at
once through uvicorn, which only answers them with presigned redirects: the
web process's memory must not move. Everything big lives in /tmp, deleted at
the end.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.downloads import PNG_SIGNATURE, _forget_queue, _peak_rss_mb, _sync, _timed
from bench.harness import mark
from testing.live import ROOT, AsgiServer
from testing.objectstore import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    MotoServer,
    S3Endpoint,
    vault_storage_config,
)
from testing.worker import CeleryWorker

USERNAME = "bench_objectstore"
ARTWORKS = 128
SIZE_MIB = 20
RUNS = 3
DOWNLOADS = 10
TARGET_RATIO = 1.2
TARGET_RSS_MB = 150
# The worker that builds runs as a server installs it (docs/operating.md, "Deploying"):
# from deploy/requirements.txt, which `make bench` installs here. The
# development environment also holds the test tools, and libraries import
# what they find there (PyJWT loads cryptography, which moto brings; pubcontrol
# pyzmq; urllib3 brotli): one more build measures that worker too.
DEPLOYED_PYTHON = ROOT / ".venv-deploy" / "bin" / "python"
# "Unchanged": the web process's peak grows by less than this while the downloads run.
TARGET_WEB_GROWTH_MB = 5


def _make_artworks(owner, source: Path, endpoint: S3Endpoint, prefix: str) -> list:
    """ARTWORKS files of incompressible bytes, on disk (for `zip -0`) and in the bucket."""
    from django.utils import timezone

    from posts.models import Comment, Post

    source.mkdir(parents=True)
    client = endpoint.client()
    size = SIZE_MIB << 20
    now = timezone.now()
    posts = []
    for number in range(ARTWORKS):
        path = source / f"{number}.png"
        with open(path, "wb") as handle:
            handle.write(PNG_SIGNATURE)
            remaining = size - len(PNG_SIGNATURE)
            while remaining:
                chunk = os.urandom(min(remaining, 4 << 20))
                handle.write(chunk)
                remaining -= len(chunk)
        name = f"art/bench-s3/{number}.png"
        client.upload_file(str(path), endpoint.bucket, f"{prefix}/{name}")
        posts.append(
            Post(
                owner=owner,
                title=f"Bench S3 #{number}",
                description="",
                hashtags="bench",
                created_at=now - timedelta(seconds=number),
                width=256,
                height=256,
                file_format="png",
                file_bytes=size,
                art=name,
            )
        )
    posts = Post.objects.bulk_create(posts)
    Comment.objects.bulk_create(
        Comment(post=post, author=owner, body=f"Comment on {post.pk}", created_at=now)
        for post in posts
    )
    return posts


def _upload_baseline(endpoint: S3Endpoint, path: Path, key: str) -> float:
    """A boto3 upload of `path` with the transfer settings the worker uses."""
    from boto3.s3.transfer import TransferConfig

    from pmd.downloads.storage import UPLOAD_CONCURRENCY, UPLOAD_PART_BYTES

    config = TransferConfig(
        multipart_threshold=UPLOAD_PART_BYTES,
        multipart_chunksize=UPLOAD_PART_BYTES,
        max_concurrency=UPLOAD_CONCURRENCY,
    )
    client = endpoint.client()
    started = time.perf_counter()
    client.upload_file(str(path), endpoint.bucket, key, Config=config)
    seconds = time.perf_counter() - started
    client.delete_object(Bucket=endpoint.bucket, Key=key)
    return seconds


def _request_and_wait(owner, posts):
    from pmd import downloads
    from pmd.models import BatchDownloadRequest

    bdr = downloads.download_request_create(
        user=owner,
        post_ids=[post.pk for post in posts],
        include_comments=True,
        include_reactions=False,
        send_email=False,
    )
    deadline = time.monotonic() + 1800
    while True:
        bdr.refresh_from_db()
        if bdr.status == BatchDownloadRequest.Status.READY:
            return bdr, (bdr.completed_at - bdr.started_at).total_seconds()
        if bdr.status == BatchDownloadRequest.Status.FAILED or time.monotonic() > deadline:
            raise RuntimeError(f"bench request {bdr.status}: {bdr.error_message}")
        time.sleep(0.05)


def _downloads(owner, bdr, env: dict[str, str], queue: str) -> dict:
    """DOWNLOADS downloads of the ZIP at once through uvicorn (redirected to
    the store, fetched whole); the web process's peak RSS before and during."""
    import httpx
    from django.conf import settings
    from django.test import Client

    web = AsgiServer(CELERY_TASK_DEFAULT_QUEUE=queue, LOG_LEVEL="WARNING", **env).start()
    try:
        client = Client()
        client.force_login(owner)
        cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
        url = f"{web.url}/api/pmd/bdr/{bdr.pk}/download"
        with httpx.Client(cookies=cookies, timeout=60) as http:
            assert http.get(f"{web.url}/api/pmd/bdr").status_code == 200
            assert http.get(url).status_code == 302  # warm: the first call loads boto3
        before = _peak_rss_mb(web.process.pid)
        received: list[int] = []
        errors: list[str] = []

        def download() -> None:
            try:
                with httpx.Client(cookies=cookies, timeout=600, follow_redirects=True) as http:
                    total = 0
                    with http.stream("GET", url) as response:
                        if response.status_code != 200:
                            errors.append(str(response.status_code))
                            return
                        for chunk in response.iter_bytes(1 << 20):
                            total += len(chunk)
                    received.append(total)
            except httpx.HTTPError as error:
                errors.append(repr(error))

        started = time.perf_counter()
        threads = [threading.Thread(target=download) for _ in range(DOWNLOADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        if errors or received != [bdr.file_size_bytes] * DOWNLOADS:
            raise RuntimeError(f"downloads: {errors or received}")
        return {
            "before": before,
            "peak": _peak_rss_mb(web.process.pid),
            "seconds": seconds,
            "bytes": sum(received),
        }
    finally:
        web.stop()


def run() -> str:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test.utils import override_settings

    from pmd.models import BatchDownloadRequest
    from pmd_project.celery import app
    from posts.models import Post

    if not shutil.which("zip"):
        raise SystemExit("bench.objectstore needs Info-ZIP's zip (apt-get install zip)")
    if not DEPLOYED_PYTHON.exists():
        raise SystemExit(
            "bench.objectstore runs its worker from the deployment's environment: "
            "`make .venv-deploy/.installed` makes it (`make bench` does)"
        )
    owner, _ = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": "bench-objectstore@example.com"}
    )
    work = Path(tempfile.mkdtemp(prefix="pmd-bench-s3-", dir="/tmp"))
    scratch = work / "scratch"
    server = MotoServer(work).start()
    endpoint = S3Endpoint(server=server, bucket=f"pmd-bench-{uuid.uuid4().hex[:8]}")
    endpoint.client().create_bucket(Bucket=endpoint.bucket)
    prefix = "bench"
    env = {
        "PMD_VAULT_URL": f"s3://{endpoint.bucket}/{prefix}",
        "AWS_S3_ENDPOINT_URL": endpoint.url,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "PMD_SCRATCH_DIR": str(scratch),
        "PMD_VAULT_ROOT": str(work / "no-local-vault"),
    }
    queue = f"pmd-bench-{uuid.uuid4().hex[:10]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    overrides = override_settings(
        STORAGES={**settings.STORAGES, "vault": vault_storage_config(endpoint, prefix)},
        PMD_VAULT_URL=env["PMD_VAULT_URL"],
        PMD_SCRATCH_DIR=scratch,
    )
    overrides.enable()
    timings: dict[str, list[float]] = {"build": [], "zip": [], "upload": []}
    try:
        BatchDownloadRequest.objects.filter(user=owner).delete()
        Post.objects.filter(owner=owner).delete()
        source = work / "art"
        print(f"  objectstore: {ARTWORKS} x {SIZE_MIB} MiB into the bucket", flush=True)
        posts = _make_artworks(owner, source, endpoint, prefix)
        worker = CeleryWorker(
            queue=queue,
            log_dir=work,
            pool="solo",
            python=str(DEPLOYED_PYTHON),
            LOG_LEVEL="WARNING",
            **env,
        )
        worker.start()
        kept = None
        try:
            idle_rss = _peak_rss_mb(worker.pid)
            for number in range(RUNS):
                print(f"  objectstore: run {number + 1} of {RUNS}", flush=True)
                steps = ["baseline", "build"] if number % 2 == 0 else ["build", "baseline"]
                for step in steps:
                    _sync()
                    if step == "baseline":
                        zip_file = work / "zip0.zip"
                        timings["zip"].append(
                            _timed(["zip", "-0", "-q", "-r", str(zip_file), "."], cwd=source)
                        )
                        timings["upload"].append(
                            _upload_baseline(endpoint, zip_file, f"baseline/{number}.zip")
                        )
                        zip_file.unlink()
                    else:
                        bdr, seconds = _request_and_wait(owner, posts)
                        timings["build"].append(seconds)
                        if kept is not None:
                            from pmd.downloads.storage import delete_download

                            delete_download(kept.file_path)
                        kept = bdr
            worker_peak = _peak_rss_mb(worker.pid)
            left_in_scratch = sorted(p.name for p in scratch.iterdir()) if scratch.exists() else []
        finally:
            worker.stop()
        print("  objectstore: one more build in the development environment", flush=True)
        worker = CeleryWorker(queue=queue, log_dir=work, pool="solo", LOG_LEVEL="WARNING", **env)
        worker.start()
        try:
            development_idle = _peak_rss_mb(worker.pid)
            bdr, _ = _request_and_wait(owner, posts)
            development_peak = _peak_rss_mb(worker.pid)
        finally:
            worker.stop()
        from pmd.downloads.storage import delete_download

        delete_download(bdr.file_path)
        print(f"  objectstore: {DOWNLOADS} downloads of {kept.file_size_bytes / 1e9:.2f} GB")
        web = _downloads(owner, kept, env, queue)
    finally:
        overrides.disable()
        app.conf.task_default_queue = previous_queue
        BatchDownloadRequest.objects.filter(user=owner).delete()
        Post.objects.filter(owner=owner).delete()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        _forget_queue(settings.CELERY_BROKER_URL, queue)

    build = statistics.median(timings["build"])
    baseline = statistics.median(
        [zip_ + upload for zip_, upload in zip(timings["zip"], timings["upload"], strict=True)]
    )
    ratio = build / baseline
    growth = web["peak"] - web["before"]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs = "; ".join(
        f"{name} {', '.join(f'{value:.2f}' for value in values)}"
        for name, values in timings.items()
    )
    return "\n".join(
        [
            "## Object storage",
            "",
            f"{now}; {os.cpu_count()} cores; moto's S3 server on loopback; medians of {RUNS} "
            "runs, order alternated, `sync` before each step; files of incompressible random "
            "bytes.",
            "",
            f"**Build + publish** {ARTWORKS} × {SIZE_MIB} MiB in a real Celery worker (solo "
            "pool, installed from `deploy/requirements.txt` as a server installs it): "
            "artworks streamed from the bucket, the ZIP written to the worker's scratch "
            "folder and uploaded (multipart, "
            f"{UPLOAD_DESCRIPTION}), claim → ready; beside Info-ZIP `zip -0` of the same files "
            "on disk plus a boto3 upload of that ZIP to the same bucket with the same transfer "
            f"settings. Targets: ≤ {TARGET_RATIO}x, worker peak RSS < {TARGET_RSS_MB} MB.",
            "",
            "| ZIP | build + publish | `zip -0` + upload | ratio | worker peak RSS | "
            "scratch after |",
            "|---|---|---|---|---|---|",
            f"| {kept.file_size_bytes / 2**20:,.0f} MiB | {build:.2f} s | {baseline:.2f} s "
            f"({statistics.median(timings['zip']):.2f} + "
            f"{statistics.median(timings['upload']):.2f}) | {ratio:.2f}x "
            f"{mark(ratio <= TARGET_RATIO)} | {worker_peak:.0f} MB "
            f"{mark(worker_peak < TARGET_RSS_MB)} (idle {idle_rss:.0f}) | "
            f"{len(left_in_scratch)} files {mark(not left_in_scratch)} |",
            "",
            f"Every run, in seconds: {runs}.",
            "",
            "The same build in a worker of the development environment, whose test tools "
            "libraries import when they find them (PyJWT loads cryptography, pubcontrol pyzmq): "
            f"worker peak RSS {development_peak:.0f} MB (idle {development_idle:.0f}).",
            "",
            f"**{DOWNLOADS} downloads at once** of that ZIP through uvicorn "
            "(`GET /api/pmd/bdr/<id>/download`, each answered with a presigned 302 and fetched "
            f"whole from the store): {web['bytes'] / 1e9:.1f} GB in {web['seconds']:.1f} s; "
            f"web process peak RSS {web['before']:.0f} MB before, {web['peak']:.0f} MB after "
            f"(+{growth:.1f} MB) {mark(growth < TARGET_WEB_GROWTH_MB)} "
            f"(target: unchanged, < {TARGET_WEB_GROWTH_MB} MB growth).",
            "",
        ]
    )


UPLOAD_DESCRIPTION = "8 MiB parts, 2 at a time"
