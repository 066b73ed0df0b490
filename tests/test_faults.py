"""Faults a run must survive: read-only and full disks, interrupts and kills, path injection.

A results folder is always the old complete run or the new complete run, never a mix; no fault
shows a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from arjenturva import api
from arjenturva.cli import app
from arjenturva.results import staging

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _invoke(*args: str):
    result = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"}).invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@contextlib.contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[bool]:
    """A small tmpfs at ``path`` (root only); yields False when it cannot be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    if not IS_ROOT:
        yield False
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("faults") / "ws"
    api.copy_demo(ws)
    api.build_network(ws)  # the cache, so runs below start fast
    return ws


def _simulate_write_failure(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """The same failure as a real disk gives, raised by the CSV writer (when mounting is impossible)."""
    import arjenturva.io as io

    def broken(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(io, "write_csv", broken)


@pytest.mark.parametrize(
    ("options", "code", "words"),
    [("ro,size=1m", errno.EROFS, "Read-only file system"), ("size=200k", errno.ENOSPC, "No space left")],
    ids=["read-only", "full"],
)
def test_unwritable_results_folder_is_a_clear_error(workspace, tmp_path, monkeypatch, options, code, words):
    disk = tmp_path / "disk"
    with _tmpfs(disk, options) as mounted:
        if not mounted:
            _simulate_write_failure(monkeypatch, code)
        result = _invoke("run", "-c", str(workspace), "--out", str(disk / "results"))
        assert result.exit_code == 1, result.output
        assert "could not be written" in result.output and words in result.output
        assert "Fix:" in result.output
        if mounted:
            assert not (disk / "results").exists()
            assert not list(disk.glob(".results.*"))


def test_uncached_network_is_a_warning_not_a_failure(workspace, tmp_path, monkeypatch):
    import arjenturva.network.cache as cache

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(cache, "save_network", read_only)
    out = tmp_path / "results"
    result = _invoke("gaps", "-c", str(workspace), "--out", str(out), "-s", "grocery")
    assert result.exit_code == 0, result.output
    from arjenturva.config import load_config
    from arjenturva.network import build_network

    cfg = load_config(workspace)
    net = build_network(cfg.network, base_dir=cfg.base_dir, cache_dir=tmp_path / "fresh-cache")
    warning = net.info["cache_warning"]
    assert "could not be cached" in warning and "network.cache: false" in warning


def _start_run(workspace: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "arjenturva",
            "run",
            "-c",
            str(workspace),
            "--out",
            str(out),
            "--force",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A test runner started in the background ignores SIGINT, and so would the child.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_staging(out: Path, proc: subprocess.Popen[str], timeout_s: float = 120) -> Path:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        found = [p for p in out.parent.glob(f".{out.name}.incomplete-*") if (p / "summary.csv").exists()]
        if found:
            return found[0]
        if proc.poll() is not None:
            pytest.fail(f"the run ended before writing: {proc.communicate()}")
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=30)
    pytest.fail("no staging folder appeared")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_interrupt_and_kill_leave_the_old_run_whole(workspace, tmp_path):
    out = tmp_path / "results"
    assert _invoke("run", "-c", str(workspace), "--out", str(out)).exit_code == 0
    before = _snapshot(out)

    # Ctrl-C: exit 130, one line on what was kept, the old folder intact, no staging left.
    proc = _start_run(workspace, out)
    _wait_for_staging(out, proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Stopped: interrupted" in stderr and "Traceback" not in stderr
    assert _snapshot(out) == before
    assert not list(tmp_path.glob(".results.*"))

    # A kill: the old folder intact, the staging folder clearly marked, removed by the next run.
    proc = _start_run(workspace, out)
    stage = _wait_for_staging(out, proc)
    proc.kill()
    proc.communicate(timeout=30)  # reaps the process and closes its pipes
    assert _snapshot(out) == before
    assert (stage / staging.MARKER).is_file()
    assert _invoke("run", "-c", str(workspace), "--out", str(out), "--force").exit_code == 0
    assert not stage.exists()
    assert json.loads((out / "run.json").read_text())["results_format"] == 3


def test_data_can_never_write_outside_the_results_folder(workspace, tmp_path):
    out = tmp_path / "box" / "results"
    assert _invoke("run", "-c", str(workspace), "--out", str(out)).exit_code == 0
    # Poison the folder's own tables with path-like municipality codes and service ids.
    summary = pd.read_csv(out / "summary.csv", dtype=str)
    summary["municipality"] = summary["municipality"].map({"996": "../../../evil", "997": "/tmp/evil2"})
    summary.to_csv(out / "summary.csv", index=False)
    before = {p for p in tmp_path.rglob("*")}
    for command in ("report", "map"):
        result = _invoke(command, "-c", str(workspace), "--out", str(out), "--force")
        assert result.exception is None or isinstance(result.exception, SystemExit)
    outside = {p for p in tmp_path.rglob("*")} - before
    assert all(out in p.parents or p == out for p in outside), sorted(map(str, outside))
    assert not Path("/tmp/evil2.html").exists() and not (tmp_path / "evil.html").exists()


def test_scenario_names_cannot_leave_the_workspace(tmp_path):
    ws = tmp_path / "ws"
    config = api.copy_demo(ws)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  kirjastoauto_lakkautetaan:", '  "../../escape":'), encoding="utf-8")
    result = _invoke("run", "-c", str(ws), "--scenario", "../../escape")
    assert result.exit_code == 0, result.output
    assert not (tmp_path.parent / "escape").exists() and not (tmp_path / "results-escape").exists()
    assert [p.name for p in ws.glob("results-*")] == ["results-______escape"]


@pytest.mark.slow
def test_two_runs_of_the_same_inputs_write_the_same_bytes(workspace, tmp_path, monkeypatch):
    """Everything but run.json's timings is byte-identical; with SOURCE_DATE_EPOCH, dates too."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    first, second = tmp_path / "first", tmp_path / "second"
    for out in (first, second):
        assert _invoke("run", "-c", str(workspace), "--out", str(out)).exit_code == 0
    a, b = _snapshot(first), _snapshot(second)
    assert sorted(a) == sorted(b)
    differ = sorted(name for name in a if a[name] != b[name])
    assert differ == ["run.json"], differ
    runs = [json.loads(d["run.json"]) for d in (a, b)]
    for run in runs:
        run.pop("timings_s")
        run.pop("gaps_detail_s")
        run["network"].pop("seconds", None)
        run["proposals"].pop("seconds", None)
        for solve in run.get("routes", {}).get("solves", []):
            solve.pop("runtime_s")  # the route solver's own timing; its iterations and plan are fixed
        assert run["created"] == "2025-11-24T16:00:00+00:00"
    assert runs[0] == runs[1]
