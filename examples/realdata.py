"""A ready workspace for the Arjen turva pilot municipalities, built from real public data.

:func:`build_pilot_workspace` turns the offline copies of public data sets (the project's
``../shared/data`` folder; every sub-folder has a ``SOURCE.md``) into the input files of an
ordinary workspace and a generated ``arjenturva.yaml``. The result is then loaded and validated
by the project's own loaders like any user workspace (:func:`arjenturva.api.load_workspace`).

This is an example, not part of the installed package: it encodes the layout of the project's
development data folder. Scripts in ``examples/`` import it as ``from realdata import ...``;
elsewhere, put ``examples/`` on ``sys.path`` first.

What goes in, and the choices made (all documented in the generated ``build.json``):

* **municipalities**: Statistics Finland's 2025 boundaries (1:4.5M) with code, name, region
  (maakunta) and wellbeing services county (hyvinvointialue, from the 2025 municipality key). Besides
  the chosen municipalities the layer holds every neighbour that contains a kept service point, so
  that people near a border can reach the neighbours' points; neighbours get no population.
* **population**: postal-area representative points (Paavo, EPSG:3067) with the 2022 population
  of the postal area. A point belongs to the municipality whose polygon contains it (or to the
  nearest one within 2 km when it falls outside every generalised polygon, e.g. on the coast).
  There are no age groups at postal level: ``age_65_plus`` is the postal population times the
  municipality's 65+ share in 2018 (Paavo), an estimate shown with one decimal.
* **area classes**: no urban–rural classification grid exists offline, so the class is derived
  from SYKE's urban settlements 2022 (YKR taajamat): inside a settlement of at least
  :data:`URBAN_SETTLEMENT_MIN` inhabitants ``K2``, inside a smaller one ``M4`` (rural local
  centre), outside every settlement the class of the municipality's rural type 2018
  (:data:`RURAL_TYPE_CLASSES`; sparsely populated rural municipalities give ``M7``).
* **roads**: the NLS General Map 1:1 000 000 road layer, every line that intersects the chosen
  municipalities' bounding box buffered by ``buffer_m`` (lines kept whole, so roads that leave
  the area and come back stay connected).
* **service points**: health facilities from OpenStreetMap (``health_station``) and municipal
  centres (``municipal_centre``, standing for town-hall services), inside the same buffered box.
  OSM's health facilities are thin in the pilot area (none in Posio, Pudasjärvi or Tornio's
  health centre): gaps found for ``health_station`` are partly a **data gap**.
* **places**: the general map's settlements (``cityp``: villages, municipal centres, towns).

Licences: Statistics Finland, NLS (MML) and SYKE data CC BY 4.0; health facilities
© OpenStreetMap contributors, ODbL 1.0. The attribution is written into the config and
``build.json``; nothing is downloaded.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from arjenturva.errors import InputDataError, InputFileError
from arjenturva.io import ensure_writable, write_csv, write_gpkg, write_json, write_text
from arjenturva.schema import CRS, WGS84

__all__ = [
    "PILOT_CODES",
    "PILOT_FILES",
    "PILOT_SOURCES",
    "RURAL_TYPE_CLASSES",
    "URBAN_SETTLEMENT_MIN",
    "build_pilot_workspace",
]

PILOT_CODES: tuple[str, ...] = ("615", "320", "583", "614", "851")
"""Pudasjärvi, Kemijärvi, Pelkosenniemi, Posio and Tornio: the Arjen turva pilot (2012–2014)."""

PILOT_SOURCES: dict[str, str] = {
    "boundaries": "fi-municipality-boundaries/kunta4500k_2025_neighbors_province.geojson",
    "municipality_key": "statfi-population-tables/geofi_municipality_key_2025.csv",
    "postal_centroids": "statfi-population-tables/paavo_postal_area_centroids_3067.csv",
    "postal_population": "statfi-population-tables/statfi_postal_code_population_2022.csv",
    "demographics": "statfi-population-tables/paavo_municipality_demographics_2018.csv",
    "rural_type": "statfi-population-tables/statfi_municipality_rural_type_2018.csv",
    "central_localities": "statfi-population-tables/geofi_municipality_central_localities.csv",
    "urban_settlements": "syke-urban-areas/YKRTaajamat2022.zip",
    "general_map": "mml-general-map-1m/mml_yleiskartta_1milj_2012.gpkg",
    "hospitals": "fi-health-facilities-osm/hospitals_and_health_centres.csv",
    "primary_care": "fi-health-facilities-osm/primary_care_facilities.csv",
}
"""The files read, relative to the shared data folder."""

PILOT_FILES: tuple[str, ...] = (
    "arjenturva.yaml", "municipalities.gpkg", "population.csv", "service_points.csv", "places.gpkg",
    "roads.gpkg", "build.json",
)
"""The files :func:`build_pilot_workspace` writes."""

URBAN_SETTLEMENT_MIN = 10_000
"""Urban settlements (taajamat) with at least this many inhabitants (2021) count as ``K2``."""

RURAL_TYPE_CLASSES: dict[str, str] = {
    "Harvaan asuttu maaseutu": "M7",
    "Ydinmaaseutu": "M6",
    "Kaupunkien läh. maaseutu": "M5",
    "Kaupunkien läheinen maaseutu": "M5",
    "Kaupungit": "M5",
}
"""Area class outside every urban settlement, by the municipality's rural type 2018."""

NEAR_M = 2000.0
"""Points outside every municipality polygon but this close to one belong to the nearest."""

ROAD_CLASS_SPEEDS_KMH: dict[str, float] = {
    "MOOTTORIT": 120, "VALTAT": 100, "MAANT": 80, "PAIKALLIST": 70, "LOSSI": 10,
}

ATTRIBUTION = (
    "Contains data from the National Land Survey of Finland General Map 1:1 000 000, 2012 (CC BY 4.0); "
    "municipality boundaries, postal-area population (Paavo) and classifications © Statistics Finland "
    "(CC BY 4.0); urban settlements © Finnish Environment Institute SYKE (CC BY 4.0); health facilities "
    "© OpenStreetMap contributors (ODbL 1.0)."
)

_AGE_65_BANDS = ("65-69", "70-74", "75-79", "80-84", "85 years or over")


# ---------------------------------------------------------------------------------------------
# Reading the sources
# ---------------------------------------------------------------------------------------------


def _source(shared_data: Path, key: str) -> Path:
    path = shared_data / PILOT_SOURCES[key]
    if not path.exists():
        msg = (
            f"{path}: source file not found. Fix: pass the folder that holds the project's shared "
            f"real data (with {PILOT_SOURCES[key].split('/')[0]}/ in it), e.g. ../shared/data"
        )
        raise InputFileError(msg)
    return path


def _csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)
    except (OSError, ValueError, pd.errors.ParserError) as e:
        msg = f"{path}: cannot read the table ({e}). Fix: check that the file is the original CSV"
        raise InputFileError(msg) from e


def _read_geo(path: Path, **kwargs: Any) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(f"zip://{path}" if path.suffix == ".zip" else path, **kwargs)
    except (OSError, ValueError, DataSourceError, DataLayerError) as e:
        text = str(e).splitlines()[0] if str(e) else repr(e)
        msg = f"{path}: cannot read the layer ({text}). Fix: check that the file is the original one"
        raise InputFileError(msg) from e
    return gdf


def _read_municipalities(shared_data: Path) -> gpd.GeoDataFrame:
    """All 2025 municipalities: code, name, region, wellbeing_county (EPSG:3067)."""
    gdf = _read_geo(_source(shared_data, "boundaries"))
    gdf = gdf.to_crs(CRS)
    out = gpd.GeoDataFrame({
        "code": gdf["kunta"].astype(str).str.zfill(3),
        "name": gdf["nimi"].astype(str),
        "region": gdf["province"].astype(str),
    }, geometry=gdf.geometry.to_numpy(), crs=CRS)
    key = _csv(_source(shared_data, "municipality_key"), dtype=str)
    code_col = "municipality_code" if "municipality_code" in key.columns else "kunta"
    if code_col in key.columns and "hyvinvointialue_name_fi" in key.columns:
        county_codes = key[code_col].str.strip().str.zfill(3)
        county = dict(zip(county_codes, key["hyvinvointialue_name_fi"], strict=True))
        out["wellbeing_county"] = out["code"].map(county).fillna("")
    return out


def _assign(points: gpd.GeoSeries, munis: gpd.GeoDataFrame, *, near_m: float = NEAR_M) -> np.ndarray:
    """Code of the municipality containing each point, else of the nearest within ``near_m``; '' if none."""
    pts = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=CRS)
    out = np.full(len(pts), "", dtype=object)
    inside = gpd.sjoin(pts, munis[["code", "geometry"]], how="left", predicate="within")
    inside = inside[~inside.index.duplicated(keep="first")]
    codes = inside["code"].reindex(range(len(pts)))
    has = codes.notna().to_numpy()
    out[has] = codes[has].to_numpy()
    rest = np.flatnonzero(~has)
    if rest.size:
        near = gpd.sjoin_nearest(pts.iloc[rest], munis[["code", "geometry"]], how="left",
                                 max_distance=near_m, distance_col="_d")
        near = near[~near.index.duplicated(keep="first")]
        found = near["code"].reindex(pts.index[rest])
        ok = found.notna().to_numpy()
        out[rest[ok]] = found[ok].to_numpy()
    return out


def _share_65_plus(shared_data: Path, names: Sequence[str]) -> dict[str, float]:
    """Share of people aged 65+ per municipality name (Paavo 2018); names not found are left out."""
    demo = _csv(_source(shared_data, "demographics"))
    total = next((c for c in demo.columns if c.startswith("Inhabitants, total")), None)
    bands = [c for c in demo.columns if any(c.startswith(b) for b in _AGE_65_BANDS)]
    if total is None or len(bands) != len(_AGE_65_BANDS):
        msg = (f"{_source(shared_data, 'demographics')}: expected the columns 'Inhabitants, total, …' and "
               f"the age bands {', '.join(_AGE_65_BANDS)}. Fix: use the original Paavo table")
        raise InputFileError(msg)
    demo = demo.set_index(demo["Area"].astype(str).str.strip())
    totals = demo[total]
    share = demo[bands].sum(axis=1) / totals
    return {n: float(share[n]) for n in names if n in share.index and totals[n] > 0}


def _area_classes(shared_data: Path, points: gpd.GeoSeries, codes: np.ndarray) -> np.ndarray:
    """Area class per point from SYKE urban settlements and the municipality's rural type."""
    taaj = _read_geo(_source(shared_data, "urban_settlements"))
    taaj = taaj.to_crs(CRS) if taaj.crs is not None else taaj.set_crs(CRS)
    pts = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=CRS)
    hit = gpd.sjoin(pts, taaj[["Vaesto21Lk", "geometry"]], how="left", predicate="within")
    hit = hit.groupby(level=0)["Vaesto21Lk"].max().reindex(range(len(pts)))
    rural = _csv(_source(shared_data, "rural_type"), dtype=str)
    rural_type = dict(zip(rural["kunta"].str.zfill(3), rural["alueluokka"].str.strip(), strict=True))
    outside = np.array([RURAL_TYPE_CLASSES.get(rural_type.get(c, ""), "M6") for c in codes], dtype=object)
    pop = hit.to_numpy(dtype=float)
    return np.where(np.isnan(pop), outside, np.where(pop >= URBAN_SETTLEMENT_MIN, "K2", "M4")).astype(object)


def _population(shared_data: Path, munis: gpd.GeoDataFrame, codes: Sequence[str],
                notes: list[str]) -> gpd.GeoDataFrame:
    cen = _csv(_source(shared_data, "postal_centroids"), dtype=str)
    cols = {"Postal code area", "X coordinate in metres", "Y coordinate in metres"}
    if not cols <= set(cen.columns):
        msg = (f"{_source(shared_data, 'postal_centroids')}: expected columns {sorted(cols)}. "
               "Fix: use the original Paavo centroid table")
        raise InputFileError(msg)
    pop = _csv(_source(shared_data, "postal_population"), dtype=str)
    label = cen["Postal code area"].astype(str)
    df = pd.DataFrame({
        "cell_id": label.str[:5],
        "postal_area": label.str[5:].str.strip(),
        "x": pd.to_numeric(cen["X coordinate in metres"], errors="coerce"),
        "y": pd.to_numeric(cen["Y coordinate in metres"], errors="coerce"),
    })
    values = dict(zip(pop["posti_alue"].str.strip(), pd.to_numeric(pop["population_2022"], errors="coerce"),
                      strict=True))
    df["population"] = df["cell_id"].map(values)
    df = df.dropna(subset=["x", "y"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x"], df["y"]), crs=CRS)
    gdf["municipality"] = _assign(gdf.geometry, munis)
    gdf = gdf[gdf["municipality"].isin(list(codes))].reset_index(drop=True)
    missing = gdf["population"].isna()
    if missing.any():
        notes.append(f"{int(missing.sum())} postal area(s) without a 2022 population value "
                     f"({', '.join(gdf.loc[missing, 'cell_id'])}): written blank (suppressed/unknown)")
    names = dict(zip(munis["code"], munis["name"], strict=True))
    share = _share_65_plus(shared_data, [names[c] for c in codes])
    for c in codes:
        if names[c] not in share:
            notes.append(f"no 2018 age structure for {names[c]} ({c}) in the Paavo table: "
                         "age_65_plus left blank")
    s65 = gdf["municipality"].map(lambda c: share.get(names[c], np.nan)).astype(float)
    gdf["age_65_plus"] = (gdf["population"] * s65).round(1)
    gdf["area_class"] = _area_classes(shared_data, gdf.geometry, gdf["municipality"].to_numpy())
    return gdf


def _bbox(munis: gpd.GeoDataFrame, buffer_m: float) -> shapely.Polygon:
    minx, miny, maxx, maxy = munis.total_bounds
    return shapely.box(minx - buffer_m, miny - buffer_m, maxx + buffer_m, maxy + buffer_m)


def _roads(shared_data: Path, box: shapely.Polygon) -> gpd.GeoDataFrame:
    path = _source(shared_data, "general_map")
    roads = _read_geo(path, layer="road", bbox=tuple(box.bounds))
    roads = roads.to_crs(CRS) if roads.crs is not None else roads.set_crs(CRS)
    roads = roads[roads.intersects(box)]
    keep = [c for c in ("DXF_LAYER", "LUOKKA", "TIENUM", "TIEOSA") if c in roads.columns]
    return roads[[*keep, "geometry"]].reset_index(drop=True)


def _places(shared_data: Path, box: shapely.Polygon) -> gpd.GeoDataFrame:
    cp = _read_geo(_source(shared_data, "general_map"), layer="cityp", bbox=tuple(box.bounds))
    cp = cp.to_crs(CRS) if cp.crs is not None else cp.set_crs(CRS)
    name = cp["TEXT1"].astype("string").str.strip()
    cp = cp[name.notna() & (name != "")]
    data = {"name": cp["TEXT1"].astype(str).str.strip(), "kind": cp["DXF_LAYER"].astype(str)}
    return gpd.GeoDataFrame(data, geometry=cp.geometry.to_numpy(), crs=CRS).reset_index(drop=True)


def _service_points(shared_data: Path, box: shapely.Polygon, notes: list[str]) -> gpd.GeoDataFrame:
    frames = []
    hosp = _csv(_source(shared_data, "hospitals"))
    frames.append(pd.DataFrame({"point_id": "hc" + hosp["id"].astype(str), "name": hosp["name"].astype(str),
                                "services": "health_station", "source": "OSM hospitals_and_health_centres",
                                "lon": hosp["LON"], "lat": hosp["LAT"]}))
    prim = _csv(_source(shared_data, "primary_care"))
    idx = prim.iloc[:, 0] if str(prim.columns[0]).startswith("Unnamed") else pd.Series(range(len(prim)))
    frames.append(pd.DataFrame({"point_id": "pc" + idx.astype(str).to_numpy(),
                                "name": prim["name"].astype(str), "services": "health_station",
                                "source": "OSM primary_care_facilities",
                                "lon": prim["LON"], "lat": prim["LAT"]}))
    cen = _csv(_source(shared_data, "central_localities"))
    frames.append(pd.DataFrame({
        "point_id": "mc" + cen["kuntatunnus"].astype(int).astype(str).str.zfill(3),
        "name": cen["teksti"].astype(str).str.strip().str.title(),
        "services": "municipal_centre", "source": "MML municipal centre placement (geofi)",
        "lon": cen["X"], "lat": cen["Y"],
    }))
    df = pd.concat(frames, ignore_index=True).dropna(subset=["lon", "lat"])
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=WGS84).to_crs(CRS)
    gdf = gdf[gdf.within(box)].copy()
    # The same facility in both OSM lists: keep the first (within 100 m and the same service).
    xy = np.column_stack([gdf.geometry.x, gdf.geometry.y])
    key = gdf["services"].to_numpy()
    drop = np.zeros(len(gdf), bool)
    for i in range(len(gdf)):
        if drop[i]:
            continue
        near = np.hypot(*(xy[i + 1:] - xy[i]).T) < 100
        same = key[i + 1:] == key[i]
        drop[i + 1:] |= near & same
    if drop.any():
        notes.append(f"{int(drop.sum())} health facility duplicate(s) (same place in both OSM lists) dropped")
    gdf = gdf[~drop]
    dup = gdf["point_id"].duplicated()
    return gdf[~dup].reset_index(drop=True)


def _config_text(names: list[str], language: str, buffer_m: float) -> str:
    title = ", ".join(names)
    attribution = "\n".join(textwrap.wrap(f"Attribution: {ATTRIBUTION}", 100, initial_indent="# ",
                                          subsequent_indent="#   "))
    return f"""\
# arjenturva workspace built from REAL public data by examples/realdata.py (build_pilot_workspace).
# Municipalities: {title}.
{attribution}
# Caveats (see build.json): population = postal-area points (Paavo 2022), not a grid; age_65_plus
# apportioned by the municipality's 2018 65+ share; area classes from SYKE urban settlements 2022 and
# the municipality's rural type; roads = NLS general map 1:1M (public roads only); OSM health
# facilities are thin in the pilot area, so health_station gaps are partly a data gap.
name: Arjen turva pilot municipalities (real data)
language: {language}

inputs:                           # paths are relative to this file
  municipalities:                 # 2025 boundaries; neighbours holding service points too
    path: municipalities.gpkg
    attribution: "© Statistics Finland (Tilastokeskus), CC BY 4.0"
  population:                     # postal-area points (Paavo), x/y EPSG:3067; area classes with SYKE
    path: population.csv
    attribution: "© Statistics Finland (Paavo), CC BY 4.0; urban settlements © SYKE, CC BY 4.0"
  service_points:                 # lon/lat WGS84
    path: service_points.csv
    attribution: "© OpenStreetMap contributors, ODbL 1.0"
  places:                         # general map settlements (villages, centres, towns)
    path: places.gpkg
    attribution: "© National Land Survey of Finland, General Map 1:1 000 000, 2012, CC BY 4.0"

network:
  source: roads.gpkg              # NLS general map roads within the area's box + {buffer_m / 1000:g} km
  layer: road
  class_column: DXF_LAYER
  class_speeds_kmh: {{MOOTTORIT: 120, VALTAT: 100, MAANT: 80, PAIKALLIST: 70, LOSSI: 10}}
  cost: distance
  snap_tolerance_m: 10000         # the 1:1M map has public roads only: villages can lie far from one
  attribution: "© National Land Survey of Finland, General Map 1:1 000 000, 2012, CC BY 4.0"

area_classes:
  source: column                  # K2/M4 inside SYKE urban settlements, else by municipal rural type (M7...)

services:
  health_station:
    label: {{fi: Terveysasema, en: Health station}}
    demand: population
    threshold_km: {{default: 25, M7: 40}}
    sectors: [wellbeing_county, company, cooperative]
  municipal_centre:               # town-hall services (asiointipiste) at the municipal centre
    label: {{fi: Kuntakeskus, en: Municipal centre}}
    demand: population
    threshold_km: {{default: 25, M7: 50}}
    sectors: [municipality, state, association]

export:
  suppress_below: 10
"""


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------


def build_pilot_workspace(shared_data: str | Path, out_dir: str | Path, *,
                          codes: Sequence[str] = PILOT_CODES, force: bool = False,
                          buffer_m: float = 30_000.0, language: str = "en") -> Path:
    """Write a ready workspace for some municipalities from the shared real data.

    Parameters
    ----------
    shared_data
        The folder of real public data (``../shared/data``), holding the files of
        :data:`PILOT_SOURCES`.
    out_dir
        The workspace folder to write (created when missing).
    codes
        Municipality codes (3 digits; leading zeros may be omitted). Default: the five
        Arjen turva pilot municipalities.
    force
        Overwrite existing files of :data:`PILOT_FILES`.
    buffer_m
        Roads, service points and places are taken within the municipalities' bounding box
        grown by this many metres, so people near a border can reach neighbours' points.
    language
        ``"en"`` or ``"fi"``: the language of labels in the generated config.

    Returns
    -------
    Path
        The generated ``arjenturva.yaml``; load it with :func:`arjenturva.api.load_workspace`.

    Raises
    ------
    InputFileError
        When a source file is missing or unreadable.
    InputDataError
        When a code is not a 2025 municipality.
    OutputExistsError
        When a workspace file exists and ``force`` is false.
    """
    shared_data, out = Path(shared_data), Path(out_dir)
    if language not in ("fi", "en"):
        msg = f"language must be 'fi' or 'en', not {language!r}"
        raise InputDataError(msg)
    ensure_writable([out / f for f in PILOT_FILES], force=force)
    codes = [str(c).strip().zfill(3) for c in codes]
    if not codes:
        msg = "no municipality codes given. Fix: give at least one code, e.g. 614 for Posio"
        raise InputDataError(msg)
    notes: list[str] = []
    all_munis = _read_municipalities(shared_data)
    unknown = [c for c in codes if c not in set(all_munis["code"])]
    if unknown:
        msg = (f"unknown municipality code(s) {', '.join(unknown)} (not in the 2025 boundaries). "
               f"Fix: use 3-digit codes such as {', '.join(PILOT_CODES)}")
        raise InputDataError(msg)
    chosen = all_munis[all_munis["code"].isin(codes)]
    box = _bbox(chosen, buffer_m)

    population = _population(shared_data, all_munis, codes, notes)
    points = _service_points(shared_data, box, notes)
    points["municipality"] = _assign(points.geometry, all_munis)
    outside = points["municipality"] == ""
    if outside.any():
        notes.append(f"{int(outside.sum())} service point(s) farther than {NEAR_M:g} m from every "
                     "municipality dropped")
    points = points[~outside].reset_index(drop=True)
    keep_codes = set(codes) | set(points["municipality"])
    munis = all_munis[all_munis["code"].isin(keep_codes)].sort_values("code").reset_index(drop=True)
    roads = _roads(shared_data, box)
    places = _places(shared_data, box)

    names = dict(zip(all_munis["code"], all_munis["name"], strict=True))
    per_muni: dict[str, Any] = {}
    for c in codes:
        sel = population[population["municipality"] == c]
        per_muni[c] = {
            "name": names[c],
            "postal_areas": len(sel),
            "population_2022": float(np.nansum(sel["population"])),
            "age_65_plus_estimate": float(np.nansum(sel["age_65_plus"])),
            "area_classes": {k: int(v) for k, v in sel["area_class"].value_counts().sort_index().items()},
            "health_station_points": int(((points["municipality"] == c)
                                          & (points["services"] == "health_station")).sum()),
            "municipal_centre_points": int(((points["municipality"] == c)
                                            & (points["services"] == "municipal_centre")).sum()),
        }
        if per_muni[c]["health_station_points"] == 0:
            notes.append(f"no health facility in {names[c]} ({c}) in the OSM-derived lists: its "
                         "health_station gaps are a data gap as much as a service gap")
    report = {
        "built_by": "examples/realdata.py build_pilot_workspace",
        "shared_data": str(shared_data.resolve()),
        "sources": PILOT_SOURCES,
        "attribution": ATTRIBUTION,
        "municipalities": per_muni,
        "neighbour_municipalities": sorted(keep_codes - set(codes)),
        "buffer_m": buffer_m,
        "bbox_3067": [round(v, 1) for v in box.bounds],
        "counts": {"roads": len(roads), "road_km": round(float(roads.length.sum()) / 1000, 1),
                   "service_points": {k: int(v) for k, v in points["services"].value_counts().items()},
                   "places": len(places), "population_points": len(population)},
        "method": {
            "population": "Paavo postal-area representative points with the 2022 postal-area population; "
                          "a point belongs to the municipality containing it, else the nearest within 2 km",
            "age_65_plus": "postal population × the municipality's 65+ share in 2018 (Paavo); an estimate",
            "area_class": f"inside a SYKE urban settlement 2022 of ≥ {URBAN_SETTLEMENT_MIN} inhabitants K2, "
                          "inside a smaller one M4, else by the municipality's rural type 2018: "
                          + ", ".join(f"{k} → {v}" for k, v in RURAL_TYPE_CLASSES.items()),
            "roads": "NLS general map 1:1M road lines intersecting the box (kept whole)",
            "service_points": "OSM health facilities (health_station) and MML municipal centre points "
                              "(municipal_centre) inside the box",
        },
        "notes": notes,
    }

    out.mkdir(parents=True, exist_ok=True)
    write_gpkg({"municipalities": munis}, out / "municipalities.gpkg")
    pop_out = population[["cell_id", "postal_area", "population", "age_65_plus", "area_class", "x", "y"]]
    write_csv(pd.DataFrame(pop_out), out / "population.csv")
    sp_out = points.assign(mode="fixed")[["point_id", "name", "services", "mode", "source", "lon", "lat"]]
    write_csv(pd.DataFrame(sp_out), out / "service_points.csv")
    write_gpkg({"places": places}, out / "places.gpkg")
    write_gpkg({"road": roads}, out / "roads.gpkg")
    write_json(report, out / "build.json")
    config = out / "arjenturva.yaml"
    write_text(_config_text([names[c] for c in codes], language, buffer_m), config)
    return config
