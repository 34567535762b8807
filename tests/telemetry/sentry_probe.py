"""Run as `python -m tests.telemetry.sentry_probe`: loads PMD's ASGI
application from the environment, as uvicorn does, then, if a Sentry client
is active (SENTRY_DSN), sends it one request for a view that raises (this
module's URLconf) and waits until Sentry has sent what it captured. Prints
whether a Sentry client is active."""

from __future__ import annotations

import asyncio
import json

from django.urls import path

PROBE_REQUEST_ID = "sentry-probe-1"


def boom(request):
    raise RuntimeError("the probe's view failed on purpose")


urlpatterns = [path("boom", boom)]


async def request_boom(application) -> int:
    from asgiref.testing import ApplicationCommunicator

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/boom",
        "raw_path": b"/boom",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"x-request-id", PROBE_REQUEST_ID.encode()),
            (b"cookie", b"sessionid=secret-session"),
        ],
        "client": ("203.0.113.9", 50000),
        "server": ("127.0.0.1", 8000),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(10)
    await communicator.receive_output(10)  # the body
    return start["status"]


def main() -> None:
    import sentry_sdk
    from django.test import override_settings

    from pmd_project.asgi import application

    active = sentry_sdk.get_client().is_active()
    if active:
        with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"]):
            status = asyncio.run(request_boom(application))
        assert status == 500, status
        sentry_sdk.flush(timeout=10)
    print(json.dumps({"active": active}))


if __name__ == "__main__":
    main()
