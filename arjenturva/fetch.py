"""Downloading a ready workspace from public sources (``arjenturva fetch``, design.md §7).

Sources:

- municipality, wellbeing services county and region boundaries and the 1 km population grid
  from Statistics Finland's WFS (``https://geo.stat.fi/geoserver/wfs``; CC BY 4.0);
- service points (and named places) from OpenStreetMap amenities through the Overpass API (ODbL);
- roads from OpenStreetMap through osmnx (``graph_from_polygon``, saved as GraphML) or through
  the Overpass API (saved as OSM XML); both ODbL.

Every HTTP request goes through :class:`HttpClient`: short connect timeout, bounded retries with
exponential backoff on 429/5xx and timeouts, and a cache in ``<out>/.arjenturva-cache/http/``
keyed by a hash of the URL and the parameters. A cached response is reused without touching the
network, so a second run works offline. Nothing is written to the workspace before every download
has succeeded, and every file is written atomically. Library code never prints: progress goes to
an optional callback.
"""

from __future__ import annotations

import hashlib
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from .config import DEFAULT_CONFIG_NAME, config_from_dict
from .errors import ArjenturvaError, OfflineError
from .io import atomic_path, ensure_writable, write_csv, write_gpkg, write_json, write_text
from .schema import CRS, WGS84, normalise_code

if TYPE_CHECKING:
    import requests

Progress = Callable[[str], None]
RoadSource = Literal["osmnx", "overpass"]

STATFI_WFS_URL = "https://geo.stat.fi/geoserver/wfs"
"""Statistics Finland's GeoServer WFS endpoint (all workspaces)."""

OVERPASS_URL = "https://overpass-api.de/api/interpreter"
"""The main public Overpass API instance."""

CACHE_SUBDIR = Path(".arjenturva-cache") / "http"
"""Where :func:`fetch_workspace` caches HTTP responses, relative to the output folder."""

USER_AGENT = "arjenturva-fetch (+https://github.com/; rural service network mapping)"

DEFAULT_BOUNDARY_YEAR = 2025
DEFAULT_POPULATION_YEAR = 2023

ATTRIBUTION: dict[str, str] = {
    "statfi": "Municipality, wellbeing services county and region boundaries and the 1 km population "
    "grid: © Statistics Finland (Tilastokeskus), CC BY 4.0",
    "osm": "Service points, places and roads: © OpenStreetMap contributors, ODbL 1.0 "
    "(https://www.openstreetmap.org/copyright)",
}

DEFAULT_SERVICE_MAPPING: dict[str, str] = {
    "amenity=clinic": "health_station",
    "amenity=doctors": "health_station",
    "amenity=hospital": "health_station",
    "healthcare=centre": "health_station",
    "amenity=dentist": "dentist",
    "amenity=pharmacy": "pharmacy",
    "shop=supermarket": "grocery",
    "shop=convenience": "grocery",
    "shop=general": "grocery",
    "amenity=library": "library",
    "amenity=school": "school",
    "amenity=kindergarten": "daycare",
    "amenity=post_office": "post_office",
    "post_office=post_partner": "post_office",
    "amenity=townhall": "municipal_services",
    "amenity=bank": "cash",
    "amenity=atm": "cash",
    "amenity=fuel": "fuel",
}
"""OSM ``key=value`` tags and the service id each maps to. Override with ``mapping=`` (a dict, or a
YAML file read by :func:`load_service_mapping`); a tag mapped to ``""`` or ``null`` is dropped."""

_ALL_AREA = ("K1", "K2", "K3", "M4", "M5", "M6", "M7")

DEFAULT_SERVICE_CATALOGUE: dict[str, dict[str, Any]] = {
    "health_station": {
        "label": {"fi": "Terveysasema", "en": "Health station"},
        "demand": "population",
        "threshold_km": {"default": 20, "M6": 30, "M7": 40},
        "sectors": ["wellbeing_county", "company", "cooperative", "association"],
        "mobile": {"required_days": 5},
        "remote": 0.5,
    },
    "dentist": {
        "label": {"fi": "Hammashoitola", "en": "Dental clinic"},
        "demand": "population",
        "threshold_km": {"default": 30, "M7": 60},
        "sectors": ["wellbeing_county", "company"],
    },
    "pharmacy": {
        "label": {"fi": "Apteekki", "en": "Pharmacy"},
        "demand": "population",
        "threshold_km": {"default": 20, "M6": 30, "M7": 40},
        "sectors": ["company", "foundation"],
        "remote": 0.5,
    },
    "grocery": {
        "label": {"fi": "Päivittäistavarakauppa", "en": "Grocery store"},
        "demand": "population",
        "threshold_km": {"default": 10, "M6": 15, "M7": 25},
        "sectors": ["company", "cooperative", "village_association", "volunteer"],
        "mobile": {"required_days": 2},
    },
    "library": {
        "label": {"fi": "Kirjasto", "en": "Library"},
        "demand": "population",
        "threshold_km": {"default": 10, "M6": 20, "M7": 30},
        "sectors": ["municipality", "association", "village_association", "volunteer"],
        "mobile": {"required_days": 1},
        "remote": 0.25,
    },
    "school": {
        "label": {"fi": "Peruskoulu", "en": "School"},
        "demand": "age_0_14",
        "threshold_km": {"default": 5, "M5": 10, "M6": 15, "M7": 25},
        "sectors": ["municipality", "state", "foundation"],
    },
    "daycare": {
        "label": {"fi": "Päiväkoti", "en": "Day care centre"},
        "demand": "age_0_14",
        "threshold_km": {"default": 5, "M5": 10, "M6": 15, "M7": 20},
        "sectors": ["municipality", "company", "association", "cooperative"],
    },
    "post_office": {
        "label": {"fi": "Postin palvelupiste", "en": "Postal service point"},
        "demand": "population",
        "threshold_km": {"default": 10, "M6": 20, "M7": 25},
        "sectors": ["company", "cooperative", "village_association"],
        "mobile": {"required_days": 2},
    },
    "municipal_services": {
        "label": {"fi": "Asiointipiste", "en": "Municipal service point"},
        "demand": "population",
        "threshold_km": {"default": 25, "M7": 50},
        "sectors": ["municipality", "state", "wellbeing_county", "village_association"],
        "remote": 0.75,
    },
    "cash": {
        "label": {"fi": "Käteispalvelu", "en": "Cash services"},
        "demand": "population",
        "threshold_km": {"default": 10, "M6": 20, "M7": 30},
        "sectors": ["company", "cooperative"],
    },
    "fuel": {
        "label": {"fi": "Polttoaineasema", "en": "Fuel station"},
        "demand": "population",
        "threshold_km": {"default": 15, "M6": 25, "M7": 40},
        "sectors": ["company", "cooperative"],
    },
}
"""Service catalogue entries for the default mapping's service ids (thresholds per area class)."""

DRIVABLE_OSM_HIGHWAYS = (
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
    "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street",
    "service", "road",
)

PLACE_KINDS = ("town", "village", "hamlet")
"""OSM ``place`` values fetched as named places (used to name gap areas)."""

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF_S = 30.0
_FINLAND_X = (40_000.0, 800_000.0)
_FINLAND_Y = (6_550_000.0, 7_850_000.0)
_POINT_MARGIN_M = 1000.0
"""Service points and places this close outside the municipalities are still kept."""


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class FetchError(ArjenturvaError):
    """A public data service refused a request or answered with something unusable."""


class FetchTimeoutError(FetchError):
    """A service did not answer in time, even after the retries."""


# --------------------------------------------------------------------------------------------
# HTTP with retries and a cache
# --------------------------------------------------------------------------------------------


def cache_key(url: str, params: Mapping[str, Any] | None = None) -> str:
    """The cache key of a GET request: SHA-256 of the URL and its sorted, encoded parameters.

    Parameters
    ----------
    url
        The URL without a query string.
    params
        The query parameters.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    query = urlencode(sorted((str(k), str(v)) for k, v in (params or {}).items()))
    return hashlib.sha256(f"{url}?{query}".encode()).hexdigest()


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


class HttpClient:
    """GET with a short connect timeout, bounded retries with backoff, and an on-disk cache.

    Parameters
    ----------
    cache_dir
        Folder of cached responses (``<key>.body`` and ``<key>.json``); ``None`` disables the cache.
    session
        A :class:`requests.Session`; tests mount an adapter that replays recorded responses.
    connect_timeout_s
        Seconds to wait for a connection; short, so an offline machine fails fast.
    read_timeout_s
        Seconds to wait for the answer (Overpass and WFS can be slow).
    retries
        Extra attempts after the first on a timeout, a lost connection, 429 or 5xx.
    backoff_s
        The first wait between attempts; doubled each time, capped at 30 s. ``Retry-After`` is
        honoured within the same cap.
    use_cache
        Reuse cached responses (default). ``False`` downloads again but still stores the result.
    progress
        Optional callback receiving a short message per request.
    sleep
        The function used to wait (tests pass a no-op).
    """

    def __init__(
        self,
        *,
        cache_dir: str | Path | None = None,
        session: requests.Session | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 180.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        use_cache: bool = True,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests

        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
        self.session = session
        self.timeout = (float(connect_timeout_s), float(read_timeout_s))
        self.retries = max(0, int(retries))
        self.backoff_s = max(0.0, float(backoff_s))
        self.use_cache = use_cache
        self.progress = progress
        self.sleep = sleep
        self.n_cached = 0
        self.n_downloaded = 0

    def _say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(msg)

    def cached(self, url: str, params: Mapping[str, Any] | None = None) -> bytes | None:
        """The cached body of a request, or ``None``."""
        if self.cache_dir is None:
            return None
        body = self.cache_dir / f"{cache_key(url, params)}.body"
        return body.read_bytes() if body.exists() else None

    def _store(self, url: str, params: Mapping[str, Any] | None, content: bytes, status: int) -> None:
        if self.cache_dir is None:
            return
        key = cache_key(url, params)
        meta = {
            "url": url,
            "params": {str(k): str(v) for k, v in (params or {}).items()},
            "status": status,
            "bytes": len(content),
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with atomic_path(self.cache_dir / f"{key}.body") as tmp:
            tmp.write_bytes(content)
        write_json(meta, self.cache_dir / f"{key}.json")

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        what: str = "data",
        check: Callable[[bytes], None] | None = None,
    ) -> bytes:
        """GET ``url`` with ``params``, from the cache when possible.

        Parameters
        ----------
        url
            The URL without a query string.
        params
            The query parameters (also the cache key).
        what
            What is downloaded, for messages (``"municipality boundaries"``).
        check
            Called with the body before it is cached; raises :class:`FetchError` when the service
            answered with an error document, so that a bad answer is never cached.

        Returns
        -------
        bytes
            The response body.

        Raises
        ------
        OfflineError
            When the host cannot be reached and nothing is cached.
        FetchTimeoutError
            When the service did not answer in time after every retry.
        FetchError
            When the service answered with an HTTP error (after the retries for 429/5xx).
        """
        import requests

        if self.use_cache:
            hit = self.cached(url, params)
            if hit is not None:
                self.n_cached += 1
                self._say(f"{what}: from cache")
                return hit
        attempts = self.retries + 1
        last: str = ""
        for attempt in range(attempts):
            wait = min(_MAX_BACKOFF_S, self.backoff_s * (2**attempt))
            try:
                self._say(f"{what}: downloading from {_host(url)}"
                          + (f" (attempt {attempt + 1}/{attempts})" if attempt else ""))
                resp = self.session.get(url, params=dict(params or {}), timeout=self.timeout)
            except requests.exceptions.ConnectTimeout as e:
                last = "connect"
                err: Exception = e
            except requests.exceptions.ConnectionError as e:
                last = "connect"
                err = e
            except requests.exceptions.Timeout as e:
                last = "timeout"
                err = e
            else:
                status = int(resp.status_code)
                if status == 200:
                    content = resp.content
                    if check is not None:
                        check(content)
                    self._store(url, params, content, status)
                    self.n_downloaded += 1
                    return content
                if status in _RETRY_STATUS and attempt + 1 < attempts:
                    retry_after = resp.headers.get("Retry-After", "")
                    if retry_after.strip().isdigit():
                        wait = min(_MAX_BACKOFF_S, float(retry_after))
                    self._say(f"{what}: {_host(url)} answered HTTP {status}; retrying in {wait:g} s")
                    self.sleep(wait)
                    continue
                if check is not None and status not in _RETRY_STATUS:
                    check(resp.content)  # a service-specific message for an error document
                excerpt = _error_excerpt(resp.content)
                hint = (
                    "the service is busy or down; try again later"
                    if status in _RETRY_STATUS
                    else "check the request (municipality codes, --year) or report a bug"
                )
                msg = (
                    f"{what}: {_host(url)} answered HTTP {status}"
                    + (f" ({excerpt})" if excerpt else "")
                    + (f" after {attempts} attempts" if status in _RETRY_STATUS else "")
                    + f". Fix: {hint}"
                )
                raise FetchError(msg)
            if attempt + 1 < attempts:
                self._say(f"{what}: {'no connection to' if last == 'connect' else 'no answer from'} "
                          f"{_host(url)}; retrying in {wait:g} s")
                self.sleep(wait)
        if last == "timeout":
            msg = (
                f"{what}: {_host(url)} did not answer within {self.timeout[1]:g} s "
                f"({attempts} attempts). Fix: try again later, or allow a longer read timeout"
            )
            raise FetchTimeoutError(msg) from err
        msg = (
            f"no internet connection: cannot reach {_host(url)} to download {what}, and nothing is "
            "cached for this request. Fix: connect to the internet and run `arjenturva fetch` again "
            "(later runs reuse the cache in .arjenturva-cache/http/), or build the workspace from "
            "local files"
        )
        raise OfflineError(msg) from err


def _error_excerpt(content: bytes, limit: int = 200) -> str:
    text = content.decode("utf-8", "replace")
    ows = _ows_exception(content)
    if ows:
        return ows
    text = " ".join(text.split())
    return text[:limit]


def _ows_exception(content: bytes) -> str:
    """The text of an OGC ``ExceptionReport`` (GeoServer's error document), or ``""``."""
    head = content[:500].lstrip()
    if not head.startswith(b"<") or b"Exception" not in content[:2000]:
        return ""
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return ""
    texts = [" ".join((el.text or "").split()) for el in root.iter() if el.tag.endswith("ExceptionText")]
    return "; ".join(t for t in texts if t)


# --------------------------------------------------------------------------------------------
# Statistics Finland WFS
# --------------------------------------------------------------------------------------------


def _check_wfs(layer: str) -> Callable[[bytes], None]:
    def check(content: bytes) -> None:
        ows = _ows_exception(content)
        if ows:
            msg = (
                f"Statistics Finland WFS refused the request for '{layer}': {ows}. Fix: check the "
                "year (boundaries exist from 2013 on, the 1 km population grid for 2005 and 2010 to "
                "the latest published year) and the municipality codes"
            )
            raise FetchError(msg)
        try:
            data = json.loads(content)
        except ValueError as e:
            msg = (
                f"Statistics Finland WFS: the answer for '{layer}' is not GeoJSON "
                f"({_error_excerpt(content, 120)!r}). Fix: try again later"
            )
            raise FetchError(msg) from e
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            msg = (f"Statistics Finland WFS: the answer for '{layer}' is not a FeatureCollection. "
                   "Fix: try again later")
            raise FetchError(msg)

    return check


def _wfs_params(layer: str, **extra: Any) -> dict[str, str]:
    params = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": layer,
        "outputFormat": "application/json",
        "srsName": CRS,
    }
    params.update({k: str(v) for k, v in extra.items()})
    return params


def _features_to_gdf(data: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """GeoJSON features in EPSG:3067 (GeoServer's output; axis order checked by bounds)."""
    feats = [f for f in data.get("features", []) if f.get("geometry")]
    if not feats:
        return gpd.GeoDataFrame(geometry=[], crs=CRS)
    gdf = gpd.GeoDataFrame.from_features(feats, crs=CRS)
    xmin, ymin, xmax, ymax = gdf.total_bounds
    if _FINLAND_Y[0] <= xmin and xmax <= _FINLAND_Y[1] and _FINLAND_X[0] <= ymin and ymax <= _FINLAND_X[1]:
        gdf = gdf.set_geometry(shapely.transform(gdf.geometry.to_numpy(), lambda c: c[:, ::-1]), crs=CRS)
    return gdf


def fetch_wfs_layer(
    client: HttpClient,
    layer: str,
    *,
    what: str,
    url: str = STATFI_WFS_URL,
    cql_filter: str | None = None,
    bbox: Sequence[float] | None = None,
    page_size: int = 5000,
    max_pages: int = 200,
) -> gpd.GeoDataFrame:
    """Download one WFS layer as GeoJSON in EPSG:3067, page by page.

    Parameters
    ----------
    client
        The HTTP client (retries, cache).
    layer
        The feature type, e.g. ``tilastointialueet:kunta4500k_2025``.
    what
        What is downloaded, for messages.
    url
        The WFS endpoint.
    cql_filter
        A GeoServer ``CQL_FILTER`` (e.g. ``kunta IN ('614')``); not combined with ``bbox``.
    bbox
        ``(xmin, ymin, xmax, ymax)`` in EPSG:3067.
    page_size
        Features per request (``count``); further pages use ``startIndex``.
    max_pages
        Stop after this many pages.

    Returns
    -------
    GeoDataFrame
        The features with their properties, in EPSG:3067.
    """
    frames: list[gpd.GeoDataFrame] = []
    extra: dict[str, Any] = {"count": page_size}
    if cql_filter:
        extra["CQL_FILTER"] = cql_filter
    if bbox is not None:
        extra["bbox"] = ",".join(f"{v:.0f}" for v in bbox) + f",{CRS}"
    for page in range(max_pages):
        params = _wfs_params(layer, **extra)
        if page:
            params["startIndex"] = str(page * page_size)
        content = client.get(url, params, what=what if not page else f"{what} (page {page + 1})",
                             check=_check_wfs(layer))
        data = json.loads(content)
        frames.append(_features_to_gdf(data))
        returned = data.get("numberReturned", len(data.get("features", [])))
        if int(returned) < page_size:
            break
    frames = [f for f in frames if len(f)]
    if not frames:
        return gpd.GeoDataFrame(geometry=[], crs=CRS)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=CRS)


def _first_col(df: pd.DataFrame, names: Iterable[str]) -> str | None:
    for n in names:
        if n in df.columns:
            return n
    return None


def _areas(gdf: gpd.GeoDataFrame, code_names: Sequence[str]) -> gpd.GeoDataFrame:
    code = _first_col(gdf, code_names)
    name = _first_col(gdf, ("nimi", "name", "namn"))
    out = gpd.GeoDataFrame(
        {
            "code": gdf[code].astype(str) if code else [""] * len(gdf),
            "name": gdf[name].astype(str) if name else [""] * len(gdf),
            "name_sv": gdf["namn"].astype(str) if "namn" in gdf.columns else [""] * len(gdf),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=CRS,
    )
    return out


def _membership(munis: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> tuple[list[str], list[str]]:
    """Code and name of the area that holds each municipality's representative point."""
    codes, names = [""] * len(munis), [""] * len(munis)
    if areas.empty:
        return codes, names
    pts = munis.geometry.representative_point().to_numpy()
    for i, p in enumerate(pts):
        hit = np.flatnonzero(areas.geometry.contains(p).to_numpy())
        if hit.size == 0:
            d = areas.geometry.distance(p).to_numpy()
            hit = np.array([int(np.argmin(d))])
        codes[i] = str(areas["code"].iloc[hit[0]])
        names[i] = str(areas["name"].iloc[hit[0]])
    return codes, names


def _population_cells(grid: gpd.GeoDataFrame, munis: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Canonical population cells inside the municipalities; −1 (suppressed) values kept."""
    cols = {"population": ("vaesto", "vaesto_yht", "population"),
            "age_0_14": ("ika_0_14", "ika0_14"),
            "age_15_64": ("ika_15_64", "ika15_64"),
            "age_65_plus": ("ika_65_", "ika_65", "ika65_")}
    if grid.empty:
        return gpd.GeoDataFrame({"cell_id": [], "population": [], "age_0_14": [], "age_15_64": [],
                                 "age_65_plus": []}, geometry=[], crs=CRS)
    geom = grid.geometry
    if "xkoord" in grid.columns and "ykoord" in grid.columns:
        # The grid's own corner coordinates (south-west corner of each 1 km cell).
        x = pd.to_numeric(grid["xkoord"], errors="coerce").to_numpy(float)
        y = pd.to_numeric(grid["ykoord"], errors="coerce").to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        boxes = shapely.box(x, y, x + 1000.0, y + 1000.0)
        geom = gpd.GeoSeries(np.where(ok & (geom.isna() | geom.is_empty).to_numpy(), boxes, geom.to_numpy()),
                             crs=CRS)
    id_col = _first_col(grid, ("grd_id", "nro", "id_nro", "id"))
    data: dict[str, Any] = {
        "cell_id": (grid[id_col].astype(str).to_numpy() if id_col
                    else [f"cell_{i + 1}" for i in range(len(grid))])
    }
    for canonical, names in cols.items():
        c = _first_col(grid, names)
        if c is None:
            continue
        v = pd.to_numeric(grid[c], errors="coerce")
        data[canonical] = v.where(v.notna(), -1).astype("int64").to_numpy()
    if "population" not in data:
        msg = (
            "Statistics Finland population grid: no population column (expected 'vaesto'; found "
            f"{', '.join(map(str, grid.columns))}). Fix: report this; the service changed its format"
        )
        raise FetchError(msg)
    cells = gpd.GeoDataFrame(data, geometry=geom.to_numpy(), crs=CRS)
    union = shapely.union_all(munis.geometry.to_numpy())
    inside = shapely.contains_xy(union, *shapely.get_coordinates(cells.geometry.centroid.to_numpy()).T)
    cells = cells[inside].drop_duplicates("cell_id").sort_values("cell_id").reset_index(drop=True)
    return cells


# --------------------------------------------------------------------------------------------
# Overpass (OSM amenities, places, roads)
# --------------------------------------------------------------------------------------------


def load_service_mapping(path: str | Path) -> dict[str, str]:
    """Read a tag → service mapping from YAML (``{"amenity=pharmacy": pharmacy, ...}``).

    Parameters
    ----------
    path
        A YAML file holding one mapping of ``key=value`` strings to service ids.

    Returns
    -------
    dict
        The mapping, checked.

    Raises
    ------
    FetchError
        When the file is missing, not YAML, or not such a mapping.
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError) as e:
        msg = (f"{p}: cannot read the service mapping ({e}). "
               "Fix: give a YAML file like `amenity=pharmacy: pharmacy`")
        raise FetchError(msg) from e
    if not isinstance(data, dict):
        msg = (f"{p}: expected a mapping of OSM tags to service ids. "
               "Fix: write lines like `shop=supermarket: grocery`")
        raise FetchError(msg)
    cleaned = {str(k): ("" if v is None else str(v)) for k, v in data.items()}
    return check_service_mapping(cleaned, source=str(p))


def check_service_mapping(mapping: Mapping[str, str], *, source: str = "mapping") -> dict[str, str]:
    """Check a tag → service mapping: keys ``key=value``, ids of letters, digits and ``_``.

    Raises
    ------
    FetchError
        Naming the bad entries.
    """
    bad = []
    out: dict[str, str] = {}
    for tag, sid in mapping.items():
        key, sep, value = str(tag).partition("=")
        sid = str(sid or "").strip()
        if not sep or not key.strip() or not value.strip() or '"' in tag:
            bad.append(f"'{tag}' is not key=value")
        elif sid and not sid.replace("_", "").isalnum():
            bad.append(f"service id '{sid}' (for {tag}) may hold only letters, digits and _")
        else:
            out[f"{key.strip()}={value.strip()}"] = sid
    if bad:
        msg = (f"{source}: bad service mapping: {'; '.join(bad)}. "
               "Fix: map OSM tags like `amenity=pharmacy: pharmacy`")
        raise FetchError(msg)
    if not any(out.values()):
        msg = (f"{source}: the service mapping maps no tag to a service. "
               "Fix: add at least one `key=value: service_id`")
        raise FetchError(msg)
    return out


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


# --------------------------------------------------------------------------------------------
# The workspace
# --------------------------------------------------------------------------------------------


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


def service_catalogue(service_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Catalogue entries for service ids: the defaults, or a generic entry for an unknown id."""
    out: dict[str, dict[str, Any]] = {}
    for sid in dict.fromkeys(service_ids):
        if not sid:
            continue
        if sid in DEFAULT_SERVICE_CATALOGUE:
            out[sid] = json.loads(json.dumps(DEFAULT_SERVICE_CATALOGUE[sid]))
        else:
            label = sid.replace("_", " ").capitalize()
            out[sid] = {"label": {"fi": label, "en": label}, "demand": "population",
                        "threshold_km": {"default": 15, "M6": 25, "M7": 40}}
    return out


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
    inputs: dict[str, Any] = {
        "municipalities": {"path": targets["municipalities"].name},
        "population": {"path": targets["population"].name},
        "service_points": {"path": targets["service_points"].name},
    }
    if "places" in files:
        inputs["places"] = {"path": targets["places"].name}
    network: dict[str, Any] = {"source": road_file}
    if roads is None:
        network.update({"layer": "road", "class_column": "highway", "oneway_column": "oneway"})
    network.update({"cost": "distance", "snap_tolerance_m": 5000})
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
