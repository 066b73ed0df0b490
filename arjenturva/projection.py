"""Future demand: a population projection read into factors per municipality and age group, and
the population cells scaled by them (the scenario key ``population: {year, factors}``).

The projection is Statistics Finland's *Väestöennuste* by municipality, age and sex (StatFin
table 14wx, "Väestöennuste 2024: Väestö iän ja sukupuolen mukaan alueittain, 2024-2045"),
downloaded from PxWeb as CSV, or a long CSV with the columns ``municipality``, ``age_group``,
``year`` and ``population``. :func:`read_projection` reads either into population per municipality,
age group (0–14, 15–64, 65+: single years of age are summed) and year; :func:`projection_factors`
divides the projection year by the base year; :func:`project_population` scales the cells.
Every problem of a file is reported at once with its row, column and fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ._projection_csv import AGE_GROUPS, PXWEB_TABLE, read_counts
from .errors import Problem, ValidationError
from .schema import AGE_COLUMNS

__all__ = [
    "AGE_GROUPS",
    "ALL_AGES",
    "PXWEB_TABLE",
    "ProjectedPopulation",
    "ProjectionFactors",
    "ProjectionTable",
    "project_population",
    "projection_factors",
    "read_projection",
    "scenario_population",
]

ALL_AGES = "population"
"""The ``age_group`` of the all-ages rows of the factors and the summary."""


@dataclass(frozen=True)
class ProjectionTable:
    """Population per municipality, age group and year, as read from a projection file.

    Attributes
    ----------
    source
        The file.
    layout
        ``"pxweb"`` (Statistics Finland's CSV) or ``"long"`` (municipality, age_group, year, population).
    counts
        Columns ``municipality`` (3-digit code), ``age_group`` (``age_0_14``, ``age_15_64``,
        ``age_65_plus``), ``year``, ``population`` (NaN where the file has no figure) and ``row``
        (the file's line of the first figure summed in).
    years
        The years in the file, ascending.
    """

    source: Path
    layout: Literal["pxweb", "long"]
    counts: pd.DataFrame
    years: tuple[int, ...]


@dataclass(frozen=True)
class ProjectionFactors:
    """Projection factors: population in ``year`` divided by population in ``base_year``.

    ``table`` has ``municipality``, ``age_group`` (the three groups and ``population`` for all
    ages), ``base``, ``projected`` and ``factor`` (NaN where the base is 0).
    """

    source: Path
    base_year: int
    year: int
    table: pd.DataFrame

    def of(self, group: str) -> dict[str, float]:
        """The factor of an age group (or ``population``) per municipality code."""
        t = self.table[self.table["age_group"] == group]
        return dict(zip(t["municipality"], t["factor"].astype(float), strict=True))


@dataclass(frozen=True)
class ProjectedPopulation:
    """Population cells scaled to a projection year, with a summary and warnings.

    ``summary`` has ``municipality``, ``age_group`` (``population`` and the three groups),
    ``now`` and ``projected`` (sums over the cells) and ``factor`` (from the file).
    """

    population: gpd.GeoDataFrame
    summary: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_projection(
    path: str | Path, *, municipalities: pd.DataFrame, encoding: str | None = None
) -> ProjectionTable:
    """Read a projection file into population per municipality, age group and year.

    Parameters
    ----------
    path
        Statistics Finland's PxWeb CSV (a title line, a blank line, then the header; comma,
        semicolon or tab separated; UTF-8 or Windows-1252) or a long CSV.
    municipalities
        ``code`` and ``name`` of the workspace's municipalities: areas named by name are matched
        to them (case-insensitively); other areas (the whole country, regions) are skipped.
    encoding
        The file's text encoding (default: UTF-8, else Windows-1252).

    Raises
    ------
    InputFileError
        When the file is missing or unreadable.
    ValidationError
        When the format is unknown, or values, ages, sexes or measures cannot be read (all of them).
    """
    p = Path(path)
    counts, layout = read_counts(p, municipalities=municipalities, encoding=encoding)
    years = tuple(sorted({int(y) for y in counts["year"]}))
    return ProjectionTable(source=p, layout=layout, counts=counts, years=years)


# ---------------------------------------------------------------------------------------------
# Factors and scaling
# ---------------------------------------------------------------------------------------------


def projection_factors(
    table: ProjectionTable,
    *,
    year: int,
    municipalities: Mapping[str, str],
    base_year: int | None = None,
    key: str = "population",
) -> ProjectionFactors:
    """Factors = population in ``year`` / population in ``base_year``, per municipality and group.

    Parameters
    ----------
    table
        From :func:`read_projection`.
    year
        The projection year.
    municipalities
        Code → name of every municipality whose cells are scaled: each must be in the file.
    base_year
        Default: the first year of the file.
    key
        The config key, for messages (``scenarios.<name>.population``).

    Raises
    ------
    ValidationError
        When a year or a municipality is missing, or a figure needed is missing (all at once).
    """
    src = str(table.source)
    base = table.years[0] if base_year is None else base_year
    problems: list[Problem] = []
    span = f"{table.years[0]}–{table.years[-1]}" if table.years else "none"
    for y, what in ((year, "year"), (base, "base_year")):
        if y not in table.years:
            problems.append(
                Problem(
                    src,
                    "",
                    "",
                    f"year {y} is not in the file (years: {span})",
                    f"select Vuosi {y} in PxWeb too, or set `{key}.{what}` to a year of the file",
                )
            )
    if base == year and not problems:
        problems.append(
            Problem(
                src,
                "",
                "",
                f"the file holds only {year}, so there is nothing to project from",
                f"select the base year (the first year, e.g. {table.years[0]}) in PxWeb too",
            )
        )
    counts = table.counts
    have = set(counts["municipality"])
    for code, name in municipalities.items():
        if code not in have:
            problems.append(
                Problem(
                    src,
                    "",
                    "Alue",
                    f"no rows for municipality {code} {name}",
                    f"select {name} (Alue) in PxWeb, or add its rows to the file",
                )
            )
    if problems:
        raise ValidationError(problems)
    wanted = counts[counts["municipality"].isin(list(municipalities)) & counts["year"].isin([base, year])]
    for r in wanted[wanted["population"].isna()].itertuples(index=False):
        problems.append(
            Problem(
                src,
                f"row {r.row}",
                "",
                f"no figure for {r.municipality} {r.age_group} in {r.year}",
                "download the table again with every age selected",
            )
        )
    wide = wanted.pivot_table(
        index=["municipality", "age_group"], columns="year", values="population", aggfunc="first"
    )
    for code in municipalities:
        for g, _, _ in AGE_GROUPS:
            if (code, g) not in wide.index or not set(wide.columns) >= {base, year}:
                problems.append(
                    Problem(
                        src,
                        "",
                        "",
                        f"no {g} rows for {code} in {base} and {year}",
                        "select every age (Ikä) in PxWeb",
                    )
                )
    if problems:
        raise ValidationError(problems)
    frame = wide[[base, year]].set_axis(["base", "projected"], axis=1).reset_index()
    total = frame.groupby("municipality", as_index=False)[["base", "projected"]].sum()
    frame = pd.concat([total.assign(age_group=ALL_AGES), frame], ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = frame["projected"].to_numpy(float) / frame["base"].to_numpy(float)
    frame["factor"] = np.where(frame["base"].to_numpy(float) > 0, factor, np.nan)
    order = {ALL_AGES: 0} | {g: i + 1 for i, (g, _, _) in enumerate(AGE_GROUPS)}
    frame = frame.sort_values(
        ["municipality", "age_group"], key=lambda s: s.map(order) if s.name == "age_group" else s
    ).reset_index(drop=True)
    return ProjectionFactors(
        source=table.source,
        base_year=base,
        year=year,
        table=frame[["municipality", "age_group", "base", "projected", "factor"]],
    )


def project_population(
    population: gpd.GeoDataFrame, factors: ProjectionFactors, *, key: str = "population"
) -> ProjectedPopulation:
    """Scale each cell's age groups by its municipality's factors, and its population with them.

    A cell with all three age groups gets each group times its factor, and its population times
    the ratio of the scaled groups' sum to the groups' sum (their sum when they add up to the
    population). A cell without age groups gets its population times the municipality's all-ages
    factor (a warning counts them); so does an age group whose base in the file is 0. Suppressed
    cells stay suppressed.

    Raises
    ------
    ValidationError
        When a municipality of the cells has no all-ages factor (its base population is 0).
    """
    pop = population.copy()
    muni = pop["municipality"].astype(str)
    f_all = muni.map(factors.of(ALL_AGES)).to_numpy(float)
    no_factor = sorted(set(muni[~np.isfinite(f_all)]))
    if no_factor:
        problem = Problem(
            str(factors.source),
            "",
            "",
            f"no population in {factors.base_year} for {no_factor}",
            "check the file's figures for these municipalities",
        )
        raise ValidationError([problem])
    ages = pop[list(AGE_COLUMNS)].to_numpy(float)
    f = np.column_stack([muni.map(factors.of(g)).to_numpy(float) for g, _, _ in AGE_GROUPS])
    zero_base = ~np.isfinite(f) & np.isfinite(ages) & (ages > 0)
    f = np.where(np.isfinite(f), f, f_all[:, None])
    scaled = ages * f
    whole = np.isfinite(ages).all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(whole & (ages.sum(axis=1) > 0), scaled.sum(axis=1) / ages.sum(axis=1), f_all)
    people = pop["population"].to_numpy(float)
    pop["population"] = people * ratio
    for j, col in enumerate(AGE_COLUMNS):
        pop[col] = scaled[:, j]
    warnings: list[Problem] = []
    partial = ~whole & np.isfinite(people) & (people > 0)
    if partial.any():
        warnings.append(
            Problem(
                key,
                "",
                "",
                f"{int(partial.sum())} cells ({people[partial].sum():.0f} people) have no age groups: "
                "their population is scaled by their municipality's all-ages factor",
                "give age_0_14, age_15_64 and age_65_plus for every cell to project each group",
                "warning",
            )
        )
    if zero_base.any():
        warnings.append(
            Problem(
                key,
                "",
                "",
                f"{int(zero_base.any(axis=1).sum())} cells have an age group whose population in "
                f"{factors.base_year} is 0 in the file: it is scaled by the all-ages factor",
                "check the file's figures",
                "warning",
            )
        )
    summary = _summary(population, pop, factors)
    return ProjectedPopulation(population=pop, summary=summary, warnings=warnings)


def _summary(before: pd.DataFrame, after: pd.DataFrame, factors: ProjectionFactors) -> pd.DataFrame:
    cols = ["population", *AGE_COLUMNS]
    now = before.groupby("municipality")[cols].sum(min_count=1)
    then = after.groupby("municipality")[cols].sum(min_count=1)
    rows = []
    for col in cols:
        group = ALL_AGES if col == "population" else col
        of = factors.of(group)
        for code, a, b in zip(now.index, now[col].to_numpy(float), then[col].to_numpy(float), strict=True):
            rows.append((str(code), group, a, b, of.get(str(code), np.nan)))
    out = pd.DataFrame(rows, columns=["municipality", "age_group", "now", "projected", "factor"])
    return out.sort_values("municipality", kind="stable").reset_index(drop=True)


def scenario_population(
    population: gpd.GeoDataFrame,
    municipalities: pd.DataFrame,
    path: Path,
    *,
    year: int,
    base_year: int | None = None,
    encoding: str | None = None,
    key: str = "population",
) -> ProjectedPopulation:
    """Read a projection file and scale the cells to ``year`` (the scenario key ``population``).

    ``municipalities`` has ``code`` and ``name`` of every municipality the file may name; the
    file must hold every municipality that has cells.
    """
    table = read_projection(path, municipalities=municipalities, encoding=encoding)
    names = dict(zip(municipalities["code"].astype(str), municipalities["name"].astype(str), strict=True))
    cells = sorted(set(population["municipality"].astype(str)))
    factors = projection_factors(
        table, year=year, base_year=base_year, key=key, municipalities={c: names.get(c, "") for c in cells}
    )
    return project_population(population, factors, key=key)
