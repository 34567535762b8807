"""Who may open what: a dashboard only its owner, a download request only its
owner. Every PMD view starts with one of these."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from pmd.downloads.selectors import download_request_of
from pmd.errors import Forbidden, NotFound
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_id_from_sqid
from posts.selectors import user_by_sqid

# The permission that lets support staff open another user's dashboard and
# act there for them.
ACT_FOR_OTHERS = "pmd.act_for_others"


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it: `request.htmx` says
    whether the page's own scripts sent it (falsy for a plain request)."""

    htmx: HtmxDetails


def may_act_for(user: User, owner: User) -> bool:
    """Whether `user` is support who may act in `owner`'s dashboard: staff
    with the permission, never in a superuser's (whose posts no other staff
    member may touch), and never for themselves (that is their own)."""
    return (
        user.is_authenticated
        and user.pk != owner.pk
        and user.is_staff
        and user.has_perm(ACT_FOR_OTHERS)
        and not owner.is_superuser
    )


def owner_of(request: HttpRequest) -> User:
    """Whose posts a request is about: the owner support acts for, or the caller."""
    assert request.user.is_authenticated  # only views that checked it ask
    return getattr(request, "pmd_owner", request.user)


def actor_of(request: HttpRequest) -> User | None:
    """Support acting for the owner, or None when the owner acts."""
    owner = owner_of(request)
    assert request.user.is_authenticated  # owner_of checked it
    return request.user if owner.pk != request.user.pk else None


def api_owner(request: HttpRequest) -> User:
    """The owner an API request acts for: the caller, or with
    `?target_sqid=<user sqid>` the user support acts for; NotFound for an
    unknown user, Forbidden for a caller who may not act for them."""
    target = request.GET.get("target_sqid")
    assert request.user.is_authenticated  # the API's session auth let it through
    if target is None or user_id_from_sqid(target) == request.user.pk:
        return request.user
    try:
        owner = user_by_sqid(sqid=target)
    except Http404:
        raise NotFound("No such user.") from None
    if not may_act_for(request.user, owner):
        raise Forbidden("You may not act in another user's dashboard.")
    return owner


def dashboard_owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The PMD pages: unknown user 404, anonymous to the login page, another
    user to that user's profile; the owner gets `view(request, owner, ...)`,
    and so does support that may act for them (pmd.access.may_act_for), with
    `request.pmd_owner` set: the page says whose dashboard it is."""

    @wraps(view)
    def wrapped(request: HtmxHttpRequest, user_sqid: str, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and user_id_from_sqid(user_sqid) == request.user.pk:
            # The owner on their own dashboard: no need to look them up again.
            return view(request, request.user, *args, **kwargs)
        owner = user_by_sqid(sqid=user_sqid)
        if not request.user.is_authenticated:
            return _to_login(request, user_sqid)
        if request.user.pk != owner.pk:
            if not may_act_for(request.user, owner):
                return redirect("posts:profile", user_sqid=user_sqid)
            request.pmd_owner = owner  # type: ignore[attr-defined]
        return view(request, owner, *args, **kwargs)

    return wrapped


def session_ended_login_url(next_url: str) -> str:
    """The log-in form for a page whose session ended while it was open: it
    says so once, and brings the person back to `next_url`. The page's
    scripts build the same address when the API answers 401 (static/js/site.js)."""
    query = urlencode({"next": next_url, "session": "ended"})
    return f"{resolve_url(settings.LOGIN_URL)}?{query}"


def _to_login(request: HtmxHttpRequest, user_sqid: str) -> HttpResponse:
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
    bdr = download_request_of(owner_of(request), pk)
    if bdr is None:
        raise NotFound("No such download request.")
    return bdr
