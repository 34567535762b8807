"""Beat's health signal with a real `celery beat` (the Procfile's command):
its last run of the recovery job reaches the database within seconds."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from health_check.exceptions import ServiceUnavailable

from pmd_project.health import BEAT_TASK_NAME, BeatLastRun
from testing.live import ROOT, process_env
from testing.services import require_redis
from testing.worker import _delete_queue
from tests.health.helpers import beat_task

pytestmark = pytest.mark.usefixtures("transactional_db")


def test_a_running_beat_makes_a_stale_record_fresh(tmp_path: Path):
    require_redis()
    beat_task(last_run_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(ServiceUnavailable, match="beat last sent it"):
        BeatLastRun().run()
    # The job it sends goes to a queue nobody consumes, deleted afterwards.
    queue = f"pmd-test-beat-{uuid.uuid4().hex[:8]}"
    started = timezone.now()
    log = tmp_path / "beat.log"
    with log.open("wb") as output:
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "pmd_project",
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile=",
            ],
            cwd=ROOT,
            env=process_env(CELERY_TASK_DEFAULT_QUEUE=queue),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                BeatLastRun().run()
                break
            except ServiceUnavailable:
                if time.monotonic() > deadline or beat.poll() is not None:
                    raise AssertionError(log.read_text()[-3000:]) from None
                time.sleep(0.5)
        recorded = PeriodicTask.objects.get(name=BEAT_TASK_NAME).last_run_at
        assert recorded >= started
    finally:
        beat.send_signal(signal.SIGTERM)
        try:
            beat.wait(timeout=15)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()
        _delete_queue(queue)
    assert "Sending due task pmd: recover stuck downloads" in log.read_text()
