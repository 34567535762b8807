"""The `make chaos` report: each fault test records what the user saw and the
end state; at the end of the run the rows become a Markdown table
(written where PMD_CHAOS_REPORT points, and printed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class FaultRow:
    fault: str
    user_saw: str
    end_state: str
    lost: int


ROWS: dict[str, FaultRow] = {}
OUTCOMES: dict[str, str] = {}


@pytest.fixture
def chaos(request):
    """record(fault=…, user_saw=…, end_state=…, lost=0) at the end of a fault test."""

    def record(*, fault: str, user_saw: str, end_state: str, lost: int = 0) -> None:
        ROWS[request.node.nodeid] = FaultRow(fault, user_saw, end_state, lost)

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if item.get_closest_marker("fault") and (report.when == "call" or report.failed):
        OUTCOMES[item.nodeid] = "passed" if report.passed else report.outcome


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("PMD_CHAOS_REPORT")
    if not target or not OUTCOMES:
        return
    lines = [
        "| fault | what the user saw | end state | lost requests | test |",
        "|---|---|---|---|---|",
    ]
    for nodeid, outcome in OUTCOMES.items():
        row = ROWS.get(nodeid)
        name = nodeid.split("::")[-1]
        if row and outcome == "passed":
            lines.append(f"| {row.fault} | {row.user_saw} | {row.end_state} | {row.lost} | ✅ |")
        else:
            lines.append(f"| {name} | — | test {outcome} | ? | ❌ |")
    table = "\n".join(lines)
    Path(target).write_text(f"## Faults (`make chaos`)\n\n{table}\n")
    print(f"\n\n{table}\n")
