from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class TelemetryConfig(AppConfig):
    name = "pmd_project.telemetry"
    label = "telemetry"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from pmd_project.telemetry.requests import bind_at_request_start, unbind_at_request_end

        request_started.connect(bind_at_request_start, dispatch_uid="pmd-request-id")
        request_finished.connect(unbind_at_request_end, dispatch_uid="pmd-request-id")
        # Here rather than in settings: every process sets Django up (web,
        # worker, beat, manage.py) and nothing is reported before it is, while
        # reading the settings file (tests read it many times) starts nothing.
        if settings.SENTRY_DSN:
            from pmd_project.telemetry import sentry

            sentry.init(settings.SENTRY_DSN)
