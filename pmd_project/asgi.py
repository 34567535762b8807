"""ASGI entry point, served by uvicorn (Procfile `web`)."""

from __future__ import annotations

import os

import django
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmd_project.settings")

django.setup(set_prefix=False)
# Before the first request: pages need this code's static files (pmd_project.static).
from pmd_project.static import collect_once  # noqa: E402 - needs the apps loaded

collect_once()

application = get_asgi_application()

# Each request's id, bound around all of Django's handling of it (telemetry).
from pmd_project.telemetry.requests import with_request_id  # noqa: E402 - after setup

application = with_request_id(application)
