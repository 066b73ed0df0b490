"""Shared fixtures: paths, the CLI runner and workspace builders."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class DemoRun:
    """One full `arjenturva demo` run: the workspace, its results folder and the --json output."""

    workspace: Path
    results: Path
    output: dict[str, Any]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> DemoRun:
    """The whole demo pipeline (gaps, proposals, maps, reports) run once through the CLI and
    shared by every test that only reads its outputs. Tests must not write into it."""
    from arjenturva.cli import app

    ws = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"}).invoke(
        app, ["demo", "--out", str(ws), "--json"]
    )
    assert result.exit_code == 0, result.output
    return DemoRun(workspace=ws, results=ws / "results", output=json.loads(result.stdout))
