"""OpenStreetMap readers: PBF and OSM XML (pyosmium) and place names (Overpass via osmnx).

Each returns the drivable ways and ferries as ``_Roads``: from a PBF split at junctions, from OSM
XML split where osmnx's graph simplification splits them (:mod:`.simplify`), from a place name
through osmnx's simplified graph. Only place names import osmnx.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import NetworkError, OfflineError
from .assemble import _empty_roads, _Roads, _to_3067
from .graphs import _roads_from_nx
from .kernels import _polyline_lengths
from .model import Progress
from .simplify import _dedup_vertices, _roads_simplified
from .tags import _OSM_WAY_TAGS, DRIVABLE_HIGHWAYS, _is_drivable, _oneway_code, parse_maxspeed

if TYPE_CHECKING:
    import networkx as nx
    import osmium


def _roads_from_ways(
    ref: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    way_offsets: np.ndarray,
    way_cls: np.ndarray,
    way_oneway: np.ndarray,
    way_speed: np.ndarray,
) -> _Roads:
    """Split OSM ways (vertex refs and projected coordinates) into roads between junctions."""
    nway = way_offsets.size - 1
    ref, x, y, way_of = _dedup_vertices(ref, x, y, way_offsets)
    counts = np.bincount(way_of, minlength=nway)
    offs = np.zeros(nway + 1, np.int64)
    np.cumsum(counts, out=offs[1:])
    good_way = counts >= 2
    first = np.zeros(ref.size, bool)
    last = np.zeros(ref.size, bool)
    first[offs[:-1][good_way]] = True
    last[offs[1:][good_way] - 1] = True
    valid = good_way[way_of]
    _, inv, cnt = np.unique(ref[valid], return_inverse=True, return_counts=True)
    shared = np.zeros(ref.size, bool)
    shared[valid] = cnt[inv] > 1
    brk = valid & (first | last | shared)
    brk_pos = np.flatnonzero(brk)
    starts = np.flatnonzero(brk & ~last)
    ends = brk_pos[np.searchsorted(brk_pos, starts, side="right")]
    nv = ends - starts + 1
    roff = np.zeros(starts.size + 1, np.int64)
    np.cumsum(nv, out=roff[1:])
    take = np.repeat(starts - roff[:-1], nv) + np.arange(roff[-1])
    xy = np.column_stack([x[take], y[take]])
    node_ids, node_inv = np.unique(np.concatenate([ref[starts], ref[ends]]), return_inverse=True)
    a = node_inv[: starts.size]
    b = node_inv[starts.size:]
    nx_ = np.empty(node_ids.size)
    ny_ = np.empty(node_ids.size)
    nx_[a], ny_[a] = x[starts], y[starts]
    nx_[b], ny_[b] = x[ends], y[ends]
    w = way_of[starts]
    ow = way_oneway[w]
    length = _polyline_lengths(roff, xy)
    return _Roads(
        node_ids=node_ids.astype(np.int64), x=nx_, y=ny_, a=a, b=b, offsets=roff, xy=xy,
        fwd=ow >= 0, bwd=ow <= 0, length_m=length, speed_kmh=way_speed[w].astype(float),
        cls=np.asarray(way_cls, dtype=object)[w],
    )


@dataclass(frozen=True)
class _Ways:
    """Drivable ways and ferries read with pyosmium: vertex refs and lon/lat, per way its class,
    one-way code (``1``, ``-1``, ``0``), speed (km/h, ``nan`` unknown) and a number for its
    (``highway``, ``route``, ``maxspeed``) values."""

    ref: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    offsets: np.ndarray
    cls: np.ndarray
    oneway: np.ndarray
    speed: np.ndarray
    key: np.ndarray


class _WayCollector:
    """Drivable ways and ferries gathered vertex by vertex into runs of located vertices: a way
    is split where a vertex has no location (outside the extract)."""

    def __init__(self, speeds: Mapping[str, float]) -> None:
        self.speeds = speeds
        self.refs: list[int] = []
        self.lons: list[float] = []
        self.lats: list[float] = []
        self.offsets = [0]
        self.cls: list[str] = []
        self.oneway: list[int] = []
        self.speed: list[float] = []
        self.key: list[int] = []
        self.keys: dict[tuple[str | None, ...], int] = {}
        self.missing = 0
        self.attrs: tuple[str, int, float, int] = ("", 0, 0.0, 0)

    def start(self, tags: Mapping[str, str]) -> bool:
        """Begin a way; False when it is not drivable (then add nothing for it)."""
        c = _is_drivable(tags)
        if c is None:
            return False
        values = (tags.get("highway"), tags.get("route"), tags.get("maxspeed"))
        k = self.keys.setdefault(values, len(self.keys))
        self.attrs = (c, _oneway_code(tags), parse_maxspeed(tags.get("maxspeed"), speeds=self.speeds), k)
        return True

    def vertex(self, ref: int, lon: float | None, lat: float | None) -> None:
        if lon is None or lat is None:
            self.missing += 1
            self.close()
        else:
            self.refs.append(ref)
            self.lons.append(lon)
            self.lats.append(lat)

    def close(self) -> None:
        """End the current run (at a missing vertex or the end of the way)."""
        start = self.offsets[-1]
        if len(self.refs) - start >= 2:
            self.offsets.append(len(self.refs))
            c, o, s, k = self.attrs
            self.cls.append(c)
            self.oneway.append(o)
            self.speed.append(s)
            self.key.append(k)
        else:  # a run of fewer than two vertices is no road
            del self.refs[start:], self.lons[start:], self.lats[start:]

    def ways(self) -> _Ways:
        return _Ways(
            ref=np.asarray(self.refs, np.int64), lon=np.asarray(self.lons, float),
            lat=np.asarray(self.lats, float), offsets=np.asarray(self.offsets, np.int64),
            cls=np.asarray(self.cls, dtype=object), oneway=np.asarray(self.oneway, np.int8),
            speed=np.asarray(self.speed, float), key=np.asarray(self.key, np.int64),
        )


def _way_tags(w: osmium.osm.Way) -> dict[str, str]:
    return {k: w.tags[k] for k in _OSM_WAY_TAGS if k in w.tags}


def _read_ways(
    source: Callable[[], str | osmium.io.File], speeds: Mapping[str, float], *, any_order: bool = False
) -> _Ways:
    """The drivable ways and ferries of an OSM file (``source()`` opens it); a way is split
    where a vertex is missing.

    One pass finds the vertices' locations from the nodes read before the ways (sorted files:
    PBF extracts, JOSM and most Overpass answers). With ``any_order``, a file where some vertex
    had no location is read again in two passes, the ways and then the nodes they use, for files
    that list ways before nodes (an Overpass ``out body; >; out skel qt;`` answer).

    Raises what libosmium raises for a file it cannot read (``RuntimeError``, ``OSError``).
    """
    import osmium

    col = _WayCollector(speeds)
    fp = (
        osmium.FileProcessor(source(), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway", "route"))
    )
    for w in cast("Iterator[osmium.osm.Way]", fp):  # the entity filter passes ways only
        if col.start(_way_tags(w)):
            for nd in w.nodes:
                loc = nd.location
                col.vertex(nd.ref, *((loc.lon, loc.lat) if loc.valid() else (None, None)))
            col.close()
    if not (any_order and col.missing):
        return col.ways()
    ways: list[tuple[dict[str, str], list[int]]] = []
    fp = osmium.FileProcessor(source(), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway", "route"))
    for w in cast("Iterator[osmium.osm.Way]", fp):
        tags = _way_tags(w)
        if _is_drivable(tags) is not None:
            ways.append((tags, [nd.ref for nd in w.nodes]))
    need = {r for _, refs in ways for r in refs}
    where: dict[int, tuple[float, float]] = {}
    fp = osmium.FileProcessor(source(), osmium.osm.NODE).with_filter(osmium.filter.IdFilter(need))
    for n in cast("Iterator[osmium.osm.Node]", fp):
        if n.location.valid():
            where[n.id] = (n.location.lon, n.location.lat)
    col = _WayCollector(speeds)
    for tags, refs in ways:
        col.start(tags)
        for r in refs:
            col.vertex(r, *where.get(r, (None, None)))
        col.close()
    return col.ways()


def _read_pbf(path: Path, speeds: Mapping[str, float], progress: Progress | None) -> _Roads:
    """Drivable ways and ferries from an OSM PBF (or any file libosmium reads) with pyosmium."""
    try:
        ways = _read_ways(lambda: str(path), speeds)
    except (RuntimeError, OSError, ValueError) as e:  # libosmium raises RuntimeError for corrupt input
        msg = (
            f"{path}: cannot read the OSM file ({str(e).splitlines()[0] if str(e) else type(e).__name__}). "
            "Fix: check the file is a complete .osm.pbf download (e.g. from Geofabrik) and not truncated"
        )
        raise NetworkError(msg) from e
    if progress:
        progress(f"network: read {ways.cls.size:,} drivable ways from {path.name}")
    if not ways.cls.size:
        return _empty_roads()
    x, y = _to_3067(ways.lon, ways.lat, "EPSG:4326")
    return _roads_from_ways(ways.ref, x, y, ways.offsets, ways.cls, ways.oneway, ways.speed)


_XML_FORMATS = ((".bz2", "osm.bz2"), (".gz", "osm.gz"))
"""libosmium's format names of compressed OSM XML, by the file name's ending (else ``osm``)."""


def _read_osm_xml(path: Path, speeds: Mapping[str, float], progress: Progress | None) -> _Roads:
    """OSM XML (``.osm``, ``.osm.xml``, ``.osm.bz2``, ``.osm.gz``) with pyosmium.

    The roads are those of the osmnx graph this reader used to build: every drivable way and
    ferry, split at the nodes osmnx's simplification keeps (:mod:`.simplify`).
    """
    import osmium

    name = path.name.lower()
    fmt = next((f for end, f in _XML_FORMATS if name.endswith(end)), "osm")
    try:
        ways = _read_ways(lambda: osmium.io.File(str(path), fmt), speeds, any_order=True)
    except (RuntimeError, OSError, ValueError) as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        if isinstance(e, OSError) or text.startswith(("bzip2 error", "gzip error")):
            msg = (
                f"{path}: cannot read the OSM XML file ({text}). Fix: check the file is complete "
                "OSM XML (a truncated .bz2 or .gz breaks it); download or export it again"
            )
        else:  # libosmium's XML errors name the line and column
            msg = (
                f"{path}: not valid OSM XML ({text}). "
                "Fix: download the file again or export it anew (JOSM, Overpass)"
            )
        raise NetworkError(msg) from e
    if progress:
        progress(f"network: read {ways.cls.size:,} drivable ways from {path.name}")
    if not ways.cls.size:
        return _empty_roads()
    x, y = _to_3067(ways.lon, ways.lat, "EPSG:4326")
    return _roads_simplified(
        ways.ref, x, y, ways.offsets, ways.cls, ways.oneway, ways.speed, ways.key, speeds
    )


@contextlib.contextmanager
def _osmnx_settings(**overrides: Any) -> Iterator[Any]:
    """Temporarily change osmnx's global settings (restored afterwards)."""
    import osmnx as ox

    old = {k: getattr(ox.settings, k) for k in overrides}
    try:
        for k, v in overrides.items():
            setattr(ox.settings, k, v)
        yield ox
    finally:
        for k, v in old.items():
            setattr(ox.settings, k, v)


def _drivable_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph | None:
    """The drivable highway edges and ferries of an unsimplified osmnx graph, simplified.

    Nodes left isolated are dropped; ``None`` when no edge is left. Called within
    :func:`_osmnx_settings`.
    """
    import osmnx as ox

    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if _is_drivable(d) is None]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n, deg in G.degree() if deg == 0])
    if G.number_of_edges() == 0:
        return None
    return ox.simplify_graph(G, edge_attrs_differ=["highway", "route", "maxspeed"], remove_rings=False)


def _read_place(
    place: str, speeds: Mapping[str, float], cache_dir: Path | None, progress: Progress | None
) -> _Roads:
    import requests
    from osmnx._errors import InsufficientResponseError, ResponseStatusCodeError

    hw = "|".join(sorted(DRIVABLE_HIGHWAYS))
    filters = [
        f'["highway"~"^({hw})$"]["area"!~"yes"]["motor_vehicle"!~"no"]["motorcar"!~"no"]["access"!~"^no$"]',
        '["route"="ferry"]["motor_vehicle"!~"no"]["motorcar"!~"no"]',
    ]
    settings: dict[str, Any] = {
        "useful_tags_way": sorted(set(_OSM_WAY_TAGS)),
        "requests_timeout": 10,
        "log_console": False,
        "use_cache": cache_dir is not None,
    }
    if cache_dir is not None:
        settings["cache_folder"] = str(cache_dir / "osmnx")
    if progress:
        progress(f"network: downloading roads of '{place}' from OpenStreetMap")
    with _osmnx_settings(**settings) as ox:
        try:
            G = ox.graph_from_place(place, simplify=False, retain_all=True, custom_filter=filters)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
            msg = (
                f"network.place '{place}': no internet connection (cannot reach OpenStreetMap: "
                f"{type(e).__name__}). Fix: download an OSM extract (e.g. finland-latest.osm.pbf from "
                "Geofabrik, or an .osm export) and give it as `network.source`"
            )
            raise OfflineError(msg) from e
        except ResponseStatusCodeError:  # an error status of the server, not a bad place name
            raise
        except (InsufficientResponseError, TypeError, ValueError) as e:
            msg = (
                f"network.place '{place}': OpenStreetMap returned no usable area or roads "
                f"({e}). Fix: check the place name (e.g. 'Posio, Finland') or give an OSM file "
                "as `network.source`"
            )
            raise NetworkError(msg) from e
        drivable = _drivable_graph(G)
        if drivable is None:
            return _empty_roads()
    return _roads_from_nx(drivable, speeds=speeds, keep_length=False, source=f"place '{place}'")
