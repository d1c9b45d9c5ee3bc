"""JSON-lines logging on top of the standard library.

One JSON object per line is what log shippers parse without custom rules. Only the
fields named in ``CONTEXT_FIELDS`` are copied from ``extra=``: an allow-list means a
careless ``extra={"password": ...}`` can never end up in the output.
"""

import json
import logging
import sys
from datetime import UTC, datetime

CONTEXT_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client_ip")


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
        for field in CONTEXT_FIELDS:
            value = getattr(record, field, None)
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
