"""Network what-ifs of a scenario: roads closed (by id, class or polygon), class speeds changed and
road links added (the scenario keys ``close_roads``, ``speeds`` and ``add_roads``).

A scenario that edits the roads runs on an :class:`EditedNetworkConfig`, the ``network`` settings
plus the edit set. :func:`~arjenturva.network.build_network` builds (or loads from the cache) the
unedited network as usual, applies the edits with :func:`apply_network_edits` and caches the result
under a key of its own: the unedited network's key and the edit set, polygon files by their bytes.
The unedited network's cache is reused as it is.

The edits work on the built network, whatever its source. A closed road is left out; a class
speed sets the time of every road of that class (driven at the class's speed factor); an added
link is a straight road between the points of the network nearest to its ends, and a road an end
falls on is split there. The result is assembled again like any network (nodes reordered,
components recomputed), so snapping, sweeps and the cache treat it like any other.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pydantic import Field

from ..config import NetworkConfig
from ..errors import NetworkError
from ..scenario_config import AddedRoad, RoadClosure
from ..schema import CRS
from .assemble import _assemble, _Roads
from .kernels import _polyline_lengths
from .lines import NLS_CLASS_SPEEDS_KMH, _read_lines_file
from .model import Network, Progress
from .sources import _LINE_SUFFIXES, _suffix
from .tags import _class_factor, _class_speed

_AT_NODE_M = 1e-3
"""An added link's end this close to a road's end starts at that road's node (metres)."""


class EditedNetworkConfig(NetworkConfig):
    """The ``network`` settings of a scenario that edits the roads: the base settings and the edits."""

    edit_scenario: str = Field(description="the scenario's name, for messages")
    close_roads: list[RoadClosure] = Field(default_factory=list)
    edit_speeds_kmh: dict[str, float] = Field(default_factory=dict, description="the scenario's `speeds`")
    add_roads: list[AddedRoad] = Field(default_factory=list)

    def base(self) -> NetworkConfig:
        """The network settings without the edits (the very values, so the cache key is the same)."""
        return NetworkConfig.model_construct(**{k: getattr(self, k) for k in NetworkConfig.model_fields})


def edited_network_config(
    base: NetworkConfig,
    scenario: str,
    *,
    close_roads: Sequence[RoadClosure] = (),
    speeds: dict[str, float] | None = None,
    add_roads: Sequence[AddedRoad] = (),
) -> EditedNetworkConfig:
    """``base`` with a scenario's network edits (validated already: they are copied as they are)."""
    settings = {k: getattr(base, k) for k in NetworkConfig.model_fields}
    return EditedNetworkConfig.model_construct(
        **settings,
        edit_scenario=scenario,
        close_roads=list(close_roads),
        edit_speeds_kmh=dict(speeds or {}),
        add_roads=list(add_roads),
    )


def edit_set(cfg: EditedNetworkConfig, *, base_dir: Path) -> dict[str, Any]:
    """The edit set as plain data for the cache key (polygon files by the hash of their bytes)."""
    from ..io import file_hash

    closures = []
    for c in cfg.close_roads:
        d = c.model_dump(mode="json")
        if isinstance(c.polygon, str):
            p = _resolve(base_dir, c.polygon)
            d["polygon_sha256"] = file_hash(p) if p.is_file() else None
        closures.append(d)
    return {
        "close_roads": closures,
        "speeds": sorted(cfg.edit_speeds_kmh.items()),
        "add_roads": [a.model_dump(mode="json") for a in cfg.add_roads],
    }


def edit_digest(cfg: EditedNetworkConfig, *, base_dir: Path) -> str:
    """:func:`edit_set` as canonical JSON text."""
    return json.dumps(edit_set(cfg, base_dir=base_dir), sort_keys=True, default=str)


def _resolve(base_dir: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else Path(base_dir) / p


def _road_lines(net: Network) -> np.ndarray:
    idx = np.repeat(np.arange(net.n_roads), np.diff(net.road_offsets))
    return shapely.linestrings(net.road_xy, indices=idx)


@dataclass(frozen=True)
class _Roadmap:
    """The network being edited, its road lines with a spatial index, and where problems go."""

    net: Network
    cfg: EditedNetworkConfig
    base_dir: Path
    problems: list[str]
    lines: np.ndarray = field(init=False)
    tree: shapely.STRtree = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", _road_lines(self.net))
        object.__setattr__(self, "tree", shapely.STRtree(self.lines))


def apply_network_edits(
    net: Network, cfg: EditedNetworkConfig, *, base_dir: Path, progress: Progress | None = None
) -> Network:
    """The network with the scenario's roads closed, class speeds changed and links added.

    Raises
    ------
    NetworkError
        Naming the scenario key and the fix, for every edit that cannot be applied: an id not in
        the road file, a class not in the network, a polygon that closes nothing, a link end far
        from every road (all at once).
    """
    key = f"scenarios.{cfg.edit_scenario}"
    problems: list[str] = []
    roads = _Roadmap(net, cfg, Path(base_dir), problems)
    closed = np.zeros(net.n_roads, bool)
    for i, c in enumerate(cfg.close_roads):
        closed |= _closure(roads, c, where=f"{key}.close_roads[{i}]")
    time_s = _with_speeds(net, cfg.edit_speeds_kmh, where=f"{key}.speeds", problems=problems)
    keep = np.flatnonzero(~closed)
    table = _Table(net, keep, time_s)
    added_km = 0.0
    if cfg.add_roads:
        added_km = table.add_links(cfg, roads.lines[keep], where=f"{key}.add_roads", problems=problems)
    if problems:
        msg = f"the network edits of scenario '{cfg.edit_scenario}' cannot be applied:\n" + "\n".join(
            f"  - {p}" for p in problems
        )
        raise NetworkError(msg)
    if progress:
        progress(
            f"network: scenario '{cfg.edit_scenario}': {int(closed.sum())} roads closed, "
            f"{len(cfg.edit_speeds_kmh)} class speeds, {len(cfg.add_roads)} links added"
        )
    out = _assemble(
        table.roads(), speeds=cfg.speeds(), source=str(net.info.get("source", "")), progress=progress
    )
    factors = dict(net.info.get("speed_factors", {}))
    out.info.update(
        source=net.info.get("source"),
        speed_factors={
            c: float(factors.get(c, _class_factor(c, cfg.speed_factors))) for c in out.class_names
        },
        edits={
            "scenario": cfg.edit_scenario,
            "closed_roads": int(closed.sum()),
            "closed_km": round(float(net.road_length_m[closed].sum() / 1000.0), 3),
            "speeds_kmh": dict(cfg.edit_speeds_kmh),
            "added_roads": len(cfg.add_roads),
            "added_km": round(added_km, 3),
        },
    )
    return out


# ---------------------------------------------------------------------------------------------
# Closures and speeds
# ---------------------------------------------------------------------------------------------


def _closure(roads: _Roadmap, c: RoadClosure, *, where: str) -> np.ndarray:
    """The roads one ``close_roads`` entry closes."""
    net, problems = roads.net, roads.problems
    mask = np.zeros(net.n_roads, bool)
    if c.classes:
        names = np.asarray(net.class_names, dtype=object)
        unknown = [k for k in c.classes if k not in net.class_names]
        if unknown:
            problems.append(
                f"{where}.classes: no road of class {', '.join(unknown)} in the network (its classes: "
                f"{', '.join(net.class_names)}). Fix: use one of them"
            )
        mask = np.isin(names[net.road_class], list(c.classes)) if net.n_roads else mask
    elif c.ids:
        mask = _by_ids(roads, c, where=where)
    else:
        poly = _polygon(c, base_dir=roads.base_dir, where=where, problems=problems)
        if poly is not None:
            mask[roads.tree.query(poly, predicate="intersects")] = True
            if not mask.any():
                x0, y0, x1, y1 = shapely.bounds(poly)
                problems.append(
                    f"{where}.polygon closes nothing: no road runs into it (its bounds in EPSG:3067: x "
                    f"{x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}). Fix: check its corners and `crs` (x, y in "
                    "EPSG:3067 by default; lon, lat need crs: EPSG:4326)"
                )
    return mask


def _by_ids(roads: _Roadmap, c: RoadClosure, *, where: str) -> np.ndarray:
    """The roads that run along the features of the road file whose ``column`` is one of ``ids``."""
    net, cfg, problems = roads.net, roads.cfg, roads.problems
    mask = np.zeros(net.n_roads, bool)
    path = _resolve(roads.base_dir, str(cfg.source)) if cfg.source else None
    suffix = _suffix(path) if path is not None else ""
    if path is None or suffix not in _LINE_SUFFIXES:
        problems.append(
            f"{where}.ids: closing roads by id needs a road line layer as network.source (.gpkg, .shp, "
            f".geojson, ...), not {cfg.source or cfg.place!r}. Fix: close them with `classes` or `polygon`"
        )
        return mask
    gdf = _read_lines_file(path, cfg.layer, suffix)
    column = str(c.column)
    if column not in gdf.columns:
        problems.append(
            f"{where}.column: no column '{column}' in {path} (columns: "
            f"{', '.join(str(k) for k in gdf.columns if k != 'geometry')}). Fix: name its id column"
        )
        return mask
    values = gdf[column]
    if values.dtype.kind == "f" and values.dropna().mod(1).eq(0).all():
        text = values.map(lambda v: "" if v != v else str(int(v)))
    else:
        text = values.astype("string").str.strip().fillna("")
    unknown = [i for i in c.ids if i not in set(text)]
    if unknown:
        problems.append(
            f"{where}.ids: unknown road id(s) {', '.join(unknown)} in column '{column}' of {path}. "
            "Fix: use ids of that column"
        )
    chosen = gdf[text.isin(c.ids).to_numpy()]
    if chosen.empty:
        return mask
    geoms = chosen.geometry.to_crs(CRS) if str(chosen.crs) != CRS else chosen.geometry
    tol = 2 * cfg.merge_tolerance_m + 0.01  # line ends move by the merge of nearby ends
    for rid, geom in zip(text[text.isin(c.ids)], geoms, strict=True):
        hit = False
        for part in shapely.get_parts(np.asarray([geom], dtype=object)):
            cand = roads.tree.query(part, predicate="dwithin", distance=tol)
            close = cand[shapely.hausdorff_distance(roads.lines[cand], part) <= tol] if cand.size else cand
            mask[close] = True
            hit |= bool(close.size)
        if not hit:
            problems.append(
                f"{where}.ids: road '{rid}' of {path} is not in the network (not drivable, or "
                "too short). Fix: leave it out"
            )
    return mask


def _polygon(c: RoadClosure, *, base_dir: Path, where: str, problems: list[str]) -> Any:
    """The closure's polygon in EPSG:3067, or None (with a problem) when it cannot be had."""
    from pyproj import Transformer
    from pyproj.exceptions import CRSError

    if isinstance(c.polygon, str):
        return _polygon_file(_resolve(base_dir, c.polygon), c.layer, where=where, problems=problems)
    corners = np.asarray(c.polygon, float)
    try:
        tr = Transformer.from_crs(c.crs, CRS, always_xy=True)
    except CRSError:
        problems.append(f"{where}.crs: unknown CRS {c.crs!r}. Fix: use e.g. EPSG:3067 or EPSG:4326")
        return None
    x, y = tr.transform(corners[:, 0], corners[:, 1])
    poly = shapely.Polygon(np.column_stack([x, y]))
    if not poly.is_valid:
        problems.append(
            f"{where}.polygon: its sides cross each other. Fix: list the corners in order round it"
        )
        return None
    return poly


def _polygon_file(path: Path, layer: str | None, *, where: str, problems: list[str]) -> Any:
    import geopandas as gpd
    import pyogrio.errors

    if not path.is_file():
        problems.append(
            f"{where}.polygon: file {path} not found. Fix: check the path (relative to the config)"
        )
        return None
    try:
        gdf = gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as e:
        problems.append(
            f"{where}.polygon: cannot read {path} ({str(e).splitlines()[0]}). Fix: check it "
            "opens in QGIS, and give `layer` for a file with several layers"
        )
        return None
    if gdf.crs is None:
        problems.append(f"{where}.polygon: {path} has no CRS. Fix: set one in QGIS and save it again")
        return None
    geoms = gdf.to_crs(CRS).geometry
    geoms = geoms[geoms.geom_type.isin(["Polygon", "MultiPolygon"])]
    if geoms.empty:
        problems.append(f"{where}.polygon: {path} holds no polygons. Fix: draw the closed area as a polygon")
        return None
    return shapely.union_all(geoms.to_numpy())


def _with_speeds(net: Network, speeds: dict[str, float], *, where: str, problems: list[str]) -> np.ndarray:
    """Road times with every road of a class in ``speeds`` driven at that speed times its factor."""
    time_s = net.road_time_s.copy()
    unknown = [k for k in speeds if k not in net.class_names]
    if unknown:
        problems.append(
            f"{where}: no road of class {', '.join(unknown)} in the network (its classes: "
            f"{', '.join(net.class_names)}). Fix: use one of them"
        )
    factors = net.info.get("speed_factors", {})
    for k, kmh in speeds.items():
        if k in net.class_names:
            sel = net.road_class == net.class_names.index(k)
            time_s[sel] = net.road_length_m[sel] / (kmh * float(factors.get(k, 1.0)) / 3.6)
    return time_s


# ---------------------------------------------------------------------------------------------
# The road table, and added links
# ---------------------------------------------------------------------------------------------


class _Table:
    """The kept roads as lists a link can split, over the network's node table."""

    def __init__(self, net: Network, keep: np.ndarray, time_s: np.ndarray) -> None:
        self.net = net
        self.node_ids = list(net.node_ids.tolist())
        self.next_id = int(net.node_ids.max()) + 1 if net.n_nodes else 0
        self.x, self.y = list(net.x.tolist()), list(net.y.tolist())
        self.a, self.b = net.road_a[keep].astype(np.int64), net.road_b[keep].astype(np.int64)
        self.xy = [net.road_xy[net.road_offsets[r] : net.road_offsets[r + 1]] for r in keep]
        self.fwd, self.bwd = net.road_fwd[keep], net.road_bwd[keep]
        self.length, self.time = net.road_length_m[keep], time_s[keep]
        self.cls = np.asarray(net.class_names, dtype=object)[net.road_class[keep]]

    def roads(self) -> _Roads:
        counts = np.array([len(p) for p in self.xy], np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(self.time > 0, self.length / self.time * 3.6, np.nan)
        return _Roads(
            node_ids=np.asarray(self.node_ids, np.int64),
            x=np.asarray(self.x),
            y=np.asarray(self.y),
            a=np.asarray(self.a, np.int64),
            b=np.asarray(self.b, np.int64),
            offsets=offsets,
            xy=np.concatenate(self.xy) if self.xy else np.zeros((0, 2)),
            fwd=np.asarray(self.fwd, bool),
            bwd=np.asarray(self.bwd, bool),
            length_m=np.asarray(self.length, float),
            speed_kmh=speed,
            cls=np.asarray(self.cls, dtype=object),
        )

    def add_links(
        self, cfg: EditedNetworkConfig, lines: np.ndarray, *, where: str, problems: list[str]
    ) -> float:
        """Split the roads the links' ends fall on and add the links; return their km."""
        from pyproj import Transformer
        from pyproj.exceptions import CRSError

        tree = shapely.STRtree(lines)
        ends: list[tuple[int, float, np.ndarray] | None] = []
        for i, link in enumerate(cfg.add_roads):
            try:
                tr = Transformer.from_crs(link.crs, CRS, always_xy=True)
            except CRSError:
                problems.append(
                    f"{where}[{i}].crs: unknown CRS {link.crs!r}. Fix: use e.g. EPSG:3067 or EPSG:4326"
                )
                ends += [None, None]
                continue
            for side, (px, py) in (("start", link.start), ("end", link.end)):
                x, y = tr.transform(px, py)
                pt = shapely.Point(x, y)
                if not len(lines):
                    ends.append(None)
                    continue
                idx, dists = tree.query_nearest(pt, return_distance=True, all_matches=False)
                road, dist = int(idx[0]), float(dists[0])
                if dist > link.max_snap_m:
                    away = f"{dist / 1000:.1f} km" if dist >= 10_000 else f"{dist:.0f} m"
                    problems.append(
                        f"{where}[{i}].{side}: ({x:.0f}, {y:.0f}) in EPSG:3067 is {away} from the nearest "
                        f"road, more than max_snap_m ({link.max_snap_m:.0f} m). Fix: put the end on a road "
                        "(x, y in EPSG:3067, or lon, lat with crs: EPSG:4326), or raise max_snap_m"
                    )
                    ends.append(None)
                    continue
                ends.append((int(road), float(shapely.line_locate_point(lines[road], pt)), np.array([x, y])))
        if problems:
            return 0.0
        nodes = self._split([e for e in ends if e is not None])
        km = 0.0
        for i, link in enumerate(cfg.add_roads):
            u, v = nodes[2 * i], nodes[2 * i + 1]
            p, q = np.array([self.x[u], self.y[u]]), np.array([self.x[v], self.y[v]])
            length = float(np.hypot(*(q - p)))
            if u == v or length < 1.0:
                problems.append(
                    f"{where}[{i}]: both ends fall on the same point of the network. Fix: move one"
                )
                continue
            cls = link.road_class or "default"
            kmh = link.speed_kmh or _class_speed_kmh(cls, cfg)
            time = length / (kmh * _class_factor(cls, cfg.speed_factors) / 3.6)
            self._append(u, v, np.vstack([p, q]), True, not link.oneway, length, time, cls)
            km += length / 1000.0
        return km

    def _split(self, ends: list[tuple[int, float, np.ndarray]]) -> list[int]:
        """Node index of every end: a road's end node, or a new node where the road is cut."""
        cuts: dict[int, list[float]] = {}
        for road, s, _ in ends:
            cuts.setdefault(road, []).append(s)
        node_at: dict[tuple[int, float], int] = {}
        drop: list[int] = []
        for road, ss in sorted(cuts.items()):
            xy = self.xy[road]
            total = float(_polyline_lengths(np.array([0, len(xy)]), xy)[0])
            inner = sorted({round(s, 6) for s in ss if _AT_NODE_M < s < total - _AT_NODE_M})
            for s in ss:
                if s <= _AT_NODE_M:
                    node_at[(road, s)] = int(self.a[road])
                elif s >= total - _AT_NODE_M:
                    node_at[(road, s)] = int(self.b[road])
            if not inner:
                continue
            pieces = _cut(xy, inner)
            new = []
            for s, piece in zip(inner, pieces[1:], strict=True):
                self.node_ids.append(self.next_id)
                self.next_id += 1
                self.x.append(float(piece[0, 0]))
                self.y.append(float(piece[0, 1]))
                new.append(len(self.x) - 1)
                for s_ in ss:
                    if round(s_, 6) == s:
                        node_at[(road, s_)] = new[-1]
            chain = [int(self.a[road]), *new, int(self.b[road])]
            geo = _polyline_lengths(
                np.concatenate([[0], np.cumsum([len(p) for p in pieces])]), np.concatenate(pieces)
            )
            share = geo / total if total > 0 else np.full(len(pieces), 1.0 / len(pieces))
            for k, piece in enumerate(pieces):
                self._append(
                    chain[k],
                    chain[k + 1],
                    piece,
                    bool(self.fwd[road]),
                    bool(self.bwd[road]),
                    float(self.length[road] * share[k]),
                    float(self.time[road] * share[k]),
                    str(self.cls[road]),
                )
            drop.append(road)
        nodes = [node_at[(road, s)] for road, s, _ in ends]
        if drop:
            keep = np.setdiff1d(np.arange(len(self.xy)), drop)
            self.a, self.b, self.fwd, self.bwd = self.a[keep], self.b[keep], self.fwd[keep], self.bwd[keep]
            self.length, self.time, self.cls = self.length[keep], self.time[keep], self.cls[keep]
            self.xy = [self.xy[k] for k in keep]
        return nodes

    def _append(
        self, a: int, b: int, xy: np.ndarray, fwd: bool, bwd: bool, length: float, time: float, cls: str
    ) -> None:
        self.a, self.b = np.append(self.a, a), np.append(self.b, b)
        self.xy.append(xy)
        self.fwd, self.bwd = np.append(self.fwd, fwd), np.append(self.bwd, bwd)
        self.length, self.time = np.append(self.length, length), np.append(self.time, time)
        self.cls = np.append(self.cls, np.array([cls], dtype=object))


def _cut(xy: np.ndarray, cuts: Sequence[float]) -> list[np.ndarray]:
    """A polyline cut at distances along it (ascending, strictly inside) into pieces."""
    seg = np.hypot(*np.diff(xy, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])

    def at(s: float) -> np.ndarray:
        i = int(np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1))
        t = (s - cum[i]) / seg[i] if seg[i] > 0 else 0.0
        return np.asarray(xy[i] + t * (xy[i + 1] - xy[i]))

    bounds = [0.0, *cuts, float(cum[-1])]
    pieces = []
    for k in range(len(bounds) - 1):
        s0, s1 = bounds[k], bounds[k + 1]
        p0 = xy[0] if k == 0 else at(s0)
        p1 = xy[-1] if k == len(bounds) - 2 else at(s1)
        inner = xy[(cum > s0) & (cum < s1)]
        pieces.append(np.vstack([p0, inner, p1]))
    return pieces


def _class_speed_kmh(cls: str, cfg: EditedNetworkConfig) -> float:
    """The speed of a road class as the network's reader gives it (the scenario's speeds first)."""
    if cls in cfg.edit_speeds_kmh:
        return float(cfg.edit_speeds_kmh[cls])
    table = dict(cfg.class_speeds_kmh)
    if not table and cfg.class_column and cfg.class_column.upper() == "DXF_LAYER":
        table = dict(NLS_CLASS_SPEEDS_KMH)
    return float(table.get(cls, _class_speed(cls, cfg.speeds())))
