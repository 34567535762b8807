"""The page's "Download requests" panel as HTML fragments, from the page's own
URLs (the JSON API answers JSON only): the panel, refreshed on each live
update; one row; and a retry from a failed row, answered with the panel."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from pmd import downloads
from pmd.access import actor_of, dashboard_owner_required, get_owned_download_request
from pmd.refusals import answers_refusals


@require_GET
@dashboard_owner_required
def download_panel(request: HttpRequest, owner: User) -> HttpResponse:
    """The panel alone; `?bdr=` keeps the request the page highlights."""
    return _panel(request, owner)


@require_GET
@dashboard_owner_required
@answers_refusals
def download_row(request: HttpRequest, owner: User, bdr_id: uuid.UUID) -> HttpResponse:
    bdr = get_owned_download_request(request, bdr_id)
    return render(request, "pmd/_download_request_row.html", {"bdr": bdr})


@require_POST
@dashboard_owner_required
@answers_refusals
def download_retry(request: HttpRequest, owner: User, bdr_id: uuid.UUID) -> HttpResponse:
    """Retry a failed download (it does not use up another of today's); the
    refreshed panel answers, or the refusal as `{"error": …}` for the toast."""
    downloads.download_request_retry(
        bdr=get_owned_download_request(request, bdr_id), actor=actor_of(request)
    )
    return _panel(request, owner)


def _panel(request: HttpRequest, owner: User) -> HttpResponse:
    context = downloads.download_panel_context(owner, highlight=request.GET.get("bdr"))
    return render(request, "pmd/_download_requests.html", context)
