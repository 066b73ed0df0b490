"""Which OpenStreetMap tags are which services, and the catalogue written for them.

:data:`DEFAULT_SERVICE_MAPPING` maps OSM ``key=value`` tags to service ids; a user mapping is read
and checked by :func:`load_service_mapping`. :func:`service_catalogue` gives the config's service
entries (labels, demand, thresholds per area class) for the mapped ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .http import FetchError

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
