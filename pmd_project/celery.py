"""The Celery app: Redis broker, settings read from Django's CELERY_* names."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmd_project.settings")

app = Celery("pmd_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
