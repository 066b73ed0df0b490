"""The network cache: key, NPZ save and load, and :func:`build_network` (the cached build).

The key is the sha256 of the source file's bytes (or the place name) and the settings that
shape the network, so editing either rebuilds it. A scenario's edited network
(:class:`~arjenturva.network.edits.EditedNetworkConfig`) is cached under the unedited network's
key plus its edit set, and built from the unedited network, whose cache is reused as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..config import NetworkConfig
from ..errors import NetworkError
from .assemble import _assemble, _with_speed_factors
from .edits import EditedNetworkConfig, apply_network_edits, edit_digest
from .model import Network, Progress
from .osm import _read_place
from .sources import load_network_source

CACHE_FORMAT_VERSION = 1
"""Bump when the cache layout or the meaning of a stored array changes."""


_ARRAYS = (
    "node_ids", "x", "y", "road_a", "road_b", "road_fwd", "road_bwd", "road_length_m", "road_time_s",
    "road_class", "road_offsets", "road_xy", "edge_u", "edge_v", "edge_length_m", "edge_time_s",
    "edge_class", "edge_road", "edge_reversed", "component",
)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _settings_key(cfg: NetworkConfig) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT_VERSION,
        "layer": cfg.layer,
        "speeds": sorted(cfg.speeds().items()),
        "class_column": cfg.class_column,
        "class_speeds_kmh": sorted(cfg.class_speeds_kmh.items()),
        "speed_factors": sorted(cfg.speed_factors.items()),
        "oneway_column": cfg.oneway_column,
        "merge_tolerance_m": cfg.merge_tolerance_m,
        "network_type": cfg.network_type,
    }


def cache_key(cfg: NetworkConfig, *, base_dir: Path) -> str:
    """The cache key: sha256 of the source file's bytes (or the place name) and the settings; for
    an edited network, of the unedited network's key and the edit set."""
    h = hashlib.sha256()
    if isinstance(cfg, EditedNetworkConfig):
        h.update(cache_key(cfg.base(), base_dir=base_dir).encode())
        h.update(edit_digest(cfg, base_dir=Path(base_dir)).encode())
        return h.hexdigest()
    if cfg.source:
        h.update(_file_sha256(_resolve_source(cfg, base_dir)).encode())
    else:
        h.update(f"place:{cfg.place}".encode())
    h.update(json.dumps(_settings_key(cfg), sort_keys=True, default=str).encode())
    return h.hexdigest()


def _resolve_source(cfg: NetworkConfig, base_dir: Path) -> Path:
    p = Path(str(cfg.source)).expanduser()
    return p if p.is_absolute() else Path(base_dir) / p


def save_network(net: Network, path: Path) -> None:
    """Write a network to a compact NPZ file (arrays plus a JSON header with the format version).

    The file is written to a temporary name and renamed, so an interrupted write leaves no
    half file.
    """
    arrays: dict[str, np.ndarray] = {k: getattr(net, k) for k in _ARRAYS}
    for name in ("csr_length", "csr_time", "csr_length_t", "csr_time_t"):
        m = getattr(net, name)
        arrays[f"{name}_data"] = m.data
        if name in ("csr_length", "csr_length_t"):
            arrays[f"{name}_indices"] = m.indices
            arrays[f"{name}_indptr"] = m.indptr
    info = {k: v for k, v in net.info.items() if k not in ("cache_path", "from_cache", "seconds")}
    header = {"format": CACHE_FORMAT_VERSION, "class_names": list(net.class_names), "info": info}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=True, **arrays)  # numpy's default, named so ** can't fill it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_network(path: Path) -> Network:
    """Read a network written by :func:`save_network`.

    Raises
    ------
    NetworkError
        When the file is unreadable or was written by another cache format version.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            if header.get("format") != CACHE_FORMAT_VERSION:
                msg = (
                    f"{path}: network cache format {header.get('format')} is not "
                    f"{CACHE_FORMAT_VERSION}. Fix: delete the file; it is rebuilt from the source"
                )
                raise NetworkError(msg)
            arr = {k: z[k] for k in z.files if k != "header"}
    except NetworkError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        msg = f"{path}: cannot read the network cache ({e}). Fix: delete the file; it is rebuilt"
        raise NetworkError(msg) from e
    n = int(arr["node_ids"].shape[0])
    mats = {}
    for name in ("csr_length", "csr_time", "csr_length_t", "csr_time_t"):
        base = "csr_length" if name in ("csr_length", "csr_time") else "csr_length_t"
        mats[name] = sp.csr_array(
            (arr[f"{name}_data"], arr[f"{base}_indices"], arr[f"{base}_indptr"]), shape=(n, n)
        )
    net = Network(
        **{k: arr[k] for k in _ARRAYS}, class_names=tuple(header["class_names"]), **mats,
        info=dict(header["info"]),
    )
    return net


def build_network(
    cfg: NetworkConfig,
    *,
    base_dir: Path | str = ".",
    cache_dir: Path | str | None = None,
    progress: Progress | None = None,
) -> Network:
    """Build the road network of a workspace, or load it from the cache when still valid.

    Parameters
    ----------
    cfg
        The ``network`` section of the config; for a scenario that edits the roads an
        :class:`~arjenturva.network.edits.EditedNetworkConfig`, whose network is the unedited one
        (built or loaded as usual) with the edits applied, cached under a key of its own.
    base_dir
        Folder that ``cfg.source`` is relative to (the config file's folder).
    cache_dir
        Folder for the cache file ``network-<key>.npz``; ``None`` or ``cfg.cache = False``
        disables the cache. The key is the sha256 of the source file's bytes plus the settings
        that shape the network, so editing either rebuilds it.
    progress
        Called with short status messages.

    Returns
    -------
    Network
        Travel times are driven at ``cfg.speed_factors`` of the class speeds. ``info`` holds
        nodes, edges, roads, km, components, largest_nodes, largest_share, km_outside_largest,
        speed_factors (per class), source, cache_path, from_cache and seconds.

    Raises
    ------
    NetworkError
        The source is missing, unreadable, has no CRS or no drivable roads.
    OfflineError
        ``cfg.place`` is given and there is no internet connection.
    """
    t0 = time.perf_counter()
    base = Path(base_dir)
    src_label = str(_resolve_source(cfg, base)) if cfg.source else f"place '{cfg.place}'"
    if cfg.source:
        p = _resolve_source(cfg, base)
        if not p.exists():
            msg = (
                f"{p}: road network file not found (network.source = '{cfg.source}'). Fix: check "
                "the path in the config (relative to the config file), or use `network.place`"
            )
            raise NetworkError(msg)
    cache_path: Path | None = None
    if cache_dir is not None and cfg.cache:
        cache_path = Path(cache_dir) / f"network-{cache_key(cfg, base_dir=base)[:24]}.npz"
        cached = _from_cache(cache_path, src_label, t0, progress)
        if cached is not None:
            return cached
    if isinstance(cfg, EditedNetworkConfig):
        unedited = build_network(cfg.base(), base_dir=base, cache_dir=cache_dir, progress=progress)
        net = apply_network_edits(unedited, cfg, base_dir=base, progress=progress)
    elif cfg.source:
        net = load_network_source(_resolve_source(cfg, base), cfg, progress=progress)
    else:
        roads = _read_place(str(cfg.place), cfg.speeds(), Path(cache_dir) if cache_dir else None, progress)
        net = _assemble(roads, speeds=cfg.speeds(), source=src_label, progress=progress)
    if not isinstance(cfg, EditedNetworkConfig):
        net = _with_speed_factors(net, cfg.speed_factors)
    net.info.update(source=src_label)
    if cache_path is not None:
        cache_path = _into_cache(net, cache_path, progress)
    net.info.update(cache_path=str(cache_path) if cache_path else None, from_cache=False,
                    seconds=round(time.perf_counter() - t0, 3))
    return net


def _from_cache(cache_path: Path, src_label: str, t0: float, progress: Progress | None) -> Network | None:
    """The cached network, or None when there is none (or it is unusable: it is rebuilt)."""
    if not cache_path.exists():
        return None
    try:
        net = load_network(cache_path)
    except NetworkError as e:
        if progress:
            progress(f"network: cache unusable ({e}); rebuilding")
        return None
    net.info.update(cache_path=str(cache_path), from_cache=True,
                    seconds=round(time.perf_counter() - t0, 3), source=src_label)
    if progress:
        progress(f"network: loaded from cache {cache_path.name}")
    return net


def _into_cache(net: Network, cache_path: Path, progress: Progress | None) -> Path | None:
    """Save the network in the cache; None (and a warning in ``info``) when it cannot be written."""
    try:
        save_network(net, cache_path)
    except OSError as e:
        # A read-only or full workspace: the network still works, it is only not cached.
        net.info["cache_warning"] = (
            f"the road network could not be cached in {cache_path.parent} ({e.strerror or e}); "
            "it is rebuilt on every run. Fix: make the workspace folder writable, "
            "or set network.cache: false"
        )
        return None
    if progress:
        progress(f"network: cached as {cache_path.name}")
    return cache_path
