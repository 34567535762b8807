"""The Celery app: Redis broker, settings read from Django's CELERY_* names."""

from __future__ import annotations

import os

from celery import Celery

from pmd_project.heartbeat import Heartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmd_project.settings")

app = Celery("pmd_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Workers say which queues they consume, for /health/ready (pmd_project.heartbeat).
app.steps["consumer"].add(Heartbeat)
