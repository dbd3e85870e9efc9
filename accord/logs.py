"""Structured logs: JSON lines in prod, readable lines in dev, a request id on every line.

The request id lives in structlog's context variables, so every line logged while a request
or a job runs carries it, including lines from the standard ``logging`` module.
"""

from __future__ import annotations

import logging
import sys

import structlog

from accord.settings import Settings


def configure_logging(settings: Settings) -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.json_logs
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            # Plain tracebacks: a rich one prints every frame's local variables, which can
            # hold passwords and personal data (and its reprs once kept a worker from exiting).
            exception_formatter=structlog.dev.plain_traceback,
        )
    )
    structlog.configure(
        # A line below the configured level is dropped before any processor runs (every
        # request logs one at INFO).
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if settings.json_logs else _identity,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # Uvicorn's access log repeats what our request middleware logs with the request id.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("tortoise", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _identity(logger, method_name, event_dict):
    return event_dict
