"""The whole pipeline: validate → network → gaps → proposals → maps → reports, into one results
folder that is written as a whole (see :mod:`arjenturva.results.staging`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Config
    from .coverage import GapResult
    from .network import Network
    from .proposals import ProposalResult
    from .routes import RoutePlan
    from .workspace import Workspace

Progress = Callable[[str], None]

DEFAULT_CONFIG_NAME = "arjenturva.yaml"


@dataclass
class RunResult:
    """What :func:`run_pipeline` did: the results folder, the outputs and the step timings."""

    results_dir: Path
    workspace: Workspace
    network: Network
    gaps: GapResult
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    proposals: ProposalResult | None = None
    routes: RoutePlan | None = None


def run_pipeline(
    config: Config | str | Path = DEFAULT_CONFIG_NAME,
    *,
    out_dir: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    step_done: Callable[[str, float], None] | None = None,
    with_proposals: bool = True,
    with_maps: bool = True,
    scenario: str | None = None,
) -> RunResult:
    """Validate → network → gaps → proposals → maps → reports, writing every output.

    Parameters
    ----------
    config
        The workspace config or its path.
    out_dir
        Results folder (default ``results/`` beside the config).
    force
        Overwrite existing outputs.
    progress
        Callback for fine-grained messages.
    step_done
        Callback ``(step, seconds)`` after each step.

    Returns
    -------
    RunResult
    """
    from .api import (
        as_config,
        build_network,
        check_writable,
        default_results_dir,
        find_gaps,
        load_workspace,
        propose_after_routes,
        write_maps_and_reports,
    )
    from .scenarios import apply_scenario, scenario_config

    say = progress or (lambda _m: None)
    done = step_done or (lambda _s, _t: None)
    timings: dict[str, float] = {}

    def timed(step: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        value = fn()
        timings[step] = time.perf_counter() - t
        done(step, timings[step])
        return value

    started = time.perf_counter()
    cfg = as_config(config)
    if scenario is not None:
        scenario_config(cfg, scenario)  # fail before any work when it is not defined
    if out_dir is not None:
        target = Path(out_dir)
    else:
        from .results import safe_name

        target = (
            default_results_dir(cfg) if scenario is None else cfg.base_dir / f"results-{safe_name(scenario)}"
        )
    check_writable(target, "run", force=force)
    ws = timed("validate", lambda: load_workspace(cfg, progress=say))
    if scenario is not None:
        ws = apply_scenario(ws, scenario)
        cfg = ws.config
    net = timed("network", lambda: build_network(cfg, progress=say))
    gaps = timed("gaps", lambda: find_gaps(ws, network=net, progress=say))
    routes = proposals = None
    if ws.actors is not None and with_proposals:
        # The vehicles' weekly routes first (if any); the agreements then close what they leave.
        routes, proposals = propose_after_routes(ws, network=net, gaps=gaps, progress=say, timed=timed)
    from .api import _write_gaps_into
    from .export.tables import gap_facts, proposal_facts, write_proposal_results
    from .results import update_run
    from .results.staging import staged_folder

    extras: dict[str, Any] = {"scenario": scenario, **gap_facts(gaps, cfg.export.suppress_below)}
    with staged_folder(target, force=force) as stage:
        say("writing the results")
        t = time.perf_counter()
        files = _write_gaps_into(stage, gaps, ws, net, timings=timings, scenario=scenario)
        if routes is not None:
            from .results import RUN_FILE
            from .routes import write_route_results

            written = write_route_results(routes, stage, dialect=cfg.export.csv_dialect)
            files += [p for p in written if p.name != RUN_FILE]
            extras["routes"] = routes.facts()
        if proposals is not None:
            files += write_proposal_results(proposals, stage, force=True)
            extras["proposals"] = proposal_facts(proposals)
        timings["tables"] = time.perf_counter() - t
        done("tables", timings["tables"])
        if with_maps:
            t = time.perf_counter()
            files += write_maps_and_reports(stage, cfg, network=net, force=True, progress=say)
            timings["maps_reports"] = time.perf_counter() - t
            done("maps and reports", timings["maps_reports"])
        timings["total"] = time.perf_counter() - started
        update_run(stage, timings_s={k: round(v, 3) for k, v in timings.items()})
        files = [target / Path(f).relative_to(stage) for f in files]
    return RunResult(
        results_dir=target,
        workspace=ws,
        network=net,
        gaps=gaps,
        files=files,
        timings=timings,
        steps=list(timings),
        extras=extras,
        proposals=proposals,
        routes=routes,
    )
