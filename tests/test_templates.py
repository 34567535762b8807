"""Checks over every template of the project."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

# Django's {# #} comment ends at the line's end: an unclosed one is rendered as text.
UNCLOSED_COMMENT = re.compile(r"\{#(?![^\n]*#\})")


def _templates() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    return sorted(path for folder in folders for path in folder.rglob("*.html"))


def test_there_are_templates_to_check():
    assert len(_templates()) > 10


def test_no_comment_spans_lines():
    unclosed = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}"
        for path in _templates()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if UNCLOSED_COMMENT.search(line)
    ]
    assert unclosed == [], "use {% comment %} for comments over several lines"
