from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from pmd.access import HtmxHttpRequest, dashboard_owner_required
from pmd.actions.registry import action_words
from pmd.activity import activity_recent
from pmd.downloads.selectors import download_panel_context
from pmd.hashtags import MAX_LENGTH
from pmd.live import current_event_id
from pmd.table import table_context
from pmd.table_state import TableState
from posts.public_ids import user_sqid
from posts.selectors import license_choices

# A selection of more than this many requests' worth of posts is sent as a job:
# the page would otherwise have to stay open for the whole run.
JOB_THRESHOLD_CHUNKS = 4


@require_GET
@vary_on_headers("HX-Request")
@dashboard_owner_required
def dashboard(request: HtmxHttpRequest, owner: User) -> HttpResponse:
    """The PMD page; for an HTMX request from the table, only the table."""
    state = TableState.from_query(request.GET)
    partial = request.htmx and not request.htmx.history_restore_request
    context = table_context(owner=owner, state=state)
    if partial:
        template = "pmd/dashboard.html#post-table"
    else:
        template = "pmd/dashboard.html"
        # The event id comes before the panel's data, so an update in between
        # is replayed when the page connects, never lost.
        context.update(live_event_id=current_event_id(owner.pk))
        context.update(download_panel_context(owner, highlight=request.GET.get("bdr")))
        context.update(recent_activity=activity_recent(user=owner))
        # The batch actions' buttons and their scripts' words ({{ … |json_script }}).
        context.update(action_words=action_words())
        # The licence filter's and set_license's choices.
        context.update(licenses=license_choices())
        context.update(
            edit_fields=[
                {"name": "title", "label": "Title"},
                {"name": "description", "label": "Description"},
            ]
        )
    context.update(
        # Support acting in the owner's dashboard (pmd.access.may_act_for), or None.
        support=request.user if request.user.pk != owner.pk else None,
        owner=owner,
        owner_sqid=user_sqid(owner.pk),
        dashboard_url=request.path,
        action_limit=settings.PMD_ACTION_LIMIT,
        # More posts than this go to the server as one job (pmd-jobs.js).
        job_threshold=JOB_THRESHOLD_CHUNKS * settings.PMD_ACTION_LIMIT,
        download_limit=settings.PMD_BDR_LIMIT,
        restore_days=settings.PMD_RESTORE_DAYS,
        undo_days=settings.PMD_UNDO_DAYS,
        hashtag_max_length=MAX_LENGTH,
        hashtag_limit=settings.PMD_HASHTAG_LIMIT,
    )
    return render(request, template, context)


@require_GET
@dashboard_owner_required
def recent_activity(request: HttpRequest, owner: User) -> HttpResponse:
    """The "Recent activity" panel alone, refreshed by the page after an action."""
    return render(
        request, "pmd/_recent_activity.html", {"recent_activity": activity_recent(user=owner)}
    )
