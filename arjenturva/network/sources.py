"""Reading a road network file: the reader chosen by the file's suffix (:func:`load_network_source`)."""

from __future__ import annotations

from pathlib import Path

from ..config import NetworkConfig
from ..errors import NetworkError
from .assemble import _assemble
from .graphs import _read_graphml
from .lines import _read_lines_file, _roads_from_gdf
from .model import Network, Progress
from .osm import _read_osm_xml, _read_pbf

_OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.xml", ".osm.gz")
_PBF_SUFFIXES = (".osm.pbf", ".pbf")
_GRAPHML_SUFFIXES = (".graphml", ".graphml.gz")
_LINE_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".parquet", ".geoparquet", ".zip")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for s in (*_PBF_SUFFIXES, *_OSM_SUFFIXES, *_GRAPHML_SUFFIXES, *_LINE_SUFFIXES):
        if name.endswith(s):
            return s
    return path.suffix.lower()


def load_network_source(
    path: str | Path,
    cfg: NetworkConfig | None = None,
    *,
    progress: Progress | None = None,
) -> Network:
    """Build a network from a source file, without the cache.

    Parameters
    ----------
    path
        ``.osm``/``.osm.bz2``/``.osm.gz`` and ``.osm.pbf`` (pyosmium), ``.graphml`` (osmnx) or a
        line layer (``.gpkg``, ``.shp``, ``.geojson``, ``.parquet``).
    cfg
        Network settings (layer, class and one-way columns, speeds, merge tolerance); defaults
        to :class:`~arjenturva.config.NetworkConfig` with this source.
    progress
        Called with short status messages.

    Returns
    -------
    Network

    Raises
    ------
    NetworkError
        Missing or unreadable file, corrupt XML, a layer without lines, no CRS, no drivable roads.
    """
    p = Path(path)
    cfg = cfg or NetworkConfig(source=str(p))
    speeds = cfg.speeds()
    if not p.exists():
        msg = (
            f"{p}: road network file not found. Fix: check `network.source` in the config "
            "(paths are relative to the config file)"
        )
        raise NetworkError(msg)
    if p.is_dir():
        msg = f"{p}: is a folder, not a road network file. Fix: point `network.source` at a file"
        raise NetworkError(msg)
    if p.stat().st_size == 0:
        msg = f"{p}: the road network file is empty (no roads). Fix: download or export it again"
        raise NetworkError(msg)
    suffix = _suffix(p)
    if progress:
        progress(f"network: reading {p.name}")
    if suffix in _PBF_SUFFIXES:
        roads = _read_pbf(p, speeds, progress)
    elif suffix in _OSM_SUFFIXES:
        roads = _read_osm_xml(p, speeds, progress)
    elif suffix in _GRAPHML_SUFFIXES:
        roads = _read_graphml(p, speeds, progress)
    elif suffix in _LINE_SUFFIXES:
        gdf = _read_lines_file(p, cfg.layer, suffix)
        roads = _roads_from_gdf(
            gdf, source=str(p), class_column=cfg.class_column, class_speeds_kmh=cfg.class_speeds_kmh,
            oneway_column=cfg.oneway_column, merge_tolerance_m=cfg.merge_tolerance_m, speeds=speeds,
        )
    else:
        msg = (
            f"{p}: unknown road network format '{suffix}'. Fix: use .osm, .osm.bz2, .osm.pbf, "
            ".graphml, or a line layer (.gpkg, .shp, .geojson)"
        )
        raise NetworkError(msg)
    return _assemble(roads, speeds=speeds, source=str(p), progress=progress)
