"""The settings of download requests refuse values that would break recovery."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from testing.live import ROOT


def _check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "-c", "import pmd_project.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PMD_BDR_LEASE_SECONDS": "2"}, "must be at least 5"),
        ({"PMD_VAULT_URL": "https://bucket.example/x"}, "PMD_VAULT_URL must look like s3://"),
        ({"PMD_VAULT_URL": "s3:///prefix"}, "PMD_VAULT_URL must look like s3://"),
        (
            {"CELERY_VISIBILITY_TIMEOUT": "3600", "PMD_RETRY_BACKOFF_MAX_SECONDS": "2000"},
            "PMD_RETRY_BACKOFF_MAX_SECONDS + CELERY_TASK_TIME_LIMIT must stay below",
        ),
        ({"PMD_BDR_PENDING_RECOVERY_SECONDS": "5"}, "must be at least 30"),
    ],
)
def test_it_refuses_settings_that_would_break_recovery(env, message):
    result = _check(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_defaults_keep_every_wait_inside_the_visibility_timeout():
    result = _check()
    assert result.returncode == 0, result.stderr
