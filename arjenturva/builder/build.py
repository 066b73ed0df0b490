"""``arjenturva build-workspace``: a ready workspace for any set of Finnish municipalities, written
from offline public data files.

:func:`build_workspace` checks every source file first (all problems at once), selects the study
municipalities, derives the layers (:mod:`~arjenturva.builder.layers`,
:mod:`~arjenturva.builder.population`) and writes them with a generated ``arjenturva.yaml``
(:mod:`~arjenturva.builder.config_text`) and ``build.json``: the sources with their checksums,
the attribution, counts per municipality, the method and every note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputDataError
from ..io import build_time, ensure_writable, file_hash, write_csv, write_gpkg, write_json, write_text
from .area import AreaRequest, read_municipality_key, select_study_area
from .config_text import SERVICE_SETTINGS, ConfigFacts, config_text
from .layers import (
    DUPLICATE_M,
    NEAR_M,
    assign_municipality,
    context_codes,
    read_municipalities,
    read_places,
    read_roads,
    read_service_points,
    study_extent,
)
from .population import (
    RURAL_TYPE_CLASSES,
    URBAN_SETTLEMENT_MIN,
    area_classes,
    read_postal_points,
    share_65_plus,
)
from .sources import BuildSources, CheckedSource, check_sources, read_sources, sources_from_mapping
from .specs import SOURCE_SPECS, attribution

__all__ = ["BUILT_FILES", "DEFAULT_BUFFER_M", "BuildResult", "build_workspace"]

BUILT_FILES: tuple[str, ...] = (
    "arjenturva.yaml", "municipalities.gpkg", "population.csv", "service_points.csv", "places.gpkg",
    "roads.gpkg", "build.json",
)
"""The files :func:`build_workspace` writes (``places.gpkg`` only when places are given)."""

DEFAULT_BUFFER_M = 30_000.0
"""Roads, places and service points are taken this far around the study area."""

_SERVICE_OF = {"health_facilities": "health_station", "municipal_centres": "municipal_centre"}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_workspace` wrote.

    Attributes
    ----------
    out_dir
        The workspace folder.
    config_path
        The generated ``arjenturva.yaml``.
    files
        The written files by role (``config``, ``municipalities``, ``population``, ...).
    study_area
        The study municipality codes.
    context
        The context municipality codes (in the layer, without population).
    counts
        Features and totals (``population``, ``service_points``, ``roads``, ...).
    notes
        What the user should know (missing optional inputs, data gaps, dropped duplicates).
    """

    out_dir: Path
    config_path: Path
    files: dict[str, Path]
    study_area: tuple[str, ...]
    context: tuple[str, ...]
    counts: dict[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary (for ``--json``)."""
        return {
            "out_dir": str(self.out_dir),
            "config": str(self.config_path),
            "files": {k: str(v) for k, v in self.files.items()},
            "study_area": list(self.study_area),
            "context": list(self.context),
            "counts": self.counts,
            "notes": list(self.notes),
        }


def _as_sources(sources: BuildSources | str | Path | Mapping[str, Any] | None, data_dir: str | Path | None,
                files: Mapping[str, str | Path | Sequence[str | Path] | None] | None) -> BuildSources:
    if sources is None:
        found = BuildSources()
    elif isinstance(sources, BuildSources):
        found = sources
    elif isinstance(sources, str | Path):
        found = read_sources(sources, data_dir=data_dir)
    else:
        found = sources_from_mapping(sources, base=Path(data_dir) if data_dir is not None else Path("."))
    return found.with_files(files or {})


def _title(key: pd.DataFrame, codes: list[str], names: dict[str, str]) -> str:
    """The study area in words: whole regions by name, else the municipalities."""
    region_of = dict(zip(key["code"], key["region"], strict=True))
    regions = list(dict.fromkeys(region_of.get(c, "") for c in codes))
    whole = all(r and set(key.loc[key["region"] == r, "code"]) <= set(codes) for r in regions)
    if whole and len(codes) > 5:
        return ", ".join(regions)
    shown = [names[c] for c in codes[:5]]
    return ", ".join(shown) + (f" and {len(codes) - 5} more" if len(codes) > 5 else "")


def _source_record(checked: Mapping[str, tuple[CheckedSource, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in SOURCE_SPECS:
        if s.key not in checked:
            continue
        out[s.key] = {
            "files": [{"path": str(c.path.resolve()), "layer": c.layer, "sha256_16": file_hash(c.path)}
                      for c in checked[s.key]],
            "source": s.source,
            "licence": s.licence,
            "columns": dict(checked[s.key][0].columns),
        }
    return out


def _per_municipality(codes: list[str], names: dict[str, str], pop: gpd.GeoDataFrame,
                      points: gpd.GeoDataFrame) -> dict[str, Any]:
    per: dict[str, Any] = {}
    for c in codes:
        sel = pop[pop["municipality"] == c]
        row: dict[str, Any] = {
            "name": names[c],
            "postal_areas": len(sel),
            "population": float(np.nansum(sel["population"])),
        }
        if "age_65_plus" in sel.columns:
            row["age_65_plus_estimate"] = round(float(np.nansum(sel["age_65_plus"])), 1)
        row["area_classes"] = {k: int(v) for k, v in sel["area_class"].value_counts().sort_index().items()}
        for sid in SERVICE_SETTINGS:
            row[f"{sid}_points"] = int(((points["municipality"] == c) & (points["services"] == sid)).sum())
        per[c] = row
    return per


def _method(given: set[str], buffer_m: float) -> dict[str, str]:
    return {
        "study_area": "the municipalities asked for (codes, regions, wellbeing services counties, through "
                      "the municipality key)",
        "extent": f"the convex hull of the study municipalities grown by {buffer_m:g} m: roads, places and "
                  "service points are taken inside it",
        "context": f"municipalities within {buffer_m:g} m of the study area, and those holding a kept "
                   "service point: in municipalities.gpkg, without population",
        "population": "postal-area representative points with the postal-area population; a point belongs to "
                      f"the municipality containing it, else the nearest within {NEAR_M:g} m; study "
                      "municipalities only",
        "age_65_plus": ("postal population x the municipality's 65+ share (age bands of the demographics "
                        "table); an estimate" if "demographics" in given else "not given"),
        "area_class": (f"inside an urban settlement of >= {URBAN_SETTLEMENT_MIN} inhabitants K2, inside a "
                       "smaller one M4, else " if "urban_settlements" in given else "")
                      + "by the municipality's rural type: "
                      + ", ".join(f"{k} -> {v}" for k, v in RURAL_TYPE_CLASSES.items()) + ", otherwise M6",
        "roads": "road lines meeting the extent, kept whole; class column DXF_LAYER",
        "service_points": "every health facility (health_station) and municipal centre point "
                          f"(municipal_centre) inside the extent, also outside every municipality; points "
                          f"of one service within {DUPLICATE_M:g} m of an earlier one dropped as duplicates",
    }


def _study_population(one: Mapping[str, CheckedSource], munis: gpd.GeoDataFrame, codes: list[str],
                      notes: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Every postal point (with its municipality) and those of the study area with their
    population, 65+ estimate and area class."""
    names = dict(zip(munis["code"], munis["name"], strict=True))
    postal = read_postal_points(one["postal_population"], one["postal_centroids"], munis, notes)
    in_study = postal["municipality"].isin(codes).to_numpy()
    pop = postal[in_study].reset_index(drop=True)
    blank = pop["population"].isna()
    if blank.any():
        notes.append(f"{int(blank.sum())} postal area(s) without a population value "
                     f"({', '.join(pop.loc[blank, 'cell_id'])}): written blank (suppressed or unknown)")
    if pop.empty:
        msg = (f"{one['postal_centroids'].path}: no postal-area point lies in the study municipalities of "
               f"{one['boundaries'].path}. Fix: check that both files cover the area and have the right CRS")
        raise InputDataError(msg)
    none = [names[c] for c in codes if not (pop["municipality"] == c).any()]
    if none:
        notes.append(f"no postal-area point lies in {', '.join(none)}: no population there")
    if "demographics" in one:
        share = share_65_plus(one["demographics"], [names[c] for c in codes])
        lacking = [f"{names[c]} ({c})" for c in codes if names[c] not in share]
        if lacking:
            notes.append(f"no age structure for {', '.join(lacking)} in the demographics table: "
                         "age_65_plus left blank")
        s65 = pop["municipality"].map(lambda c: share.get(names[c], np.nan)).astype(float)
        pop["age_65_plus"] = (pop["population"] * s65).round(1)
    pop["area_class"] = area_classes(one.get("urban_settlements"), one.get("rural_type"), pop.geometry,
                                     pop["municipality"].to_numpy())
    return postal, pop


def build_workspace(
    out_dir: str | Path,
    *,
    sources: BuildSources | str | Path | Mapping[str, Any] | None = None,
    files: Mapping[str, str | Path | Sequence[str | Path] | None] | None = None,
    municipalities: Iterable[str] = (),
    regions: Iterable[str] = (),
    wellbeing_counties: Iterable[str] = (),
    data_dir: str | Path | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    language: str = "fi",
    name: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Write a ready workspace for some Finnish municipalities from offline public data files.

    Parameters
    ----------
    out_dir
        The workspace folder (created when missing).
    sources
        The files to read: a sources file (YAML), a mapping of the same form or
        :class:`~arjenturva.builder.BuildSources`.
    files
        Files by input key that replace those of ``sources`` (the CLI's per-file options);
        relative paths are read from the current folder. ``None`` values are ignored.
    municipalities, regions, wellbeing_counties
        The study area, their union: municipality codes or names, regions (maakunta) and
        wellbeing services counties by code or name. Items may hold comma-separated values.
    data_dir
        The folder relative paths of ``sources`` are read from (overrides a sources file's
        ``data_dir:``).
    buffer_m
        Roads, places and service points are taken within this distance of the study area's
        convex hull; municipalities within it are context.
    language
        ``fi`` or ``en``: the language of the generated config.
    name
        The workspace name (default: the study area in words).
    force
        Overwrite existing workspace files.
    progress
        Called with a short message at each step.

    Returns
    -------
    BuildResult
        The files written, the study and context municipalities, counts and notes.

    Raises
    ------
    ValidationError
        Every problem of the source files at once (missing, unreadable, a column missing).
    InputDataError
        An unknown municipality, region or county (with the close matches), a study municipality
        missing from the boundaries, no roads in the area.
    OutputExistsError
        When a workspace file exists and ``force`` is false.
    """
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    if language not in ("fi", "en"):
        msg = f"language must be 'fi' or 'en', not {language!r}"
        raise InputDataError(msg)
    if not buffer_m >= 0 or not np.isfinite(buffer_m):
        msg = f"the buffer must be a distance of 0 or more, not {buffer_m!r}. Fix: e.g. --buffer-km 30"
        raise InputDataError(msg)
    ensure_writable([out / f for f in BUILT_FILES], force=force)
    say("checking the source files")
    checked, notes = check_sources(_as_sources(sources, data_dir, files))
    one = {k: v[0] for k, v in checked.items()}
    request = AreaRequest.of(municipalities, regions, wellbeing_counties)
    key = read_municipality_key(one["municipality_key"])
    codes = select_study_area(key, request)

    say("municipalities")
    munis = read_municipalities(one["boundaries"], key, notes)
    missing = [c for c in codes if c not in set(munis["code"])]
    if missing:
        msg = (f"{one['boundaries'].path}: study municipality code(s) {', '.join(missing)} have no boundary. "
               "Fix: give boundaries of the same year as the municipality key")
        raise InputDataError(msg)
    names = dict(zip(munis["code"], munis["name"], strict=True))
    extent = study_extent(munis[munis["code"].isin(codes)], buffer_m)

    say("population")
    postal, pop = _study_population(one, munis, codes, notes)

    say("service points")
    points = read_service_points(checked, extent, notes)
    points["municipality"] = assign_municipality(points.geometry, munis)
    outside = int((points["municipality"] == "").sum())
    if outside:
        notes.append(f"{outside} service point(s) lie outside every municipality; they are kept (the "
                     "workspace loader uses them with a warning)")
    context = context_codes(munis, codes, buffer_m, list(points["municipality"]))
    layer = munis[munis["code"].isin([*codes, *context])].sort_values("code").reset_index(drop=True)
    in_context = postal["municipality"].isin(context).to_numpy()

    say("roads and places")
    roads = read_roads(one["roads"], extent)
    if roads.empty:
        msg = (f"{one['roads'].path}: no road line lies within {buffer_m:g} m of the study area's hull. "
               "Fix: give a road file that covers the study area")
        raise InputDataError(msg)
    places = read_places(one["places"], extent) if "places" in one else None

    services = [sid for k, sid in _SERVICE_OF.items() if k in checked]
    per = _per_municipality(codes, names, pop, points)
    if "health_facilities" in checked:
        lacking = [f"{names[c]} ({c})" for c in codes if per[c]["health_station_points"] == 0]
        if lacking:
            notes.append(f"no health facility in the given lists for {len(lacking)} of the {len(codes)} "
                         f"study municipalities ({', '.join(lacking)}): their health_station gaps are a data "
                         "gap as much as a service gap")
    counts: dict[str, Any] = {
        "study_municipalities": len(codes),
        "context_municipalities": len(context),
        "population_points": len(pop),
        "population": float(np.nansum(pop["population"])),
        "context_population_left_out": {"points": int(in_context.sum()),
                                        "people": float(np.nansum(postal.loc[in_context, "population"]))},
        "service_points": {k: int(v) for k, v in points["services"].value_counts().sort_index().items()},
        "service_points_outside_every_municipality": outside,
        "roads": len(roads),
        "road_km": round(float(roads.length.sum()) / 1000, 1),
        "places": 0 if places is None else len(places),
    }
    given = [k for k in (s.key for s in SOURCE_SPECS) if k in checked]
    report = {
        "built_by": "arjenturva build-workspace",
        "built_at": build_time().isoformat(timespec="seconds"),
        "area": request.as_dict(),
        "study_area": codes,
        "context": context,
        "buffer_m": buffer_m,
        "extent_bounds_3067": [round(float(v), 1) for v in extent.bounds],
        "sources": _source_record(checked),
        "attribution": attribution(given),
        "counts": counts,
        "municipalities": per,
        "method": _method(set(given), buffer_m),
        "notes": notes,
    }

    say("writing the workspace")
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "municipalities": write_gpkg({"municipalities": layer}, out / "municipalities.gpkg"),
        "population": write_csv(pd.DataFrame(pop[[c for c in ("cell_id", "postal_area", "population",
                                                             "age_65_plus", "area_class", "x", "y")
                                                  if c in pop.columns]]), out / "population.csv"),
        "service_points": write_csv(pd.DataFrame(points.assign(mode="fixed")[
            ["point_id", "name", "services", "mode", "source", "lon", "lat"]]), out / "service_points.csv"),
        "roads": write_gpkg({"road": roads}, out / "roads.gpkg"),
    }
    if places is not None:
        written["places"] = write_gpkg({"places": places}, out / "places.gpkg")
    written["build"] = write_json(report, out / "build.json")
    facts = ConfigFacts(
        name=name or f"{_title(key, codes, names)} (real data)", language=language, study_area=codes,
        study_names=[names[c] for c in codes], context_count=len(context), given=given, services=services,
        buffer_m=buffer_m, places=places is not None,
    )
    config = write_text(config_text(facts), out / "arjenturva.yaml")
    written = {"config": config, **written}
    return BuildResult(out, config, written, tuple(codes), tuple(context), counts, tuple(notes))
