"""OpenStreetMap readers: PBF (pyosmium), OSM XML (osmnx) and place names (Overpass via osmnx).

Each returns the drivable ways and ferries as ``_Roads``, split at junctions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import NetworkError, OfflineError
from .assemble import _empty_roads, _Roads, _to_3067
from .graphs import _roads_from_nx
from .kernels import _polyline_lengths
from .model import Progress
from .tags import _OSM_WAY_TAGS, DRIVABLE_HIGHWAYS, _is_drivable, _oneway_code, parse_maxspeed

if TYPE_CHECKING:
    import networkx as nx


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
    way_of = np.repeat(np.arange(nway), np.diff(way_offsets))
    # Drop consecutive duplicate vertices within a way.
    dup = np.zeros(ref.size, bool)
    if ref.size > 1:
        dup[1:] = (ref[1:] == ref[:-1]) & (way_of[1:] == way_of[:-1])
    if dup.any():
        ref, x, y, way_of = ref[~dup], x[~dup], y[~dup], way_of[~dup]
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


def _read_pbf(path: Path, speeds: Mapping[str, float], progress: Progress | None) -> _Roads:
    """Drivable ways and ferries from an OSM PBF (or any file libosmium reads) with pyosmium."""
    import osmium

    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    offsets = [0]
    cls: list[str] = []
    oneway: list[int] = []
    speed: list[float] = []

    def close_run(c: str, o: int, s: float) -> None:
        if len(refs) - offsets[-1] >= 2:
            offsets.append(len(refs))
            cls.append(c)
            oneway.append(o)
            speed.append(s)
        else:  # a run of fewer than two vertices is no road
            del refs[offsets[-1]:], lons[offsets[-1]:], lats[offsets[-1]:]

    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway", "route"))
        )
        # The entity filter passes ways only.
        for w in cast("Iterator[osmium.osm.Way]", fp):
            tags = {k: w.tags.get(k) for k in _OSM_WAY_TAGS if k in w.tags}
            c = _is_drivable(tags)
            if c is None:
                continue
            o = _oneway_code(tags)
            s = parse_maxspeed(tags.get("maxspeed"), speeds=speeds)
            for nd in w.nodes:
                loc = nd.location
                if loc.valid():
                    refs.append(nd.ref)
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                else:  # vertex outside the extract: split the way here
                    close_run(c, o, s)
            close_run(c, o, s)
    except NetworkError:
        raise
    except Exception as e:  # libosmium raises RuntimeError for corrupt input
        msg = (
            f"{path}: cannot read the OSM file ({str(e).splitlines()[0] if str(e) else type(e).__name__}). "
            "Fix: check the file is a complete .osm.pbf download (e.g. from Geofabrik) and not truncated"
        )
        raise NetworkError(msg) from e
    if progress:
        progress(f"network: read {len(cls):,} drivable ways from {path.name}")
    if not cls:
        return _empty_roads()
    ref = np.asarray(refs, np.int64)
    x, y = _to_3067(np.asarray(lons), np.asarray(lats), "EPSG:4326")
    return _roads_from_ways(
        ref, x, y, np.asarray(offsets, np.int64), np.asarray(cls, dtype=object),
        np.asarray(oneway, np.int8), np.asarray(speed, float),
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


def _read_osm_xml(path: Path, speeds: Mapping[str, float], progress: Progress | None) -> _Roads:
    """OSM XML (``.osm``, ``.osm.bz2``) through :func:`osmnx.graph_from_xml`.

    ``graph_from_xml`` applies no tag filter: every way of the file becomes edges, ferries
    (``route=ferry``) included, so drivable highways and ferries are selected here.
    """
    import xml.etree.ElementTree as ET
    import xml.sax

    from osmnx._errors import InsufficientResponseError

    tags = sorted(set(_OSM_WAY_TAGS))
    with _osmnx_settings(useful_tags_way=tags, log_console=False) as ox:
        try:
            G = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
        except xml.sax.SAXParseException as e:
            msg = (
                f"{path}: not valid OSM XML (line {e.getLineNumber()}, column {e.getColumnNumber()}: "
                f"{e.getMessage()}). Fix: download the file again or export it anew (JOSM, Overpass)"
            )
            raise NetworkError(msg) from e
        except ET.ParseError as e:
            msg = (
                f"{path}: not valid OSM XML ({e}). "
                "Fix: download the file again or export it anew (JOSM, Overpass)"
            )
            raise NetworkError(msg) from e
        except InsufficientResponseError as e:  # a file without any nodes or ways
            msg = (
                f"{path}: the OSM file holds no data (no drivable roads). Fix: download or export "
                "the roads of the area again (Geofabrik extract, JOSM or Overpass export)"
            )
            raise NetworkError(msg) from e
        except (EOFError, OSError, KeyError, ValueError) as e:
            msg = (
                f"{path}: cannot read the OSM XML file ({type(e).__name__}: {e}). Fix: check the file "
                "is complete OSM XML (a truncated .bz2 or a missing node breaks it)"
            )
            raise NetworkError(msg) from e
        drivable = _drivable_graph(G)
        if drivable is None:
            return _empty_roads()
    if progress:
        progress(f"network: {path.name}: {len(drivable):,} nodes after osmnx simplification")
    return _roads_from_nx(drivable, speeds=speeds, keep_length=False, source=str(path))


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
