"""GET /metrics: Prometheus's scrape, for a bearer token only."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from pmd_project.telemetry import metrics


@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """This host's metrics and the queue length, to a caller bearing
    PMD_METRICS_TOKEN. Without a token configured there is nothing here (404):
    metrics name views, queues and volumes an outsider need not learn."""
    if not settings.PMD_METRICS_TOKEN:
        raise Http404
    if not metrics.authorized(request.headers.get("Authorization")):
        return HttpResponse(
            "A bearer token is required.\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(
        metrics.exposition(broker=True),
        content_type=metrics.CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )
