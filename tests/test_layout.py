"""The house's shape, checked as a reviewer would: the rules carry no HTTP
status code (the edge gives each refusal its status, pmd/refusals.py)."""

from __future__ import annotations

import ast
import re

from tests.live import ROOT

# Below the views: services, selectors and the download pipeline.
RULES = ("pmd/actions", "pmd/downloads", "pmd/selectors.py")
# Three digits from 400 to 599, the shape of an HTTP error status.
ERROR_STATUS = re.compile(r"^[45][0-9]{2}$")
# Not an answer of ours: S3's error code for a missing object, read from boto3.
ALLOWED = {("pmd/downloads/storage.py", "404")}


def _python_files(*paths: str):
    for name in paths:
        path = ROOT / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def _status_like_constants(path) -> set[str]:
    """4xx and 5xx literals (numbers or text), and any `status=<number>`."""
    found = set()
    source = path.read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, int | str):
            # A number as written (0o644 is not 420), a text as it reads.
            text = node.value
            if not isinstance(text, str):
                text = ast.get_source_segment(source, node)
            if ERROR_STATUS.match(text or ""):
                found.add(text)
        status = node.value if isinstance(node, ast.keyword) and node.arg == "status" else None
        if isinstance(status, ast.Constant) and isinstance(status.value, int):
            found.add(f"status={status.value}")
    return found


def test_the_rules_carry_no_http_status():
    files = list(_python_files(*RULES))
    assert len(files) > 10
    found = {
        (str(path.relative_to(ROOT)), value)
        for path in files
        for value in _status_like_constants(path)
    }
    assert found - ALLOWED == set()
