"""A plain (non-editable) install from a wheel carries the demo and runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("arjenturva-*.whl")
    return whl


def test_wheel_holds_the_demo_and_the_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    demo = {p.name for p in (REPO / "data" / "demo").iterdir() if p.is_file()}
    assert {f"arjenturva/_demo/{n}" for n in demo} <= names
    assert any(n.startswith("arjenturva/export/templates/") and n.endswith(".j2") for n in names)
    assert "arjenturva/templates/workspace/arjenturva.yaml" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "examples/")) for n in names)


@pytest.mark.slow
def test_demo_runs_from_a_plain_wheel_install(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import arjenturva; print(arjenturva.__file__)"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(target), where  # the installed copy, not the repository
    run = subprocess.run(
        [sys.executable, "-m", "arjenturva", "demo", "--out", str(tmp_path / "demo-run"), "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    results = tmp_path / "demo-run" / "results"
    for name in ("summary.csv", "proposals.csv", "run.json", "report.html", "map.html"):
        assert (results / name).is_file(), name
