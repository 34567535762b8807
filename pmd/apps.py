from __future__ import annotations

from django.apps import AppConfig


class PmdConfig(AppConfig):
    name = "pmd"
    verbose_name = "Post Management Dashboard"

    def ready(self) -> None:
        from .live import install_resilient_listener

        install_resilient_listener()
