"""Template filters for the download requests panel."""

from __future__ import annotations

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse

from pmd.downloads.serialize import display_status
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid

register = template.Library()


@register.filter
def bdr_status(bdr: BatchDownloadRequest) -> str:
    """The status to show: "expired" as soon as a ready one passes its expiry."""
    return display_status(bdr)


@register.filter
def bdr_percent(bdr: BatchDownloadRequest) -> int:
    if not bdr.artwork_count:
        return 0
    return min(100, round(100 * bdr.progress / bdr.artwork_count))


@register.filter
def bdr_retried(bdr: BatchDownloadRequest) -> bool:
    """Whether a failed request has been retried (one retry each)."""
    try:
        return bdr.retried_by is not None
    except ObjectDoesNotExist:
        return False


@register.filter
def bdr_retry_url(bdr: BatchDownloadRequest) -> str:
    """Where the panel's Retry button posts (the page's own view, which
    answers with the refreshed panel)."""
    return reverse("pmd:download-retry", args=[user_sqid(bdr.user_id), bdr.pk])
