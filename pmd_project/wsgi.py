"""WSGI entry point, for management tools only: the site needs ASGI for SSE."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmd_project.settings")

application = get_wsgi_application()
