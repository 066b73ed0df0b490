"""What-if scenarios: a named set of overrides applied to a loaded workspace (issue 8).

A scenario may close service points, remove actors, add service points (for example a new
mobile route stop) and change service thresholds; scale the population to a projection year
(:mod:`arjenturva.projection`); and close roads, change class speeds or add road links
(:mod:`arjenturva.network.edits`: the network is built with the edits when the run builds it).
It never edits the input files.
"""

from __future__ import annotations

import copy
import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from .config import Config, ScenarioConfig
from .errors import ConfigError
from .network.edits import edited_network_config
from .projection import scenario_population
from .schema import CRS
from .workspace import Workspace


def scenario_config(config: Config, name: str) -> ScenarioConfig:
    """The scenario ``name`` of the config.

    Raises
    ------
    ConfigError
        When no scenario of that name is defined.
    """
    if name not in config.scenarios:
        known = ", ".join(config.scenarios) or "none defined"
        msg = (
            f"unknown scenario '{name}' (scenarios: {known}). Fix: define it under `scenarios:` in the config"
        )
        raise ConfigError(msg)
    return config.scenarios[name]


def apply_scenario(ws: Workspace, name: str) -> Workspace:
    """Return a copy of the workspace with scenario ``name`` applied.

    Raises
    ------
    ConfigError
        When the scenario is not defined, or names points, actors or services that do not exist.
    """
    cfg = ws.config
    sc = scenario_config(cfg, name)
    problems: list[str] = []
    points = ws.service_points.copy()
    unknown = sorted(set(sc.close_points) - set(points["point_id"]))
    if unknown:
        problems.append(f"scenarios.{name}.close_points: unknown point id(s) {unknown}")
    points = points[~points["point_id"].isin(sc.close_points)]
    actors = ws.actors.copy() if ws.actors is not None else None
    if sc.remove_actors:
        if actors is None:
            problems.append(f"scenarios.{name}.remove_actors: the workspace has no actors input")
        else:
            unknown = sorted(set(sc.remove_actors) - set(actors["actor_id"]))
            if unknown:
                problems.append(f"scenarios.{name}.remove_actors: unknown actor id(s) {unknown}")
            actors = actors[~actors["actor_id"].isin(sc.remove_actors)]
            # An actor that leaves takes its service points with it.
            if "actor_id" in points:
                points = points[~points["actor_id"].isin(sc.remove_actors)]
    new_rows = []
    to_3067 = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    for k, pt in enumerate(sc.add_points):
        bad = [s for s in pt.services if s not in cfg.services]
        if bad:
            problems.append(f"scenarios.{name}.add_points[{k}]: unknown service(s) {bad}")
        if pt.point_id in set(points["point_id"]):
            problems.append(f"scenarios.{name}.add_points[{k}]: point id '{pt.point_id}' already exists")
        if pt.x is not None and pt.y is not None:
            x, y = pt.x, pt.y
        else:
            x, y = to_3067.transform(pt.lon, pt.lat)
        munis = ws.municipalities if ws.context is None else pd.concat([ws.municipalities, ws.context])
        inside = munis[munis.contains(shapely.Point(x, y))]
        new_rows.append(
            {
                "point_id": pt.point_id,
                "name": pt.name,
                "services": tuple(pt.services),
                "actor_id": pt.actor_id,
                "mode": pt.mode,
                "days_per_week": np.nan if pt.days_per_week is None else pt.days_per_week,
                "capacity": np.nan if pt.capacity is None else pt.capacity,
                "municipality": inside["code"].iloc[0] if len(inside) else "",
                "_row": 0,
                "geometry": shapely.Point(x, y),
            }
        )
    if new_rows:
        added = gpd.GeoDataFrame(pd.DataFrame(new_rows), geometry="geometry", crs=CRS)
        points = pd.concat([points, added], ignore_index=True)
    services = copy.deepcopy(cfg.services)
    for sid, th in sc.thresholds.items():
        if sid not in services:
            problems.append(f"scenarios.{name}.thresholds: unknown service '{sid}'")
            continue
        if th.threshold_km is not None:
            services[sid].threshold_km = th.threshold_km
        if th.threshold_min is not None:
            services[sid].threshold_min = th.threshold_min
    factors = cfg.resolve(sc.population.factors) if sc.population is not None else None
    if factors is not None and not factors.is_file():
        problems.append(f"scenarios.{name}.population.factors: file {factors} not found (paths are relative "
                        "to the config file)")
    if problems:
        msg = "; ".join(problems) + ". Fix: correct the scenario in the config"
        raise ConfigError(msg)
    population, warnings, files = ws.population, list(ws.warnings), dict(ws.files)
    if sc.population is not None and factors is not None:
        munis = ws.municipalities if ws.context is None else pd.concat([ws.municipalities, ws.context])
        projected = scenario_population(
            ws.population, munis[["code", "name"]], factors, year=sc.population.year,
            base_year=sc.population.base_year, encoding=sc.population.encoding,
            key=f"scenarios.{name}.population",
        )
        population, files["population_projection"] = projected.population, factors
        warnings += projected.warnings
    network = cfg.network
    if sc.close_roads or sc.speeds or sc.add_roads:
        network = edited_network_config(cfg.network, name, close_roads=sc.close_roads, speeds=sc.speeds,
                                        add_roads=sc.add_roads)
    new_cfg: Config = cfg.model_copy(update={"services": services, "network": network})
    new_cfg.base_dir, new_cfg.path = cfg.base_dir, cfg.path
    return dataclasses.replace(
        ws,
        config=new_cfg,
        population=population,
        service_points=gpd.GeoDataFrame(points.reset_index(drop=True), geometry="geometry", crs=CRS),
        actors=None if actors is None else actors.reset_index(drop=True),
        vehicles=(
            None
            if ws.vehicles is None
            else ws.vehicles[~ws.vehicles["actor_id"].isin(sc.remove_actors)].reset_index(drop=True)
        ),
        warnings=warnings,
        files=files,
    )
