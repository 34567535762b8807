"""Run as `python -m tests.telemetry.sentry_probe`: loads PMD's ASGI
application from the environment, as uvicorn does, then, if a Sentry client
is active (SENTRY_DSN), sends it one request for a view that raises (this
module's URLconf) and waits until Sentry has sent what it captured. Prints
whether a Sentry client is active."""

from __future__ import annotations

import asyncio
import json

from django.urls import include, path

from tests.telemetry.helpers import asgi_get, asgi_scope

PROBE_REQUEST_ID = "sentry-probe-1"


def boom(request):
    raise RuntimeError("the probe's view failed on purpose")


urlpatterns = [path("boom", boom)]


def main() -> None:
    import sentry_sdk
    from django.test import override_settings

    from pmd_project.asgi import application

    # The site's own URLs too, once the apps are loaded: its 500 page links to them.
    urlpatterns.append(path("", include("pmd_project.urls")))

    active = sentry_sdk.get_client().is_active()
    if active:
        with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"]):
            scope = asgi_scope(
                "/boom",
                (b"x-request-id", PROBE_REQUEST_ID.encode()),
                (b"cookie", b"sessionid=secret-session"),
                client="203.0.113.9",
            )
            start = asyncio.run(asgi_get(application, scope))
        assert start["status"] == 500, start
        sentry_sdk.flush(timeout=10)
    print(json.dumps({"active": active}))


if __name__ == "__main__":
    main()
