"""A download request as the outside sees it: the BDR item of the JSON API
(docs/api.md), the status a person should see, the file name a browser saves.

Only the model below it: the service, the live events and the views all read
these without importing each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from pmd.models import BatchDownloadRequest

Status = BatchDownloadRequest.Status


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with its offset, as every time in the JSON API is given."""
    return moment.astimezone(UTC).isoformat() if moment else None


def display_status(bdr: BatchDownloadRequest, *, now: datetime | None = None) -> str:
    """The status a person should see: a ready request past its expiry is
    expired already, even before cleanup has run: it can no longer be downloaded."""
    if bdr.status == Status.READY and (
        bdr.expires_at is None or bdr.expires_at <= (now or timezone.now())
    ):
        return Status.EXPIRED
    return bdr.status


def bdr_item(bdr: BatchDownloadRequest) -> dict[str, Any]:
    """The BDR item of the JSON API; `download_url` only while it can be fetched."""
    status = display_status(bdr)
    return {
        "id": str(bdr.pk),
        "status": status,
        "artwork_count": bdr.artwork_count,
        # Part `part` of `parts` of a split download, both None otherwise.
        "part": bdr.part_number,
        "parts": bdr.part_count,
        "progress": bdr.progress,
        "created_at": iso(bdr.created_at),
        "started_at": iso(bdr.started_at),
        "completed_at": iso(bdr.completed_at),
        "expires_at": iso(bdr.expires_at),
        "error_message": bdr.error_message,
        "download_url": (
            reverse("pmd:api-bdr-download", args=[bdr.pk]) if status == Status.READY else None
        ),
    }


def attachment_name(bdr: BatchDownloadRequest) -> str:
    """A friendly file name for the browser, without any user text:
    pixelposts-2026-12-01-128-artworks-part-2-of-5.zip for a part of a split."""
    day = (bdr.completed_at or bdr.created_at).astimezone(UTC).date().isoformat()
    count = bdr.artwork_count
    part = f"-part-{bdr.part_number}-of-{bdr.part_count}" if bdr.part_number else ""
    return f"pixelposts-{day}-{count}-artwork{'' if count == 1 else 's'}{part}.zip"
