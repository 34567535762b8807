from __future__ import annotations

from django.apps import AppConfig


class PmdConfig(AppConfig):
    name = "pmd"
    verbose_name = "Post Management Dashboard"

    def ready(self) -> None:
        # Registers the Celery tasks in every process, so the web process's
        # enqueues (by name, pmd.downloads.queue) find the task itself: its
        # routing, and Celery's eager mode when that is on.
        from pmd_project.lib.eventstream import install_resilient_listener

        from . import tasks  # noqa: F401

        install_resilient_listener()
