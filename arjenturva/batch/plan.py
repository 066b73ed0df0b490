"""What a batch runs, decided on the client before anything reaches a cluster.

A batch is a list of runs. Each run is a workspace, or a piece of one, under a scenario (or the
baseline). A piece is the same workspace with ``study_area`` set to some of its municipalities:
those of one municipality, region or wellbeing services county (``split``). Every other
municipality of the layer stays as context, so service points across a piece's border count.

Each run gets a folder name under ``runs/`` and a fingerprint of everything its results depend on
(the settings, the area, the scenario, the input files, the arjenturva version and what is
written). The fingerprint goes into the run's ``run.json``; a rerun skips a run whose folder
holds a finished run with the same fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from ..errors import ArjenturvaError, ConfigError
from ..results import RUN_FILE, ResultsError, read_run, safe_name

if TYPE_CHECKING:
    from ..config import Config
    from ..workspace import Workspace

__all__ = [
    "SPLITS",
    "BatchError",
    "RunState",
    "TaskSpec",
    "plan_tasks",
    "run_state",
    "split_pieces",
]

Split = Literal["municipality", "region", "wellbeing_county"]

SPLITS: Final[tuple[Split, ...]] = ("municipality", "region", "wellbeing_county")
"""How one workspace may be split into pieces: by a column of its municipalities layer."""

SCENARIO_SEPARATOR: Final = "--"
"""Between a run's area and its scenario in the folder name (``Kainuu--no_library_bus``)."""

RunState = Literal["missing", "complete", "other"]


class BatchError(ArjenturvaError):
    """A batch cannot be planned or run as asked (a missing column, scenario, extra or cluster)."""


@dataclass(frozen=True)
class TaskSpec:
    """One run of a batch: what a worker needs besides the shared workspace and network."""

    name: str
    """Folder of the run under ``runs/`` (letters, digits, ``-`` and ``_``)."""
    workspace: int
    """Index of the run's workspace among the batch's workspaces."""
    config_path: str
    """The workspace's config file."""
    piece: str | None
    """The value of the split column the run covers (None: the whole workspace)."""
    codes: tuple[str, ...] | None
    """``study_area`` of the run (None: every municipality of the layer is studied)."""
    scenario: str | None
    """The scenario applied (None: the baseline)."""
    fingerprint: str
    """Hash of everything the run's results depend on; kept in its ``run.json``."""
    weight: float
    """Expected work, for scheduling the largest runs first."""


def split_pieces(ws: Workspace, config: Config, split: Split) -> list[tuple[str, tuple[str, ...]]]:
    """The pieces of a workspace: (value of the ``split`` column, its study municipalities' codes),
    in the order the values first appear in the layer.

    Only the municipalities of ``config.study_area`` (all of them without one) are split; the
    context stays context in every piece.

    Raises
    ------
    BatchError
        When ``split`` is not a known split, the layer lacks the column, or study municipalities
        have no value in it.
    """
    if split not in SPLITS:
        msg = f"unknown split {split!r}. Fix: use one of {', '.join(SPLITS)}"
        raise BatchError(msg)
    munis = ws.municipalities
    layer = str(config.inputs.municipalities.path)
    column = "code" if split == "municipality" else split
    if column not in munis.columns:
        msg = (
            f"{layer}: no column {column!r}, which --split {split} needs. Fix: add the column "
            "(`arjenturva build-workspace` writes region and wellbeing_county), or split by municipality"
        )
        raise BatchError(msg)
    study = set(config.study_area) if config.study_area is not None else set(munis["code"])
    rows = munis.loc[munis["code"].isin(study)]
    values = rows[column].astype(object)
    blank = rows.loc[values.isna() | (values.astype(str).str.strip() == ""), "code"].tolist()
    if blank:
        msg = (
            f"{layer}: municipalities {', '.join(blank)} have no value in column {column!r}, so "
            f"--split {split} cannot place them. Fix: fill the column, or leave them out of study_area"
        )
        raise BatchError(msg)
    pieces: dict[str, list[str]] = {}
    for code, value in zip(rows["code"], values, strict=True):
        pieces.setdefault(str(value).strip(), []).append(str(code))
    return [(value, tuple(codes)) for value, codes in pieces.items()]


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _input_hashes(ws: Workspace) -> dict[str, str | None]:
    from ..io import file_hash

    files = dict(ws.files)
    if ws.config.network.source:
        files["network"] = ws.config.resolve(ws.config.network.source)
    return {k: file_hash(p) if Path(p).is_file() else None for k, p in sorted(files.items())}


def plan_tasks(
    workspaces: Sequence[tuple[Config, Workspace]],
    *,
    scenarios: Sequence[str] = (),
    split: Split | None = None,
    maps: bool = True,
    proposals: bool = True,
    version: str = "",
) -> list[TaskSpec]:
    """One task per run: each workspace (or each of its pieces) × the baseline and ``scenarios``.

    Parameters
    ----------
    workspaces
        Each workspace's config as the user gave it, with the workspace loaded with every
        municipality studied (``study_area`` None), which every run of it shares.
    scenarios
        Scenario names run beside the baseline; every workspace must define them.
    split
        Split each workspace into pieces by this column of its municipalities layer.
    maps, proposals, version
        What the runs write, and the arjenturva version (both part of the fingerprint).

    Raises
    ------
    ConfigError
        When a workspace does not define a scenario.
    BatchError
        When a split is impossible, or two runs would get the same folder name.
    """
    tasks: list[TaskSpec] = []
    stems = _stems([cfg for cfg, _ws in workspaces])
    for index, ((cfg, ws), stem) in enumerate(zip(workspaces, stems, strict=True)):
        missing = [s for s in scenarios if s not in cfg.scenarios]
        if missing:
            known = ", ".join(cfg.scenarios) or "none defined"
            msg = (
                f"{cfg.path}: unknown scenario(s) {', '.join(missing)} (scenarios: {known}). "
                "Fix: define them under `scenarios:` in that config, or leave them out of the batch"
            )
            raise ConfigError(msg)
        if split is None:
            study = tuple(cfg.study_area) if cfg.study_area is not None else None
            pieces: list[tuple[str | None, tuple[str, ...] | None]] = [(None, study)]
        else:
            pieces = list(split_pieces(ws, cfg, split))
        base = {"config": cfg.digest(), "inputs": _input_hashes(ws), "maps": maps,
                "proposals": proposals, "version": version}
        people = ws.population.groupby("municipality")["population"].count()
        config_path = str(Path(str(cfg.path)).resolve())
        for piece, codes in pieces:
            area = stem if piece is None else piece if len(workspaces) == 1 else f"{stem}_{piece}"
            munis = len(ws.municipalities) if codes is None else len(codes)
            cells = float(people.sum() if codes is None else people.reindex(list(codes)).fillna(0).sum())
            for scenario in (None, *scenarios):
                name = safe_name(area if scenario is None else f"{area}{SCENARIO_SEPARATOR}{scenario}")
                fingerprint = _digest({**base, "study_area": codes, "scenario": scenario})
                tasks.append(
                    TaskSpec(name, index, config_path, piece, codes, scenario, fingerprint,
                             weight=munis + cells / 100.0)
                )
    seen: dict[str, TaskSpec] = {}
    for t in tasks:
        if t.name in seen:
            msg = (
                f"two runs would share the folder runs/{t.name} ({seen[t.name].config_path} and "
                f"{t.config_path}). Fix: give the workspaces different folder names or scenarios"
            )
            raise BatchError(msg)
        seen[t.name] = t
    return tasks


def _stems(configs: Sequence[Config]) -> list[str]:
    """A short name per workspace: its folder's name (with its position when two share one)."""
    names = [safe_name(c.base_dir.resolve().name or "workspace") for c in configs]
    return [n if names.count(n) == 1 else f"{n}_{i + 1}" for i, n in enumerate(names)]


def _inputs_unchanged(recorded: object, hashes: dict[str, str | None]) -> bool:
    """Whether every input file ``run.json`` records still has the recorded hash (``hashes``
    caches the hashes of files seen before)."""
    from ..io import file_hash

    if not isinstance(recorded, dict):
        return False
    for entry in recorded.values():
        if not isinstance(entry, dict) or "path" not in entry:
            return False
        path = str(entry["path"])
        if path not in hashes:
            hashes[path] = file_hash(path) if Path(path).is_file() else None
        if hashes[path] != entry.get("sha256_16"):
            return False
    return True


def run_state(run_dir: Path, fingerprint: str, hashes: dict[str, str | None] | None = None) -> RunState:
    """``complete`` when ``run_dir`` holds a finished run with this fingerprint whose input files
    (those its ``run.json`` records, a scenario's files among them) are unchanged, ``missing`` when
    it does not exist (or is empty), ``other`` when it holds something else (another or an outdated
    run, an older results format, files that are not a run). ``hashes`` caches file hashes."""
    if not run_dir.is_dir() or not any(run_dir.iterdir()):
        return "missing"
    if not (run_dir / RUN_FILE).is_file():
        return "other"
    try:
        info = read_run(run_dir)
    except ResultsError:
        return "other"
    batch = info.raw.get("batch")
    done = isinstance(batch, dict) and batch.get("fingerprint") == fingerprint
    if done and _inputs_unchanged(info.raw.get("inputs"), {} if hashes is None else hashes):
        return "complete"
    return "other"
