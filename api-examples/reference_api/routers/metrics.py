"""Request metrics for Prometheus: counted in the worker process that answers the scrape."""

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from reference_api.observability import PROMETHEUS_TEXT, RequestMetrics


class PrometheusText(PlainTextResponse):
    media_type = PROMETHEUS_TEXT


router = APIRouter(prefix="/api/metrics", tags=["health"])

_EXAMPLE = """# HELP http_requests_total Requests answered, by method, route template and status.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/users/{user_id}",status="200"} 3
"""


@router.get(
    "",
    response_class=PrometheusText,
    summary="Request counts and latencies of this worker process",
    description="Prometheus text format: `http_requests_total` and the histogram "
    "`http_request_duration_seconds`, by method, route template and status. Each worker "
    "process counts its own requests, so with several workers a scrape sees one of them. "
    "Not rate limited; expose it on an internal network only.",
    responses={200: {"description": "The metrics.", "content": {PROMETHEUS_TEXT: {"example": _EXAMPLE}}}},
)
async def metrics(request: Request) -> PrometheusText:
    # async: read on the event loop's thread, the only one that records.
    registry: RequestMetrics = request.app.state.metrics
    return PrometheusText(registry.render())
