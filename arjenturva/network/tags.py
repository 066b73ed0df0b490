"""Road attribute rules: OSM ``maxspeed`` values, drivable ways, one-way tags and class speeds."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..road_defaults import DEFAULT_SPEEDS_KMH

DRIVABLE_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
        "residential", "living_street", "service", "road",
    }
)
"""OSM ``highway`` values kept as drivable roads (tracks, paths, footways and cycleways are not)."""


_OSM_WAY_TAGS = [
    "highway", "route", "oneway", "junction", "maxspeed", "access", "motor_vehicle", "motorcar",
    "area", "service", "name", "ref",
]


_NUM_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: Any, *, speeds: Mapping[str, float] | None = None) -> float:
    """Parse an OSM ``maxspeed`` value to km/h.

    Accepts ``"50"``, ``"50 km/h"``, ``"30 mph"``, lists such as ``"50;80"`` or ``["50", "80"]``
    (the minimum is taken), and Finnish zone values ``"FI:urban"`` (urban speed) and
    ``"FI:rural"`` (rural speed) from ``speeds``.

    Parameters
    ----------
    value
        The tag value; ``None``, ``nan`` and unparsable text give ``nan``.
    speeds
        Speeds per class (``urban``, ``rural``, ``motorway``, ``living_street``); defaults to
        :data:`arjenturva.road_defaults.DEFAULT_SPEEDS_KMH`.

    Returns
    -------
    float
        Speed in km/h, or ``nan`` when unknown.
    """
    sp_ = speeds or DEFAULT_SPEEDS_KMH
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, np.ndarray)):
        vals = [parse_maxspeed(v, speeds=sp_) for v in value]
        vals = [v for v in vals if v == v]
        return min(vals) if vals else math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        return v if v > 0 else math.nan
    text = str(value).strip()
    if ";" in text or "|" in text:
        return parse_maxspeed(re.split(r"[;|]", text), speeds=sp_)
    m = _NUM_RE.match(text)
    if m:
        v = float(m.group(1).replace(",", "."))
        unit = (m.group(2) or "").lower()
        if unit == "mph":
            v *= 1.609344
        elif unit == "knots":
            v *= 1.852
        return v if v > 0 else math.nan
    low = text.lower()
    zone = low.split(":", 1)[1] if ":" in low else low
    aliases = {"urban": "urban", "rural": "rural", "motorway": "motorway", "living_street": "living_street"}
    if zone in aliases and aliases[zone] in sp_:
        return float(sp_[aliases[zone]])
    if zone == "walk":
        return 5.0
    return math.nan


def _is_drivable(tags: Mapping[str, Any]) -> str | None:
    """The road class of a drivable way or ferry (``"ferry"``), else ``None``."""

    def get(key: str) -> str:
        v = tags.get(key)
        if isinstance(v, list):
            v = v[0] if v else None
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return str(v)

    if get("area") == "yes":
        return None
    if get("motor_vehicle") == "no" or get("motorcar") == "no":
        return None
    if get("access") == "no" and get("motor_vehicle") not in ("yes", "designated") and get(
        "motorcar"
    ) not in ("yes", "designated"):
        return None
    if get("route") == "ferry":
        return "ferry"
    hw = get("highway")
    return hw if hw in DRIVABLE_HIGHWAYS else None


def _oneway_code(tags: Mapping[str, Any]) -> int:
    """``1`` forward only, ``-1`` backward only, ``0`` both ways."""
    ow = str(tags.get("oneway") or "").strip().lower()
    if ow in ("yes", "true", "1"):
        return 1
    if ow in ("-1", "reverse"):
        return -1
    if ow in ("no", "false", "0"):
        return 0
    if str(tags.get("junction") or "") in ("roundabout", "circular"):
        return 1
    return 0


def _class_speed(cls: str, speeds: Mapping[str, float]) -> float:
    if cls in speeds:
        return float(speeds[cls])
    return float(speeds.get("default", DEFAULT_SPEEDS_KMH["default"]))


def _class_factor(cls: str, factors: Mapping[str, float]) -> float:
    """The speed factor of a road class: its own, else ``factors["default"]``, else 1."""
    if cls in factors:
        return float(factors[cls])
    return float(factors.get("default", 1.0))
