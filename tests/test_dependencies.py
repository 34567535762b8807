"""The locks say what pyproject.toml says: `make lock`
writes them, and a pin changed in one place only would install something
other than what was asked for, or what was tested."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;]+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match, f"{requirement!r} is not an exact pin"
        pins[_name(match[1])] = match[2]
    return pins


def _lock(path: Path) -> dict[str, str]:
    """name -> version of a lock file, each entry checked to carry hashes."""
    entries = re.split(r"\n(?=[A-Za-z0-9])", path.read_text().split("\n", 2)[2])
    locked = {}
    for entry in entries:
        if not entry.strip() or entry.startswith("#"):
            continue
        match = PIN.match(entry)
        assert match, f"{path.name}: {entry.splitlines()[0]!r} is not pinned"
        assert "--hash=sha256:" in entry, f"{path.name}: {match[1]} has no hash"
        locked[_name(match[1])] = match[2]
    return locked


RUNTIME = _pins(PYPROJECT["project"]["dependencies"])
EXTRAS = _pins([item for group in PYPROJECT["project"]["optional-dependencies"].values()
                for item in group])  # fmt: skip


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [("requirements.txt", {**RUNTIME, **EXTRAS}), ("deploy/requirements.txt", RUNTIME)],
)
def test_each_lock_holds_every_pin_of_pyproject_with_hashes(lock, wanted):
    locked = _lock(ROOT / lock)
    assert {name: locked.get(name) for name in wanted} == wanted


def test_the_deployment_lock_holds_no_test_tool():
    locked = _lock(ROOT / "deploy/requirements.txt")
    assert not {"pytest", "playwright", "moto", "honcho", "locust"} & set(locked)
    assert {"django", "uvicorn", "celery", "boto3"} <= set(locked)
