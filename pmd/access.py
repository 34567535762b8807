"""Who may open what (SPEC §5, §6). Every PMD view starts with one of these."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

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
            return redirect_to_login(request.get_full_path())
        if request.user.pk != owner.pk:
            return redirect("posts:profile", user_sqid=user_sqid)
        return view(request, owner, *args, **kwargs)

    return wrapped


def get_owned_download_request(request: HttpRequest, pk: uuid.UUID | str) -> BatchDownloadRequest:
    """The caller's download request `pk`, or NotFound: a malformed id, an
    unknown one and someone else's are answered alike, so ids cannot be probed."""
    bdr = download_request_of(request.user, pk)
    if bdr is None:
        raise NotFound("No such download request.")
    return bdr
