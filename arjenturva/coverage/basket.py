"""The everyday service basket (arjen turva index): who reaches all of it, and who lacks several.

Everyday security rests on several services at once. The basket is a list of services in the
config (``gaps.basket``, e.g. grocery, pharmacy, health station, post). For every cell:

* ``basket_coverage``: the smallest coverage among the basket's services, counted as the gap
  analysis counts it (1 within the thresholds, a mobile or remote point partly);
* ``basket_lacking``: how many of the basket's services the cell lacks, a service counting as
  lacking when its coverage is below 1 (as in the ``gaps`` table).

Per municipality, on the ``ALL`` row of ``summary``: the share of residents, and of residents
aged 65+, who reach the whole basket (``Σ people × basket_coverage / Σ people``), and the
residents lacking 1, 2, and 3 or more of its services.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .access import ServiceAccess

BASKET_CELL_COLUMNS = ("basket_coverage", "basket_lacking")
"""Per-cell columns of the ``population`` layer when a basket is configured."""

BASKET_SUMMARY_COLUMNS = (
    "basket_share",
    "basket_share_65_plus",
    "basket_lacking_1",
    "basket_lacking_2",
    "basket_lacking_3_plus",
)
"""Columns of the ``summary`` table's ``ALL`` rows when a basket is configured."""


@dataclass(frozen=True)
class BasketCells:
    """The basket per cell (arrays aligned with the population rows)."""

    services: tuple[str, ...]
    coverage: np.ndarray
    """The smallest coverage among the basket's services."""
    lacking: np.ndarray
    """How many basket services have a coverage below 1."""

    def columns(self) -> dict[str, np.ndarray]:
        return {"basket_coverage": self.coverage, "basket_lacking": self.lacking}


def basket_cells(results: dict[str, ServiceAccess], basket: list[str], n_cells: int) -> BasketCells | None:
    """The basket per cell from the services' access, or None without a basket.

    Services of the basket that were not analysed (a ``--services`` subset) are left out, so the
    index is always over what was measured; the caller names them in a warning.
    """
    present = tuple(s for s in basket if s in results)
    if not present:
        return None
    cov = np.stack([results[s].coverage for s in present])
    return BasketCells(
        services=present,
        coverage=cov.min(axis=0) if n_cells else np.zeros(0),
        lacking=(cov < 1).sum(axis=0).astype(np.int64),
    )


def basket_indicators(
    basket: BasketCells, muni: np.ndarray, n_muni: int, people: np.ndarray, age_65_plus: np.ndarray
) -> dict[str, np.ndarray]:
    """The basket indicators per municipality (arrays of length ``n_muni``)."""

    def s(v: np.ndarray) -> np.ndarray:
        return np.bincount(muni, weights=v, minlength=n_muni)

    total, total_65 = s(people), s(age_65_plus)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "basket_share": np.where(total > 0, s(people * basket.coverage) / total, np.nan),
            "basket_share_65_plus": np.where(
                total_65 > 0, s(age_65_plus * basket.coverage) / total_65, np.nan
            ),
            "basket_lacking_1": s(people * (basket.lacking == 1)),
            "basket_lacking_2": s(people * (basket.lacking == 2)),
            "basket_lacking_3_plus": s(people * (basket.lacking >= 3)),
        }
