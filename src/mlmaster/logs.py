"""Structured logging: JSON lines to a file for machines, a readable console view for people.

Every part logs through ``structlog.get_logger()``. Run, worker and node ids are bound with
:func:`bind_ids` (structlog's contextvars), so each line of a concurrent run says whose it is:
an asyncio task inherits the ids bound when it was created and can add its own.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Literal

import structlog

ConsoleStyle = Literal["auto", "rich", "plain", "json"]

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure_logging(
    level: str = "info",
    console: ConsoleStyle = "auto",
    json_file: Path | None = None,
    stream: Any = None,
) -> None:
    """Route all logging (structlog and the standard library) to the console and a file.

    Calling it again replaces the previous configuration (a run adds its file once the run
    directory exists).
    """
    stream = stream or sys.stderr
    numeric = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    # The file keeps at least info-level events whatever the console shows: it is the record.
    root.setLevel(min(numeric, logging.INFO) if json_file is not None else numeric)

    console_handler = logging.StreamHandler(stream)
    console_handler.setLevel(numeric)
    console_handler.setFormatter(_formatter(_console_renderer(console, stream)))
    root.addHandler(console_handler)

    if json_file is not None:
        json_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(json_file, encoding="utf-8")
        file_handler.setFormatter(
            _formatter(structlog.processors.JSONRenderer(), structlog.processors.format_exc_info)
        )
        root.addHandler(file_handler)

    # Libraries that talk a lot at info level are kept to warnings.
    for noisy in ("httpx", "httpcore", "openai", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))


def _formatter(renderer: Any, *extra: Any) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *extra,
            renderer,
        ],
    )


def _console_renderer(style: ConsoleStyle, stream: Any) -> Any:
    is_tty = bool(getattr(stream, "isatty", lambda: False)())
    if style == "json":
        return structlog.processors.JSONRenderer()
    colors = style == "rich" or (style == "auto" and is_tty)
    return structlog.dev.ConsoleRenderer(colors=colors)


def bind_ids(**ids: Any) -> None:
    """Bind ids (``run_id``, ``worker``, ``node``) to every log line of this context."""
    structlog.contextvars.bind_contextvars(**ids)


def unbind_ids(*names: str) -> None:
    structlog.contextvars.unbind_contextvars(*names)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
