"""Shared fixtures: paths, the CLI runner and workspace builders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DEMO_DIR = REPO / "data" / "demo"
TEMPLATE_DIR = REPO / "arjenturva" / "templates" / "workspace"

requires_shared = pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data not present")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1"})


@pytest.fixture
def template_ws(tmp_path: Path) -> Path:
    """A copy of the `arjenturva init` template workspace (valid as written)."""
    dest = tmp_path / "ws"
    shutil.copytree(TEMPLATE_DIR, dest)
    return dest
