"""ASGI entry point, served by uvicorn (Procfile `web`)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmd_project.settings")

application = get_asgi_application()
