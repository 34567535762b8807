"""The process model (issue 12 item 4): the Procfile and the systemd units run
the same commands, and the units are valid for systemd."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT

UNITS = ROOT / "deploy" / "systemd"
# Where the units expect the checkout and its virtualenv (docs/operating.md, "Deploying").
INSTALL_DIR = "/srv/pmd"
VENV_BIN = f"{INSTALL_DIR}/.venv/bin/"


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        entries[name.strip()] = command.strip()
    return entries


def unit_setting(unit: str, key: str) -> str:
    (value,) = re.findall(rf"^{key}=(.*)$", (UNITS / unit).read_text(), flags=re.MULTILINE)
    return value


def _words(command: str) -> list[str]:
    # The Procfile's "${PORT:-8000}" and systemd's ${PORT} (its default set
    # with Environment=) are the same argument.
    return shlex.split(re.sub(r"\$\{(\w+):-[^}]*\}", r"${\1}", command))


@pytest.mark.parametrize(
    ("process", "unit"),
    [
        ("web", "pmd-web.service"),
        ("worker", "pmd-worker.service"),
        ("beat", "pmd-beat.service"),
        ("release", "pmd-release.service"),
    ],
)
def test_each_unit_runs_the_procfile_command(process, unit):
    command = procfile()[process]
    assert command.split()[0] in {"uvicorn", "celery", "python"}, "bare commands from PATH"
    exec_start = unit_setting(unit, "ExecStart")
    assert exec_start.startswith(VENV_BIN)
    assert _words(exec_start.removeprefix(VENV_BIN)) == _words(command)


def test_the_web_process_binds_and_trusts_what_it_is_told():
    words = _words(procfile()["web"])
    assert words[words.index("--host") + 1] == "${HOST}"
    assert words[words.index("--port") + 1] == "${PORT}"
    assert "--proxy-headers" in words
    assert words[words.index("--forwarded-allow-ips") + 1] == "${FORWARDED_ALLOW_IPS}"
    assert "--timeout-graceful-shutdown" in words
    assert "--no-access-log" not in words
    defaults = unit_setting("pmd-web.service", "Environment")
    assert defaults == "HOST=127.0.0.1 PORT=8000 FORWARDED_ALLOW_IPS=127.0.0.1"
    assert "${HOST:-127.0.0.1}" in procfile()["web"]
    assert "${FORWARDED_ALLOW_IPS:-127.0.0.1}" in procfile()["web"]


def test_the_long_running_units_restart_on_failure_and_beat_says_why_it_is_single():
    for unit in ("pmd-web.service", "pmd-worker.service", "pmd-beat.service"):
        assert unit_setting(unit, "Restart") == "on-failure"
        assert unit_setting(unit, "EnvironmentFile") == "/etc/pmd/pmd.env"
    assert "exactly ONE beat per deployment" in (UNITS / "pmd-beat.service").read_text()


def test_systemd_accepts_the_units(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (a lint, not a service)")
    venv_bin = Path(sys.executable).parent
    for unit in UNITS.glob("*.service"):
        text = unit.read_text().replace(VENV_BIN, f"{venv_bin}/")
        (tmp_path / unit.name).write_text(text.replace(INSTALL_DIR, str(ROOT)))
    result = subprocess.run(
        [analyze, "verify", *sorted(str(path) for path in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
