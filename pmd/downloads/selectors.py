"""Reads about download requests: the day's allowance, the newest, one by id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from pmd.models import BatchDownloadRequest

RECENT_COUNT = 20


def day_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The UTC day containing `now`: its start and the next day's start."""
    now = (now or timezone.now()).astimezone(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def requests_used_today(user: AbstractBaseUser, *, now: datetime | None = None) -> int:
    # A retry of a failed request does not use up another of the day's requests.
    start, _ = day_window(now)
    return BatchDownloadRequest.objects.filter(
        user=user, created_at__gte=start, retry_of__isnull=True
    ).count()


def requests_left_today(user: AbstractBaseUser, *, now: datetime | None = None) -> int:
    return max(settings.PMD_BDR_DAILY_LIMIT - requests_used_today(user, now=now), 0)


def download_requests_recent(
    user: AbstractBaseUser, *, limit: int = RECENT_COUNT
) -> list[BatchDownloadRequest]:
    return list(
        BatchDownloadRequest.objects.filter(user=user)
        # The panel shows "Retry" only on failed requests not retried yet.
        .select_related("retried_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def download_request_of(user: AbstractBaseUser, pk: Any) -> BatchDownloadRequest | None:
    """The user's request `pk` (a UUID or its text), or None for a malformed,
    unknown or someone else's id: callers answer 404 to all three alike."""
    try:
        key = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        return None
    return BatchDownloadRequest.objects.filter(pk=key, user=user).first()


def download_panel_context(user: AbstractBaseUser, *, highlight: str | None = None) -> dict:
    """What templates/pmd/_download_requests.html needs.

    `highlight` is the `?bdr=` of the page (the email links there); that
    request is shown even when it is older than the 20 newest.
    """
    requests = download_requests_recent(user)
    highlighted = download_request_of(user, highlight) if highlight else None
    if highlighted and all(bdr.pk != highlighted.pk for bdr in requests):
        requests.append(highlighted)
    return {
        "download_requests": requests,
        "requests_left": requests_left_today(user),
        "daily_limit": settings.PMD_BDR_DAILY_LIMIT,
        "ttl_days": settings.PMD_BDR_TTL_DAYS,
        "highlight_id": str(highlighted.pk) if highlighted else "",
    }
