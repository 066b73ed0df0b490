"""Settings of the weekly mobile routes (``routes:`` in ``arjenturva.yaml``).

The vehicles themselves are an input table (``inputs.vehicles``); the stop duration and the
smallest number of people a stop should serve are per service (``services.<id>.mobile``). What is
here concerns the planner as a whole: when the working day starts, how stops are spaced, and how
long and how far the solver searches.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HH_MM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class RouteConfig(BaseModel):
    """How ``arjenturva routes`` plans: working-day start, stop spacing, solver limits and seed."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    day_start: str = Field(default="08:00", description="when every vehicle leaves its base (HH:MM)")
    stop_spacing_km: float = Field(
        default=2.0, ge=0, description="candidate stops closer than this (straight line) are one stop"
    )
    time_limit_s: float = Field(default=60, gt=0, description="solver time for the whole week")
    max_iterations: int = Field(
        default=3000, gt=0, description="search iterations per weekday and vehicle group (deterministic)"
    )
    seed: int = Field(default=1, ge=0, description="seed of the solver's random numbers")

    @field_validator("day_start", mode="before")
    @classmethod
    def _clock(cls, v: object) -> object:
        # YAML 1.1 reads an unquoted 9:30 as the number 570 (minutes): take it back as 09:30.
        if isinstance(v, int) and not isinstance(v, bool) and 60 <= v < 24 * 60:
            v = f"{v // 60:02d}:{v % 60:02d}"
        if not isinstance(v, str) or not _HH_MM.fullmatch(v.strip()):
            raise ValueError(f"'{v}' is not a time of day; write HH:MM in quotes, e.g. '08:00'")
        return v.strip()

    def day_start_s(self) -> int:
        """``day_start`` as seconds after midnight."""
        h, m = self.day_start.split(":")
        return int(h) * 3600 + int(m) * 60
