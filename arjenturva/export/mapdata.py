"""What the maps show: the layers of a results folder, and the classes and symbols of both map kinds.

:func:`read_map_data` reads the layers the PNG maps and the web map draw through the results
contract (:mod:`arjenturva.results`), so maps can be redrawn for any earlier run. Cells with fewer
people than ``export.suppress_below`` are never drawn one by one. The distance classes, the
"services out of reach" classes, road groups and the symbols of service points, gap areas and
proposals are defined here once, for the static maps and the web map alike.
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

    from ..config import Config

#: Upper bounds (km) of the distance classes; the last class is open-ended.
DISTANCE_BREAKS_KM: Final[tuple[float, ...]] = (5, 10, 20, 40)
DISTANCE_COLOURS: Final[tuple[str, ...]] = ("#1a9641", "#a6d96a", "#ffffbf", "#fdae61", "#d7191c")
UNREACHABLE_COLOUR: Final = "#6b6b6b"

#: Classes of "services out of reach" on the municipality overview.
LACKING_BREAKS: Final[tuple[int, ...]] = (0, 2, 4, 6)
LACKING_COLOURS: Final[tuple[str, ...]] = ("#1a9641", "#a6d96a", "#fdae61", "#f46d43", "#a50026")

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

    ``new_sites`` and ``proposals`` are None when the results folder has no proposals yet.
    """

    population: gpd.GeoDataFrame
    gap_areas: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame
    new_sites: gpd.GeoDataFrame | None = None
    proposals: gpd.GeoDataFrame | None = None


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
    )


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


def distance_class(distance_m: Iterable[float]) -> np.ndarray:
    """Class index of road distances: 0 for 0–5 km … 4 for > 40 km, 5 for unreachable (NaN/inf)."""
    d = pd.to_numeric(pd.Series(list(distance_m), dtype=object), errors="coerce").to_numpy(dtype=float)
    cls = np.searchsorted(np.asarray(DISTANCE_BREAKS_KM) * 1000.0, d, side="left")
    return np.where(np.isfinite(d), cls, len(DISTANCE_BREAKS_KM) + 1)


def distance_class_labels(lang: str) -> list[str]:
    """Legend labels of the distance classes, the last one for unreachable cells."""
    b = DISTANCE_BREAKS_KM
    names = [f"0–{b[0]:g} km"] + [f"{lo:g}–{hi:g} km" for lo, hi in zip(b[:-1], b[1:], strict=True)]
    names.append(f"> {b[-1]:g} km")
    names.append(labels.ui(lang)["unreachable"])
    return names


def distance_colours() -> list[str]:
    """Colours of the distance classes, the last one for unreachable cells."""
    return [*DISTANCE_COLOURS, UNREACHABLE_COLOUR]


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
    """File names (under ``maps/``) of the PNG maps: one per service and one per municipality."""
    return [service_map_name(s) for s in config.services] + [overview_map_name(c) for c in municipality_codes]


def service_map_name(service: str) -> str:
    """File name (under ``maps/``) of the PNG map of a service (from the results contract)."""
    return R.service_map_file(service)


def overview_map_name(code: str) -> str:
    """File name (under ``maps/``) of the overview PNG map of a municipality (sanitised)."""
    return R.overview_map_file(code)
