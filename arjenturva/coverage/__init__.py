"""Coverage and gap analysis.

For every population cell and service: the shortest road distance and travel time to a point
offering the service, and the coverage (0–1) under the threshold of the cell's area class, from
multi-source sweeps of the network engine (never a loop per cell). Uncovered cells are merged
into gap areas; indicators are aggregated per municipality and service.

The modules behind this façade, one job each:

- :mod:`.area_classes`: area classes of the cells (column or degree of urbanisation);
- :mod:`.access`: distance, time and coverage of every cell to one service;
- :mod:`.indicators`: indicators per municipality and service (``summary``);
- :mod:`.gap_areas` and :mod:`.outlines`: gap cells merged into areas, and their outlines;
- :mod:`.fca`: capacity-aware access (2SFCA, E2SFCA);
- :mod:`.tables`: the ``access`` and ``gaps`` tables;
- :mod:`.parallel`: the per-service tasks, here or in forked worker processes;
- :mod:`.analysis`: :func:`find_gaps`, the whole analysis.
"""

from __future__ import annotations

from .access import ServiceAccess, point_weight, service_access, thresholds_for
from .analysis import GapResult, find_gaps
from .area_classes import assign_area_classes, derive_area_classes
from .fca import E2SFCA_BAND_WEIGHTS, FcaResult, e2sfca_weights, two_step_fca
from .gap_areas import GAP_AREA_COUNT_COLUMNS
from .indicators import INDICATOR_COLUMNS

__all__ = [
    "E2SFCA_BAND_WEIGHTS",
    "GAP_AREA_COUNT_COLUMNS",
    "INDICATOR_COLUMNS",
    "FcaResult",
    "GapResult",
    "ServiceAccess",
    "assign_area_classes",
    "derive_area_classes",
    "e2sfca_weights",
    "find_gaps",
    "point_weight",
    "service_access",
    "thresholds_for",
    "two_step_fca",
]
