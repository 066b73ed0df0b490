"""The validated inputs of a workspace, as one object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from ..config import Config
from ..errors import Problem
from .study import LeftOut


@dataclass
class Workspace:
    """Every input of a workspace, validated, in EPSG:3067 with canonical columns."""

    config: Config
    municipalities: gpd.GeoDataFrame
    population: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    actors: gpd.GeoDataFrame | None = None
    places: gpd.GeoDataFrame | None = None
    context: gpd.GeoDataFrame | None = None
    """Municipalities around the study area: their points and roads count, their people do not."""
    left_out: LeftOut = field(default_factory=LeftOut)
    """Population in context municipalities, left out of the indicators."""
    vehicles: gpd.GeoDataFrame | None = None
    """Mobile actors' vehicles (``inputs.vehicles``), with their bases, for ``arjenturva routes``."""
    warnings: list[Problem] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What was loaded: features per layer, municipalities, sectors, services, population."""
        pop = self.population
        services_present = sorted({s for lst in self.service_points["services"] for s in lst})
        out: dict[str, Any] = {
            "name": self.config.name,
            "layers": {
                "municipalities": len(self.municipalities),
                "population": len(pop),
                "service_points": len(self.service_points),
                "actors": 0 if self.actors is None else len(self.actors),
                "places": 0 if self.places is None else len(self.places),
                "vehicles": 0 if self.vehicles is None else len(self.vehicles),
            },
            "municipalities": [f"{r.code} {r.name}" for r in self.municipalities.itertuples(index=False)],
            "context_municipalities": [
                f"{r.code} {r.name}"
                for r in (self.context.itertuples(index=False) if self.context is not None else ())
            ],
            "population_left_out": self.left_out.as_dict(),
            "services_configured": list(self.config.services),
            "services_with_points": services_present,
            "modes": self.service_points["mode"].value_counts().to_dict(),
            "sectors": (
                {} if self.actors is None else self.actors["sector"].value_counts().sort_index().to_dict()
            ),
            "population_total": int(np.nansum(pop["population"].to_numpy())),
            "population_suppressed_cells": int(pop["suppressed"].sum()),
            "warnings": [str(w) for w in self.warnings],
        }
        return out
