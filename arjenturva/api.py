"""The Python API: everything the CLI does, as functions that return data and never print.

A researcher can script a run::

    import arjenturva as at
    ws = at.load_workspace("arjenturva.yaml")
    print(ws.summary())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from ._api_plans import propose_after_routes as propose_after_routes  # routes, then agreements
from ._api_setup import build_workspace as build_workspace  # making workspaces lives in _api_setup
from ._api_setup import copy_demo as copy_demo
from ._api_setup import fetch_workspace as fetch_workspace
from ._api_setup import init_workspace as init_workspace
from .pipeline import RunResult as RunResult  # the whole pipeline lives in pipeline.py
from .pipeline import run_pipeline as run_pipeline

if TYPE_CHECKING:
    from .batch import BatchResult
    from .config import Config
    from .coverage import GapResult
    from .coverage.stress import StressResult
    from .export.compare import ComparisonResult
    from .network import Network
    from .proposals import LocationResult, ProposalResult
    from .routes import RoutePlan
    from .workspace import Workspace

# Heavy libraries (geopandas, scipy, osmnx, matplotlib) are imported inside the
# functions that need them, so that `import arjenturva.api` and the CLI's --help stay fast.

DEFAULT_CONFIG_NAME = "arjenturva.yaml"
CACHE_DIR_NAME = ".arjenturva-cache"

Progress = Callable[[str], None]


def version() -> str:
    """The installed arjenturva version."""
    from . import __version__

    return __version__


def write_crash_log(error: BaseException, argv: Sequence[str]) -> Path:
    """Write the traceback of an unexpected failure, the command and the versions to a log file
    in the system's temporary folder and return its path."""
    import platform
    import tempfile
    import traceback

    fd, name = tempfile.mkstemp(prefix="arjenturva-crash-", suffix=".log")
    text = "".join(traceback.format_exception(error))
    with open(fd, "w", encoding="utf-8") as f:
        f.write(f"arjenturva {version()} on Python {platform.python_version()} ({platform.platform()})\n")
        f.write(f"command: {' '.join(argv)}\n\n{text}")
    return Path(name)


def as_config(config: Config | str | Path) -> Config:
    """Accept a loaded :class:`Config` or a path to ``arjenturva.yaml`` (or its folder)."""
    from .config import Config, load_config

    return config if isinstance(config, Config) else load_config(config)


def _as_workspace(config: Config | str | Path | Workspace, progress: Progress | None) -> Workspace:
    from .workspace import Workspace

    return config if isinstance(config, Workspace) else load_workspace(config, progress=progress)


def load_workspace(
    config: Config | str | Path = DEFAULT_CONFIG_NAME, *, progress: Progress | None = None
) -> Workspace:
    """Load and validate every input of a workspace.

    Parameters
    ----------
    config
        A :class:`Config`, or the path of ``arjenturva.yaml`` (or of its folder).
    progress
        Optional callback for step messages.

    Returns
    -------
    Workspace
        The validated layers in EPSG:3067.

    Raises
    ------
    ConfigError, ValidationError
        When the config or the inputs are invalid; ``ValidationError.problems`` lists them all.
    """
    from .workspace import load_workspace as _load_workspace

    return _load_workspace(as_config(config), progress=progress)


# ---------------------------------------------------------------------------------------------
# Network and gaps
# ---------------------------------------------------------------------------------------------


def default_results_dir(config: Config) -> Path:
    """``results/`` beside the config file."""
    return config.base_dir / "results"


def build_network(
    config: Config | str | Path = DEFAULT_CONFIG_NAME,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> Network:
    """Build the road network named in the config, or load it from the workspace cache.

    Returns
    -------
    Network
        The routable network; ``network.info`` holds nodes, edges, km, components, source,
        cache path and seconds.
    """
    from .network import build_network as _build_network

    cfg = as_config(config)
    cache_dir = cfg.base_dir / CACHE_DIR_NAME if (use_cache and cfg.network.cache) else None
    return _build_network(cfg.network, base_dir=cfg.base_dir, cache_dir=cache_dir, progress=progress)


def find_gaps(
    config: Config | str | Path | Workspace = DEFAULT_CONFIG_NAME,
    *,
    network: Network | None = None,
    services: list[str] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> GapResult:
    """Run the coverage and gap analysis of a workspace (no files written).

    Parameters
    ----------
    config
        A config, its path, or an already loaded :class:`Workspace`.
    network
        A network built earlier (built or loaded from the cache when None).
    services
        Service ids to analyse (default: all).
    workers
        Processes for the sweeps: 1, 0 (every core) or None (every core for large analyses).

    Returns
    -------
    GapResult
        Per-cell access, gaps, gap areas and indicators.
    """
    from .coverage import find_gaps as _find_gaps

    ws = _as_workspace(config, progress)
    net = network if network is not None else build_network(ws.config, progress=progress)
    return _find_gaps(
        ws.config,
        net,
        ws.population,
        ws.service_points,
        ws.municipalities,
        places=ws.places,
        services=services,
        progress=progress,
        workers=workers,
    )


def gap_facts(result: GapResult, config: Config) -> dict[str, Any]:
    """Unreachable people and cells, snapping beyond the tolerance and suppressed counts of a gap
    analysis (what ``run.json`` reports besides the tables)."""
    from .export.tables import gap_facts as _facts

    return _facts(result, config.export.suppress_below)


def write_gaps(
    result: GapResult,
    ws: Workspace,
    network: Network,
    out_dir: str | Path,
    *,
    force: bool = False,
    timings: dict[str, float] | None = None,
    scenario: str | None = None,
) -> list[Path]:
    """Write the gap analysis as a new results folder (tables of :mod:`arjenturva.results`).

    The folder is written as a whole: files of an earlier run in it (proposals, maps, reports)
    are replaced, never mixed with the new analysis.
    """
    from .results.staging import staged_folder

    target = Path(out_dir)
    with staged_folder(target, force=force) as stage:
        written = _write_gaps_into(stage, result, ws, network, timings=timings, scenario=scenario)
    return [target / p.relative_to(stage) for p in written]


def _write_gaps_into(
    folder: Path,
    result: GapResult,
    ws: Workspace,
    network: Network,
    *,
    timings: dict[str, float] | None,
    scenario: str | None,
) -> list[Path]:
    """The gap analysis and its run record written into ``folder`` (a staging folder)."""
    from .export.tables import run_record, write_gap_results

    record = run_record(
        ws.config,
        inputs={
            **ws.files,
            **({"network": ws.config.resolve(ws.config.network.source)} if ws.config.network.source else {}),
        },
        network_info=network.info,
        timings=dict(timings or {}),
        warnings=[str(w) for w in ws.warnings]
        + result.warnings
        + ([str(network.info["cache_warning"])] if network.info.get("cache_warning") else []),
        extra={
            "gaps_detail_s": {k: round(v, 3) for k, v in result.timings.items()},
            "area_classes": result.area_class_source,
            "scenario": scenario,
            "scenario_description": ws.config.scenarios[scenario].description if scenario else None,
            "study_area": None if ws.context is None else list(ws.municipalities["code"]),
            "context_municipalities": [] if ws.context is None else list(ws.context["code"]),
            "population_left_out": ws.left_out.as_dict(),
        },
    )
    return write_gap_results(
        result, folder, ws.config, force=True, record=record, places=ws.places, context=ws.context
    )


# ---------------------------------------------------------------------------------------------
# Proposals
# ---------------------------------------------------------------------------------------------


def propose_partnerships(
    config: Config | str | Path | Workspace = DEFAULT_CONFIG_NAME,
    *,
    network: Network | None = None,
    gaps: GapResult | None = None,
    services: list[str] | None = None,
    max_new_sites: int | None = None,
    max_mobile_routes: int | None = None,
    max_remote_points: int | None = None,
    progress: Progress | None = None,
) -> ProposalResult:
    """Propose cross-sector agreements that close the workspace's coverage gaps.

    Parameters
    ----------
    config
        A config, its path, or a loaded :class:`Workspace`.
    network, gaps
        Reused when given (built / computed otherwise).
    services
        Service ids to propose for (default all).
    max_new_sites, max_mobile_routes, max_remote_points
        Override the config's budgets.

    Returns
    -------
    ProposalResult
        ``proposals`` (one row per agreement with its rationale), ``new_sites``, ``summary``
        (coverage before and after per municipality and service), and the solver's status and gap.
    """
    from .proposals import propose_partnerships as _propose

    ws = _as_workspace(config, progress)
    net = network if network is not None else build_network(ws.config, progress=progress)
    g = gaps if gaps is not None else find_gaps(ws, network=net, progress=progress)
    return _propose(
        ws.config,
        net,
        g,
        ws.actors,
        ws.service_points,
        places=ws.places,
        services=services,
        max_new_sites=max_new_sites,
        max_mobile_routes=max_mobile_routes,
        max_remote_points=max_remote_points,
        progress=progress,
    )


def stress_test(
    config: Config | str | Path | Workspace = DEFAULT_CONFIG_NAME,
    *,
    network: Network | None = None,
    services: list[str] | None = None,
    progress: Progress | None = None,
) -> StressResult:
    """Resilience: the people each actor, and each sector, alone keeps covered (``stress.csv``).

    For every actor with service points and every sector, its points are closed and the rise in
    each municipality's uncovered demand per service is measured with the gap rules (see
    :mod:`arjenturva.coverage.stress`). Rows are ranked, the largest loss first.
    """
    from .coverage.stress import actor_stress

    ws = _as_workspace(config, progress)
    net = network if network is not None else build_network(ws.config, progress=progress)
    return actor_stress(ws.config, net, ws.population, ws.service_points, ws.municipalities, ws.actors,
                        services=services, progress=progress)


def write_stress(result: StressResult, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write ``stress.csv`` into a results folder (refused over an existing one without ``force``)."""
    from . import results as R
    from .export.tables import csv_dialect_of
    from .io import ensure_writable

    target = Path(out_dir)
    ensure_writable([target / str(R.STRESS.csv)], force=force)
    target.mkdir(parents=True, exist_ok=True)
    return R.write_table(result.table, R.STRESS, target, dialect=csv_dialect_of(target))


def plan_routes(
    config: Config | str | Path | Workspace = DEFAULT_CONFIG_NAME, *, network: Network | None = None,
    gaps: GapResult | None = None, time_limit_s: float | None = None, seed: int | None = None,
    progress: Progress | None = None,
) -> RoutePlan:
    """Weekly routes of the workspace's vehicles (``inputs.vehicles``) and the coverage before and after
    them by the gap rules; see :func:`arjenturva.routes.plan_routes`."""
    from .routes import plan_routes as _plan_routes

    ws = _as_workspace(config, progress)
    net = network if network is not None else build_network(ws.config, progress=progress)
    g = gaps if gaps is not None else find_gaps(ws, network=net, progress=progress)
    return _plan_routes(ws, net, g, time_limit_s=time_limit_s, seed=seed, progress=progress)


def write_routes(plan: RoutePlan, out_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Add ``routes.csv``, ``routes_summary.csv`` and the ``routes`` and ``route_stops`` layers to a results
    folder (rewritten as a whole, its other files kept); see :func:`arjenturva.routes.write_routes`."""
    from .routes import write_routes as _write_routes

    return _write_routes(plan, out_dir, force=force)


def locate_facilities(
    config: Config | str | Path | Workspace = DEFAULT_CONFIG_NAME,
    *,
    model: str,
    service: str,
    p: int | None = None,
    network: Network | None = None,
    gaps: GapResult | None = None,
    progress: Progress | None = None,
) -> LocationResult:
    """Run a classic location model (LSCP, MCLP, p-median) for one service on the road network."""
    from .proposals import locate_facilities as _locate_facilities

    ws = _as_workspace(config, progress)
    net = network if network is not None else build_network(ws.config, progress=progress)
    g = gaps if gaps is not None else find_gaps(ws, network=net, services=[service], progress=progress)
    return _locate_facilities(
        ws.config, net, g, ws.service_points, ws.actors, model=model, service=service, p=p, places=ws.places
    )


def write_maps_and_reports(
    results_dir: str | Path,
    config: Config,
    *,
    network: Network | None = None,
    lang: str | None = None,
    force: bool = False,
    maps: bool = True,
    html_map: bool = True,
    reports: bool = True,
    progress: Progress | None = None,
) -> list[Path]:
    """Write PNG maps, the interactive ``map.html`` and the HTML reports of a results folder."""
    from .export.everyday_maps import write_everyday_maps
    from .export.report import write_reports
    from .export.static_maps import write_maps
    from .export.webmap import write_html_map

    files: list[Path] = []
    if maps:
        files += write_maps(results_dir, config, network=network, lang=lang, force=force, progress=progress)
        files += write_everyday_maps(results_dir, config, network=network, lang=lang, force=force)
    if html_map:
        files.append(write_html_map(results_dir, config, network=network, lang=lang, force=force))
    if reports:
        files += write_reports(results_dir, config, lang=lang, force=force)
    return files


def write_proposals(result: ProposalResult, out_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Write proposals to a results folder: ``proposals.csv``, ``proposals_summary.csv`` and the
    ``proposals`` and ``new_sites`` layers of ``results.gpkg``.

    The folder is rewritten as a whole: its gap analysis is kept, and maps and reports drawn
    before (which showed other proposals, or none) are dropped; draw them again with
    :func:`write_maps_and_reports`.
    """
    from . import results as R
    from .export.tables import write_proposal_results
    from .results.staging import staged_folder

    target = Path(out_dir)
    check_writable(target, "proposals", force=force)
    keep = [n for n in R.GAP_FILES if (target / n).exists()]
    with staged_folder(target, force=True, keep=keep) as stage:
        written = write_proposal_results(result, stage, force=True)
    return [target / p.relative_to(stage) for p in written]


def write_locations(result: LocationResult, out_dir: str | Path, *, force: bool = False) -> Path:
    """Write a classic location model's sites as ``location_<model>_<service>.csv``.

    Raises
    ------
    OutputExistsError
        When the file exists and ``force`` is false.
    """
    from . import results as R
    from .io import ensure_writable

    path = R.csv_path(out_dir, R.LOCATIONS, model=result.model, service=result.service)
    ensure_writable([path], force=force)
    sites = result.sites
    frame = sites.assign(x=sites.geometry.x, y=sites.geometry.y).drop(columns="geometry")
    from .export.tables import csv_dialect_of

    dialect = csv_dialect_of(Path(out_dir))
    return R.write_table(
        frame, R.LOCATIONS, out_dir, dialect=dialect, model=result.model, service=result.service
    )


def has_gap_results(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` already holds a gap analysis (its ``results.gpkg``)."""
    from . import results as R

    return (Path(out_dir) / R.GPKG_FILE).is_file()


_WRITES: Final[Mapping[str, tuple[str, ...]]] = {
    "gaps": ("GAP_FILES",),
    "proposals": ("PROPOSAL_FILES",),
    "routes": ("ROUTE_FILES",),
    "run": ("GAP_FILES", "PROPOSAL_FILES", "WEB_MAP_FILE", "REPORT_FILE"),
}


def check_writable(
    out_dir: str | Path, what: Literal["gaps", "proposals", "routes", "run"], *, force: bool
) -> None:
    """Fail before any work when ``what`` would overwrite files in ``out_dir`` without ``force``.

    Raises
    ------
    OutputExistsError
        Naming the files that exist.
    """
    from . import results as R
    from .io import ensure_writable

    names: list[str] = []
    for attr in _WRITES[what]:
        value = getattr(R, attr)
        names += [value] if isinstance(value, str) else list(value)
    ensure_writable([Path(out_dir) / n for n in names], force=force)


def read_results(results_dir: str | Path, table: str) -> Any:
    """Read one table of a results folder through the results contract, with the schema's dtypes.

    Parameters
    ----------
    results_dir
        A results folder (or a workspace folder holding ``results/``).
    table
        A table of :data:`arjenturva.results.TABLES`: ``summary``, ``access``, ``gap_areas``,
        ``proposals``, ``proposals_summary``, ``accessibility_2sfca`` (CSV files, read as
        DataFrames) or ``population``, ``gaps``, ``service_points``, ``municipalities``,
        ``new_sites`` (layers of ``results.gpkg``, read as GeoDataFrames).

    Raises
    ------
    ResultsError
        When the folder is not a results folder of this format, or lacks the table.
    """
    from . import results as R

    schemas = {t.name: t for t in R.TABLES}
    if table not in schemas:
        msg = f"unknown results table {table!r}. Fix: use one of {', '.join(sorted(schemas))}"
        raise R.ResultsError(msg)
    folder = R.results_dir_of(results_dir)
    schema = schemas[table]
    if schema.csv is not None and "{" not in schema.csv:
        return R.read_table(folder, schema)
    if schema.layer is not None:
        return R.read_layer(folder, schema)
    msg = f"results table {table!r} is not a file of its own (it is a sheet of summary.xlsx)"
    raise R.ResultsError(msg)


# ---------------------------------------------------------------------------------------------
# Comparing results and fetching public data
# ---------------------------------------------------------------------------------------------


def compare_results(
    results: Sequence[str | Path],
    *,
    by: Literal["municipality", "run"] | None = None,
    indicator: str = "uncovered_population",
    services: Sequence[str] | None = None,
) -> ComparisonResult:
    """Compare municipalities or runs (scenarios) of several results folders side by side.

    Parameters
    ----------
    results
        Results folders (or workspace folders holding ``results/``).
    by
        ``"run"`` (runs side by side, with differences to the first) or ``"municipality"``;
        default: ``run`` for several folders, ``municipality`` for one.
    indicator
        The indicator of the by-municipality table and of the chart (a ``summary`` column).
    services
        Only these services.
    """
    from .export.compare import compare_results as _compare

    return _compare(list(results), by=by, indicator=indicator, services=services)


def write_comparison(result: ComparisonResult, out_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Write a comparison as ``comparison.csv``, ``.xlsx``, ``.json`` and ``.png``."""
    from .export.compare import write_comparison as _write

    return _write(result, out_dir, force=force)


def run_batch(configs: Sequence[Config | str | Path], *, out_dir: str | Path, **options: Any) -> BatchResult:
    """Many runs on Dask (the ``batch`` extra): each workspace, or each piece of it (``split=``), under
    the baseline and each of ``scenarios``, into ``out_dir``, each by the steps of :func:`run_pipeline`
    (the same api functions); options: :func:`arjenturva.batch.run_batch`."""
    from .batch import RunSteps
    from .batch import run_batch as _run_batch

    steps = RunSteps(build_network, find_gaps, propose_after_routes, _write_gaps_into, write_maps_and_reports)
    return _run_batch(configs, out_dir=out_dir, steps=steps, **options)
