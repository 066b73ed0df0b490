"""OpenStreetMap through the Overpass API and osmnx: queries, amenities, places and roads.

Service points and named places come from one Overpass JSON answer
(:func:`amenity_query`, :func:`service_points_from_overpass`); roads either from an Overpass OSM
XML answer (:func:`road_query`, :func:`roads_from_osm_xml`) or from osmnx's ``graph_from_polygon``
saved as GraphML. All OSM data is ODbL.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from ..errors import OfflineError
from ..io import atomic_path
from ..schema import CRS, WGS84
from .http import FetchError, FetchTimeoutError, _error_excerpt

OVERPASS_URL = "https://overpass-api.de/api/interpreter"
"""The main public Overpass API instance."""

DRIVABLE_OSM_HIGHWAYS = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street",
    "service", "road",
)

PLACE_KINDS = ("town", "village", "hamlet")
"""OSM ``place`` values fetched as named places (used to name gap areas)."""


def _overpass_bbox(bbox_4326: Sequence[float]) -> str:
    w, s, e, n = bbox_4326
    return f"{s:.5f},{w:.5f},{n:.5f},{e:.5f}"


def _regex_values(values: Iterable[str]) -> str:
    import re

    return "|".join(re.escape(v) for v in sorted(set(values)))


def amenity_query(mapping: Mapping[str, str], bbox_4326: Sequence[float], *, places: bool = True,
                  timeout_s: int = 180) -> str:
    """The Overpass QL query for the mapped OSM tags (and named places) in a bounding box.

    Parameters
    ----------
    mapping
        ``{"key=value": service_id}``.
    bbox_4326
        ``(west, south, east, north)`` in degrees.
    places
        Also ask for ``place=town|village|hamlet`` nodes.
    timeout_s
        The server-side timeout written into the query.

    Returns
    -------
    str
        The query (JSON output, ``out center tags`` so ways and relations get a centre point).
    """
    by_key: dict[str, list[str]] = {}
    for tag, sid in mapping.items():
        if sid:
            key, _, value = tag.partition("=")
            by_key.setdefault(key, []).append(value)
    bb = _overpass_bbox(bbox_4326)
    parts = [f'nwr["{k}"~"^({_regex_values(v)})$"]({bb});' for k, v in sorted(by_key.items())]
    if places:
        parts.append(f'node["place"~"^({_regex_values(PLACE_KINDS)})$"]["name"]({bb});')
    return f"[out:json][timeout:{timeout_s}];({''.join(parts)});out center tags;"


def road_query(bbox_4326: Sequence[float], *, timeout_s: int = 300) -> str:
    """The Overpass QL query for drivable roads and ferries in a bounding box (OSM XML output)."""
    bb = _overpass_bbox(bbox_4326)
    hw = "|".join(DRIVABLE_OSM_HIGHWAYS)
    return (
        f"[out:xml][timeout:{timeout_s}];"
        f'(way["highway"~"^({hw})$"]({bb});way["route"="ferry"]({bb}););'
        "(._;>;);out body;"
    )


def _check_overpass_json(content: bytes) -> None:
    try:
        data = json.loads(content)
    except ValueError as e:
        msg = (f"Overpass API: the answer is not JSON ({_error_excerpt(content, 120)!r}). "
               "Fix: try again later (the public Overpass servers are often busy)")
        raise FetchError(msg) from e
    remark = str(data.get("remark", "")) if isinstance(data, dict) else ""
    if not isinstance(data, dict) or "elements" not in data or "runtime error" in remark:
        msg = (f"Overpass API: the query failed ({remark or 'no elements in the answer'}). "
               "Fix: try again later, or fetch fewer municipalities at a time")
        raise FetchError(msg)


def _check_overpass_xml(content: bytes) -> None:
    head = content[:2000]
    if b"<osm" not in head:
        msg = (f"Overpass API: the road answer is not OSM XML ({_error_excerpt(content, 120)!r}). "
               "Fix: try again later (the public Overpass servers are often busy)")
        raise FetchError(msg)
    if b"runtime error" in content[:5000] or b"<remark" in content[-3000:]:
        m = content[content.find(b"<remark"):][:300].decode("utf-8", "replace")
        msg = (f"Overpass API: the road query failed ({' '.join(m.split())}). "
               "Fix: try again later, or fetch fewer municipalities at a time")
        raise FetchError(msg)


def service_points_from_overpass(
    data: Mapping[str, Any],
    mapping: Mapping[str, str],
    catalogue: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Service points and named places from an Overpass JSON answer.

    Parameters
    ----------
    data
        The parsed Overpass JSON (``elements`` with ``tags`` and ``lat``/``lon`` or ``center``).
    mapping
        ``{"key=value": service_id}``; an element gets every service its tags map to.
    catalogue
        Service catalogue, for names of unnamed points (``"Apteekki (OSM node 5)"``).

    Returns
    -------
    (DataFrame, DataFrame)
        Service points (``point_id``, ``name``, ``services``, ``mode``, ``lon``, ``lat``,
        ``osm_type``, ``osm_id``, ``osm_tags``) and places (``name``, ``kind``, ``lon``, ``lat``).
    """
    rows: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    seen: set[str] = set()
    for el in data.get("elements", []):
        tags = el.get("tags") or {}
        if "lat" in el and "lon" in el:
            lat, lon = el["lat"], el["lon"]
        elif isinstance(el.get("center"), dict):
            lat, lon = el["center"].get("lat"), el["center"].get("lon")
        else:
            continue
        kind = str(el.get("type", "node"))
        pid = f"osm_{kind}_{el.get('id')}"
        matched = [(f"{k}={v}", mapping.get(f"{k}={v}", "")) for k, v in tags.items()]
        services = list(dict.fromkeys(s for _, s in matched if s))
        if services and pid not in seen:
            seen.add(pid)
            name = str(tags.get("name") or tags.get("brand") or tags.get("operator") or "").strip()
            if not name:
                first = services[0]
                label = (catalogue or {}).get(first, {}).get("label", {}).get("fi", first)
                name = f"{label} (OSM {kind} {el.get('id')})"
            rows.append({
                "point_id": pid,
                "name": name,
                "services": ";".join(services),
                "mode": "fixed",
                "lon": float(lon),
                "lat": float(lat),
                "osm_type": kind,
                "osm_id": el.get("id"),
                "osm_tags": ";".join(t for t, s in matched if s),
            })
        if kind == "node" and tags.get("place") in PLACE_KINDS and tags.get("name"):
            places.append({"name": str(tags["name"]), "kind": str(tags["place"]),
                           "population": tags.get("population", ""), "lon": float(lon), "lat": float(lat)})
    cols = ["point_id", "name", "services", "mode", "lon", "lat", "osm_type", "osm_id", "osm_tags"]
    points = pd.DataFrame(rows, columns=cols)
    place_df = pd.DataFrame(places, columns=["name", "kind", "population", "lon", "lat"])
    return points, place_df


def _within(df: pd.DataFrame, area: Any, margin_m: float) -> pd.DataFrame:
    if df.empty:
        return df
    pts = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs=WGS84).to_crs(CRS)
    zone = shapely.buffer(area, margin_m)
    keep = shapely.contains_xy(zone, pts.x.to_numpy(), pts.y.to_numpy())
    return df[keep].reset_index(drop=True)


def roads_from_osm_xml(content: bytes) -> gpd.GeoDataFrame:
    """A road line layer (EPSG:3067) from OSM XML, split at nodes shared by several ways.

    Parameters
    ----------
    content
        OSM XML (e.g. an Overpass ``out body`` answer with the ways' nodes).

    Returns
    -------
    GeoDataFrame
        One line per way segment between junctions, with ``osm_id``, ``highway``, ``oneway``,
        ``maxspeed`` and ``name``; ferries have ``highway = "ferry"``.
    """
    root = ET.fromstring(content)
    nodes = {str(el.get("id")): (float(el.get("lon", "nan")), float(el.get("lat", "nan")))
             for el in root.iter("node")}
    ways = []
    use: dict[str, int] = {}
    for w in root.iter("way"):
        refs = [str(nd.get("ref")) for nd in w.iter("nd") if str(nd.get("ref")) in nodes]
        tags = {t.get("k"): t.get("v") for t in w.iter("tag")}
        if len(refs) < 2:
            continue
        ways.append((w.get("id"), refs, tags))
        for i, r in enumerate(refs):
            use[r] = use.get(r, 0) + (2 if i in (0, len(refs) - 1) else 1)
    records, geoms = [], []
    for wid, refs, tags in ways:
        start = 0
        for i in range(1, len(refs)):
            if i == len(refs) - 1 or use.get(refs[i], 0) > 1:
                seg = refs[start:i + 1]
                if len(seg) >= 2:
                    geoms.append(shapely.LineString([nodes[r] for r in seg]))
                    records.append({
                        "osm_id": int(wid) if wid and wid.isdigit() else wid,
                        "highway": "ferry" if tags.get("route") == "ferry" else tags.get("highway", ""),
                        "oneway": tags.get("oneway", ""),
                        "maxspeed": tags.get("maxspeed", ""),
                        "name": tags.get("name", ""),
                    })
                start = i
    gdf = gpd.GeoDataFrame(records, geometry=geoms, crs=WGS84)
    return gdf.to_crs(CRS)


def _fetch_roads_osmnx(polygon_4326: Any, dest: Path, *, cache_dir: Path, timeout_s: float) -> int:
    """Drivable roads inside a polygon through osmnx, saved as GraphML; returns the edge count."""
    import osmnx as ox
    import requests

    keys = ("cache_folder", "use_cache", "requests_timeout", "log_console")
    old = {k: getattr(ox.settings, k) for k in keys}
    try:
        ox.settings.cache_folder = str(cache_dir)
        ox.settings.use_cache = True
        ox.settings.requests_timeout = timeout_s
        ox.settings.log_console = False
        try:
            G = ox.graph_from_polygon(polygon_4326, network_type="drive", simplify=True, retain_all=True)
        except (requests.exceptions.ConnectionError, requests.exceptions.ConnectTimeout) as e:
            msg = (
                "no internet connection: cannot reach the Overpass API to download roads through osmnx. "
                "Fix: connect to the internet and run `arjenturva fetch` again, or pass --no-roads and "
                "give a road file as `network.source`"
            )
            raise OfflineError(msg) from e
        except requests.exceptions.Timeout as e:
            msg = ("roads: the Overpass API did not answer in time (osmnx). Fix: try again later, or pass "
                   "--no-roads and give a road file as `network.source`")
            raise FetchTimeoutError(msg) from e
        with atomic_path(dest) as tmp:
            ox.save_graphml(G, filepath=tmp)
        return int(G.number_of_edges())
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)
