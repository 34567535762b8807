from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django_eventstream.views import events

from pmd.api import json_error
from pmd.live import release_connection


@require_GET
def bdr_events(request: HttpRequest) -> HttpResponse:
    """GET /api/pmd/bdr/sse: the caller's `bdr_update` events, as a stream."""
    if not request.user.is_authenticated:
        return json_error("Log in to receive live updates.", 401)
    response = events(request)
    # The user is known now; an open stream must not keep a database
    # connection for the hours a tab may stay open.
    release_connection()
    return response
