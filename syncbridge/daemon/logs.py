"""The daemon's log: human-readable lines or JSON lines, to stderr or a rotating file."""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import sys
from pathlib import Path
from typing import Literal

__all__ = ["JsonFormatter", "configure_logging"]

LogFormat = Literal["human", "json"]

# Attributes every LogRecord has; anything else was passed as ``extra=`` and is data.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``message``, and the
    record's ``extra`` fields (``event``, ``target`` ...)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(
    fmt: LogFormat = "human",
    file: Path | None = None,
    *,
    level: int = logging.INFO,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> logging.Handler:
    """Send the ``syncbridge`` loggers to stderr (or ``file``, rotated at ``max_bytes``
    with ``backups`` old files kept) in ``fmt``; returns the handler installed (replacing
    any earlier one of this function)."""
    handler: logging.Handler
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    root = logging.getLogger("syncbridge")
    for old in list(root.handlers):
        if getattr(old, "_syncbridge_daemon", False):
            root.removeHandler(old)
            old.close()
    setattr(handler, "_syncbridge_daemon", True)  # noqa: B010 - a marker on a stdlib object
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return handler
