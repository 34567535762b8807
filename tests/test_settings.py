from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from pmd_project.settings import env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parent.parent


class TestEnvHelpers:
    def test_it_reads_booleans(self, monkeypatch):
        monkeypatch.setenv("PMD_FLAG", "yes")
        assert env_bool("PMD_FLAG", False) is True
        monkeypatch.setenv("PMD_FLAG", "0")
        assert env_bool("PMD_FLAG", True) is False

    def test_it_rejects_a_malformed_boolean(self, monkeypatch):
        monkeypatch.setenv("PMD_FLAG", "maybe")
        with pytest.raises(ImproperlyConfigured, match="PMD_FLAG must be a boolean"):
            env_bool("PMD_FLAG", False)

    def test_it_rejects_a_malformed_or_too_small_integer(self, monkeypatch):
        monkeypatch.setenv("PMD_NUMBER", "12x")
        with pytest.raises(ImproperlyConfigured, match="integer"):
            env_int("PMD_NUMBER", 3)
        monkeypatch.setenv("PMD_NUMBER", "0")
        with pytest.raises(ImproperlyConfigured, match="at least 1"):
            env_int("PMD_NUMBER", 3, minimum=1)

    def test_it_reads_a_secret_from_a_file(self, monkeypatch, tmp_path):
        secret = tmp_path / "secret"
        secret.write_text("s3cr3t\n")
        monkeypatch.setenv("PMD_SECRET_FILE", str(secret))
        assert env_str("PMD_SECRET") == "s3cr3t"


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_passes_the_deploy_check_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "SECRET_KEY": "x7!kq2@m9#v4$z8%p1^w6&r3*t5(y0)u-i_o+e=a|s~d`f<g>h?j;l:c,b.n",
            "ALLOWED_HOSTS": "pmd.example.com",
            "SITE_URL": "https://pmd.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _manage("check", env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
