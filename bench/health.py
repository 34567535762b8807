"""Issue 19: the CPU an anonymous `GET /health/ready` costs a web process, on
the local vault and on the S3 vault (moto's S3 server on loopback).

`run()` returns a Markdown section; `python -m bench health` runs it alone.

A real uvicorn and a real worker (so that readiness answers 200). Probes come
from 8 clients at once, as a balancer's and monitors' do, for a few seconds:
the CPU time the web process spent (utime + stime, /proc/<pid>/stat) divided
by the probes it answered. That includes the rounds of checks run meanwhile
(one every PMD_HEALTH_CACHE_SECONDS), as in production. A second server with
PMD_HEALTH_CACHE_SECONDS=0 runs the checks for every probe: the cost of one
round of checks alone.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.harness import mark, median, p95

PROBES_AT_ONCE = 8
SECONDS = 6
ROUNDS = 40
TARGET_CPU_MS = 5


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _probe(client, url: str) -> tuple[int, float]:
    started = time.perf_counter()
    status = client.get(url).status_code
    return status, (time.perf_counter() - started) * 1000


def _burst(server) -> dict[str, float]:
    """Probes from PROBES_AT_ONCE clients for SECONDS: CPU per probe, latency."""
    import httpx

    url = f"{server.url}/health/ready"
    pid = server.process.pid

    def client_loop(deadline: float) -> list[tuple[int, float]]:
        seen = []
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                seen.append(_probe(client, url))
        return seen

    with httpx.Client(timeout=30) as client:
        for _ in range(20):  # warm: imports, the first round, connections
            client.get(url)
    before = _cpu_seconds(pid)
    deadline = time.monotonic() + SECONDS
    with ThreadPoolExecutor(PROBES_AT_ONCE) as clients:
        answers = [
            answer
            for seen in clients.map(client_loop, [deadline] * PROBES_AT_ONCE)
            for answer in seen
        ]
    cpu = _cpu_seconds(pid) - before
    times = [ms for _, ms in answers]
    return {
        "probes": len(answers),
        "ok": sum(1 for status, _ in answers if status == 200),
        "cpu_ms": cpu * 1000 / len(answers),
        "median_ms": median(times),
        "p95_ms": p95(times),
    }


def _one_round_each(server) -> dict[str, float]:
    """CPU per probe when every probe runs the checks (no shared report)."""
    import httpx

    url = f"{server.url}/health/ready"
    with httpx.Client(timeout=30) as client:
        for _ in range(5):
            client.get(url)
        before = _cpu_seconds(server.process.pid)
        answers = [_probe(client, url) for _ in range(ROUNDS)]
    cpu = _cpu_seconds(server.process.pid) - before
    return {
        "cpu_ms": cpu * 1000 / ROUNDS,
        "ok": sum(1 for status, _ in answers if status == 200),
        "median_ms": median([ms for _, ms in answers]),
    }


def _measure(label: str, env: dict[str, str], work: Path) -> tuple[str, dict, dict]:
    from testing.live import AsgiServer
    from testing.worker import CeleryWorker

    queue = f"pmd-bench-health-{uuid.uuid4().hex[:8]}"
    worker = CeleryWorker(queue=queue, log_dir=work, LOG_LEVEL="WARNING", **env).start()
    try:
        shared = AsgiServer(CELERY_TASK_DEFAULT_QUEUE=queue, LOG_LEVEL="WARNING", **env).start()
        try:
            burst = _burst(shared)
        finally:
            shared.stop()
        each = AsgiServer(
            CELERY_TASK_DEFAULT_QUEUE=queue,
            LOG_LEVEL="WARNING",
            PMD_HEALTH_CACHE_SECONDS="0",
            **env,
        ).start()
        try:
            rounds = _one_round_each(each)
        finally:
            each.stop()
    finally:
        worker.stop()
    return label, burst, rounds


def _beat_ran_just_now() -> None:
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from pmd_project.health import BEAT_TASK_NAME

    interval, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.update_or_create(
        name=BEAT_TASK_NAME,
        defaults={
            "task": "pmd.tasks.recover_stuck_bdrs",
            "interval": interval,
            "enabled": True,
            "last_run_at": timezone.now(),
        },
    )


def run() -> str:
    from testing.objectstore import ACCESS_KEY, REGION, SECRET_KEY, MotoServer, S3Endpoint

    _beat_ran_just_now()
    work = Path(tempfile.mkdtemp(prefix="pmd-bench-health-"))
    (work / "vault").mkdir()
    rows = []
    rows.append(_measure("local vault", {"PMD_VAULT_ROOT": str(work / "vault")}, work))
    moto = MotoServer(work).start()
    try:
        endpoint = S3Endpoint(server=moto, bucket=f"pmd-bench-{uuid.uuid4().hex[:8]}")
        endpoint.client().create_bucket(Bucket=endpoint.bucket)
        s3 = {
            "PMD_VAULT_URL": f"s3://{endpoint.bucket}/bench",
            "AWS_S3_ENDPOINT_URL": endpoint.url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "PMD_SCRATCH_DIR": str(work / "scratch"),
        }
        rows.append(_measure("S3 vault (moto)", s3, work))
    finally:
        moto.stop()
    lines = [
        "## Readiness probes",
        "",
        f"Anonymous `GET /health/ready` from {PROBES_AT_ONCE} clients at once for {SECONDS} s "
        "against one uvicorn web process, with a worker running; CPU is the web process's "
        "(user + system) per probe answered, the shared report's rounds of checks included. "
        f"Then {ROUNDS} probes one after another against a process that shares no report "
        "(`PMD_HEALTH_CACHE_SECONDS=0`): the cost of one round of the five checks.",
        "",
        f"| vault | probes | 200s | CPU per probe (ms) | ≤ {TARGET_CPU_MS} ms | median / p95 (ms) "
        "| one round of checks: CPU / wall (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, burst, rounds in rows:
        lines.append(
            f"| {label} | {burst['probes']:,} | {burst['ok']:,} | {burst['cpu_ms']:.2f} | "
            f"{mark(burst['cpu_ms'] <= TARGET_CPU_MS)} | {burst['median_ms']:.1f} / "
            f"{burst['p95_ms']:.1f} | {rounds['cpu_ms']:.1f} / {rounds['median_ms']:.1f} |"
        )
    lines += [
        "",
        "- Before (1ba725f): each anonymous probe on the S3 vault cost ~255 ms of CPU "
        "(a new boto3 session and 9 bucket calls per probe, on threads of its own), and a burst "
        "wedged the process. Now a probe reads the report the last round left; a round runs at "
        "most once at a time per process.",
        "- The clients share the machine's cores with the server (load average "
        f"{os.getloadavg()[0]:.2f} at the end of the run).",
    ]
    return "\n".join(lines)
