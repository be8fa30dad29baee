"""Structured logging: JSON lines to a file for machines, a readable console view for people.

Every part logs through ``structlog.get_logger()``. Run, worker and node ids are bound with
:func:`bind_ids` (structlog's contextvars), so each line of a concurrent run says whose it is:
an asyncio task inherits the ids bound when it was created and can add its own.

On a terminal the console lines go through one rich :class:`~rich.console.Console`
(:func:`terminal_console`), the same one the run's live panel draws on: rich then prints each
line above the panel and redraws the panel below it, instead of both moving the cursor.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Literal

import structlog
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import ControlCode, ControlType, Segment
from rich.text import Text

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
            # A line below every handler's level stops here, before the processors' work (a
            # debug line per LLM call and per script would otherwise cost the loop each time).
            structlog.stdlib.filter_by_level,
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

    global _terminal
    is_tty = bool(getattr(stream, "isatty", lambda: False)())
    console_handler: logging.Handler
    if is_tty:
        if _terminal is None or _terminal.file is not stream:
            _terminal = Console(file=stream)
        console_handler = _ConsoleHandler(_terminal)
    else:
        _terminal = None
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


_terminal: Console | None = None


def terminal_console() -> Console | None:
    """The console log lines go through when they go to a terminal, else ``None``."""
    return _terminal


class _ConsoleHandler(logging.Handler):
    """Writes each formatted line through a rich console (kept intact, colours kept).

    Through the console, so that a live display redraws itself below the line. The line is
    already styled (the renderer's ANSI colours): on a terminal that shows colours it goes out
    as it is, instead of being parsed back into rich text and rendered again, which cost the
    event loop a millisecond or more per line. Elsewhere (``NO_COLOR``, a dumb terminal) the
    parsed text goes, so the console can drop the colours.
    """

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            console = self.console
            if console.is_terminal and console.color_system is not None and not console.no_color:
                console.print(_Styled(line), highlight=False, markup=False, emoji=False)
            else:
                text = Text.from_ansi(line)
                console.print(text, soft_wrap=True, highlight=False, markup=False, emoji=False)
        except Exception:
            self.handleError(record)


# Marks a segment as control: written as it is and measured as zero cells, so never cropped or
# wrapped by rich (the terminal wraps a long line, as it did a soft-wrapped one). The code itself
# is not written; the segment's text is.
_AS_IS: list[ControlCode] = [(ControlType.BELL,)]


class _Styled:
    """One line that already carries its ANSI styles, then a newline."""

    def __init__(self, line: str) -> None:
        self.line = line

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Segment(self.line, None, _AS_IS)
        yield Segment.line()


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
    # Tracebacks keep their frames and code, not every frame's local variables: rendering those
    # took the event loop 0.2 s to 2 s per logged exception (tens of kilobytes of text each),
    # and the log file's traceback never had them.
    tracebacks = structlog.dev.RichTracebackFormatter(show_locals=False)
    return structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=tracebacks)


def bind_ids(**ids: Any) -> None:
    """Bind ids (``run_id``, ``worker``, ``node``) to every log line of this context."""
    structlog.contextvars.bind_contextvars(**ids)


def unbind_ids(*names: str) -> None:
    structlog.contextvars.unbind_contextvars(*names)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
