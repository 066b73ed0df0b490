"""The ``vehicles`` input of ``arjenturva routes``: the demo's vehicles, the route settings, and
every problem of a broken vehicles file reported at once, each naming file, row or id, column, fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from arjenturva import api
from arjenturva.cli import app
from arjenturva.config import config_from_dict
from arjenturva.errors import ConfigError, ValidationError
from arjenturva.workspace.vehicles import parse_weekdays

HEADER = (
    "vehicle_id,name,actor_id,x,y,hours_per_day,weekdays,max_duration_min,max_distance_km,cost_per_km,services"
)


@pytest.fixture
def demo_ws(tmp_path: Path) -> Path:
    api.copy_demo(tmp_path / "ws")
    return tmp_path / "ws"


def test_demo_vehicles_load(demo_ws: Path):
    ws = api.load_workspace(demo_ws)
    v = ws.vehicles.set_index("vehicle_id")
    assert list(v.index) == ["TA-KA", "TA-RO", "KAUPPA", "KIRJASTO"]
    assert v.loc["TA-KA", "weekdays"] == ("mon", "tue", "wed", "thu", "fri")  # given as ma;ti;ke;to;pe
    assert v.loc["KAUPPA", "weekdays"] == ("tue", "fri")
    assert v.loc["KAUPPA", "services"] == ("grocery", "post")
    assert v.loc["TA-KA", "name"] == "Terveysauto Kaarnavaara"
    # A blank base is the actor's base (A19 at 440553, 7304526); a given one is kept.
    assert (v.loc["TA-KA", "geometry"].x, v.loc["TA-KA", "geometry"].y) == (440553, 7304526)
    assert (v.loc["KAUPPA", "geometry"].x, v.loc["KAUPPA", "geometry"].y) == (440471, 7305009)
    # A blank cost per km is the actor's (A19: 0.7); a given one is kept (TA-RO: 0.8).
    assert v.loc["TA-KA", "cost_per_km"] == 0.7 and v.loc["TA-RO", "cost_per_km"] == 0.8
    assert v.loc["TA-RO", "max_duration_min"] == 450 and v.loc["KAUPPA", "hours_per_day"] == 9
    assert ws.summary()["layers"]["vehicles"] == 4
    assert not [w for w in ws.warnings if "vehicles" in w.file]


def test_parse_weekdays():
    assert parse_weekdays("mon;wed;fri") == (("mon", "wed", "fri"), [])
    assert parse_weekdays("Pe; ma, Ke") == (("mon", "wed", "fri"), [])  # any case, ',' too, Monday first
    assert parse_weekdays("tiistai;Sunday;to.") == (("tue", "thu", "sun"), [])
    assert parse_weekdays("mon;xyz;") == (("mon",), ["xyz"])
    assert parse_weekdays(None) == ((), [])


def _problems(ws: Path) -> ValidationError:
    with pytest.raises(ValidationError) as e:
        api.load_workspace(ws)
    return e.value


def _find(err: ValidationError, where: str, column: str, text: str) -> None:
    hits = [
        p
        for p in err.problems
        if p.file == "vehicles.csv"
        and p.where.startswith(where)
        and p.column == column
        and text in p.message
        and p.fix
    ]
    assert len(hits) == 1, (where, column, text, [str(p) for p in err.problems])


def test_every_problem_at_once(demo_ws: Path):
    with (demo_ws / "actors.csv").open("a", encoding="utf-8") as f:
        f.write("A99,Kylätaksi ilman tukikohtaa,company,health_station,10,*,,,50,mobile,false,0.5,fi\n")
    rows = [
        "V1,,A19,,,8,mon,,,,health_station",  # valid
        "V2,,A98,,,8,mon,,,,health_station",  # unknown actor
        "V3,,a19,,,8,mon,,,,health_station",  # unknown actor, differs by case
        "V4,,A12,,,8,mon,,,,grocery",  # actor without the mobile mode
        "V5,,A19,,,8,mon;xyz,,,,health_station",  # bad weekday
        "V6,,A19,,,0,mon,,,,health_station",  # a working day of 0 hours
        "V7,,A19,,,-2,mon,,,,health_station",  # negative hours
        "V8,,A99,,,8,mon,,,,health_station",  # no base: the actor has none either
        "V9,,A19,,,8,mon,,,,helth_station",  # unknown service
        "V10,,A20,,,8,mon,,,,atm",  # a service without a mobile rule
        "V11,,A20,,,8,mon,,,,library",  # a service the actor does not offer
        "V1,,A19,,,8,mon,,,,health_station",  # duplicate id
        "V12,,A19,,,8,,,,,health_station",  # no weekdays
        "V13,,A19,,,8,mon,0,,,health_station",  # a route limit of 0
        "V14,,A19,,,,mon,,,,health_station",  # no working hours
        "V15,,A19,,,30,mon,,,,health_station",  # more hours than a day has
        "V16,,,,,8,mon,,,,health_station",  # no actor
        "V17,,A08,,,8,mon,,,,",  # actor without the mobile mode (and no mobile service)
    ]
    (demo_ws / "vehicles.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    err = _problems(demo_ws)
    _find(err, "row 3 (id V2)", "actor_id", "unknown actor 'A98'")
    _find(err, "row 4 (id V3)", "actor_id", "unknown actor 'a19'")
    assert "did you mean 'A19'" in next(p.fix for p in err.problems if p.where.startswith("row 4 (id V3)"))
    _find(err, "row 5 (id V4)", "actor_id", "actor 'A12' has no mobile mode")
    _find(err, "row 6 (id V5)", "weekdays", "unknown weekday 'xyz'")
    _find(err, "row 7 (id V6)", "hours_per_day", "a working day of 0 hours")
    _find(err, "row 8 (id V7)", "hours_per_day", "negative value -2")
    _find(err, "row 9 (id V8)", "x/y or lon/lat", "no base")
    _find(err, "row 10 (id V9)", "services", "unknown service 'helth_station'")
    assert "did you mean 'health_station'" in next(
        p.fix for p in err.problems if p.where.startswith("row 10 (id V9)")
    )
    _find(err, "row 11 (id V10)", "services", "service 'atm' has no `mobile:` rule")
    _find(err, "row 12 (id V11)", "services", "actor 'A20' does not offer 'library'")
    _find(err, "id V1", "vehicle_id", "duplicate id on rows 2, 13")
    _find(err, "row 14 (id V12)", "weekdays", "no weekdays")
    _find(err, "row 15 (id V13)", "max_duration_min", "a limit of 0")
    _find(err, "row 16 (id V14)", "hours_per_day", "no working hours")
    _find(err, "row 17 (id V15)", "hours_per_day", "above 24")
    _find(err, "row 18 (id V16)", "actor_id", "no actor")
    _find(err, "row 19 (id V17)", "actor_id", "actor 'A08' has no mobile mode")
    vehicle_problems = [p for p in err.problems if p.file == "vehicles.csv"]
    assert len(vehicle_problems) == 17  # each once, the valid row none


def test_missing_column_and_no_actors(demo_ws: Path):
    (demo_ws / "vehicles.csv").write_text("vehicle_id,actor,hours_per_day\nV1,A19,8\n", encoding="utf-8")
    err = _problems(demo_ws)
    missing = {p.column: p for p in err.problems if p.file == "vehicles.csv"}
    assert set(missing) == {"actor_id", "weekdays"}
    assert "rename 'actor' to 'actor_id'" in missing["actor_id"].fix
    cfg = yaml.safe_load((demo_ws / "arjenturva.yaml").read_text(encoding="utf-8"))
    del cfg["inputs"]["actors"]
    (demo_ws / "vehicles.csv").write_text(HEADER + "\nV1,,A19,,,8,mon,,,,health_station\n", encoding="utf-8")
    (demo_ws / "arjenturva.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    err = _problems(demo_ws)
    (p,) = [p for p in err.problems if p.column == "inputs.vehicles"]
    assert "no actors input" in p.message and "actors:" in p.fix


def test_validate_command_names_vehicle_problems(demo_ws: Path, runner):
    (demo_ws / "vehicles.csv").write_text(
        HEADER + "\nV1,,A19,,,8,sometimes,,,,health_station\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["validate", "-c", str(demo_ws), "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["file"], p["where"], p["column"]) for p in problems] == [
        ("vehicles.csv", "row 2 (id V1)", "weekdays")
    ]
    ok = runner.invoke(app, ["validate", "-c", str(demo_ws / "arjenturva.yaml")])
    assert ok.exit_code == 1 and "unknown weekday 'sometimes'" in ok.output


def _config(**routes: object) -> dict:
    return {
        "inputs": {
            "municipalities": {"path": "m.gpkg"},
            "population": {"path": "p.csv"},
            "service_points": {"path": "s.csv"},
            "vehicles": {"path": "v.csv"},
        },
        "network": {"source": "roads.gpkg"},
        "services": {
            "clinic": {
                "label": {"fi": "Vastaanotto", "en": "Clinic"},
                "threshold_km": {"default": 5},
                "mobile": {"required_days": 2, "stop_min": 45},
            }
        },
        **({"routes": routes} if routes else {}),
    }


def test_route_settings():
    cfg = config_from_dict(_config())
    assert cfg.routes.day_start == "08:00" and cfg.routes.day_start_s() == 8 * 3600
    assert cfg.services["clinic"].mobile.stop_min == 45
    assert cfg.services["clinic"].mobile.min_people_per_stop == 20
    assert cfg.inputs.vehicles is not None and cfg.inputs.vehicles.path == "v.csv"
    # YAML 1.1 reads an unquoted 9:30 as 570 (minutes); it is taken back as 09:30.
    data = yaml.safe_load("routes: {day_start: 9:30, seed: 3, time_limit_s: 5}")
    assert data["routes"]["day_start"] == 570
    cfg = config_from_dict(_config(**data["routes"]))
    assert (cfg.routes.day_start, cfg.routes.day_start_s(), cfg.routes.seed) == ("09:30", 34200, 3)
    with pytest.raises(ConfigError, match=r"routes.day_start.*not a time of day"):
        config_from_dict(_config(day_start="25:00"))
    with pytest.raises(ConfigError, match=r"unknown key 'routes.time_limit'.*did you mean 'time_limit_s'"):
        config_from_dict(_config(time_limit=5))
