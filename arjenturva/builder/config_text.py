"""The ``arjenturva.yaml`` a built workspace gets: a commented config naming the written files,
the study area, the services that have points and every source's attribution.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..config import DEFAULT_SNAP_TOLERANCE_M
from ..labels import BUILT_SERVICE
from .specs import attribution

__all__ = ["ROAD_CLASS_SPEEDS_KMH", "SERVICE_SETTINGS", "ConfigFacts", "config_text"]

ROAD_CLASS_SPEEDS_KMH: dict[str, int] = {
    "MOOTTORIT": 120, "VALTAT": 100, "MAANT": 80, "PAIKALLIST": 70, "LOSSI": 10,
}
"""Speed limit per class of the NLS general map's ``DXF_LAYER`` (motorway, main road, regional
road, local road, ferry)."""



@dataclass(frozen=True)
class ServiceSetting:
    """The catalogue entry of one built service."""

    comment: str
    threshold_km: Mapping[str, int]
    sectors: tuple[str, ...]


SERVICE_SETTINGS: dict[str, ServiceSetting] = {
    "health_station": ServiceSetting("", {"default": 25, "M7": 40},
                                     ("wellbeing_county", "company", "cooperative")),
    "municipal_centre": ServiceSetting("town-hall services (asiointipiste) at the municipal centre",
                                       {"default": 25, "M7": 50}, ("municipality", "state", "association")),
}
"""Distance thresholds (km, per area class) and sectors of the services a build can give."""


@dataclass(frozen=True)
class ConfigFacts:
    """What the generated config states.

    Attributes
    ----------
    name
        The workspace name.
    language
        ``fi`` or ``en``.
    study_area
        Study municipality codes.
    study_names
        Their names (for the header comment).
    context_count
        Context municipalities in the layer.
    given
        The input keys given (for the attributions and comments).
    services
        The services with points, in catalogue order.
    buffer_m
        The buffer around the study area.
    places
        Whether ``places.gpkg`` was written.
    """

    name: str
    language: str
    study_area: Sequence[str]
    study_names: Sequence[str]
    context_count: int
    given: Sequence[str]
    services: Sequence[str]
    buffer_m: float
    places: bool


def _q(text: str) -> str:
    """A YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _wrap(text: str, indent: str = "# ") -> str:
    return "\n".join(textwrap.wrap(text, 100, initial_indent=indent, subsequent_indent=indent + "  "))


def _codes(codes: Sequence[str]) -> str:
    items = ", ".join(f"'{c}'" for c in codes)
    lines = textwrap.wrap(items, 92, initial_indent="study_area: [", subsequent_indent="             ")
    return "\n".join(lines) + "]"


def _services(services: Sequence[str]) -> str:
    out = []
    for sid in services:
        s = SERVICE_SETTINGS[sid]
        word = BUILT_SERVICE[sid]
        comment = f"               # {s.comment}" if s.comment else ""
        thresholds = ", ".join(f"{k}: {v}" for k, v in s.threshold_km.items())
        out.append(f"""\
  {sid}:{comment}
    label: {{fi: {word.fi}, en: {word.en}}}
    demand: population
    threshold_km: {{{thresholds}}}
    sectors: [{", ".join(s.sectors)}]""")
    return "\n".join(out)


def config_text(f: ConfigFacts) -> str:
    """The YAML text of the generated ``arjenturva.yaml``."""
    g = set(f.given)
    age = ("; age_65_plus = population x the municipality's 65+ share (an estimate)"
           if "demographics" in g else "")
    classes = ("K2/M4 inside SYKE urban settlements, else by the municipality's rural type"
               if "urban_settlements" in g else "by the municipality's rural type (no settlement file given)")
    header = "\n".join([
        "# arjenturva workspace built from REAL public data by `arjenturva build-workspace`",
        "# (the sources, counts and notes are in build.json).",
        _wrap(f"Study area: {', '.join(f.study_names)}."),
        _wrap(f"Attribution: {attribution(list(f.given))}"),
        "# Caveats: population = postal-area points, not a grid; roads = NLS general map 1:1M (public",
        "# roads only); OSM health facilities are thin in places, so health_station gaps are partly a",
        "# data gap.",
    ])
    places = (f"""
  places:                         # general map settlements (villages, centres, towns)
    path: places.gpkg
    attribution: {_q(attribution(["places"]))}""" if f.places else "")
    buffer_km = f"{f.buffer_m / 1000:g}"
    return f"""\
{header}
name: {_q(f.name)}
language: {f.language}

# The municipalities analysed. The other {f.context_count} municipalities of municipalities.gpkg are
# context within {buffer_km} km: their service points and roads count, they have no population here.
{_codes(f.study_area)}

inputs:                           # paths are relative to this file
  municipalities:                 # study and context municipalities
    path: municipalities.gpkg
    attribution: {_q(attribution(["boundaries", "municipality_key"]))}
  population:                     # postal-area points, x/y EPSG:3067{age}
    path: population.csv
    attribution: {_q(attribution([k for k in ("postal_population", "demographics", "rural_type",
                                               "urban_settlements") if k in g]))}
  service_points:                 # lon/lat WGS84
    path: service_points.csv
    attribution: {_q(attribution([k for k in ("health_facilities", "municipal_centres") if k in g]))}{places}

network:
  source: roads.gpkg              # NLS general map roads: the study area's convex hull + {buffer_km} km
  layer: road
  class_column: DXF_LAYER
  class_speeds_kmh: {{{", ".join(f"{k}: {v}" for k, v in ROAD_CLASS_SPEEDS_KMH.items())}}}
  cost: distance
  snap_tolerance_m: {DEFAULT_SNAP_TOLERANCE_M:.0f}         # the default (README, Method)
  attribution: {_q(attribution(["roads"]))}

area_classes:
  source: column                  # {classes}

services:
{_services(f.services)}

export:
  suppress_below: 10
"""
