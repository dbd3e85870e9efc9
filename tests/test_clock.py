"""Time has one source and one patch point: ``models.clock.now``."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

from models.accounts.sessions import is_recent
from tests.conftest import Clock

ROOT = Path(__file__).resolve().parent.parent


def test_every_rule_reads_the_time_through_the_clock_module() -> None:
    """Nothing but ``models/clock.py`` asks the system for the time, and nothing imports
    ``now`` by name (a copy a patch of ``models.clock.now`` would not reach)."""
    offenders = []
    for package in ("models", "api", "workers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "models" / "clock.py":
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "models.clock":
                    offenders.append(f"{path.relative_to(ROOT)}: imports from models.clock")
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in {"now", "utcnow"}
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "datetime"
                ):
                    offenders.append(
                        f"{path.relative_to(ROOT)}:{node.lineno}: datetime.{node.attr}"
                    )
    assert offenders == []


def test_the_clock_fixture_moves_the_rules(clock: Clock, settings) -> None:
    session = SimpleNamespace(authenticated_at=clock.real())
    assert is_recent(session, settings)
    clock.use(lambda: session.authenticated_at + settings.recent_auth_window * 2)
    assert not is_recent(session, settings), "the rule read the patched clock"
    clock.restore()
    assert is_recent(session, settings)
