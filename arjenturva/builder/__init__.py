"""A ready workspace for any set of Finnish municipalities, built from offline public data files
(``arjenturva build-workspace``).

The public façade: :func:`build_workspace` and what it returns (:class:`BuildResult`), the sources
it reads (:class:`BuildSources`, :func:`read_sources`, :data:`SOURCE_SPECS`) and the area request
(:class:`AreaRequest`). The modules behind it: ``specs`` (each input described once), ``sources``
(sources files and the up-front file checks), ``area`` (the study area from the municipality key),
``layers`` and ``population`` (the derived layers), ``config_text`` (the generated
``arjenturva.yaml``) and ``build`` (the whole build and ``build.json``).
"""

from .area import AreaRequest, read_municipality_key, select_study_area
from .build import BUILT_FILES, DEFAULT_BUFFER_M, BuildResult, build_workspace
from .config_text import ROAD_CLASS_SPEEDS_KMH, SERVICE_SETTINGS
from .population import RURAL_TYPE_CLASSES, URBAN_SETTLEMENT_MIN
from .sources import BuildSources, CheckedSource, check_sources, read_sources, sources_from_mapping
from .specs import SOURCE_SPECS, Column, SourceSpec, attribution

__all__ = [
    "BUILT_FILES",
    "DEFAULT_BUFFER_M",
    "ROAD_CLASS_SPEEDS_KMH",
    "RURAL_TYPE_CLASSES",
    "SERVICE_SETTINGS",
    "SOURCE_SPECS",
    "URBAN_SETTLEMENT_MIN",
    "AreaRequest",
    "BuildResult",
    "BuildSources",
    "CheckedSource",
    "Column",
    "SourceSpec",
    "attribution",
    "build_workspace",
    "check_sources",
    "read_municipality_key",
    "read_sources",
    "select_study_area",
    "sources_from_mapping",
]
