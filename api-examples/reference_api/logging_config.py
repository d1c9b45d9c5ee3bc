"""JSON-lines logging on top of the standard library.

One JSON object per line is what log shippers parse without custom rules. Only the
fields named in ``CONTEXT_FIELDS`` are copied from ``extra=``: an allow-list means a
careless ``extra={"password": ...}`` can never end up in the output.

The request and trace IDs of the request being served sit in ``request_context``, set by
``RequestContextMiddleware``; the formatter adds them to every line logged while that
request is handled, whichever logger wrote it.
"""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

CONTEXT_FIELDS = ("request_id", "trace_id", "method", "path", "status", "duration_ms", "client_ip")

# {"request_id": ..., "trace_id": ...} while a request is being served; copied into the
# worker threads that run sync endpoints, as contextvars are.
request_context: ContextVar[dict[str, str] | None] = ContextVar("request_context", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Which worker process wrote the line, when several serve one port.
            "pid": record.process,
        }
        current = request_context.get() or {}
        for field in CONTEXT_FIELDS:
            value = getattr(record, field, None)
            if value is None:
                value = current.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Route every logger, uvicorn's included, through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
