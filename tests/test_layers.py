"""The layers hold: ``lint-imports`` checks the contract in pyproject.toml
(``[tool.importlinter]``), so an import that climbs a layer (models importing api, the ground
floor importing models, api importing workers) fails the suite, not only CI's lint step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_no_module_imports_a_layer_above_its_own():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
