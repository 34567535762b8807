"""The process model: the Procfile and the systemd units run the same
commands; the units are valid for systemd, can run several times on one host
(template units), and run sandboxed with the code read-only."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testing.live import ROOT
from testing.services import missing

UNITS = ROOT / "deploy" / "systemd"
# Where the units expect the checkout and its virtualenv (docs/operating.md, "Deploying").
INSTALL_DIR = "/srv/pmd"
VENV_BIN = f"{INSTALL_DIR}/.venv/bin/"
# The only folders a unit may write: the vault, the collected static files
# and the workers' scratch folder, outside the code.
DATA_DIR = "/var/lib/pmd/"
LONG_RUNNING = ("pmd-web@.service", "pmd-worker@.service", "pmd-beat.service")
SANDBOX = {
    "ProtectSystem": "strict",
    "NoNewPrivileges": "true",
    "PrivateTmp": "true",
    "ProtectHome": "true",
}


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        entries[name.strip()] = command.strip()
    return entries


def unit_settings(unit: str, key: str) -> list[str]:
    """Every value of `key` in the unit, in order (Environment= may repeat)."""
    return re.findall(rf"^{key}=(.*)$", (UNITS / unit).read_text(), flags=re.MULTILINE)


def unit_setting(unit: str, key: str) -> str:
    (value,) = unit_settings(unit, key)
    return value


def _words(command: str) -> list[str]:
    # The Procfile's "${PORT:-8000}" and systemd's ${PORT} (its default set
    # with Environment=) are the same argument.
    return shlex.split(re.sub(r"\$\{(\w+):-[^}]*\}", r"${\1}", command))


# What a template unit writes in place of a Procfile variable: its instance
# name (%i), and %% for a literal % (Celery's own %h, the host name).
INSTANCE = {"pmd-web@.service": "${PORT}", "pmd-worker@.service": "${WORKER_NAME}"}


@pytest.mark.parametrize(
    ("process", "unit"),
    [
        ("web", "pmd-web@.service"),
        ("worker", "pmd-worker@.service"),
        ("beat", "pmd-beat.service"),
        ("release", "pmd-release.service"),
    ],
)
def test_each_unit_runs_the_procfile_command(process, unit):
    command = procfile()[process]
    assert command.split()[0] in {"uvicorn", "celery", "python"}, "bare commands from PATH"
    exec_start = unit_setting(unit, "ExecStart")
    assert exec_start.startswith(VENV_BIN)
    exec_start = exec_start.removeprefix(VENV_BIN).replace("%i", INSTANCE.get(unit, "%i"))
    assert _words(exec_start.replace("%%", "%")) == _words(command)


def test_the_web_process_binds_and_trusts_what_it_is_told():
    words = _words(procfile()["web"])
    assert words[words.index("--host") + 1] == "${HOST}"
    assert words[words.index("--port") + 1] == "${PORT}"
    assert "--proxy-headers" in words
    assert words[words.index("--forwarded-allow-ips") + 1] == "${FORWARDED_ALLOW_IPS}"
    assert "--timeout-graceful-shutdown" in words
    assert "--no-access-log" not in words
    defaults = unit_settings("pmd-web@.service", "Environment")
    assert "HOST=127.0.0.1 FORWARDED_ALLOW_IPS=127.0.0.1" in defaults
    assert "${HOST:-127.0.0.1}" in procfile()["web"]
    assert "${FORWARDED_ALLOW_IPS:-127.0.0.1}" in procfile()["web"]


def test_workers_on_one_host_have_names_of_their_own():
    # Celery's default node name is celery@<host>: two workers on one host
    # would share it (and one's heartbeat for /health/ready the other's).
    words = _words(procfile()["worker"])
    assert words[words.index("-n") + 1] == "${WORKER_NAME}@%h"
    assert "worker-$$" in procfile()["worker"]  # the shell's pid, if unnamed
    assert "-n %i@%%h" in unit_setting("pmd-worker@.service", "ExecStart")


def test_the_long_running_units_restart_on_failure_and_beat_says_why_it_is_single():
    for unit in LONG_RUNNING:
        assert unit_setting(unit, "Restart") == "on-failure"
        assert unit_setting(unit, "EnvironmentFile") == "/etc/pmd/pmd.env"
    assert "exactly ONE beat per deployment" in (UNITS / "pmd-beat.service").read_text()


@pytest.mark.parametrize("unit", sorted(path.name for path in UNITS.glob("*.service")))
def test_every_unit_runs_sandboxed_with_the_code_read_only(unit):
    assert unit_setting(unit, "User") == "pmd"
    for key, value in SANDBOX.items():
        assert unit_setting(unit, key) == value, key
    assert unit_setting(unit, "UMask") == "0027"
    writable = re.findall(r"^ReadWritePaths=(.*)$", (UNITS / unit).read_text(), re.MULTILINE)
    paths = [path.lstrip("-") for line in writable for path in line.split()]
    assert all(path.startswith(DATA_DIR) for path in paths), paths
    assert not any(path.startswith(INSTALL_DIR) for path in paths)


def test_only_the_web_and_worker_units_write_and_only_what_they_need():
    def writable(unit: str) -> set[str]:
        text = (UNITS / unit).read_text()
        return {
            path.lstrip("-").removeprefix(DATA_DIR)
            for line in re.findall(r"^ReadWritePaths=(.*)$", text, re.MULTILINE)
            for path in line.split()
        }

    assert writable("pmd-web@.service") == {"vault", "static"}
    assert writable("pmd-worker@.service") == {"vault", "scratch"}
    assert writable("pmd-beat.service") == writable("pmd-release.service") == set()


def test_the_web_and_worker_units_share_one_metrics_folder_in_memory():
    for unit in ("pmd-web@.service", "pmd-worker@.service"):
        assert "PROMETHEUS_MULTIPROC_DIR=/run/pmd-metrics" in unit_settings(unit, "Environment")
        assert unit_setting(unit, "RuntimeDirectory") == "pmd-metrics"
        # Kept when one unit restarts, or the others' counts would vanish with it.
        assert unit_setting(unit, "RuntimeDirectoryPreserve") == "yes"


def test_systemd_accepts_the_units(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        missing("systemd-analyze", "apt-get install systemd")
    venv_bin = Path(sys.executable).parent
    for unit in UNITS.glob("*.service"):
        text = unit.read_text().replace(VENV_BIN, f"{venv_bin}/")
        (tmp_path / unit.name).write_text(text.replace(INSTALL_DIR, str(ROOT)))
    # Templates are verified as instances, found on the unit path.
    names = [
        name.replace("@.service", "@8000.service" if "web" in name else "@1.service")
        for name in sorted(path.name for path in tmp_path.glob("*.service"))
    ]
    result = subprocess.run(
        [analyze, "verify", *names],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"SYSTEMD_UNIT_PATH": f"{tmp_path}:", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def _documented_environment_file() -> str:
    text = (ROOT / "docs" / "operating.md").read_text()
    step = text.split("**The environment file** `/etc/pmd/pmd.env`", 1)[1]
    block = re.search(r"```sh\n(.*?)```", step, re.DOTALL)
    assert block, "the deploying checklist shows the environment file"
    return "\n".join(line.strip() for line in block[1].splitlines()) + "\n"


def _as_systemd_reads_it(text: str) -> dict[str, str]:
    """EnvironmentFile= (systemd.exec): NAME=value lines, `#` comments, a
    value in double or single quotes taken without them; nothing expanded."""
    values = {}
    for line in text.splitlines():
        if not line or line.startswith(("#", ";")):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[name] = value
    return values


def test_the_documented_environment_file_means_the_same_to_systemd_and_a_shell(tmp_path):
    text = _documented_environment_file()
    assert "$" not in text and "export" not in text
    (tmp_path / "pmd.env").write_text(text)
    sourced = subprocess.run(
        ["sh", "-c", 'set -a; . "$1"; set +a; env -0', "sh", str(tmp_path / "pmd.env")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    assert sourced.returncode == 0, sourced.stderr
    shell = dict(item.split("=", 1) for item in sourced.stdout.split("\0") if "=" in item)
    systemd = _as_systemd_reads_it(text)
    assert systemd["DEFAULT_FROM_EMAIL"] == "PMD <noreply@pmd.example.com>"
    assert {name: shell.get(name) for name in systemd} == systemd
    # Each unit names its own port and worker.
    assert not {"PORT", "WORKER_NAME"} & set(systemd)
