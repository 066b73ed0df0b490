"""Everything a run writes for people: tables (CSV, XLSX, GeoPackage), static maps, the web map,
the reports and comparisons. Tables go through the results contract (:mod:`arjenturva.results`).

The public names load on first use, so writing a table never imports matplotlib or Leaflet:
``write_gap_results``/``write_proposal_results`` (:mod:`.tables`), ``write_maps``
(:mod:`.static_maps`), ``write_html_map`` (:mod:`.webmap`), ``write_reports`` (:mod:`.report`),
``compare_results``/``write_comparison`` (:mod:`.compare`), ``read_map_data`` (:mod:`.mapdata`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY: dict[str, str] = {
    "write_gap_results": "tables",
    "write_proposal_results": "tables",
    "run_record": "tables",
    "write_maps": "static_maps",
    "write_html_map": "webmap",
    "find_leaflet_assets": "webmap",
    "write_reports": "report",
    "compare_results": "compare",
    "write_comparison": "compare",
    "read_map_data": "mapdata",
    "MapData": "mapdata",
}

__all__ = [
    "MapData",
    "compare_results",
    "find_leaflet_assets",
    "read_map_data",
    "run_record",
    "write_comparison",
    "write_gap_results",
    "write_html_map",
    "write_maps",
    "write_proposal_results",
    "write_reports",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'arjenturva.export' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(import_module(f".{module}", __name__), name)
