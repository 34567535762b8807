"""The locks say what pyproject.toml says: `make lock` writes them, and a pin
changed in one place only would install something other than what was asked
for, or what was tested. Three locks, each inside the next:
deploy/requirements.txt (a server), requirements.txt (`make run`, `make lint`)
and requirements-test.txt (`make test`, `make bench`). A package in two of
them is the same file in both, so what runs is what was tested."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;]+)")
HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match, f"{requirement!r} is not an exact pin"
        pins[_name(match[1])] = match[2]
    return pins


def _lock(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a lock file, each entry checked to carry hashes."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", path.read_text().split("\n", 2)[2])
    locked = {}
    for entry in entries:
        if not entry.strip() or entry.startswith("#"):
            continue
        match = PIN.match(entry)
        assert match, f"{path.name}: {entry.splitlines()[0]!r} is not pinned"
        hashes = frozenset(HASH.findall(entry))
        assert hashes, f"{path.name}: {match[1]} has no hash"
        locked[_name(match[1])] = (match[2], hashes)
    return locked


RUNTIME = _pins(PYPROJECT["project"]["dependencies"])
GROUPS = PYPROJECT["project"]["optional-dependencies"]
DEV, TEST = _pins(GROUPS["dev"]), _pins(GROUPS["test"])
# Smallest first: each lock is inside the next.
LOCKS = {
    "deploy/requirements.txt": RUNTIME,
    "requirements.txt": {**RUNTIME, **DEV},
    "requirements-test.txt": {**RUNTIME, **DEV, **TEST},
}


@pytest.mark.parametrize(("lock", "wanted"), LOCKS.items())
def test_each_lock_holds_every_pin_of_its_groups_with_hashes(lock, wanted):
    locked = _lock(ROOT / lock)
    assert {name: locked.get(name, (None,))[0] for name in wanted} == wanted


def test_each_lock_is_inside_the_next_with_the_same_files():
    smaller, *larger = (_lock(ROOT / lock) for lock in LOCKS)
    assert len(larger) == 2
    for lock in larger:
        assert {name: lock.get(name) for name in smaller} == smaller
        smaller = lock


def test_the_run_lock_holds_no_test_tool_and_the_deployment_lock_no_tool():
    run = _lock(ROOT / "requirements.txt")
    test_tools = {"pytest", "playwright", "moto", "locust", "schemathesis", "hypothesis"}
    assert not (test_tools | {"aiosmtpd", "pytest-django", "axe-playwright-python"}) & set(run)
    assert {"django", "honcho", "ruff", "mypy", "django-stubs"} <= set(run)
    deployed = _lock(ROOT / "deploy/requirements.txt")
    assert not (test_tools | {"honcho", "ruff", "mypy", "uv"}) & set(deployed)
    assert {"django", "uvicorn", "celery", "boto3"} <= set(deployed)
