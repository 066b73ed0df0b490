"""Config models: the design.md contract shape, every shipped config, and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from arjenturva.config import config_from_dict, load_config
from arjenturva.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]

DESIGN_SHAPE = """
name: Pilot municipalities
language: fi
inputs:
  municipalities: {path: municipalities.gpkg}
  population: {path: population.csv}
  service_points: {path: service_points.csv}
  actors: {path: actors.csv}
  places: {path: places.gpkg}
network:
  source: roads.gpkg
  layer: road
  speed_kmh: {default: 80}
  snap_tolerance_m: 5000
services:
  health_station:
    label: {fi: Terveysasema, en: Health station}
    demand: population
    threshold_km: {default: 25}
    threshold_min: {default: 30}
    sectors: [wellbeing_county, company, cooperative]
    mobile: {required_days: 5}
    remote: 0.5
proposals: {max_new_sites: 5, max_mobile_routes: 5, min_sectors: 3}
export: {suppress_below: 10}
"""


def test_design_md_shape_loads(tmp_path):
    (tmp_path / "arjenturva.yaml").write_text(DESIGN_SHAPE, encoding="utf-8")
    cfg = load_config(tmp_path)
    svc = cfg.services["health_station"]
    assert svc.threshold_m("M7") == 25_000 and svc.threshold_s("K1") == 1800
    assert cfg.resolve("roads.gpkg") == tmp_path.resolve() / "roads.gpkg"
    assert cfg.network.speeds()["motorway"] == 120 and cfg.network.speeds()["default"] == 80
    assert cfg.export.suppress_below == 10 and cfg.proposals.min_sectors == 3


@pytest.mark.parametrize(
    "path",
    sorted((REPO / "configs").glob("*.yaml"))
    + [REPO / "data/demo/arjenturva.yaml", REPO / "arjenturva/templates/workspace/arjenturva.yaml"],
    ids=lambda p: p.name,
)
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.services


def _base() -> dict:
    d = yaml.safe_load(DESIGN_SHAPE)
    d["gaps"] = {}
    return d


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["network"].update(sourse="x"), "unknown key 'network.sourse' (did you mean 'source'?)"),
        (lambda d: d.update(language="sv"), "key 'language'"),
        (
            lambda d: d["services"]["health_station"].update(demand="elderly"),
            "unknown demand column 'elderly'",
        ),
        (
            lambda d: d["services"]["health_station"].update(sectors=["church"]),
            "unknown sector(s) ['church']",
        ),
        (
            lambda d: (
                d["services"]["health_station"].pop("threshold_km")
                and d["services"]["health_station"].pop("threshold_min")
            ),
            "give `threshold_km` and/or `threshold_min`",
        ),
        (lambda d: d["network"].update(place="Posio"), "give only one of `source` and `place`"),
        (lambda d: d.pop("services"), "missing key 'services'"),
        (lambda d: d["services"]["health_station"].update(remote=2), "services.health_station.remote"),
        (
            lambda d: d["services"]["health_station"].update(threshold_km={"default": float("nan")}),
            "key 'services.health_station.threshold_km.default': Input should be a finite number. Fix:",
        ),
        (lambda d: d["gaps"].update(merge_distance_m=float("inf")), "gaps.merge_distance_m"),
        (lambda d: d["network"].update(speed_kmh={"default": 0}), "speeds must be positive km/h"),
        (lambda d: d["network"].update(class_speeds_kmh={"main": -20}), "network.class_speeds_kmh"),
        (
            lambda d: d.update(
                scenarios={
                    "s": {
                        "add_points": [
                            {
                                "point_id": "N",
                                "name": "N",
                                "services": ["x"],
                                "mode": "mobile",
                                "days_per_week": 0,
                                "x": 1,
                                "y": 2,
                            }
                        ]
                    }
                }
            ),
            "days_per_week above 0",
        ),
    ],
)
def test_config_errors_name_the_key(change, expected):
    d = _base()
    change(d)
    with pytest.raises(ConfigError) as e:
        config_from_dict(d)
    assert expected in str(e.value)


def test_not_a_mapping(tmp_path):
    (tmp_path / "arjenturva.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(tmp_path / "arjenturva.yaml")


def test_digest_is_stable_and_sensitive():
    a = config_from_dict(_base())
    b = config_from_dict(_base())
    assert a.digest() == b.digest()
    d = _base()
    d["services"]["health_station"]["threshold_km"] = {"default": 30}
    assert config_from_dict(d).digest() != a.digest()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "name: Pilot",
            "x: !!python/object/apply:os.system [ls]\nname: Pilot",
            "YAML tags are not allowed at line 2",
        ),
        (
            "language: fi",
            "language: fi\nlanguage: en",
            "a key is given twice in one mapping: 'language' (line 4)",
        ),
        ("language: fi", "language: [fi", "YAML syntax error"),
    ],
)
def test_yaml_tags_and_repeated_keys_are_refused(tmp_path, old, new, expected):
    (tmp_path / "arjenturva.yaml").write_text(DESIGN_SHAPE.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "arjenturva.yaml")
    assert expected in str(e.value) and "Fix:" in str(e.value)


def test_a_config_that_is_a_folder_is_a_clear_error(tmp_path):
    (tmp_path / "arjenturva.yaml").mkdir()
    (tmp_path / "arjenturva.yaml" / "arjenturva.yaml").mkdir()
    with pytest.raises(ConfigError, match="cannot read the config"):
        load_config(tmp_path / "arjenturva.yaml")
