"""ASGI entry point, served by uvicorn (Procfile `web`)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmd_project.settings")

application = get_asgi_application()

# Each request's id, bound around all of Django's handling of it (telemetry).
from pmd_project.telemetry.requests import with_request_id  # noqa: E402 - after setup

application = with_request_id(application)
