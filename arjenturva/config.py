"""Workspace configuration (``arjenturva.yaml``): pydantic models and the loader.

Every model forbids unknown keys, so a typo fails loudly with the key's path. Paths in the config
are relative to the config file.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .road_defaults import DEFAULT_SNAP_TOLERANCE_M, DEFAULT_SPEED_FACTORS, DEFAULT_SPEEDS_KMH
from .route_config import RouteConfig
from .scenario_config import AddedRoad, PopulationProjection, RoadClosure, positive_speeds
from .schema import AREA_CLASSES, DEMAND_COLUMNS, SECTORS

DEFAULT_CONFIG_NAME = "arjenturva.yaml"


class _Model(BaseModel):
    # allow_inf_nan=False: `.nan` or `.inf` in YAML is an error, never a silent "all uncovered".
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class InputSpec(_Model):
    """One input file: ``{path: ..., layer: ..., columns: {canonical: theirs}}``."""

    path: str
    layer: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    encoding: str | None = None
    crs: str | None = Field(default=None, description="CRS to assume when the file has none")
    repair: bool = Field(default=False, description="repair invalid geometries with make_valid (warn)")
    attribution: str | None = Field(
        default=None, description="source and licence, shown on maps and reports"
    )


class Inputs(_Model):
    municipalities: InputSpec
    population: InputSpec
    service_points: InputSpec
    actors: InputSpec | None = None
    places: InputSpec | None = None
    vehicles: InputSpec | None = None  # mobile actors' vehicles, for `arjenturva routes`


def _default_speed_kmh() -> dict[str, float]:
    # An int, as before, so settings_hash() of existing workspaces does not change.
    return {"default": 80}


def _default_speed_factors() -> dict[str, float]:
    return dict(DEFAULT_SPEED_FACTORS)


class NetworkConfig(_Model):
    """Road network source and travel cost."""

    source: str | None = None
    place: str | None = None
    layer: str | None = None
    cost: Literal["distance", "time"] = "distance"
    speed_kmh: dict[str, float] = Field(default_factory=_default_speed_kmh)
    class_column: str | None = None
    class_speeds_kmh: dict[str, float] = Field(default_factory=dict)
    speed_factors: dict[str, float] = Field(
        default_factory=_default_speed_factors,
        description="driven speed as a share of the class speed, per road class (`default` for the "
        "others); a table given here replaces the Finnish defaults, and {} drives at the speeds",
    )
    oneway_column: str | None = None
    snap_tolerance_m: float = Field(default=DEFAULT_SNAP_TOLERANCE_M, gt=0)
    merge_tolerance_m: float = Field(default=1.0, ge=0)
    access_speed_kmh: float = Field(default=30, gt=0)
    network_type: Literal["drive"] = "drive"
    cache: bool = True
    attribution: str | None = Field(
        default=None, description="source and licence of the roads"
    )

    @field_validator("speed_kmh", "class_speeds_kmh")
    @classmethod
    def _positive_speeds(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if x <= 0}
        if bad:
            raise ValueError(f"speeds must be positive km/h (got {bad}); give each class a speed above 0")
        return v

    @field_validator("speed_factors")
    @classmethod
    def _factor_shares(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not 0 < x <= 2}
        if bad:
            raise ValueError(
                f"speed factors are shares of the speed between 0 and 2 (got {bad}); "
                "e.g. 0.94 for 94 %, or 1 to drive at the speed"
            )
        return v

    @model_validator(mode="after")
    def _one_source(self) -> NetworkConfig:
        if not self.source and not self.place:
            raise ValueError("give either `source` (a file) or `place` (a place name)")
        if self.source and self.place:
            raise ValueError("give only one of `source` and `place`")
        return self

    def speeds(self) -> dict[str, float]:
        """Speeds per class: Finnish defaults overridden by ``speed_kmh``."""
        merged = dict(DEFAULT_SPEEDS_KMH)
        merged.update(self.speed_kmh)
        return merged


class Label(_Model):
    fi: str
    en: str


class MobileRule(_Model):
    required_days: float = Field(default=5, gt=0)
    stop_min: float = Field(default=30, gt=0, description="minutes a route stops for the service")
    min_people_per_stop: float = Field(default=20, ge=0, description="fewest residents a route stop serves")


ProposalMode = Literal["fixed", "mobile", "remote"]

# Smallest newly covered demand (people of the service's demand group) an agreement of each mode
# needs, by demand group, when the catalogue gives none: a fixed school or day care for 25
# children, a fixed shop or post for 100 residents; mobile and remote services serve fewer.
DEFAULT_MIN_DEMAND: Final[Mapping[str, Mapping[str, float]]] = {
    "population": {"fixed": 100, "mobile": 30, "remote": 20},
    "age_0_14": {"fixed": 25, "mobile": 10, "remote": 5},
    "age_15_64": {"fixed": 50, "mobile": 15, "remote": 10},
    "age_65_plus": {"fixed": 25, "mobile": 10, "remote": 5},
}


class ServiceConfig(_Model):
    """One service in the catalogue."""

    label: Label
    demand: str = "population"
    threshold_km: dict[str, float] | None = None
    threshold_min: dict[str, float] | None = None
    sectors: list[str] = Field(default_factory=lambda: list(SECTORS))
    mobile: MobileRule | None = None
    remote: float | None = Field(default=None, ge=0, le=1)
    weight: float = Field(default=1.0, ge=0)
    clients_per_resident: float = Field(default=0.05, ge=0)
    delivery: Literal["point", "home"] = Field(
        default="point", description="home: delivered at home (home care, meals); never a fixed point"
    )
    min_demand: dict[ProposalMode, float] = Field(
        default_factory=dict,
        description="smallest newly covered demand of an agreement, per mode (default: by demand group)",
    )

    @field_validator("min_demand")
    @classmethod
    def _min_demand(cls, v: dict[str, float]) -> dict[str, float]:
        if any(x < 0 for x in v.values()):
            raise ValueError("min_demand values must be non-negative")
        return v

    def min_demand_for(self, mode: str) -> float:
        """The smallest newly covered demand an agreement of ``mode`` needs (see ``min_demand``)."""
        given = {str(k): v for k, v in self.min_demand.items()}
        if mode in given:
            return float(given[mode])
        return float(DEFAULT_MIN_DEMAND.get(self.demand, DEFAULT_MIN_DEMAND["population"])[mode])

    @field_validator("demand")
    @classmethod
    def _demand(cls, v: str) -> str:
        if v not in DEMAND_COLUMNS:
            raise ValueError(f"unknown demand column '{v}'; allowed: {', '.join(DEMAND_COLUMNS)}")
        return v

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SECTORS]
        if bad:
            raise ValueError(f"unknown sector(s) {bad}; allowed: {', '.join(SECTORS)}")
        return v

    @field_validator("threshold_km", "threshold_min")
    @classmethod
    def _thresholds(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        allowed = ("default", *AREA_CLASSES)
        bad = [k for k in v if k not in allowed]
        if bad:
            raise ValueError(f"unknown area class(es) {bad}; allowed: {', '.join(allowed)}")
        if any(x <= 0 for x in v.values()):
            raise ValueError("thresholds must be positive")
        return v

    @model_validator(mode="after")
    def _some_threshold(self) -> ServiceConfig:
        if not self.threshold_km and not self.threshold_min:
            raise ValueError("give `threshold_km` and/or `threshold_min`")
        return self

    def threshold_m(self, area_class: str) -> float:
        """Distance threshold in metres for an area class (``inf`` when none is set)."""
        if not self.threshold_km:
            return float("inf")
        return 1000.0 * self.threshold_km.get(area_class, self.threshold_km.get("default", float("inf")))

    def threshold_s(self, area_class: str) -> float:
        """Time threshold in seconds for an area class (``inf`` when none is set)."""
        if not self.threshold_min:
            return float("inf")
        return 60.0 * self.threshold_min.get(area_class, self.threshold_min.get("default", float("inf")))

    def mode_weight(self, mode: str, days_per_week: float | None = None) -> float:
        """How much a point of this mode counts towards coverage (0–1)."""
        if mode == "fixed":
            return 1.0
        if mode == "mobile":
            if self.mobile is None:
                return 0.0
            days = 0.0 if days_per_week is None or days_per_week != days_per_week else days_per_week
            return float(min(1.0, days / self.mobile.required_days))
        if mode == "remote":
            return float(self.remote or 0.0)
        return 0.0


class AreaClassConfig(_Model):
    """Area classes: from the population layer's ``area_class`` column or derived."""

    source: Literal["auto", "column", "derive"] = "auto"
    urban_centre_density: float = 1500
    urban_centre_population: float = 50_000
    urban_cluster_density: float = 300
    urban_cluster_population: float = 5000
    sparse_density: float = Field(default=5, ge=0, description="rural cells below this inh/km² are sparse")
    sparse_classes: list[str] = Field(default_factory=lambda: ["M7"])


class GapConfig(_Model):
    """How uncovered cells are merged into gap areas."""

    merge_distance_m: float = Field(
        default=2500, gt=0, description="uncovered cells within this distance join one gap area"
    )
    basket: list[str] = Field(
        default_factory=list,
        description="the everyday service basket (arjen turva index): services everyone should reach",
    )


class ProposalConfig(_Model):
    """Partnership proposal settings."""

    max_new_sites: int = Field(default=5, ge=0)
    max_mobile_routes: int = Field(default=5, ge=0)
    max_remote_points: int = Field(default=5, ge=0)
    min_sectors: int = Field(default=3, ge=0)
    price_cross_sector_rule: bool = Field(
        default=True, description="solve once more without min_sectors and report what the rule costs"
    )
    max_actor_share: float = Field(default=0.5, gt=0, le=1)
    capacity_slack: float = Field(default=1.0, gt=0)
    weight_65_plus: float = Field(default=1.5, ge=0)
    hub_bonus: float = Field(default=0.1, ge=0)
    travel_cost_per_km: float = Field(default=0.01, ge=0)
    mobile_days: list[int] = Field(default_factory=lambda: [1, 2, 5])
    max_sites_per_service: int = Field(
        default=8, gt=0, description="gap-area sites per service and municipality"
    )
    default_max_travel_km: float = Field(default=50, gt=0, description="for actors without max_travel_km")
    time_limit_s: float = Field(default=60, gt=0)
    mip_gap: float = Field(default=0.01, ge=0)
    max_mip_options: int = Field(default=20_000, gt=0)


class ExportConfig(_Model):
    """What a run writes and how: suppression, maps, and the CSV dialect."""

    suppress_below: int = Field(default=10, ge=0)
    map_dpi: int = Field(default=150, gt=0)
    basemap_tiles: bool = True
    municipality_maps: int = Field(
        default=3, ge=0, description="maps per municipality: the services with most uncovered demand"
    )
    csv_dialect: Literal["standard", "excel-fi"] = Field(
        default="standard",
        description="standard: comma, dot decimals; excel-fi: semicolon, decimal comma, BOM",
    )


class ScenarioPoint(_Model):
    """A service point a scenario adds (e.g. a new mobile route stop)."""

    point_id: str
    name: str
    services: list[str]
    mode: Literal["fixed", "mobile", "remote"] = "fixed"
    days_per_week: float | None = Field(default=None, ge=0, le=7)
    capacity: float | None = Field(default=None, ge=0)
    actor_id: str = ""
    x: float | None = None
    y: float | None = None
    lon: float | None = None
    lat: float | None = None

    @model_validator(mode="after")
    def _location(self) -> ScenarioPoint:
        if (self.x is None or self.y is None) and (self.lon is None or self.lat is None):
            raise ValueError("give x and y (EPSG:3067) or lon and lat (WGS84)")
        if self.mode == "mobile" and not self.days_per_week:
            raise ValueError("a mobile point needs days_per_week above 0")
        return self


class ScenarioThresholds(_Model):
    threshold_km: dict[str, float] | None = None
    threshold_min: dict[str, float] | None = None


class ScenarioConfig(_Model):
    """Overrides that define a what-if scenario: run with ``arjenturva run --scenario NAME``."""

    description: str = ""
    close_points: list[str] = Field(default_factory=list)
    remove_actors: list[str] = Field(default_factory=list)
    add_points: list[ScenarioPoint] = Field(default_factory=list)
    thresholds: dict[str, ScenarioThresholds] = Field(default_factory=dict)
    population: PopulationProjection | None = None
    close_roads: list[RoadClosure] = Field(default_factory=list)
    speeds: dict[str, float] = Field(default_factory=dict, description="road class -> km/h (e.g. winter)")
    add_roads: list[AddedRoad] = Field(default_factory=list)

    _speeds = field_validator("speeds")(positive_speeds)


class Config(_Model):
    """The whole workspace configuration."""

    name: str = "arjenturva workspace"
    language: Literal["fi", "en"] = "fi"
    synthetic: bool = Field(default=False, description="the data is made up: every map and report says so")
    inputs: Inputs
    study_area: list[str] | None = Field(
        default=None,
        description="codes of the municipalities analysed; the others in the municipalities layer "
        "are context: their service points and roads count, their population is left out",
    )
    network: NetworkConfig
    services: dict[str, ServiceConfig]
    area_classes: AreaClassConfig = Field(default_factory=AreaClassConfig)
    gaps: GapConfig = Field(default_factory=GapConfig)
    proposals: ProposalConfig = Field(default_factory=ProposalConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    scenarios: dict[str, ScenarioConfig] = Field(default_factory=dict)
    routes: RouteConfig = Field(default_factory=RouteConfig)

    # Set by the loader, not read from YAML.
    base_dir: Path = Field(default=Path("."), exclude=True)
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("study_area", mode="before")
    @classmethod
    def _study_area(cls, v: Any) -> list[str] | None:
        if v is None:
            return None
        if isinstance(v, str | int):
            v = [v]
        if not isinstance(v, list):
            raise ValueError("give a list of municipality codes, e.g. study_area: ['615', '614']")
        codes = [str(c).strip() for c in v]
        bad = [c for c in codes if not c.isdigit() or len(c) > 3]
        if bad:
            raise ValueError(
                f"municipality codes are 1-3 digits (got {bad}); e.g. study_area: ['615', '614']"
            )
        if not codes:
            raise ValueError("give at least one municipality code, or leave study_area out to study them all")
        return list(dict.fromkeys(c.zfill(3) for c in codes))

    @field_validator("services")
    @classmethod
    def _services(cls, v: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        if not v:
            raise ValueError("define at least one service")
        for sid in v:
            if not sid.replace("_", "").isalnum():
                raise ValueError(f"service id '{sid}' may hold only letters, digits and _")
        return v

    @model_validator(mode="after")
    def _basket_services(self) -> Config:
        unknown = [s for s in self.gaps.basket if s not in self.services]
        if unknown:
            raise ValueError(
                f"gaps.basket: unknown service(s) {unknown}; "
                f"use ids from `services:` ({', '.join(self.services)})"
            )
        return self

    def resolve(self, path: str | Path) -> Path:
        """Resolve a path from the config relative to the config's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def attributions(self) -> list[str]:
        """The sources and licences the inputs declare, each once, in input order (roads last)."""
        specs = [self.inputs.municipalities, self.inputs.population, self.inputs.service_points,
                 self.inputs.actors, self.inputs.places]
        found = [s.attribution for s in specs if s is not None and s.attribution]
        if self.network.attribution:
            found.append(self.network.attribution)
        return list(dict.fromkeys(found))

    def digest(self) -> str:
        """A stable hash of the settings (for run.json and cache keys)."""
        text = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) if loc else "(top level)"


def format_validation_error(err: ValidationError, source: str) -> str:
    """Turn pydantic's errors into one line per problem naming the key path."""
    lines = []
    for e in err.errors():
        loc = _format_loc(tuple(e.get("loc", ())))
        kind = e.get("type", "")
        msg = e.get("msg", "")
        if kind == "extra_forbidden":
            parent = tuple(e.get("loc", ()))[:-1]
            allowed = _allowed_keys(parent)
            hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
            close = difflib.get_close_matches(str(tuple(e.get("loc", ()))[-1]), allowed, n=1)
            if close:
                hint = f" (did you mean '{close[0]}'?)" + hint
            lines.append(f"{source}: unknown key '{loc}'{hint}. Fix: check the spelling")
        elif kind == "missing":
            lines.append(f"{source}: missing key '{loc}'. Fix: add it")
        elif kind == "finite_number":
            lines.append(f"{source}: key '{loc}': {msg}. Fix: write a number (not .nan or .inf)")
        else:
            msg = msg.removeprefix("Value error, ")
            lines.append(f"{source}: key '{loc}': {msg}. Fix: correct `{loc}` in the config")
    return "\n".join(lines)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys a model accepts at a location, for typo messages."""
    model: Any = Config
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part) if isinstance(part, str) else None
        if field is None:
            # A dict of models (services.<id>): step into the value type.
            ann = getattr(model, "__args__", None)
            if ann:
                model = ann[-1]
                continue
            if model is Config and part:
                return []
            continue
        ann = field.annotation
        model = _unwrap(ann)
    fields = getattr(model, "model_fields", None)
    return sorted(fields) if fields else []


def _unwrap(ann: Any) -> Any:
    import types
    import typing

    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        for a in typing.get_args(ann):
            if a is not type(None):
                return _unwrap(a)
    if origin is dict:
        return _unwrap(typing.get_args(ann)[1])
    return ann


def _keys_given_twice(root: yaml.Node | None) -> list[tuple[str, int]]:
    """Keys repeated within one mapping of a YAML document, with the line of the repeat."""
    found: list[tuple[str, int]] = []
    stack, seen_nodes = [root] if root is not None else [], set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in keys:
                        found.append((key.value, key.start_mark.line + 1))
                    keys.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(found, key=lambda kv: kv[1])


def load_config(path: str | Path = DEFAULT_CONFIG_NAME) -> Config:
    """Load and validate ``arjenturva.yaml``.

    Parameters
    ----------
    path
        Path of the config file.

    Returns
    -------
    Config
        The validated configuration, with ``base_dir`` set to the file's folder.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid YAML, or breaks the schema.
    """
    p = Path(path)
    if p.is_dir():
        p = p / DEFAULT_CONFIG_NAME
    if not p.exists():
        msg = (
            f"{p}: config file not found. Fix: run in a workspace folder, pass --config PATH, "
            "or create one with `arjenturva init DIR`"
        )
        raise ConfigError(msg)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        msg = f"{p}: not UTF-8 text (byte {e.start}). Fix: save the file as UTF-8"
        raise ConfigError(msg) from e
    except OSError as e:
        msg = f"{p}: cannot read the config ({e.strerror}). Fix: point --config at the arjenturva.yaml file"
        raise ConfigError(msg) from e
    try:
        data = yaml.safe_load(text)
        twice = _keys_given_twice(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        if isinstance(e, yaml.constructor.ConstructorError) and "for the tag" in problem:
            msg = (
                f"{p}: YAML tags are not allowed{where}: {problem}. Fix: remove the `!!...` tag; the "
                "config holds plain text, numbers, lists and mappings only"
            )
            raise ConfigError(msg) from e
        msg = f"{p}: YAML syntax error{where}: {problem}. Fix: check indentation and quoting there"
        raise ConfigError(msg) from e
    if not isinstance(data, dict):
        msg = f"{p}: expected a mapping of settings at the top level. Fix: see `arjenturva init`"
        raise ConfigError(msg)
    if twice:
        keys = ", ".join(f"'{k}' (line {line})" for k, line in twice)
        msg = f"{p}: a key is given twice in one mapping: {keys}. Fix: keep one of them (YAML keeps the last)"
        raise ConfigError(msg)
    return config_from_dict(data, base_dir=p.parent.resolve(), source=str(p))


def config_from_dict(data: dict[str, Any], *, base_dir: Path | str = ".", source: str = "config") -> Config:
    """Validate a config given as a dict (for scripts and tests)."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, source)) from e
    cfg.base_dir = Path(base_dir)
    cfg.path = Path(source) if source != "config" else None
    return cfg
