"""W3C Trace Context and request metrics, without an agent or a collector.

Trace context: the ``traceparent`` request header (https://www.w3.org/TR/trace-context/)
names the caller's trace and span. The service joins that trace (or starts one when the
header is absent or malformed), gives the request a span ID of its own, puts the trace ID
on every log line written while serving it, and answers with ``traceresponse`` in the
same format (the response header of Trace Context Level 2, a W3C Candidate Recommendation
draft: Level 1 defines no response header).

Metrics: a count and a latency histogram per method, route template and status, written
in the Prometheus text exposition format. They are counted in this process: with several
uvicorn workers, each keeps its own numbers and a scrape of ``/api/metrics`` reaches one
of them (see guides/logging.md).
"""

import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

TRACEPARENT_HEADER = "traceparent"
TRACERESPONSE_HEADER = "traceresponse"
# version "00": version-traceid-parentid-flags, lower-case hex only.
_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16


@dataclass(frozen=True)
class TraceContext:
    trace_id: str
    span_id: str  # this service's span for the request
    flags: str

    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def trace_context(traceparent: str | None) -> TraceContext:
    """Join the caller's trace if its ``traceparent`` is valid, else start a new one.

    The spec says to restart the trace when the header cannot be parsed, and all-zero
    trace or parent IDs are invalid. Only version 00 is understood; a later version is
    restarted too rather than guessed at. The sampled flag is passed on unchanged.
    """
    span_id = secrets.token_hex(8)
    match = _TRACEPARENT.fullmatch(traceparent.strip()) if traceparent else None
    if match and match[1] != _ZERO_TRACE and match[2] != _ZERO_SPAN:
        return TraceContext(trace_id=match[1], span_id=span_id, flags=match[3])
    return TraceContext(trace_id=secrets.token_hex(16), span_id=span_id, flags="00")


# Seconds; Prometheus' client libraries use the same default buckets.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
UNMATCHED_ROUTE = "<unmatched>"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[str, str, str]  # method, route template, status


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * len(LATENCY_BUCKETS))
    total: float = 0.0
    count: int = 0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class RequestMetrics:
    """Request count and latency by method, route template and status, in one process.

    Labels use the route template (``/api/users/{user_id}``), never the raw path, and
    every unrouted path is one label value, so a scan of random URLs cannot create a
    time series per URL. Only the event loop's thread records and reads it (the
    middleware and an ``async`` endpoint), so no lock is needed.
    """

    def __init__(self) -> None:
        self._latency: defaultdict[Labels, _Histogram] = defaultdict(_Histogram)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        histogram = self._latency[(method, route, str(status))]
        histogram.count += 1
        histogram.total += seconds
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                histogram.buckets[index] += 1

    def render(self) -> str:
        """The Prometheus text exposition format, series sorted for stable output."""
        series = sorted(self._latency.items())
        lines = [
            "# HELP http_requests_total Requests answered, by method, route template and status.",
            "# TYPE http_requests_total counter",
        ]
        for (method, route, status), histogram in series:
            labels = f'method="{_escape(method)}",route="{_escape(route)}",status="{status}"'
            lines.append(f"http_requests_total{{{labels}}} {histogram.count}")
        lines += [
            "# HELP http_request_duration_seconds Time to answer, by method, route template and status.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for (method, route, status), histogram in series:
            labels = f'method="{_escape(method)}",route="{_escape(route)}",status="{status}"'
            for bound, count in zip(LATENCY_BUCKETS, histogram.buckets, strict=True):
                lines.append(f'http_request_duration_seconds_bucket{{{labels},le="{bound}"}} {count}')
            lines.append(f'http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {histogram.count}')
            lines.append(f"http_request_duration_seconds_sum{{{labels}}} {histogram.total:.6f}")
            lines.append(f"http_request_duration_seconds_count{{{labels}}} {histogram.count}")
        return "\n".join(lines) + "\n"
