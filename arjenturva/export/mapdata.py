"""What the maps show: the layers of a results folder, and the classes and symbols of both map kinds.

:func:`read_map_data` reads the layers the PNG maps and the web map draw through the results
contract (:mod:`arjenturva.results`), so maps can be redrawn for any earlier run. Cells with fewer
people than ``export.suppress_below`` are never drawn one by one. The reach classes (distance
against each cell's own threshold; both map kinds colour cells by them), the "services out of
reach" classes, road groups, which gap areas are outlined, which services a municipality gets maps of, and the
symbols of service points, gap areas and proposals are defined here once, for the static maps and
the web map alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .. import labels
from .. import results as R
from ..errors import ArjenturvaError, InputFileError
from ..io import read_table

if TYPE_CHECKING:
    import geopandas as gpd

    from ..config import Config, ServiceConfig

#: Upper bounds of the reach classes as multiples of each cell's own threshold (distance and time
#: against the service's threshold for the cell's area class). Cells within the threshold are
#: green (two shades, split at half of it), cells beyond it warm; see :func:`reach_class`.
REACH_BREAKS: Final[tuple[float, ...]] = (0.5, 1.0, 2.0)
#: Colours of the reach classes: ≤ ½, ½–1 (covered), partly covered (mobile or remote points
#: only), 1–2 ×, > 2 × the threshold (not covered), no road connection. Each stands out from the
#: land fill (:data:`LAND_COLOUR`, :data:`OTHER_LAND_COLOUR`) and the sea (:data:`SEA_COLOUR`).
REACH_COLOURS: Final[tuple[str, ...]] = ("#1b7837", "#7fbf7b", "#9e9ac8", "#f08c2e", "#c51b1b", "#4d4d4d")
REACH_PARTIAL: Final = 2
REACH_UNREACHABLE: Final = 5
LAND_COLOUR: Final = "#fbfbf8"
OTHER_LAND_COLOUR: Final = "#dfe3e6"  # municipalities beside the one a map is framed on
CONTEXT_COLOUR: Final = "#cfd3d6"  # municipalities around the study area (their points count)
SEA_COLOUR: Final = "#e9eef2"  # outside every municipality

#: Gap areas of fewer cells are drawn only as their coloured cells, without an outline.
GAP_OUTLINE_MIN_CELLS: Final = 3

#: Classes of "services out of reach" on the municipality overview.
LACKING_BREAKS: Final[tuple[int, ...]] = (0, 2, 4, 6)
LACKING_COLOURS: Final[tuple[str, ...]] = ("#1b7837", "#7fbf7b", "#f08c2e", "#d7301f", "#7f0000")

#: Symbols of service points by delivery mode (matplotlib marker, fill, edge, marker area).
MODE_STYLE: Final[dict[str, dict[str, Any]]] = {
    "fixed": {"marker": "o", "color": "#08306b", "edge": "white", "size": 70},
    "mobile": {"marker": "^", "color": "#7b3294", "edge": "white", "size": 85},
    "remote": {"marker": "D", "color": "#00a6d6", "edge": "black", "size": 55},
}
MODES: Final[tuple[str, ...]] = ("fixed", "mobile", "remote")
NEW_SITE_STYLE: Final[dict[str, Any]] = {"marker": "*", "color": "#ffd21f", "edge": "black", "size": 300}
PROPOSAL_COLOUR: Final = "#d01c8b"
GAP_OUTLINE: Final = "#3f007d"
PLACE_STYLE: Final[dict[str, Any]] = {"marker": "o", "color": "#111111", "edge": "white", "size": 16}
#: The weekly routes of mobile services (lines along the roads) and their stops.
ROUTE_STYLE: Final[dict[str, Any]] = {"color": "#8c510a", "lw": 2.0, "alpha": 0.85}
ROUTE_STOP_STYLE: Final[dict[str, Any]] = {"marker": "s", "color": "#8c510a", "edge": "white", "size": 22}
#: Cells the roads do not reach (beyond the snap tolerance, or cut off from every point of the
#: service), and service points beyond the snap tolerance (not used), on top of their layers.
UNREACHABLE_STYLE: Final[dict[str, Any]] = {"marker": "X", "color": "#111111", "edge": "white", "size": 60}
OFF_ROAD_STYLE: Final[dict[str, Any]] = {
    "marker": "s", "color": "#ffffff", "edge": "#e31a1c", "size": 80, "lw": 2.2,
}  # fmt: skip

#: Line styles of the road groups (see :func:`road_group`).
ROAD_STYLE: Final[dict[str, dict[str, Any]]] = {
    "main": {"color": "#2b2b2b", "lw": 1.8, "ls": "-"},
    "regional": {"color": "#4d4d4d", "lw": 1.1, "ls": "-"},
    "local": {"color": "#8c8c8c", "lw": 0.55, "ls": "-"},
    "ferry": {"color": "#2166ac", "lw": 1.2, "ls": (0, (3, 2))},
}
_MAIN: Final = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "valtat", "kantat"}
)
_REGIONAL: Final = frozenset(
    {"secondary", "secondary_link", "tertiary", "tertiary_link", "seututie", "maant", "yhdyst"}
)

_REQUIRED: Final = (R.POPULATION, R.GAP_AREAS, R.SERVICE_POINTS, R.MUNICIPALITIES)


@dataclass(frozen=True)
class MapData:
    """The layers of a results folder that maps draw (EPSG:3067).

    ``new_sites`` and ``proposals`` are None when the results folder has no proposals yet,
    ``places`` when the workspace has no named places (results of older runs lack the layer).
    """

    population: gpd.GeoDataFrame
    gap_areas: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame
    new_sites: gpd.GeoDataFrame | None = None
    proposals: gpd.GeoDataFrame | None = None
    places: gpd.GeoDataFrame | None = None
    context: gpd.GeoDataFrame | None = None
    """Municipalities around the study area (drawn grey, never framed on), when there are any."""
    routes: gpd.GeoDataFrame | None = None
    """The weekly routes' lines (one per vehicle and weekday), None when the folder has none."""
    route_stops: gpd.GeoDataFrame | None = None
    """The routes' stops, None when the folder has none."""


def read_map_data(results_dir: str | Path, config: Config) -> MapData:
    """Read the layers maps need from ``results.gpkg`` of a results folder.

    Cells below ``config.export.suppress_below`` are dropped here too (the results writer omits
    them already; this guards against a GeoPackage written by other tools).

    Raises
    ------
    InputFileError
        When ``results.gpkg`` or one of its required layers is missing, or the folder is not a
        results folder of this results format (:class:`~arjenturva.results.ResultsError`).
    """
    results_dir = Path(results_dir)
    gpkg = results_dir / R.GPKG_FILE
    if not gpkg.is_file():
        msg = f"{gpkg}: not found. Fix: run `arjenturva gaps` (or `run`) to write this results folder first"
        raise InputFileError(msg)
    layers = set(R.list_layers(results_dir))
    missing = [str(t.layer) for t in _REQUIRED if t.layer not in layers]
    if missing:
        msg = f"{gpkg}: layer(s) {', '.join(missing)} missing. Fix: rerun `arjenturva gaps` with --force"
        raise InputFileError(msg)

    pop = R.read_layer(results_dir, R.POPULATION)
    values = pop["population"].to_numpy(dtype=float)
    pop = pop.loc[np.isfinite(values) & (values >= config.export.suppress_below)].reset_index(drop=True)
    return MapData(
        population=pop,
        gap_areas=R.read_layer(results_dir, R.GAP_AREAS),
        service_points=R.read_layer(results_dir, R.SERVICE_POINTS),
        municipalities=R.read_layer(results_dir, R.MUNICIPALITIES),
        new_sites=R.read_layer(results_dir, R.NEW_SITES) if R.NEW_SITES.layer in layers else None,
        proposals=R.read_layer(results_dir, R.PROPOSALS) if R.PROPOSALS.layer in layers else None,
        places=R.read_layer(results_dir, R.PLACES) if R.PLACES.layer in layers else None,
        context=R.read_layer(results_dir, R.CONTEXT) if R.CONTEXT.layer in layers else None,
        routes=R.read_layer(results_dir, R.ROUTE_LINES) if R.ROUTE_LINES.layer in layers else None,
        route_stops=R.read_layer(results_dir, R.ROUTE_STOPS) if R.ROUTE_STOPS.layer in layers else None,
    )


def split_ids(value: Any) -> list[str]:
    """The ids of a ``;``-separated text column value (none when empty or missing)."""
    if not isinstance(value, str):
        return []
    return [v.strip() for v in value.split(";") if v.strip()]


def routed_vehicles(stops: pd.DataFrame | None, service: str | None) -> set[str] | None:
    """The vehicles whose stops offer ``service`` (from the ``route_stops`` layer); None (every
    vehicle) without a service."""
    if service is None:
        return None
    if stops is None or stops.empty:
        return set()
    rows = stops.loc[service_mask(stops, service)]
    return {v for value in rows.get("vehicles", pd.Series(dtype=object)) for v in split_ids(value)}


def route_layers(
    data: MapData, service: str | None
) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The route lines and stops a map of ``service`` shows: the routes of the vehicles whose
    stops offer it, and those stops (every route and stop without a service)."""
    lines, stops = data.routes, data.route_stops
    if service is None:
        return lines, stops
    vehicles = routed_vehicles(stops, service) or set()
    if lines is not None:
        lines = lines.loc[lines["vehicle_id"].astype(str).isin(vehicles).to_numpy()]
    if stops is not None:
        stops = stops.loc[service_mask(stops, service)]
    return lines, stops


def read_actors(config: Config) -> pd.DataFrame | None:
    """The workspace's actors table (``actor_id``, ``name``, ``sector``), or None when unavailable.

    Used only to label service points with their operator; any read problem yields None.
    """
    import geopandas as gpd

    spec = config.inputs.actors
    if spec is None:
        return None
    path = config.resolve(spec.path)
    try:
        if path.suffix.lower() in (".csv", ".txt", ".xlsx", ".xls"):
            df = read_table(path, encoding=spec.encoding, layer=spec.layer)
        else:
            df = pd.DataFrame(gpd.read_file(path, layer=spec.layer).drop(columns="geometry"))
    except (ArjenturvaError, OSError, ValueError):
        return None
    df = df.rename(columns={theirs: canonical for canonical, theirs in spec.columns.items()})
    if "actor_id" not in df:
        return None
    keep = [c for c in ("actor_id", "name", "sector") if c in df]
    return df[keep].astype(str).drop_duplicates("actor_id").set_index("actor_id")


def services_of(points: pd.DataFrame) -> list[list[str]]:
    """The service ids of each service point (the column is ``;``-separated text or a list)."""
    out = []
    for v in points.get("services", pd.Series([""] * len(points))):
        if isinstance(v, (list, tuple)):
            out.append([str(s) for s in v])
        elif isinstance(v, str):
            out.append([s.strip() for s in v.split(";") if s.strip()])
        else:
            out.append([])
    return out


def service_mask(frame: pd.DataFrame, service: str) -> np.ndarray:
    """Rows of a layer that concern ``service`` (all rows when the layer has no service column)."""
    if "service" in frame:
        return (frame["service"].astype(str) == service).to_numpy()
    if "services" in frame:
        return np.array([service in s for s in services_of(frame)], dtype=bool)
    return np.ones(len(frame), dtype=bool)


def threshold_ratio(pop: pd.DataFrame, service: str, svc: ServiceConfig) -> np.ndarray:
    """Distance to the nearest point of ``service`` as a multiple of each cell's own threshold.

    The threshold is the one of the cell's area class (``area_class``; the ``default`` one when
    the class has none or the cell none). A service with distance and time thresholds takes the
    larger ratio, as a cell is covered only within both. Unreachable cells are ``inf``.
    """
    n = len(pop)
    classes = pop["area_class"] if "area_class" in pop else pd.Series([None] * n, index=pop.index)
    codes, uniq = pd.factorize(classes.astype(object), use_na_sentinel=True)
    names = [str(c) for c in uniq] + ["default"]  # code -1 (no class) takes the defaults
    ratio = np.zeros(n)
    for col, limit in ((f"{service}_distance_m", svc.threshold_m), (f"{service}_time_s", svc.threshold_s)):
        thresholds = np.array([limit(c) for c in names])[codes]
        if not np.isfinite(thresholds).any():
            continue
        cost = (
            pd.to_numeric(pop[col], errors="coerce").to_numpy(dtype=float)
            if col in pop
            else np.full(n, np.nan)
        )
        cost = np.where(np.isnan(cost), np.inf, cost)
        with np.errstate(invalid="ignore"):
            part = np.where(np.isfinite(thresholds), cost / thresholds, 0.0)
        ratio = np.maximum(ratio, part)
    return ratio


def reach_class(ratio: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """Reach class of each cell from its :func:`threshold_ratio` and its coverage (0–1).

    0: covered, within half of the threshold; 1: covered, half to the full threshold;
    2: partly covered (only mobile or remote points count for it); 3: not covered, 1–2 × the
    threshold; 4: not covered, beyond 2 ×; 5: no road connection. The coverage decides covered
    or not, so a cell just inside its threshold and one just beyond it are always apart.
    """
    r = np.asarray(ratio, dtype=float)
    cov = np.nan_to_num(np.asarray(coverage, dtype=float), nan=0.0)
    half, _one, double = REACH_BREAKS
    covered = np.where(r <= half, 0, 1)
    beyond = np.where(r <= double, 3, 4)
    cls = np.where(cov >= 1.0 - 1e-9, covered, np.where(cov > 0, REACH_PARTIAL, beyond))
    return np.where(np.isfinite(r) | (cov > 0), cls, REACH_UNREACHABLE)


def service_reach_class(pop: pd.DataFrame, service: str, svc: ServiceConfig) -> np.ndarray:
    """Reach class (:func:`reach_class`) of each cell for ``service``, from its distance and time
    columns and its ``<service>_coverage`` (none when the column is missing). Both the PNG maps
    and the web map colour cells by this."""
    col = f"{service}_coverage"
    coverage = (
        pd.to_numeric(pop[col], errors="coerce").to_numpy(dtype=float) if col in pop else np.zeros(len(pop))
    )
    return reach_class(threshold_ratio(pop, service, svc), coverage)


def reach_class_labels(svc: ServiceConfig | None, lang: str) -> list[str]:
    """Legend labels of the reach classes; the kilometres are added when the service has a single
    distance threshold (and no time threshold), the same for every cell. Without a service, the
    labels without kilometres."""
    t = labels.ui(lang)
    names = [t["reach_half"], t["reach_within"], t["reach_partial"], t["reach_double"], t["reach_beyond"]]
    km = set((svc.threshold_km or {}).values()) if svc is not None else set()
    if svc is not None and len(km) == 1 and not svc.threshold_min:
        k = km.pop()

        def fmt(x: float) -> str:
            return labels.format_number(x, lang, 0 if float(x).is_integer() else 1)

        names[0] += f" (0–{fmt(k / 2)} km)"
        names[1] += f" ({fmt(k / 2)}–{fmt(k)} km)"
        names[3] += f" ({fmt(k)}–{fmt(2 * k)} km)"
        names[4] += f" (> {fmt(2 * k)} km)"
    return [*names, t["unreachable"]]


def outlined_gaps(gaps: pd.DataFrame) -> np.ndarray:
    """Which gap areas get an outline: those of at least :data:`GAP_OUTLINE_MIN_CELLS` cells.

    Smaller ones (most are a single remote cell) show only as their coloured cells.
    """
    cells = (
        pd.to_numeric(gaps["cells"], errors="coerce").fillna(0).to_numpy()
        if "cells" in gaps
        else np.zeros(len(gaps))
    )
    return cells >= GAP_OUTLINE_MIN_CELLS


def worst_services(summary: pd.DataFrame, code: str, services: Iterable[str], limit: int) -> list[str]:
    """The services of ``services`` with the most uncovered demand in municipality ``code``.

    Only services with some uncovered demand count; at most ``limit``, worst first (ties by id).
    These are the services a municipality gets maps of (``maps/<code>_<service>.png``).
    """
    wanted = set(services)
    rows = summary.loc[
        (summary["municipality"].astype(str) == str(code)) & summary["service"].astype(str).isin(wanted)
    ]
    uncovered = pd.to_numeric(rows["uncovered_demand"], errors="coerce").fillna(0.0)
    rows = rows.assign(_u=uncovered).loc[uncovered > 0]
    ordered = rows.sort_values(["_u", "service"], ascending=[False, True], kind="stable")
    return [str(s) for s in ordered["service"].head(max(limit, 0))]


def unreachable_cells(pop: pd.DataFrame, services: Iterable[str]) -> np.ndarray:
    """Cells the roads do not reach for every one of ``services``: no road distance to any of
    their points (the cells of the results' ``unreachable`` table: beyond the snap tolerance, or
    with no road to any point of the service)."""
    wanted = [f"{s}_distance_m" for s in services if f"{s}_distance_m" in pop]
    if not wanted:
        return np.zeros(len(pop), dtype=bool)
    cost = np.column_stack([pd.to_numeric(pop[c], errors="coerce").to_numpy(dtype=float) for c in wanted])
    return ~np.isfinite(cost).any(axis=1)


def off_road_points(points: pd.DataFrame) -> np.ndarray:
    """Service points beyond the snap tolerance (``snapped`` false): they are not used."""
    if "snapped" not in points:
        return np.zeros(len(points), dtype=bool)
    return ~points["snapped"].fillna(True).astype(bool).to_numpy()


def lacking_services(pop: pd.DataFrame, services: Iterable[str]) -> np.ndarray:
    """How many of ``services`` each cell lacks (coverage below 1 or missing)."""
    count = np.zeros(len(pop), dtype=int)
    for s in services:
        col = f"{s}_coverage"
        if col in pop:
            cov = pd.to_numeric(pop[col], errors="coerce").to_numpy(dtype=float)
            count += ~(cov >= 1.0 - 1e-9)
    return count


def lacking_class(lacking: np.ndarray) -> np.ndarray:
    """Class index of "services out of reach" counts (0, 1–2, 3–4, 5–6, 7+)."""
    return np.searchsorted(np.asarray(LACKING_BREAKS), lacking, side="left")


def lacking_class_labels() -> list[str]:
    """Legend labels of the "services out of reach" classes."""
    b = LACKING_BREAKS
    names = ["0"] + [
        f"{lo + 1}–{hi}" if hi > lo + 1 else f"{hi}" for lo, hi in zip(b[:-1], b[1:], strict=True)
    ]
    return [*names, f"{b[-1] + 1}+"]


def road_group(road_class: Any) -> str:
    """``main``, ``regional``, ``local`` or ``ferry`` for a road class name."""
    name = str(road_class).lower()
    if name == "ferry":
        return "ferry"
    if name in _MAIN:
        return "main"
    if name in _REGIONAL:
        return "regional"
    return "local"


def map_file_names(config: Config, municipality_codes: Iterable[str]) -> list[str]:
    """File names (under ``maps/``) of the regional PNG maps: one per service and one overview
    per municipality (the per-municipality service maps are :func:`municipality_map_name`)."""
    return [service_map_name(s) for s in config.services] + [overview_map_name(c) for c in municipality_codes]


def service_map_name(service: str) -> str:
    """File name (under ``maps/``) of the PNG map of a service (from the results contract)."""
    return R.service_map_file(service)


def overview_map_name(code: str) -> str:
    """File name (under ``maps/``) of the overview PNG map of a municipality (sanitised)."""
    return R.overview_map_file(code)


def municipality_map_name(code: str, service: str) -> str:
    """File name (under ``maps/``) of a service's PNG map framed on one municipality."""
    return R.municipality_service_map_file(code, service)
