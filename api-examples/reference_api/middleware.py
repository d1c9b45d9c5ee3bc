"""ASGI middleware: request IDs, access logs, the last-resort 500, rate limiting, and
the request-body size cap.

Written as plain ASGI callables rather than ``BaseHTTPMiddleware`` so they add no
extra task per request and see the exact status that goes on the wire.
"""

import logging
import re
import time
import uuid

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_api.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, ErrorCode, problem_body
from reference_api.logging_config import request_context
from reference_api.observability import (
    TRACEPARENT_HEADER,
    TRACERESPONSE_HEADER,
    UNMATCHED_ROUTE,
    RequestMetrics,
    trace_context,
)
from reference_api.rate_limit import SharedRateLimiter

REQUEST_ID_HEADER = "X-Request-ID"
# A client-supplied ID is echoed into logs and headers, so only a conservative shape is
# trusted; anything else (too long, control characters) is replaced.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

access_log = logging.getLogger("reference_api.access")
error_log = logging.getLogger("reference_api.errors")


def _problem(scope: Scope, code: ErrorCode, detail: str, headers: dict[str, str]) -> JSONResponse:
    body = problem_body(
        code,
        detail,
        instance=scope["path"],
        request_id=scope["state"]["request_id"],
        base_url=scope["app"].state.problem_base_url,
    )
    return JSONResponse(body, status_code=PROBLEM_TYPES[code].status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def client_ip(scope: Scope) -> str:
    # Behind a reverse proxy this is the proxy's address unless uvicorn runs with
    # --proxy-headers and --forwarded-allow-ips naming that proxy; trusting
    # X-Forwarded-For from anyone would let clients pick their own rate-limit key.
    client = scope.get("client")
    return client[0] if client else "unknown"


def route_template(scope: Scope) -> str:
    """The matched route's path template, set in the scope by the router."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Outermost layer: every response, even a crash, gets a request ID, a trace
    context, a log line and a place in the metrics."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        supplied = headers.get(REQUEST_ID_HEADER, "")
        request_id = supplied if _VALID_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        trace = trace_context(headers.get(TRACEPARENT_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        context_token = request_context.set({"request_id": request_id, "trace_id": trace.trace_id})
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers[REQUEST_ID_HEADER] = request_id
                response_headers[TRACERESPONSE_HEADER] = trace.header()
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # Logged here with the traceback, where operators look; the client gets
            # only a generic problem so no exception text, SQL or path leaks out.
            error_log.exception("unhandled exception", extra={"request_id": request_id})
            if response_started:
                raise
            response = _problem(
                scope,
                ErrorCode.INTERNAL_ERROR,
                "An unexpected error occurred. Quote the request_id when reporting it.",
                {REQUEST_ID_HEADER: request_id, TRACERESPONSE_HEADER: trace.header()},
            )
            await response(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe(scope["method"], route_template(scope), status, elapsed)
            # The path only: query strings can carry personal data, and headers
            # (Authorization) and bodies (passwords) are never logged at all.
            access_log.info(
                "request completed",
                extra={
                    "request_id": request_id,
                    "trace_id": trace.trace_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client_ip": client_ip(scope),
                },
            )
            request_context.reset(context_token)


class RateLimitMiddleware:
    """A per-client-IP request budget, counted in the database and shared by every
    worker: one upsert per request, in the thread pool so the event loop never waits
    on the database. The health probes are exempt, so an orchestrator's checks never
    spend a client's budget nor get refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        general: SharedRateLimiter,
        exempt_paths: frozenset[str],
    ) -> None:
        self.app = app
        self.general = general
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in self.exempt_paths:
            await self.app(scope, receive, send)
            return

        decision = await run_in_threadpool(self.general.hit, client_ip(scope))
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        response = _problem(
            scope,
            ErrorCode.RATE_LIMITED,
            f"Rate limit exceeded; retry in {decision.retry_after_seconds} seconds.",
            {"Retry-After": str(decision.retry_after_seconds)},
        )
        await response(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with a 413, however they are sent.

    A declared Content-Length over the cap is refused before a byte is read. A chunked
    body has no length up front, so the bytes are counted as the application reads
    them, and reading past the cap raises the 413 instead of buffering the rest.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = _problem(scope, ErrorCode.CONTENT_TOO_LARGE, self._detail(), {})
            await response(scope, receive, send)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI re-raises HTTPException from body parsing, so this
                    # reaches the problem handlers like any framework error.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"The request body is larger than this service accepts ({self.max_bytes} bytes)."
