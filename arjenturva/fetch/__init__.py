"""Downloading a ready workspace from public sources (``arjenturva fetch``).

Sources:

- municipality, wellbeing services county and region boundaries and the 1 km population grid
  from Statistics Finland's WFS (``https://geo.stat.fi/geoserver/wfs``; CC BY 4.0),
  :mod:`~arjenturva.fetch.statfi`;
- service points (and named places) from OpenStreetMap amenities through the Overpass API (ODbL),
  mapped to service ids by :mod:`~arjenturva.fetch.services`;
- roads from OpenStreetMap through osmnx (``graph_from_polygon``, saved as GraphML) or through
  the Overpass API (saved as OSM XML); both ODbL, :mod:`~arjenturva.fetch.overpass`.

Every HTTP request goes through :class:`HttpClient` (:mod:`~arjenturva.fetch.http`): retries with
backoff and a cache in ``<out>/.arjenturva-cache/http/``, so a second run works offline.
:func:`fetch_workspace` (:mod:`~arjenturva.fetch.workspace`) writes nothing before every download
has succeeded.
"""

from .http import USER_AGENT, FetchError, FetchTimeoutError, HttpClient, Progress, cache_key
from .overpass import (
    DRIVABLE_OSM_HIGHWAYS,
    OVERPASS_URL,
    PLACE_KINDS,
    amenity_query,
    road_query,
    roads_from_osm_xml,
    service_points_from_overpass,
)
from .services import (
    DEFAULT_SERVICE_CATALOGUE,
    DEFAULT_SERVICE_MAPPING,
    check_service_mapping,
    load_service_mapping,
    service_catalogue,
)
from .statfi import DEFAULT_BOUNDARY_YEAR, DEFAULT_POPULATION_YEAR, STATFI_WFS_URL, fetch_wfs_layer
from .workspace import ATTRIBUTION, CACHE_SUBDIR, FetchResult, RoadSource, fetch_workspace

__all__ = [
    "ATTRIBUTION",
    "CACHE_SUBDIR",
    "DEFAULT_BOUNDARY_YEAR",
    "DEFAULT_POPULATION_YEAR",
    "DEFAULT_SERVICE_CATALOGUE",
    "DEFAULT_SERVICE_MAPPING",
    "DRIVABLE_OSM_HIGHWAYS",
    "OVERPASS_URL",
    "PLACE_KINDS",
    "STATFI_WFS_URL",
    "USER_AGENT",
    "FetchError",
    "FetchResult",
    "FetchTimeoutError",
    "HttpClient",
    "Progress",
    "RoadSource",
    "amenity_query",
    "cache_key",
    "check_service_mapping",
    "fetch_wfs_layer",
    "fetch_workspace",
    "load_service_mapping",
    "road_query",
    "roads_from_osm_xml",
    "service_catalogue",
    "service_points_from_overpass",
]
