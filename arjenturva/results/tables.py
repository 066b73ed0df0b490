"""The results folder as a contract: its files, layers and the schema of every table.

A results folder is the interface between the analysis and everything a user reads: maps,
reports, comparisons, Excel and QGIS. This module owns it. It names every file and layer, and it
lists each table's columns with their dtype, unit and meaning. Every table is written by
:func:`write_table` (or :func:`write_layers` / :func:`write_workbook`), which checks the frame
against its schema, and read back by :func:`read_table` / :func:`read_layer`, which check the
folder's results-format version and give each column its dtype. No other module guesses a
results column.

The schemas are frozen dataclasses rather than pandera or pyarrow schemas: they need no extra
dependency or import time, they carry the unit and meaning a user reads in the docs (pyarrow
schemas have no place for them but untyped metadata), and the few checks a writer needs (the
column set and order, castable dtypes) are a dozen lines.
"""

from __future__ import annotations

from typing import Final

from .columns import (
    _MUNI,
    _MUNI_NAME,
    _SERVICE,
    _SERVICE_LABEL,
    BATCH_FILE,
    GPKG_FILE,
    MAPS_DIR,
    REPORT_FILE,
    RESULTS_FORMAT_VERSION,
    RUN_FILE,
    RUNS_DIR,
    SUMMARY_XLSX,
    UNIT_DECIMALS,
    WEB_MAP_FILE,
    Column,
    DType,
    ResultsError,
    Table,
    _c,
    municipality_brief_file,
    municipality_report_file,
    municipality_service_map_file,
    overview_map_file,
    safe_name,
    service_map_file,
)
from .plan_tables import ROUTE_LINES, ROUTE_STOPS, ROUTES, ROUTES_SUMMARY, STRESS

__all__ = [
    "BATCH_FILE", "GPKG_FILE", "MAPS_DIR", "REPORT_FILE", "RESULTS_FORMAT_VERSION", "RUNS_DIR", "RUN_FILE",
    "SUMMARY_XLSX", "UNIT_DECIMALS", "WEB_MAP_FILE", "Column", "DType", "ResultsError", "Table",
    "municipality_brief_file", "municipality_report_file", "municipality_service_map_file",
    "overview_map_file", "safe_name", "service_map_file",
]

ACCESS: Final = Table(
    "access",
    "Every populated cell × service: the nearest service point and whether the cell is covered.",
    (
        _c("cell_id", "str", "", "population cell or point id"),
        _SERVICE,
        _c(
            "nearest_point_id",
            "str",
            "",
            "nearest service point by the config's cost (empty: none reachable)",
        ),
        _c("distance_m", "float", "m", "road distance to the nearest point (empty: unreachable)"),
        _c("time_s", "float", "s", "travel time to the nearest point (empty: unreachable)"),
        _c("coverage", "float", "share 0–1", "1 within the thresholds; mobile/remote points give partial"),
    ),
    csv="access.csv",
)

SUMMARY: Final = Table(
    "summary",
    "Indicators per municipality and service, and one ALL row per municipality across services.",
    (
        _MUNI,
        _MUNI_NAME,
        _c("service", "str", "", "service id, or ALL for the row across services"),
        _SERVICE_LABEL,
        _c("population", "float", "people", "residents"),
        _c("demand", "float", "people", "residents of the service's demand group"),
        _c("covered_demand", "float", "people", "demand within the thresholds (partial coverage counted)"),
        _c("covered_share", "float", "share 0–1", "covered_demand / demand (ALL: mean over services)"),
        _c("uncovered_population", "float", "people", "residents not covered (whole population)"),
        _c("uncovered_demand", "float", "people", "demand not covered"),
        _c("uncovered_65_plus", "float", "people", "residents aged 65+ not covered"),
        _c("uncovered_0_14", "float", "people", "residents aged 0–14 not covered"),
        _c("uncovered_sparse", "float", "people", "residents of sparsely populated areas not covered"),
        _c("unreachable_population", "float", "people", "residents with no road route to any point"),
        _c("mean_distance_km", "float", "km", "population-weighted mean road distance to the nearest point"),
        _c("median_distance_km", "float", "km", "population-weighted median distance"),
        _c("p90_distance_km", "float", "km", "population-weighted 90th percentile distance"),
        _c("mean_time_min", "float", "min", "population-weighted mean travel time"),
        _c("median_time_min", "float", "min", "population-weighted median travel time"),
        _c("p90_time_min", "float", "min", "population-weighted 90th percentile travel time"),
        _c("services_with_gaps", "float", "services", "ALL row: services whose covered share is below 1"),
        _c("population_lacking_any_service", "float", "people", "ALL row: residents lacking any service"),
        _c("basket_share", "float", "share 0–1",
           "ALL row: share of residents reaching the whole service basket (gaps.basket; partial counted)",
           optional=True),
        _c("basket_share_65_plus", "float", "share 0–1",
           "ALL row: the same share among residents aged 65+", optional=True),
        _c("basket_lacking_1", "float", "people", "ALL row: residents lacking one basket service",
           optional=True),
        _c("basket_lacking_2", "float", "people", "ALL row: residents lacking two basket services",
           optional=True),
        _c("basket_lacking_3_plus", "float", "people",
           "ALL row: residents lacking three or more basket services", optional=True),
    ),
    csv="summary.csv",
    sheet="summary",
)

GAP_AREAS: Final = Table(
    "gap_areas",
    "Connected areas of uncovered cells per service, with a candidate site for a new service.",
    (
        _c("gap_area_id", "str", "", "id: <service>-<municipality>-<number>"),
        _SERVICE,
        _MUNI,
        _c("cells", "int", "cells", "cells in the area"),
        _c("population", "float", "people", "residents (empty when below the suppression threshold)"),
        _c("uncovered_population", "float", "people", "residents not covered"),
        _c("age_0_14", "float", "people", "residents aged 0–14"),
        _c("age_15_64", "float", "people", "residents aged 15–64"),
        _c("age_65_plus", "float", "people", "residents aged 65+"),
        _c("uncovered_65_plus", "float", "people", "residents aged 65+ not covered"),
        _c("sparse_population", "float", "people", "residents in sparsely populated cells"),
        _c("place", "str", "", "name of the nearest place (village) to the area"),
        _c("site_cell_id", "str", "", "cell of the candidate site (most people within reach)"),
        _c("site_x", "float", "m", "candidate site, EPSG:3067 easting"),
        _c("site_y", "float", "m", "candidate site, EPSG:3067 northing"),
        _c("site_distance_m", "float", "m", "road distance from the site to the nearest existing point"),
        _c("site_time_s", "float", "s", "travel time from the site to the nearest existing point"),
        _c("nearest_point_id", "str", "", "nearest existing point of the service"),
        _c("mean_coverage", "float", "share 0–1", "mean coverage of the area's residents"),
        _c("suppressed", "bool", "", "true when the counts are blanked (too few residents)"),
    ),
    csv="gap_areas.csv",
    layer="gap_areas",
    sheet="gap_areas",
    geometry="MultiPolygon",
)

PROPOSALS: Final = Table(
    "proposals",
    "Partnership agreements: who covers which gap, how and where.",
    (
        _c("agreement_id", "str", "", "agreement id (P001, …)"),
        _MUNI,
        _MUNI_NAME,
        _c("gap_areas", "str", "", "gap areas the agreement covers (;-separated ids)"),
        _SERVICE,
        _SERVICE_LABEL,
        _c("actor_id", "str", "", "actor id"),
        _c("actor_name", "str", "", "actor name"),
        _c("sector", "str", "", "actor's sector"),
        _c("mode", "str", "", "fixed, mobile or remote"),
        _c(
            "site_name",
            "str",
            "",
            "name of the site in the config's language: a place, service point or actor's base, or "
            "its relation to the nearest place (\"9,6 km koilliseen Korpirannasta\")",
        ),
        _c("site_kind", "str", "", "gap_area, colocation (an existing service point) or actor_base"),
        _c("site_x", "float", "m", "site, EPSG:3067 easting"),
        _c("site_y", "float", "m", "site, EPSG:3067 northing"),
        _c("site_place", "str", "", "the named place nearest to the site (empty: no places given)"),
        _c("site_place_km", "float", "km", "straight-line distance from that place to the site"),
        _c(
            "site_bearing",
            "str",
            "",
            "compass direction (N, NE, …) from the place to a gap-area site farther than 1 km from "
            "it, which is then named by this relation; empty otherwise",
        ),
        _c("days_per_week", "float", "days", "visit days per week (mobile only)"),
        _c(
            "demand_group",
            "str",
            "",
            "the service's demand group: population, age_0_14, age_15_64 or age_65_plus",
        ),
        _c("demand_reached", "float", "people", "open demand (the demand group) in the cells it serves"),
        _c(
            "demand_covered",
            "float",
            "people",
            "newly covered demand (the demand group; mobile and remote services count in part)",
        ),
        _c(
            "covered_65_plus",
            "float",
            "people",
            "newly covered residents aged 65+ (empty: the cells have no age groups)",
        ),
        _c("people_reached", "float", "people", "newly covered residents"),
        _c(
            "gap_reason",
            "str",
            "",
            "why most of its demand is not covered today: distance (the nearest point is beyond the "
            "threshold), unreachable (no point by road) or partial (only a mobile or remote point)",
        ),
        _c(
            "distance_today_km",
            "float",
            "km",
            "mean road distance today to the nearest point of the demand under threshold_km, weighted "
            "by open demand (empty: none reachable)",
        ),
        _c("threshold_km", "float", "km", "distance threshold of most of its demand (empty: none)"),
        _c("threshold_min", "float", "min", "time threshold of that demand (empty: none)"),
        _c("distance_from_base_km", "float", "km", "road distance from the actor's base to the site"),
        _c("capacity_used", "float", "clients/week", "the actor's capacity used by all its agreements"),
        _c("capacity_available", "float", "clients/week", "the actor's capacity (empty: unlimited)"),
        _c("score", "float", "", "weighted newly covered demand minus cost (the objective's share)"),
        _c("rationale", "str", "", "why this agreement, in the config's language"),
    ),
    csv="proposals.csv",
    layer="proposals",
    geometry="Point",
)

PROPOSALS_SUMMARY: Final = Table(
    "proposals_summary",
    "Coverage per municipality and service before and after the proposed agreements.",
    (
        _MUNI,
        _SERVICE,
        _c("demand", "float", "people", "residents of the service's demand group"),
        _c("covered_share_before", "float", "share 0–1", "covered share of demand today"),
        _c("covered_share_after", "float", "share 0–1", "covered share with the agreements"),
        _c("uncovered_demand_before", "float", "people", "demand (the demand group) not covered today"),
        _c("uncovered_demand_after", "float", "people", "demand not covered with the agreements"),
        _c("uncovered_population_before", "float", "people", "residents not covered today"),
        _c("uncovered_population_after", "float", "people", "residents not covered with the agreements"),
        _c("uncovered_65_plus_before", "float", "people", "residents aged 65+ not covered today"),
        _c("uncovered_65_plus_after", "float", "people", "residents aged 65+ not covered after"),
        _c("agreements", "int", "agreements", "agreements for this municipality and service"),
        _c("covered_share_routes", "float", "share 0–1",
           "covered share with the weekly mobile routes, before the agreements (runs with vehicles)",
           optional=True),
        _c("uncovered_demand_routes", "float", "people",
           "demand not covered with the routes, before the agreements (runs with vehicles)", optional=True),
    ),
    csv="proposals_summary.csv",
)

NEW_SITES: Final = Table(
    "new_sites",
    "Sites where at least one fixed service point or remote support point is proposed.",
    (
        _c("site_name", "str", "", "name of the site"),
        _MUNI,
        _c("services", "str", "", "services proposed there (;-separated)"),
        _c("actors", "str", "", "actors proposed there (;-separated)"),
        _c("sectors", "str", "", "their sectors (;-separated)"),
        _c("hub", "bool", "", "true when several services share the site"),
    ),
    layer="new_sites",
    geometry="Point",
)

ACCESSIBILITY_2SFCA: Final = Table(
    "accessibility_2sfca",
    "Two-step floating catchment area supply ratios per service point with a capacity.",
    (
        _SERVICE,
        _c("point_id", "str", "", "service point id"),
        _c("capacity", "float", "clients/week", "the point's capacity"),
        _c("ratio_2sfca", "float", "capacity/person", "capacity per resident within the catchment"),
        _c("ratio_e2sfca", "float", "capacity/person", "the same with distance-decay weights (E2SFCA)"),
        _c("catchment_km", "float", "km", "catchment radius"),
    ),
    csv="accessibility_2sfca.csv",
)

POPULATION: Final = Table(
    "population",
    "Population cells above the suppression threshold, with their access to every service.",
    (
        _c("cell_id", "str", "", "population cell or point id"),
        _c("population", "float", "people", "residents"),
        _c("age_0_14", "float", "people", "residents aged 0–14", optional=True),
        _c("age_15_64", "float", "people", "residents aged 15–64", optional=True),
        _c("age_65_plus", "float", "people", "residents aged 65+", optional=True),
        _c("area_class", "str", "", "SYKE urban–rural class (K1–K3, M4–M7)"),
        _MUNI,
        _c("sparse", "bool", "", "true in sparsely populated areas"),
        _c("basket_coverage", "float", "share 0–1",
           "smallest coverage among the service basket's services (gaps.basket)", optional=True),
        _c("basket_lacking", "int", "services", "basket services not fully covered", optional=True),
    ),
    layer="population",
    per_service=(
        _c("2sfca", "float", "capacity/person", "2SFCA accessibility", optional=True),
        _c("coverage", "float", "share 0–1", "coverage of the service"),
        _c("distance_m", "float", "m", "road distance to the nearest point"),
        _c("e2sfca", "float", "capacity/person", "E2SFCA accessibility", optional=True),
        _c("time_s", "float", "s", "travel time to the nearest point"),
    ),
)

GAPS: Final = Table(
    "gaps",
    "Cells × services not fully covered.",
    (
        _c("cell_id", "str", "", "population cell or point id"),
        _SERVICE,
        _MUNI,
        _c("area_class", "str", "", "SYKE urban–rural class"),
        _c("population", "float", "people", "residents"),
        _c("age_65_plus", "float", "people", "residents aged 65+"),
        _c("coverage", "float", "share 0–1", "coverage of the service"),
        _c("distance_m", "float", "m", "road distance to the nearest point"),
        _c("time_s", "float", "s", "travel time to the nearest point"),
        _c("nearest_point_id", "str", "", "nearest point of the service"),
        _c("uncovered_population", "float", "people", "population × (1 − coverage)"),
    ),
    layer="gaps",
)

SERVICE_POINTS: Final = Table(
    "service_points",
    "The service points analysed (after any scenario).",
    (
        _c("point_id", "str", "", "service point id"),
        _c("name", "str", "", "name"),
        _c("services", "str", "", "services offered (;-separated)"),
        _c("actor_id", "str", "", "operating actor", optional=True),
        _c("mode", "str", "", "fixed, mobile or remote"),
        _c("days_per_week", "float", "days", "visit days per week (mobile)"),
        _c("capacity", "float", "clients/week", "capacity", optional=True),
        _MUNI,
        _c("snapped", "bool", "", "true when the point reached the road network"),
    ),
    layer="service_points",
    geometry="Point",
)

MUNICIPALITIES: Final = Table(
    "municipalities",
    "The municipalities analysed.",
    (
        _c("code", "str", "", "municipality code (3 digits)"),
        _c("name", "str", "", "name"),
        _c("region", "str", "", "region (maakunta)", optional=True),
        _c("wellbeing_county", "str", "", "wellbeing services county", optional=True),
    ),
    layer="municipalities",
)

CONTEXT: Final = Table(
    "context_municipalities",
    "Municipalities around the study area (config `study_area`): their service points and roads "
    "count, their population is left out; maps draw them grey.",
    MUNICIPALITIES.columns,
    layer="context_municipalities",
)

LOCATIONS: Final = Table(
    "locations",
    "Sites a classic location model (LSCP, MCLP, p-median) chose for one service.",
    (
        _c("model", "str", "", "lscp, mclp or pmedian"),
        _SERVICE,
        _c("site_name", "str", "", "name of the site"),
        _c("site_kind", "str", "", "gap_area, existing_point or actor_base"),
        _c("demand_served", "float", "people", "demand assigned to (or covered by) the site"),
        _c("x", "float", "m", "site, EPSG:3067 easting"),
        _c("y", "float", "m", "site, EPSG:3067 northing"),
    ),
    csv="location_{model}_{service}.csv",
)

PLACES: Final = Table(
    "places",
    "Named places (villages, centres) of the workspace, for labels on maps.",
    (
        _c("name", "str", "", "place name"),
        _c("kind", "str", "", "kind of place (e.g. village, centre)", optional=True),
        _c("population", "float", "people", "population given with the place", optional=True),
    ),
    layer="places",
    geometry="Point",
)

UNREACHABLE: Final = Table(
    "unreachable",
    "Cells and points the road network does not reach.",
    (
        _c("layer", "str", "", "population or service_points"),
        _c("id", "str", "", "cell or point id"),
        _c("service", "str", "", "service (empty: every service)"),
        _c("reason", "str", "", "why it is unreachable"),
        _c("population", "float", "people", "residents (cells only)"),
    ),
    sheet="unreachable",
)

BATCH_SUMMARY: Final = Table(
    "batch_summary",
    f"The summary rows of every run of a batch (`arjenturva batch`; each run in {RUNS_DIR}/<run>/), "
    f"with the run and its scenario; in the batch folder beside {BATCH_FILE}.",
    (_c("run", "str", "", f"the run's folder under {RUNS_DIR}/"),
     _c("scenario", "str", "", "the scenario of the run (empty: the baseline)"), *SUMMARY.columns),
    csv="batch_summary.csv",
    sheet="batch_summary",
    workbook="batch_summary.xlsx",
)

ABOUT: Final = Table(
    "about",
    "Provenance of the workbook: attribution, config hash, creation time.",
    (_c("item", "str", "", "what"), _c("value", "str", "", "its value")),
    sheet="about",
)

TABLES: Final[tuple[Table, ...]] = (
    ACCESS,
    SUMMARY,
    GAP_AREAS,
    PROPOSALS,
    PROPOSALS_SUMMARY,
    NEW_SITES,
    ROUTES,
    ROUTES_SUMMARY,
    ROUTE_LINES,
    ROUTE_STOPS,
    LOCATIONS,
    ACCESSIBILITY_2SFCA,
    POPULATION,
    GAPS,
    SERVICE_POINTS,
    MUNICIPALITIES,
    CONTEXT,
    STRESS,
    PLACES,
    UNREACHABLE,
    ABOUT,
    BATCH_SUMMARY,
)
"""Every table a run (or a batch of runs) writes."""

GAP_FILES: Final = (
    GPKG_FILE,
    "access.csv",
    "summary.csv",
    SUMMARY_XLSX,
    "gap_areas.csv",
    RUN_FILE,
    "accessibility_2sfca.csv",
)
"""Files the gap analysis writes (``accessibility_2sfca.csv`` when capacities exist)."""

PROPOSAL_FILES: Final = ("proposals.csv", "proposals_summary.csv")
"""Files the proposals write (and the ``proposals`` and ``new_sites`` layers)."""

ROUTE_FILES: Final = ("routes.csv", "routes_summary.csv")
"""Files ``arjenturva routes`` writes (and the ``routes`` and ``route_stops`` layers)."""


def schema_markdown() -> str:
    """The results contract as Markdown: every table's files, layers and columns (``docs/results.md``)."""
    lines = [
        "# The results folder",
        "",
        "Generated from `arjenturva/results/tables.py` by `python -m arjenturva.results`; "
        "do not edit by hand.",
        f"Results format version: **{RESULTS_FORMAT_VERSION}** (`results_format` in `{RUN_FILE}`).",
        "",
    ]
    for table in TABLES:
        where = []
        if table.csv:
            where.append(f"`{table.csv}`")
        if table.layer:
            where.append(
                f"layer `{table.layer}` of `{GPKG_FILE}`" + (f" ({table.geometry})" if table.geometry else "")
            )
        if table.sheet:
            where.append(f"sheet `{table.sheet}` of `{table.workbook}`")
        lines += [f"## {table.name}", "", f"{table.meaning} In: {', '.join(where)}.", ""]
        lines += ["| column | dtype | unit | meaning |", "|---|---|---|---|"]
        for c in table.columns:
            opt = " (optional)" if c.optional else ""
            lines.append(f"| `{c.name}` | {c.dtype} | {c.unit} | {c.meaning}{opt} |")
        for c in table.per_service:
            opt = " (optional)" if c.optional else ""
            lines.append(f"| `<service>_{c.name}` | {c.dtype} | {c.unit} | {c.meaning}, per service{opt} |")
        lines.append("")
    return "\n".join(lines)
