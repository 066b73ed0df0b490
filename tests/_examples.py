"""The helpers of ``examples/`` for the tests: ``examples/realdata.py`` is not in the package.

Tests import ``from _examples import build_pilot_workspace`` instead of putting ``examples/`` on
the path themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
"""The repository's ``examples/`` folder."""

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from realdata import PILOT_CODES, build_pilot_workspace  # noqa: E402

__all__ = ["EXAMPLES", "PILOT_CODES", "build_pilot_workspace"]
