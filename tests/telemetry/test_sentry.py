"""Errors to Sentry: nothing without SENTRY_DSN; with it, an exception in a
view reaches the DSN's endpoint, here a receiver on loopback that keeps the
envelopes sentry-sdk posts (a real HTTP endpoint, not a stub of the SDK)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from testing.live import ROOT, collected_static_root, process_env
from tests.telemetry.sentry_probe import PROBE_REQUEST_ID


def decode(body: bytes, encoding: str) -> bytes:
    """sentry-sdk compresses with brotli when it is installed, else gzip."""
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    return gzip.decompress(body) if encoding == "gzip" else body


class EnvelopeReceiver:
    """Sentry's ingest endpoint, reduced to keeping what it is sent."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, bytes]] = []
        received = self.envelopes

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = decode(body, self.headers.get("Content-Encoding", ""))
                received.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format, *args) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_port}/42"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        """The error events among the envelopes (header line, then items)."""
        found = []
        for _, body in self.envelopes:
            lines = body.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found


@pytest.fixture
def receiver():
    receiver = EnvelopeReceiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def probe_environment(db, django_db_blocker) -> dict[str, str]:
    """The environment of a web process of this test run (its migrated
    database, DEBUG off), without any SENTRY_ variable of the caller's."""
    with django_db_blocker.unblock():
        environment = process_env(STATIC_ROOT=collected_static_root())
    return {k: v for k, v in environment.items() if not k.startswith("SENTRY_")}


def run_probe(environment: dict[str, str], **env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.telemetry.sentry_probe"],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_dsn_nothing_is_started(probe_environment):
    assert run_probe(probe_environment) == {"active": False}


def test_an_exception_in_a_view_reaches_the_dsn_without_personal_data(receiver, probe_environment):
    assert run_probe(probe_environment, SENTRY_DSN=receiver.dsn) == {"active": True}

    assert {path for path, _ in receiver.envelopes} == {"/api/42/envelope/"}
    [event] = receiver.events()
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "the probe's view failed on purpose"
    assert exception["mechanism"]["type"] == "django"
    assert event["tags"]["request_id"] == PROBE_REQUEST_ID
    assert event["request"]["url"] == "http://127.0.0.1/boom"
    # send_default_pii off: neither the session cookie nor the address is sent.
    assert "secret-session" not in json.dumps(event)
    assert "203.0.113.9" not in json.dumps(event)
