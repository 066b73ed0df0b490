"""The data contract: canonical columns, sectors, modes, area classes and checks on values."""

from __future__ import annotations

from typing import Final

CRS: Final = "EPSG:3067"
"""Every layer is reprojected to ETRS-TM35FIN on load."""

WGS84: Final = "EPSG:4326"

SECTORS: Final = (
    "municipality",
    "wellbeing_county",
    "state",
    "association",
    "village_association",
    "foundation",
    "parish",
    "company",
    "cooperative",
    "volunteer",
)
"""Sectors an actor can belong to."""

PUBLIC_SECTORS: Final = ("municipality", "wellbeing_county", "state")
THIRD_SECTORS: Final = ("association", "village_association", "foundation", "parish", "volunteer")
PRIVATE_SECTORS: Final = ("company", "cooperative")

MODES: Final = ("fixed", "mobile", "remote")
"""Delivery modes of a service point or an actor."""

AREA_CLASSES: Final = ("K1", "K2", "K3", "M4", "M5", "M6", "M7")
"""SYKE urban–rural classes. K1 inner urban, K2 outer urban, K3 peri-urban, M4 local centres in
rural areas, M5 rural areas close to urban areas, M6 rural heartland, M7 sparsely populated rural."""

SPARSE_CLASSES: Final = ("M7",)
"""Classes counted as sparsely populated (harvaan asuttu maaseutu)."""

LAYERS: Final = ("municipalities", "population", "service_points", "actors", "places")

REQUIRED_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "municipalities": ("code", "name"),
    "population": ("population",),
    "service_points": ("point_id", "name", "services"),
    "actors": ("actor_id", "name", "sector", "services"),
    "places": ("name",),
    "vehicles": ("vehicle_id", "actor_id", "hours_per_day", "weekdays"),
}

OPTIONAL_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "municipalities": ("region", "wellbeing_county"),
    "population": ("cell_id", "age_0_14", "age_15_64", "age_65_plus", "area_class"),
    "service_points": ("actor_id", "mode", "days_per_week", "capacity", "municipality"),
    "actors": (
        "capacity",
        "municipalities",
        "max_travel_km",
        "modes",
        "employment_scheme",
        "cost_per_km",
        "languages",
    ),
    "places": ("population", "kind"),
}

GEOMETRY_KIND: Final = {
    "municipalities": "polygon",
    "population": "polygon_or_point",
    "service_points": "point",
    "actors": "point_optional",
    "places": "point",
}

ID_COLUMNS: Final = {
    "municipalities": "code",
    "population": "cell_id",
    "service_points": "point_id",
    "actors": "actor_id",
    "places": None,
}

AGE_COLUMNS: Final = ("age_0_14", "age_15_64", "age_65_plus")
DEMAND_COLUMNS: Final = ("population", *AGE_COLUMNS)

SUPPRESSED: Final = -1
"""Statistics Finland marks suppressed small counts as -1; they are treated as unknown."""

# Bounds of Finland (with a margin), used to catch swapped or wrongly projected coordinates.
FINLAND_BOUNDS_3067: Final = (20_000.0, 6_570_000.0, 770_000.0, 7_830_000.0)
FINLAND_BOUNDS_4326: Final = (19.0, 59.5, 31.9, 70.2)


def split_list(value: object) -> list[str]:
    """Split a ``;``-separated cell (``"health;library"``) into stripped, non-empty items."""
    if value is None:
        return []
    if isinstance(value, float) and value != value:  # NaN
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).replace(",", ";").split(";") if part.strip()]


def normalise_code(value: object) -> str:
    """Return a municipality code as a 3-digit string (``5`` -> ``"005"``)."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text.zfill(3) if text.isdigit() else text


def parse_bool(value: object) -> bool | None:
    """Parse yes/no style cells (``true``, ``kyllä``, ``1``...). ``None`` when not recognised."""
    if isinstance(value, bool):
        return value
    if value is None or (isinstance(value, float) and value != value):
        return False
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "kyllä", "k", "x", "1.0"}:
        return True
    if text in {"0", "false", "no", "n", "ei", "e", "", "0.0"}:
        return False
    return None


def in_bounds(x: float, y: float, bounds: tuple[float, float, float, float]) -> bool:
    """True when (x, y) lies inside ``bounds`` = (minx, miny, maxx, maxy)."""
    return bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]
