"""Error reports to Sentry (sentry-sdk), when SENTRY_DSN is set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmd_project.telemetry import logs

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint


def init(dsn: str) -> None:
    """Report unhandled exceptions of views and tasks, and ERROR log lines.

    No personal data (send_default_pii off: no cookies, user or address) and
    no tracing: latency is Prometheus's. Each event is tagged with the
    request id, which finds its log lines. sentry-sdk reads SENTRY_ENVIRONMENT
    and SENTRY_RELEASE itself.
    """
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=None,
        before_send=tag_request_id,
    )


def tag_request_id(event: Event, hint: Hint) -> Event:
    request_id = logs.current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event
