"""Structured logs: one JSON object per line, the request id bound through a contextvar so
every line of a request carries it. The rendered line is scrubbed of anything shaped like one
of our secrets, as a safety net behind the rule that secrets are never passed to a logger."""

import logging
import re
import sys
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog
from pydantic_core import to_json

_SECRET = re.compile(r"\b(mpk|whsec)_[A-Za-z0-9_\-]{8,}")


def redact(text: str) -> str:
    if "mpk_" not in text and "whsec_" not in text:  # nearly every line: skip the regex
        return text
    return _SECRET.sub(lambda match: f"{match.group(1)}_[redacted]", text)


def _json(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> str:
    return to_json(event, fallback=str).decode()


def _redacting(renderer: Callable[..., str]) -> Callable[..., str]:
    def render(logger: Any, name: str, event: MutableMapping[str, Any]) -> str:
        return redact(renderer(logger, name, event))

    return render


class _Stdout:
    """Standard output as it is at each write (tests and process managers may swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure_logging(level: str = "info", fmt: str | None = None) -> None:
    """JSON lines for log collectors, readable lines for a person at a terminal; `fmt` (the
    MSGPROFILES_LOG_FORMAT setting) wins over that guess."""
    if fmt is None:
        fmt = "console" if sys.stdout.isatty() else "json"
    renderer = _redacting(_json if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.WriteLoggerFactory(_Stdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    # Libraries (uvicorn, alembic) log through the standard library: render them the same way.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


logger: structlog.typing.FilteringBoundLogger = structlog.get_logger("msgprofiles")
