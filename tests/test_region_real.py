"""A whole region end to end on real data: Lapland + North Ostrobothnia, 51 municipalities.

``build-workspace`` writes the region with its context, ``run_pipeline`` runs it as a user would
(no manual workaround), and the distances it writes to ``access.csv`` are checked against an
independent networkx model of the same road lines, for cells across the region and for cells
whose nearest service lies beyond their own municipality. Skipped when ``../shared/data`` is
absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, requires_shared
from pyproj import Transformer
from test_realdata import _nx_distances

from arjenturva import api
from arjenturva import results as R

pytestmark = [pytest.mark.shared, requires_shared]

SOURCES = REPO / "examples" / "shared_data_sources.yaml"


@pytest.fixture(scope="module")
def region_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("region-run")
    built = api.build_workspace(root / "ws", sources=SOURCES, regions=["Lappi", "Pohjois-Pohjanmaa"],
                                language="en")
    res = api.run_pipeline(built.config_path, out_dir=root / "results", with_maps=False)
    return built, res


def test_the_region_runs_as_given(region_run):
    built, res = region_run
    ws = res.workspace
    assert len(ws.municipalities) == 51 and ws.context is not None and len(ws.context) > 0
    # the builder writes the study population only (the context's is counted in build.json)
    assert built.counts["context_population_left_out"]["people"] > 0
    assert ws.population["population"].sum() == pytest.approx(built.counts["population"])
    summary = R.read_table(res.results_dir, R.SUMMARY)
    assert set(summary["municipality"]) == set(ws.municipalities["code"])
    run = R.read_run(res.results_dir)
    assert run.raw["population_left_out"]["people"] == pytest.approx(ws.left_out.people, abs=0.1)
    assert set(run.raw["context_municipalities"]) == set(ws.context["code"])
    # every service point the builder wrote is used, wherever it lies
    assert len(ws.service_points) == len(pd.read_csv(built.config_path.parent / "service_points.csv"))


@pytest.mark.parametrize("service", ["health_station", "municipal_centre"])
def test_regional_distances_agree_with_networkx(region_run, service):
    built, res = region_run
    folder = built.config_path.parent
    access = R.read_table(res.results_dir, R.ACCESS)
    access = access[access["service"] == service].set_index("cell_id")
    pop = pd.read_csv(folder / "population.csv", dtype={"cell_id": str}).set_index("cell_id")
    pts = pd.read_csv(folder / "service_points.csv", dtype={"point_id": str})
    to3067 = Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)
    px, py = to3067.transform(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    svc_xy = {pid: (x, y) for pid, x, y in zip(pts["point_id"], px, py, strict=True)}
    sources = pts.loc[pts["services"] == service, "point_id"].tolist()

    studied = pop.index.intersection(access.index)
    reachable = access.loc[studied]
    reachable = reachable[np.isfinite(reachable["distance_m"].to_numpy(dtype=float))]
    muni_of_point = res.workspace.service_points.set_index("point_id")["municipality"]
    cell_muni = res.workspace.population.set_index("cell_id")["municipality"]
    nearest = reachable["nearest_point_id"].astype(str)
    across = reachable.index[
        nearest.map(muni_of_point).fillna("").to_numpy() != cell_muni.reindex(reachable.index).to_numpy()
    ]
    assert len(across) >= 10  # people whose nearest service is in another municipality
    cells = sorted(set(reachable.sample(n=60, random_state=3).index) | set(across[:40]))
    pop_xy = {c: (float(pop.at[c, "x"]), float(pop.at[c, "y"])) for c in cells}
    expected = _nx_distances(folder / "roads.gpkg", pop_xy, svc_xy, sources)
    ours = reachable.loc[cells, "distance_m"].to_numpy(dtype=float)
    theirs = np.array([expected[c] for c in cells])
    assert np.isfinite(theirs).all()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=0.5 + 1e-6)  # access.csv holds whole metres
