"""Who may open what: a dashboard only its owner, a download request only its
owner. Every PMD view starts with one of these."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from pmd.downloads.selectors import download_request_of
from pmd.errors import NotFound
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_id_from_sqid
from posts.selectors import user_by_sqid


def dashboard_owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The PMD pages: unknown user 404, anonymous to the login page, another
    user to that user's profile; the owner gets `view(request, owner, ...)`."""

    @wraps(view)
    def wrapped(request: HttpRequest, user_sqid: str, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and user_id_from_sqid(user_sqid) == request.user.pk:
            # The owner on their own dashboard: no need to look them up again.
            return view(request, request.user, *args, **kwargs)
        owner = user_by_sqid(sqid=user_sqid)
        if not request.user.is_authenticated:
            return _to_login(request, user_sqid)
        if request.user.pk != owner.pk:
            return redirect("posts:profile", user_sqid=user_sqid)
        return view(request, owner, *args, **kwargs)

    return wrapped


def session_ended_login_url(next_url: str) -> str:
    """The log-in form for a page whose session ended while it was open: it
    says so once, and brings the person back to `next_url`. The page's
    scripts build the same address when the API answers 401 (static/js/site.js)."""
    query = urlencode({"next": next_url, "session": "ended"})
    return f"{resolve_url(settings.LOGIN_URL)}?{query}"


def _to_login(request: HttpRequest, user_sqid: str) -> HttpResponse:
    """Anonymous: to the log-in form, then back. A request of the page's own
    (htmx) means its session ended while it was open: the whole page goes to
    the form, never a log-in form swapped into the table."""
    if not request.htmx:
        return redirect_to_login(request.get_full_path())
    dashboard = reverse("pmd:dashboard", args=[user_sqid])
    # Back to the table as it was (sort, page, search), if the page was this dashboard.
    page = request.htmx.current_url_abs_path or ""
    next_url = page if urlsplit(page).path == dashboard else dashboard
    return HttpResponseClientRedirect(session_ended_login_url(next_url))


def get_owned_download_request(request: HttpRequest, pk: uuid.UUID | str) -> BatchDownloadRequest:
    """The caller's download request `pk`, or NotFound: a malformed id, an
    unknown one and someone else's are answered alike, so ids cannot be probed."""
    bdr = download_request_of(request.user, pk)
    if bdr is None:
        raise NotFound("No such download request.")
    return bdr
