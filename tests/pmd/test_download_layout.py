"""The download package's shape: its rules know no HTTP, and
nothing in it imports the tasks that call it, so nothing imports in a circle."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from pmd.errors import Conflict, DailyLimitReached, Gone, Invalid, NotFound, Unavailable
from pmd.refusals import refusal_response, status_for
from testing.live import ROOT

EDGE = ("pmd.api", "pmd.refusals", "pmd.views", "pmd.tasks", "django.http", "ninja")


def _module_level_imports(path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:  # module level only: a lazy import inside a function is the way out
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_rules_import_neither_the_http_edge_nor_the_tasks():
    files = [*sorted((ROOT / "pmd" / "downloads").glob("*.py")), ROOT / "pmd" / "errors.py"]
    assert len(files) > 10
    offending = {
        path.name: sorted(name for name in _module_level_imports(path) if name.startswith(EDGE))
        for path in files
    }
    assert {name: found for name, found in offending.items() if found} == {}


def test_the_edge_maps_each_refusal_to_its_status():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    refusals = [
        Invalid("x"),
        NotFound("x"),
        Conflict("x"),
        Gone("x"),
        DailyLimitReached(limit=8, resets_at=now, now=now),
        Unavailable("x"),
    ]
    assert [status_for(error) for error in refusals] == [400, 404, 409, 410, 429, 503]


def test_a_refusal_that_lifts_by_itself_says_when_to_ask_again():
    now = timezone.now()
    limit = refusal_response(
        DailyLimitReached(limit=8, resets_at=now + timedelta(hours=2), now=now)
    )
    assert (limit.status_code, json.loads(limit.content)["error"][:28]) == (
        429,
        "You have used all 8 download",
    )
    assert 7000 < int(limit["Retry-After"]) <= 7200
    store_down = refusal_response(Unavailable("The store does not answer."))
    assert (store_down.status_code, store_down["Retry-After"]) == (503, "30")
    assert json.loads(store_down.content) == {"error": "The store does not answer."}
