"""The study area: the municipalities analysed, apart from the context around them.

A regional workspace holds more municipalities than it studies. People cross municipal borders
for services, so the municipalities around the study area are kept as *context*: their service
points and roads count like any other, but their population is left out of every indicator (with
a count, reported as a warning and in ``run.json``), and no table row, map or report is made for
them. ``study_area`` in the config lists the codes studied; without it every municipality is.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from ..config import Config
from ..errors import Problem

__all__ = ["LeftOut", "StudyArea", "split_study_area", "study_area_problems"]


@dataclass(frozen=True)
class LeftOut:
    """Population features in context municipalities, left out of the indicators."""

    features: int = 0
    people: float = 0.0
    municipalities: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """For ``run.json``."""
        return {"features": self.features, "people": round(self.people, 1),
                "municipalities": list(self.municipalities)}


@dataclass(frozen=True)
class StudyArea:
    """The municipalities studied, their context and their population."""

    municipalities: gpd.GeoDataFrame
    context: gpd.GeoDataFrame | None
    population: gpd.GeoDataFrame
    left_out: LeftOut


def study_area_problems(config: Config, munis: gpd.GeoDataFrame | None) -> list[Problem]:
    """A ``study_area`` code missing from the municipalities layer is an error (all named at once)."""
    if config.study_area is None or munis is None:
        return []
    known = set(munis["code"])
    missing = [c for c in config.study_area if c not in known]
    if not missing:
        return []
    label = str(config.inputs.municipalities.path)
    return [
        Problem(
            "arjenturva.yaml",
            "",
            "study_area",
            f"municipality code(s) {', '.join(missing)} are not in the municipalities layer ({label})",
            "add the municipality to the layer, or correct the code (3 digits, e.g. 615)",
        )
    ]


def split_study_area(config: Config, munis: gpd.GeoDataFrame, population: gpd.GeoDataFrame) -> StudyArea:
    """Split the municipalities into studied and context, and leave the context's people out.

    The codes of ``config.study_area`` must all be in ``munis`` (see :func:`study_area_problems`).
    Without ``study_area`` everything is studied and nothing is left out.
    """
    if config.study_area is None:
        return StudyArea(munis, None, population, LeftOut())
    studied = munis["code"].isin(config.study_area).to_numpy()
    if studied.all():
        return StudyArea(munis, None, population, LeftOut())
    in_study = population["municipality"].isin(config.study_area).to_numpy()
    gone = population.loc[~in_study]
    left_out = LeftOut(
        features=int((~in_study).sum()),
        people=float(np.nansum(gone["population"].to_numpy(dtype=float))),
        municipalities=tuple(sorted(set(gone["municipality"]))),
    )
    return StudyArea(
        municipalities=munis.loc[studied].reset_index(drop=True),
        context=munis.loc[~studied].reset_index(drop=True),
        population=population.loc[in_study].reset_index(drop=True),
        left_out=left_out,
    )
