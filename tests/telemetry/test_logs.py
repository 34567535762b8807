"""Request ids and log lines in one process (web to worker: test_deployment.py)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.test import Client

from pmd_project.telemetry import logs
from tests.telemetry.helpers import asgi_get, asgi_scope


@pytest.fixture
def asgi_application():
    """PMD's ASGI application, as uvicorn loads it. Loading it sets Django up
    again, which configures logging afresh: ask for it before log_lines."""
    from pmd_project.asgi import application

    return application


@pytest.fixture
def log_lines():
    """What the console handler of LOG_FORMAT=json would write, as parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


class TestRequestId:
    def test_a_sane_incoming_id_is_kept_and_returned(self, db):
        response = Client().get("/accounts/login/", HTTP_X_REQUEST_ID="edge-7f3a:42")
        assert response["X-Request-ID"] == "edge-7f3a:42"

    @pytest.mark.parametrize(
        "incoming",
        [None, "", "x" * 129, "two words", "line\nbreak", '"quoted"', "é-accent", "-leading-dash"],
    )
    def test_anything_else_gets_a_new_one(self, incoming, db):
        headers = {} if incoming is None else {"HTTP_X_REQUEST_ID": incoming}
        first = Client().get("/accounts/login/", **headers)["X-Request-ID"]
        second = Client().get("/accounts/login/", **headers)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", first)
        assert first != second

    def test_every_line_written_while_serving_carries_it(self, log_lines, db):
        Client().get("/no-such-page", HTTP_X_REQUEST_ID="req-404")  # Django logs "Not Found"
        Client().get("/no-such-page-either")

        first, second = [line for line in log_lines() if line["logger"] == "django.request"]
        assert (first["message"], first["request_id"]) == ("Not Found: /no-such-page", "req-404")
        assert second["message"] == "Not Found: /no-such-page-either"
        assert re.fullmatch(r"[0-9a-f]{32}", second["request_id"])

    def test_under_asgi_even_what_django_logs_after_the_middleware_carries_it(
        self, asgi_application, log_lines
    ):
        scope = asgi_scope("/no-such-page", (b"x-request-id", b"asgi-7"))
        start = asyncio.run(asgi_get(asgi_application, scope))

        assert start["status"] == 404
        assert (b"X-Request-ID", b"asgi-7") in start["headers"]
        [line] = [line for line in log_lines() if line["logger"] == "django.request"]
        assert (line["message"], line["request_id"]) == ("Not Found: /no-such-page", "asgi-7")

    def test_it_is_unbound_once_the_request_is_answered(self, db):
        Client().get("/accounts/login/", HTTP_X_REQUEST_ID="gone-after")
        assert logs.current_request_id() is None


class TestFormats:
    def test_a_json_line_is_one_object_with_the_exception(self, log_lines):
        token = logs.bind_request_id("r-1")
        try:
            try:
                raise ValueError("bad\nvalue")
            except ValueError:
                logging.getLogger("pmd.test").exception("failed for %s", "ünïcode")
        finally:
            logs.unbind_request_id(token)
        [line] = log_lines()
        assert line["level"] == "ERROR"
        assert line["logger"] == "pmd.test"
        assert line["message"] == "failed for ünïcode"
        assert line["request_id"] == "r-1"
        assert "ValueError: bad\nvalue" in line["exception"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])

    def test_a_task_line_names_the_task_and_the_request(self, log_lines):
        logs.bind_task("task-1", "pmd.tasks.process_bdr_job", "r-2")
        try:
            logging.getLogger("pmd.test").warning("building")
        finally:
            logs.unbind_task()
        logging.getLogger("pmd.test").warning("after")
        first, after = log_lines()
        assert (first["task_id"], first["task"], first["request_id"]) == (
            "task-1",
            "pmd.tasks.process_bdr_job",
            "r-2",
        )
        assert "task_id" not in after and after["request_id"] is None

    def test_the_plain_format_names_the_request(self):
        formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
        record = logging.LogRecord("pmd.test", logging.INFO, __file__, 1, "hello", None, None)
        logs.RequestContextFilter().filter(record)
        assert formatter.format(record).endswith(" INFO pmd.test [-]: hello")
