"""One JSON object per log line, so request logs can be grepped, parsed with ``jq`` or shipped as they are."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LOGGER_NAME = "mysfits.endpoint"
logger = logging.getLogger(LOGGER_NAME)


def log_event(level: int, event: str, **fields: object) -> None:
    if logger.isEnabledFor(level):
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        logger.log(level, json.dumps({"ts": stamp, "event": event, **fields}, default=str, separators=(",", ":")))


def log_to_stderr(level: int = logging.INFO) -> None:
    """For the command line: this logger's lines go to stderr unadorned (the line is already structured)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
