"""Download requests in the JSON API (SPEC §6): request, list, read, download, retry.

The list, one request and a retry answer an HTMX request with the panel's
HTML (templates/pmd/_download_requests.html) instead of JSON, so the page can
swap it in place.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from pmd import downloads
from pmd.access import get_owned_download_request
from pmd.api import ApiError, api_view, json_error, parse_bool, parse_post_ids, read_json_object
from pmd.models import BatchDownloadRequest
from posts.files import storage_file_response

Status = BatchDownloadRequest.Status
FLAGS = ("include_comments", "include_reactions", "send_email")


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@api_view
def download_requests(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _create(request)
    if request.htmx:
        return _panel(request)
    items = [downloads.bdr_item(bdr) for bdr in downloads.download_requests_recent(request.user)]
    return JsonResponse({"items": items})


def _create(request: HttpRequest) -> HttpResponse:
    data = read_json_object(request)
    post_ids = parse_post_ids(data.get("post_ids"), limit=settings.PMD_BDR_LIMIT)
    flags = {name: parse_bool(data, name) for name in FLAGS}
    try:
        bdr = downloads.download_request_create(user=request.user, post_ids=post_ids, **flags)
    except downloads.DailyLimitReached as refused:
        response = json_error(refused.message, refused.status)
        response["Retry-After"] = str(int((refused.resets_at - timezone.now()).total_seconds()))
        return response
    left = downloads.requests_left_today(request.user)
    body = {
        "id": str(bdr.pk),
        "status": bdr.status,
        "artwork_count": bdr.artwork_count,
        "created_at": downloads.iso(bdr.created_at),
        "message": downloads.download_request_created_message(bdr, requests_left=left),
        "requests_left": left,
    }
    return JsonResponse(body, status=201)


@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
@api_view
def download_request_detail(request: HttpRequest, pk: str) -> HttpResponse:
    bdr = get_owned_download_request(request, pk)
    if request.htmx:
        return render(request, "pmd/_download_request_row.html", {"bdr": bdr})
    return JsonResponse(downloads.bdr_item(bdr))


@require_http_methods(["GET", "HEAD"])
@api_view
def download_request_file(request: HttpRequest, pk: str) -> HttpResponse:
    bdr = get_owned_download_request(request, pk)
    status = downloads.display_status(bdr)
    if status == Status.EXPIRED:
        raise ApiError("This download has expired. Request a new one from the dashboard.", 410)
    if status == Status.FAILED:
        raise ApiError(f"This download failed: {bdr.error_message}", 409)
    if status != Status.READY:
        raise ApiError("This download is not ready yet.", 409)
    try:
        return storage_file_response(
            request,
            storages["vault"],
            bdr.file_path,
            content_type="application/zip",
            attachment_name=downloads.attachment_name(bdr),
        )
    except Http404:
        raise ApiError("This download is no longer available. Request a new one.", 410) from None


@require_POST
@api_view
def download_request_retry(request: HttpRequest, pk: str) -> HttpResponse:
    retry = downloads.download_request_retry(bdr=get_owned_download_request(request, pk))
    if request.htmx:
        return _panel(request)
    left = downloads.requests_left_today(request.user)
    message = downloads.download_request_created_message(retry, requests_left=left)
    return JsonResponse({**downloads.bdr_item(retry), "message": message}, status=201)


def _panel(request: HttpRequest) -> HttpResponse:
    context = downloads.download_panel_context(request.user, highlight=request.GET.get("bdr"))
    return render(request, "pmd/_download_requests.html", context)
