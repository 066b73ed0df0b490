"""``arjenturva fetch``: a ready workspace written from public sources.

:func:`fetch_workspace` downloads everything first (boundaries and the population grid from
Statistics Finland, service points, places and roads from OpenStreetMap), then writes the layers,
a generated ``arjenturva.yaml``, ``ATTRIBUTION.md`` and ``fetch.json``. Nothing is written to the
workspace before every download has succeeded, and every file is written atomically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import shapely
import yaml

from ..config import DEFAULT_CONFIG_NAME, config_from_dict
from ..io import atomic_path, ensure_writable, write_csv, write_gpkg, write_json, write_text
from ..road_defaults import DEFAULT_SNAP_TOLERANCE_M
from ..schema import CRS, WGS84, normalise_code
from .http import FetchError, HttpClient, Progress
from .overpass import (
    OVERPASS_URL,
    _check_overpass_json,
    _check_overpass_xml,
    _fetch_roads_osmnx,
    _within,
    amenity_query,
    road_query,
    service_points_from_overpass,
)
from .services import DEFAULT_SERVICE_MAPPING, check_service_mapping, load_service_mapping, service_catalogue
from .statfi import (
    DEFAULT_BOUNDARY_YEAR,
    DEFAULT_POPULATION_YEAR,
    STATFI_WFS_URL,
    _areas,
    _membership,
    _population_cells,
    fetch_wfs_layer,
)

if TYPE_CHECKING:
    import requests

RoadSource = Literal["osmnx", "overpass"]

CACHE_SUBDIR = Path(".arjenturva-cache") / "http"
"""Where :func:`fetch_workspace` caches HTTP responses, relative to the output folder."""

ATTRIBUTION: dict[str, str] = {
    "statfi": "Municipality, wellbeing services county and region boundaries and the 1 km population "
    "grid: © Statistics Finland (Tilastokeskus), CC BY 4.0",
    "osm": "Service points, places and roads: © OpenStreetMap contributors, ODbL 1.0 "
    "(https://www.openstreetmap.org/copyright)",
}

_POINT_MARGIN_M = 1000.0
"""Service points and places this close outside the municipalities are still kept."""


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_workspace` wrote.

    Attributes
    ----------
    out_dir
        The workspace folder.
    config_path
        The generated ``arjenturva.yaml``.
    files
        Written files by role (``municipalities``, ``population``, ``service_points``, ...).
    counts
        Features per layer.
    services
        The service ids of the generated catalogue.
    downloaded, from_cache
        HTTP requests answered by the network and by the cache.
    warnings
        Things the user should know (empty layers, roads not fetched, unknown codes).
    """

    out_dir: Path
    config_path: Path
    files: dict[str, Path]
    counts: dict[str, int]
    services: tuple[str, ...]
    downloaded: int
    from_cache: int
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary (for ``--json``)."""
        return {
            "out_dir": str(self.out_dir),
            "config": str(self.config_path),
            "files": {k: str(v) for k, v in self.files.items()},
            "counts": dict(self.counts),
            "services": list(self.services),
            "downloaded": self.downloaded,
            "from_cache": self.from_cache,
            "warnings": list(self.warnings),
        }


def _normalise_codes(codes: Iterable[str | int]) -> list[str]:
    out: list[str] = []
    for c in codes:
        for part in str(c).replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 3:
                msg = (f"municipality code '{part}' is not a number of up to 3 digits. "
                       "Fix: use codes like 614 or 005")
                raise FetchError(msg)
            code = normalise_code(part)
            if code not in out:
                out.append(code)
    if not out:
        msg = "no municipality codes given. Fix: pass --codes, e.g. --codes 614,583"
        raise FetchError(msg)
    return out


def _config_text(cfg: dict[str, Any], *, codes: Sequence[str], when: str) -> str:
    header = [
        "# arjenturva workspace written by `arjenturva fetch`",
        f"# Municipalities: {', '.join(codes)}; fetched {when}.",
        "#",
        "# Data sources and attribution (keep these in every export):",
        *[f"#   - {v}" for v in ATTRIBUTION.values()],
        "# Service points are OSM amenities mapped to service ids; check and complete them",
        "# (service_points.csv), and add actors.csv for partnership proposals.",
        "# Check everything with:  arjenturva validate --config arjenturva.yaml",
        "",
    ]
    body = yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
    return "\n".join(header) + body


def _attribution_md(codes: Sequence[str], sources: Mapping[str, str], when: str) -> str:
    lines = [
        "# Data sources and attribution",
        "",
        f"Workspace for municipalities {', '.join(codes)}, fetched {when} by `arjenturva fetch`.",
        "",
        *[f"- {v}" for v in ATTRIBUTION.values()],
        "",
        "| file | source |",
        "|---|---|",
        *[f"| `{k}` | {v} |" for k, v in sources.items()],
        "",
    ]
    return "\n".join(lines)


def fetch_workspace(
    codes: Sequence[str | int] | str,
    out: str | Path,
    *,
    year: int = DEFAULT_POPULATION_YEAR,
    boundary_year: int = DEFAULT_BOUNDARY_YEAR,
    roads: RoadSource | None = "osmnx",
    mapping: Mapping[str, str] | str | Path | None = None,
    force: bool = False,
    session: requests.Session | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 180.0,
    retries: int = 3,
    backoff_s: float = 1.0,
    wfs_url: str = STATFI_WFS_URL,
    overpass_url: str = OVERPASS_URL,
    page_size: int = 5000,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """Download public data for municipalities and write a ready workspace.

    Writes ``municipalities.gpkg`` (with ``region`` and ``wellbeing_county``), ``areas.gpkg``
    (layers ``wellbeing_counties`` and ``regions``), ``population.gpkg`` (1 km cells; ``-1`` kept
    for values suppressed by Statistics Finland), ``service_points.csv`` (OSM amenities mapped to
    service ids), ``places.csv`` (named OSM villages), the roads (``roads.graphml`` from osmnx or
    ``roads.osm`` from Overpass), ``arjenturva.yaml`` with a service catalogue for every mapped
    service id, ``ATTRIBUTION.md`` and ``fetch.json``. All downloads happen before anything is
    written; every file is written atomically.

    Parameters
    ----------
    codes
        Municipality codes (``["614", "583"]`` or ``"614,583"``); leading zeros are added.
    out
        The workspace folder to write.
    year
        Year of the 1 km population grid (``vaestoruutu:vaki{year}_1km``).
    boundary_year
        Year of the boundary layers (``tilastointialueet:kunta4500k_{year}`` and the others).
    roads
        ``"osmnx"`` (``graph_from_polygon(network_type="drive")``, saved as GraphML),
        ``"overpass"`` (one Overpass request through the cache, saved as OSM XML), or ``None``
        to skip roads (the config then expects a line layer at ``roads.gpkg``).
    mapping
        OSM ``key=value`` → service id; a dict, or a YAML file. Defaults to
        :data:`DEFAULT_SERVICE_MAPPING`.
    force
        Overwrite an existing workspace.
    session
        A :class:`requests.Session` (tests mount a replaying adapter).
    cache_dir
        HTTP cache folder; default ``<out>/.arjenturva-cache/http``.
    use_cache
        Reuse cached responses (default); ``False`` downloads again.
    connect_timeout_s, read_timeout_s
        Timeouts per request.
    retries, backoff_s
        Extra attempts on timeouts, lost connections, 429 and 5xx, and the first wait (doubled each
        time, at most 30 s).
    wfs_url, overpass_url
        The service endpoints.
    page_size
        WFS features per request.
    progress
        Optional callback receiving a short message per step.
    sleep
        The wait function between retries (tests pass a no-op).

    Returns
    -------
    FetchResult
        The written files, feature counts, services and cache use.

    Raises
    ------
    OutputExistsError
        When the workspace files exist and ``force`` is false.
    OfflineError
        When a service cannot be reached and its answer is not cached.
    FetchTimeoutError, FetchError
        When a service does not answer in time or answers with an error.
    """
    say = progress or (lambda _msg: None)
    code_list = _normalise_codes([codes] if isinstance(codes, str | int) else codes)
    out_dir = Path(out)
    if roads not in ("osmnx", "overpass", None):
        msg = f"roads must be 'osmnx', 'overpass' or None, not {roads!r}. Fix: pick one of them"
        raise FetchError(msg)
    if isinstance(mapping, str | Path):
        tag_map = load_service_mapping(mapping)
    else:
        tag_map = check_service_mapping(mapping if mapping is not None else DEFAULT_SERVICE_MAPPING)
    road_file = {"osmnx": "roads.graphml", "overpass": "roads.osm", None: "roads.gpkg"}[roads]
    targets = {
        "config": out_dir / DEFAULT_CONFIG_NAME,
        "municipalities": out_dir / "municipalities.gpkg",
        "areas": out_dir / "areas.gpkg",
        "population": out_dir / "population.gpkg",
        "service_points": out_dir / "service_points.csv",
        "places": out_dir / "places.csv",
        "attribution": out_dir / "ATTRIBUTION.md",
        "metadata": out_dir / "fetch.json",
    }
    if roads is not None:
        targets["roads"] = out_dir / road_file
    ensure_writable(list(targets.values()), force=force)

    cache = Path(cache_dir) if cache_dir is not None else out_dir / CACHE_SUBDIR
    client = HttpClient(cache_dir=cache, session=session, connect_timeout_s=connect_timeout_s,
                        read_timeout_s=read_timeout_s, retries=retries, backoff_s=backoff_s,
                        use_cache=use_cache, progress=progress, sleep=sleep)
    warnings: list[str] = []

    # 1. Boundaries.
    say("municipality boundaries (Statistics Finland)")
    kunta_layer = f"tilastointialueet:kunta4500k_{boundary_year}"
    quoted = ",".join(f"'{c}'" for c in code_list)
    raw = fetch_wfs_layer(client, kunta_layer, what="municipality boundaries", url=wfs_url,
                          cql_filter=f"kunta IN ({quoted})", page_size=page_size)
    munis = _areas(raw, ("kunta", "code")) if len(raw) else gpd.GeoDataFrame(
        {"code": [], "name": [], "name_sv": []}, geometry=[], crs=CRS)
    munis["code"] = munis["code"].map(normalise_code)
    munis = munis[munis["code"].isin(code_list)].reset_index(drop=True)
    missing = [c for c in code_list if c not in set(munis["code"])]
    if missing and len(missing) == len(code_list):
        msg = (
            f"Statistics Finland has no municipality with code {', '.join(missing)} in {kunta_layer}. "
            f"Fix: check the codes (e.g. 614 Posio) and that they exist in {boundary_year}"
        )
        raise FetchError(msg)
    if missing:
        warnings.append(f"no municipality with code {', '.join(missing)} in {kunta_layer}; skipped")
    munis = munis.sort_values("code").reset_index(drop=True)
    bbox = tuple(float(v) for v in munis.total_bounds)
    union = shapely.union_all(munis.geometry.to_numpy())

    say("wellbeing services counties and regions (Statistics Finland)")
    counties = _areas(fetch_wfs_layer(client, f"tilastointialueet:hyvinvointialue4500k_{boundary_year}",
                                      what="wellbeing services counties", url=wfs_url, bbox=bbox,
                                      page_size=page_size), ("hyvinvointialue", "code"))
    regions = _areas(fetch_wfs_layer(client, f"tilastointialueet:maakunta4500k_{boundary_year}",
                                     what="regions", url=wfs_url, bbox=bbox, page_size=page_size),
                     ("maakunta", "code"))
    munis["region_code"], munis["region"] = _membership(munis, regions)
    munis["wellbeing_county_code"], munis["wellbeing_county"] = _membership(munis, counties)
    munis = munis[["code", "name", "name_sv", "region", "region_code", "wellbeing_county",
                   "wellbeing_county_code", "geometry"]]

    # 2. Population grid.
    say(f"1 km population grid {year} (Statistics Finland)")
    grid = fetch_wfs_layer(client, f"vaestoruutu:vaki{year}_1km", what=f"population grid {year}",
                           url=wfs_url, bbox=bbox, page_size=page_size)
    cells = _population_cells(grid, munis)
    if cells.empty:
        warnings.append(f"the population grid {year} has no inhabited cells in these municipalities")

    # 3. OSM amenities and places.
    union_4326 = gpd.GeoSeries([union], crs=CRS).to_crs(WGS84).iloc[0]
    bbox_4326 = tuple(float(v) for v in gpd.GeoSeries([shapely.buffer(union, 2000.0)], crs=CRS)
                      .to_crs(WGS84).total_bounds)
    say("service points (OpenStreetMap, Overpass API)")
    content = client.get(overpass_url, {"data": amenity_query(tag_map, bbox_4326)},
                         what="service points (OSM amenities)", check=_check_overpass_json)
    catalogue = service_catalogue(tag_map.values())
    points, places = service_points_from_overpass(json.loads(content), tag_map, catalogue)
    points = _within(points, union, _POINT_MARGIN_M)
    places = _within(places, union, _POINT_MARGIN_M)
    if points.empty:
        warnings.append("OpenStreetMap has no mapped service points in these municipalities; "
                        "add your own to service_points.csv")

    # 4. Roads.
    road_bytes: bytes | None = None
    if roads == "overpass":
        say("roads (OpenStreetMap, Overpass API)")
        road_bbox = tuple(float(v) for v in gpd.GeoSeries([shapely.buffer(union, 5000.0)], crs=CRS)
                          .to_crs(WGS84).total_bounds)
        road_bytes = client.get(overpass_url, {"data": road_query(road_bbox)}, what="roads (OSM)",
                                check=_check_overpass_xml)
    elif roads is None:
        warnings.append("roads were not fetched: put a road line layer at roads.gpkg (layer 'road', "
                        "class column 'highway') or change `network` in arjenturva.yaml")

    # 5. Write (everything downloaded; nothing written before this point but the cache).
    when = datetime.now(UTC).isoformat(timespec="seconds")
    files: dict[str, Path] = {}
    counts: dict[str, int] = {"municipalities": len(munis), "population": len(cells),
                              "service_points": len(points), "places": len(places),
                              "wellbeing_counties": len(counties), "regions": len(regions)}
    if roads == "osmnx":
        say("roads (OpenStreetMap, osmnx)")
        osmnx_poly = shapely.buffer(union_4326, 0.05)
        counts["road_edges"] = _fetch_roads_osmnx(osmnx_poly, targets["roads"],
                                                  cache_dir=cache.parent / "osmnx", timeout_s=read_timeout_s)
        files["roads"] = targets["roads"]
    elif road_bytes is not None:
        with atomic_path(targets["roads"]) as tmp:
            tmp.write_bytes(road_bytes)
        counts["road_ways"] = road_bytes.count(b"<way ")
        files["roads"] = targets["roads"]
    say("writing the workspace")
    files["municipalities"] = write_gpkg({"municipalities": munis}, targets["municipalities"])
    area_layers = {k: v for k, v in (("wellbeing_counties", counties), ("regions", regions)) if len(v)}
    if area_layers:
        files["areas"] = write_gpkg(area_layers, targets["areas"])
    pop_out = cells.copy()
    if pop_out.empty:
        pop_out = gpd.GeoDataFrame({"cell_id": ["none"], "population": [0]},
                                   geometry=[union.representative_point()], crs=CRS)
    files["population"] = write_gpkg({"population": pop_out}, targets["population"])
    files["service_points"] = write_csv(points, targets["service_points"])
    if len(places):
        files["places"] = write_csv(places, targets["places"])

    service_ids = list(catalogue)
    statfi, osm = "© Statistics Finland (Tilastokeskus), CC BY 4.0", "© OpenStreetMap contributors, ODbL 1.0"
    inputs: dict[str, Any] = {
        "municipalities": {"path": targets["municipalities"].name, "attribution": statfi},
        "population": {"path": targets["population"].name, "attribution": statfi},
        "service_points": {"path": targets["service_points"].name, "attribution": osm},
    }
    if "places" in files:
        inputs["places"] = {"path": targets["places"].name, "attribution": osm}
    network: dict[str, Any] = {"source": road_file, "attribution": osm}
    if roads is None:
        network.update({"layer": "road", "class_column": "highway", "oneway_column": "oneway"})
    network.update({"cost": "distance", "snap_tolerance_m": int(DEFAULT_SNAP_TOLERANCE_M)})
    names = ", ".join(munis["name"].astype(str))
    cfg: dict[str, Any] = {
        "name": f"{names} (fetched)",
        "language": "fi",
        "inputs": inputs,
        "network": network,
        "services": catalogue,
        "export": {"suppress_below": 10},
    }
    # Fails loudly (ConfigError) when a catalogue default breaks the config schema.
    config_from_dict(cfg, base_dir=out_dir, source=str(targets["config"]))
    sources = {
        "municipalities.gpkg": f"{wfs_url} {kunta_layer} (CC BY 4.0, Statistics Finland)",
        "areas.gpkg": f"{wfs_url} hyvinvointialue4500k_{boundary_year}, maakunta4500k_{boundary_year} "
        "(CC BY 4.0, Statistics Finland)",
        "population.gpkg": f"{wfs_url} vaestoruutu:vaki{year}_1km (CC BY 4.0, Statistics Finland); "
        "-1 = suppressed by the source",
        "service_points.csv": f"{overpass_url} OSM amenities (ODbL, © OpenStreetMap contributors)",
        "places.csv": f"{overpass_url} OSM place=town/village/hamlet (ODbL)",
    }
    if roads is not None:
        sources[road_file] = ("OpenStreetMap through osmnx graph_from_polygon (ODbL)" if roads == "osmnx"
                              else f"{overpass_url} OSM highways (ODbL)")
    files["attribution"] = write_text(_attribution_md(code_list, sources, when), targets["attribution"])
    meta = {
        "fetched_at": when,
        "codes": code_list,
        "population_year": year,
        "boundary_year": boundary_year,
        "roads": roads,
        "mapping": tag_map,
        "counts": counts,
        "attribution": list(ATTRIBUTION.values()),
        "sources": sources,
        "http": {"downloaded": client.n_downloaded, "from_cache": client.n_cached},
        "warnings": warnings,
    }
    files["metadata"] = write_json(meta, targets["metadata"])
    files["config"] = write_text(_config_text(cfg, codes=code_list, when=when), targets["config"])
    say(f"workspace written to {out_dir}")
    return FetchResult(out_dir=out_dir, config_path=targets["config"], files=files, counts=counts,
                       services=tuple(service_ids), downloaded=client.n_downloaded,
                       from_cache=client.n_cached, warnings=tuple(warnings))
