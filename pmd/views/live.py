from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from pmd import live
from pmd.access import api_owner
from pmd.errors import DomainError
from pmd.refusals import json_error, refusal_response
from pmd_project.lib import eventstream
from pmd_project.lib.inputs import BadInput


@require_GET
def bdr_events(request: HttpRequest) -> HttpResponseBase:
    """GET /api/pmd/bdr/sse: the caller's `bdr_update` and `job_update` events,
    as a stream; with `target_sqid`, support's view of the owner's."""
    if not request.user.is_authenticated:
        return json_error("Log in to receive live updates.", 401)
    try:
        owner = api_owner(request)
        resume_after = live.parse_stream_query(
            request.GET, request.headers.get("Last-Event-ID"), live.user_channel(owner.pk)
        )
    except BadInput as error:
        return json_error(error.message, error.status)
    except DomainError as error:
        return refusal_response(error)
    slot = live.stream_slots.acquire(request.user.pk)
    if slot is None:
        limit = settings.PMD_SSE_MAX_STREAMS_PER_USER
        return json_error(
            f"Live updates are open in too many tabs (at most {limit}). "
            "Close one and reload this page.",
            429,
        )
    response = live.open_stream(request, owner, resume_after, slot)
    # The user is known now; an open stream must not keep a database
    # connection for the hours a tab may stay open.
    eventstream.release_connection()
    return response
