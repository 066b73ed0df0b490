"""Settings of the scenario keys for future demand and the road network (``scenarios.<name>``).

``population`` scales the population cells by a population projection; ``close_roads``,
``speeds`` and ``add_roads`` edit the road network the scenario runs on. The other scenario keys
(points, actors, thresholds) are in :class:`~arjenturva.config.ScenarioConfig`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class PopulationProjection(_Model):
    """``population:`` scale each cell's age groups by a projection per municipality and age group."""

    year: int = Field(ge=1900, le=2200, description="the projection year whose demand the scenario uses")
    factors: str = Field(
        description="the projection file: Statistics Finland's PxWeb CSV (table 14wx) or a long CSV "
        "with municipality, age_group, year, population (relative to the config file)"
    )
    base_year: int | None = Field(
        default=None,
        ge=1900,
        le=2200,
        description="the year the factors count from (default: the first year in the file)",
    )
    encoding: str | None = Field(
        default=None, description="text encoding of the file (default: UTF-8, else Windows-1252)"
    )

    @model_validator(mode="after")
    def _years(self) -> PopulationProjection:
        if self.base_year is not None and self.base_year == self.year:
            raise ValueError(f"base_year and year are both {self.year}; the factors would all be 1")
        return self


Coordinate = tuple[float, float]


class RoadClosure(_Model):
    """One ``close_roads`` entry: roads by id, by class, or inside a polygon."""

    ids: list[str] = Field(default_factory=list, description="values of `column` in the road file")
    column: str | None = Field(default=None, description="the id column of the road line layer")
    classes: list[str] = Field(default_factory=list, description="road classes to close (e.g. ferry)")
    polygon: str | list[Coordinate] | None = Field(
        default=None,
        description="a polygon file (GeoJSON, GeoPackage, ...) or its corners as [x, y] pairs",
    )
    layer: str | None = Field(default=None, description="the layer of a multi-layer polygon file")
    crs: str = Field(default="EPSG:3067", description="CRS of the polygon's corners (EPSG:4326: lon, lat)")

    @field_validator("ids", mode="before")
    @classmethod
    def _ids_as_text(cls, v: Any) -> Any:
        if isinstance(v, str | int):
            v = [v]
        if isinstance(v, list):
            return [str(x).strip() if isinstance(x, int | str) else x for x in v]
        return v

    @model_validator(mode="after")
    def _one_selection(self) -> RoadClosure:
        given = [k for k, v in (("ids", self.ids), ("classes", self.classes), ("polygon", self.polygon)) if v]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of `ids` (with `column`), `classes` or `polygon` per entry"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.ids and not self.column:
            raise ValueError("`ids` needs `column`, the id column of the road line layer")
        if isinstance(self.polygon, list) and len(self.polygon) < 3:
            raise ValueError("a polygon needs at least 3 corners, e.g. [[x1, y1], [x2, y2], [x3, y3]]")
        return self


class AddedRoad(_Model):
    """One ``add_roads`` entry: a straight road link between two points on the network."""

    start: Coordinate = Field(description="[x, y] of one end (on or near a road)")
    end: Coordinate = Field(description="[x, y] of the other end")
    crs: str = Field(default="EPSG:3067", description="CRS of the two ends (EPSG:4326: lon, lat)")
    road_class: str | None = Field(default=None, description="its class (speed and speed factor)")
    speed_kmh: float | None = Field(default=None, gt=0, description="its speed (default: the class speed)")
    oneway: bool = Field(default=False, description="drivable from start to end only")
    max_snap_m: float = Field(default=500.0, gt=0, description="how far from a road an end may lie")

    @model_validator(mode="after")
    def _class_or_speed(self) -> AddedRoad:
        if self.road_class is None and self.speed_kmh is None:
            raise ValueError(
                "give `road_class` (its speed comes from the class speeds) or `speed_kmh`, or both"
            )
        if self.start == self.end:
            raise ValueError("`start` and `end` are the same point")
        return self


def positive_speeds(v: dict[str, float]) -> dict[str, float]:
    """Check a ``{class: km/h}`` table (the scenario's ``speeds``)."""
    bad = {k: x for k, x in v.items() if x <= 0}
    if bad:
        raise ValueError(f"speeds must be positive km/h (got {bad}); give each class a speed above 0")
    return v
