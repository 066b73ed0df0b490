"""Defaults for driving on Finnish roads: class speeds, speed factors and the snap tolerance.

Each value names where it comes from; :class:`~arjenturva.config.NetworkConfig` uses them as
the defaults of ``network.speed_kmh``, ``network.speed_factors`` and ``network.snap_tolerance_m``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Finnish default speeds (km/h) per OSM highway class; "default" is used for anything else.
DEFAULT_SPEEDS_KMH: Final[Mapping[str, float]] = {
    "motorway": 120,
    "motorway_link": 80,
    "trunk": 100,
    "trunk_link": 60,
    "primary": 80,
    "primary_link": 60,
    "secondary": 80,
    "secondary_link": 50,
    "tertiary": 70,
    "tertiary_link": 50,
    "unclassified": 60,
    "residential": 40,
    "living_street": 20,
    "service": 30,
    "road": 50,
    "track": 30,
    "ferry": 10,
    "urban": 50,
    "rural": 80,
    "default": 80,
}

# Driven speed as a share of the speed limit, per road class: the default `network.speed_factors`.
# Source: Perola, E. (2023) Driving speed deviation from the speed limits - an analysis using
# floating car data in the Helsinki Metropolitan Area. MSc thesis, University of Helsinki,
# http://hdl.handle.net/10138/358181 (TomTom floating car data). The factors per Digiroad
# functional class are those the Digital Geography Lab published for the Helsinki Region Travel
# Time Matrix (github.com/DigitalGeographyLab/Helsinki-Travel-Time-Matrices, car_speed_annotator,
# SPEED_COEFFICIENTS_BY_TIME_OF_DAY_AND_ROAD_CLASS), for "midday" (10-15, when services are open):
# class 1 valtatie 0.937, 2 kantatie 0.975, 3 seututie 0.886, 4 yhdystie 0.857, 5 the rest 0.692.
# OSM classes follow the Finnish tagging (trunk = valtatie, primary = kantatie, secondary =
# seututie, tertiary = yhdystie; lower classes are class 5, as in that annotator). NLS general map
# classes (DXF_LAYER): MOOTTORIT and VALTAT (valta- ja kantatiet) class 1, MAANT (roads 100-9999)
# class 3, PAIKALLIST (paikallistie, legally a yhdystie) class 4. Ferries keep their speed, and
# classes not listed take "default" (1: nothing was measured for them).
DEFAULT_SPEED_FACTORS: Final[Mapping[str, float]] = {
    "motorway": 0.937,
    "motorway_link": 0.937,
    "trunk": 0.937,
    "trunk_link": 0.937,
    "primary": 0.975,
    "primary_link": 0.975,
    "secondary": 0.886,
    "secondary_link": 0.886,
    "tertiary": 0.857,
    "tertiary_link": 0.857,
    "unclassified": 0.692,
    "residential": 0.692,
    "living_street": 0.692,
    "service": 0.692,
    "road": 0.692,
    "track": 0.692,
    "ferry": 1.0,
    "MOOTTORIT": 0.937,
    "VALTAT": 0.937,
    "MAANT": 0.886,
    "PAIKALLIST": 0.857,
    "LOSSI": 1.0,
    "default": 1.0,
}

# Points farther than this from every road are unreachable (`network.snap_tolerance_m`). On the
# NLS 1:1M roads, the 493 populated postal-area points of Lapland and North Ostrobothnia (2022)
# lie at most 21.1 km from a road (Nellim 21.1 km, Karesuvanto 20.6 km; 99th percentile 11.2 km),
# and 5 km left 24 of them (12 722 people) out. 25 km keeps every one of them, while the access
# leg beyond the road is still costed at `access_speed_kmh`; in all of Finland only Utö (32 km
# out at sea) stays beyond it.
DEFAULT_SNAP_TOLERANCE_M: Final[float] = 25_000.0
