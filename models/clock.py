"""The domain's one clock: every rule that asks "what time is it" asks ``clock.now()``.

Callers import the module, not the function (``from models import clock``), so a test that
needs to see or steer time patches ``models.clock.now`` once and every rule follows (the
``clock`` fixture in ``tests/conftest.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware in UTC (what every stored timestamp is)."""
    return datetime.now(UTC)
