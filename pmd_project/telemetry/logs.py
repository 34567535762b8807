"""Request ids and the format of log lines.

Each web request gets one id: the caller's `X-Request-ID` when it looks like
one (a proxy's, a client's), a new one otherwise. It is sent back in the
response, set on every log line written while the request is handled, and
travels with each Celery task the request queues (pmd_project.celery), so the
worker's lines about a build carry the id of the request that asked for it.

Only the standard library here: settings name these classes, and Celery's
app module imports this before Django is set up.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime

# A context variable, not a thread-local: a request's async middleware, its
# view (run in a thread by asgiref, which copies the context) and its
# streamed body all see the same id, and two requests never see each other's.
_request_id: ContextVar[str | None] = ContextVar("pmd_request_id", default=None)
_task: ContextVar[tuple[str, str] | None] = ContextVar("pmd_task", default=None)

HEADER = "X-Request-ID"
# What an incoming id may be: short, printable, nothing a log reader or a
# JSON line would have to escape (a forged id cannot inject a fake line).
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header: str | None) -> str:
    """The caller's id if it looks sane, else a new one."""
    if header and SANE_ID.fullmatch(header):
        return header
    return new_request_id()


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token:
    return _request_id.set(request_id)


def unbind_request_id(token: Token) -> None:
    _request_id.reset(token)


def bind_task(task_id: str, task_name: str, request_id: str | None) -> None:
    """The Celery task this worker thread now runs, and the request it serves."""
    _task.set((task_id, task_name))
    _request_id.set(request_id)


def unbind_task() -> None:
    _task.set(None)
    _request_id.set(None)


class RequestContextFilter(logging.Filter):
    """Puts the request id (and the task, in a worker) on every record, for
    the formatters: "-" when there is none, so a plain format can name it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        task = _task.get()
        record.task_id, record.task_name = task if task else ("", "")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json), for a log shipper."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "-")
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": None if request_id == "-" else request_id,
            "process": record.process,
        }
        if task_id := getattr(record, "task_id", ""):
            entry["task_id"] = task_id
            entry["task"] = getattr(record, "task_name", "")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
