"""Reads about download requests: the day's allowance, the newest, one by
id, and the table order a split download follows."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from pmd.downloads.serialize import display_status
from pmd.errors import Conflict, Gone, Invalid
from pmd.models import MAX_DOWNLOAD_PARTS, BatchDownloadRequest
from pmd.selectors import live_artworks, table_ordering

RECENT_COUNT = 20
# When the ZIP of a ready request is not in the vault after all (deleted by
# hand, or a cleanup that ran between the check and the read).
FILE_GONE = "This download is no longer available. Request a new one."

Status = BatchDownloadRequest.Status


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
    unknown or someone else's id: callers answer all three alike (not found)."""
    try:
        key = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        return None
    return BatchDownloadRequest.objects.filter(pk=key, user=user).first()


def downloadable_file(bdr: BatchDownloadRequest) -> str:
    """The vault path of `bdr`'s ZIP while it may be downloaded; Gone once it
    has expired (even before cleanup ran), Conflict while it failed or is
    still to be built."""
    status = display_status(bdr)
    if status == Status.EXPIRED:
        raise Gone("This download has expired. Request a new one from the dashboard.")
    if status == Status.FAILED:
        raise Conflict(f"This download failed: {bdr.error_message}")
    if status != Status.READY:
        raise Conflict("This download is not ready yet.")
    return bdr.file_path


def download_panel_context(user: AbstractBaseUser, *, highlight: str | None = None) -> dict:
    """What templates/pmd/_download_requests.html needs (and the page's
    download dialog: max_parts).

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
        # The most downloads one split may make (the page's download dialog).
        "max_parts": MAX_DOWNLOAD_PARTS,
        "ttl_days": settings.PMD_BDR_TTL_DAYS,
        "highlight_id": str(highlighted.pk) if highlighted else "",
    }


def check_downloadable(post_ids: list[int], found: Collection[int]) -> None:
    """Invalid unless each of `post_ids` is in `found`, the user's live
    artworks among them."""
    unknown = [post_id for post_id in post_ids if post_id not in found]
    if unknown:
        shown = ", ".join(str(post_id) for post_id in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise Invalid(
            f"{len(unknown)} of the selected posts cannot be downloaded: they are not your "
            f"artwork posts, or were deleted (ids {shown}{more}). Nothing was requested."
        )


def table_positions(
    *, user: AbstractBaseUser, post_ids: list[int], sort: str, direction: str
) -> list[tuple[int, int]]:
    """(post id, position) of each of `post_ids`, in the order the table
    shows them sorted by `sort` (a key of SORT_FIELDS) in `direction`;
    position 1 is the first row of the user's unfiltered "Posts". Invalid if
    one is not a live artwork of theirs.

    A split download (over 128 posts) sends its parts in this order. Positions
    count every live artwork, so those of two calls compare: the page asks
    for a large selection a slice at a time and merges the answers. A
    filter only leaves rows out, so the order holds under any filter too.
    """
    ranked = (
        live_artworks(owner=user)
        .annotate(position=Window(RowNumber(), order_by=table_ordering(sort, direction)))
        .values_list("id", "position")
    )
    # Numbered first, picked after, in SQL of its own: the ORM would put
    # `id IN (...)` beside the numbering, and SQL filters before it numbers
    # (positions 1..n among the picked posts only).
    numbered, params = ranked.query.sql_with_params()
    marks = ", ".join(["%s"] * len(post_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, position FROM ({numbered}) numbered WHERE id IN ({marks}) "
            "ORDER BY position",
            [*params, *post_ids],
        )
        found: list[tuple[int, int]] = cursor.fetchall()
    check_downloadable(post_ids, {post_id for post_id, _ in found})
    return found
