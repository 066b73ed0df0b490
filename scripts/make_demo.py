# ruff: noqa: E501  (the data tables below read better one row a line)
"""Generate the SYNTHETIC demo workspace in ``data/demo/`` (deterministic, fixed seed).

Two fictional, sparsely populated municipalities modelled on northern Finland: Kaarnavaara (996)
and Routajärvi (997). Everything here is invented: places, people and organisations. The output
is the same bytes on every run (fixed seed, no timestamps; GeoPackages are written with
``OGR_CURRENT_DATE`` pinned).

Usage::

    python scripts/make_demo.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
from pathlib import Path
from xml.sax.saxutils import quoteattr

# GeoPackage writers stamp the current time into gpkg_contents; pin it before GDAL loads.
os.environ["OGR_CURRENT_DATE"] = "2025-01-01T00:00:00Z"

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from pyproj import Transformer  # noqa: E402
from shapely.geometry import LineString, Point, Polygon, box  # noqa: E402

SEED = 2013  # the year Arjen turva won the EPSA award
CRS = "EPSG:3067"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "data" / "demo"
KM = 1000.0

# --------------------------------------------------------------------------------------------
# Geography (coordinates in km, EPSG:3067 / 1000)
# --------------------------------------------------------------------------------------------

MUNICIPALITIES = [
    {"code": "996", "name": "Kaarnavaara", "region": "Lappi", "wellbeing_county": "Pohjolan hyvinvointialue"},
    {"code": "997", "name": "Routajärvi", "region": "Lappi", "wellbeing_county": "Pohjolan hyvinvointialue"},
]
# Shared border, south to north; both polygons use exactly these vertices.
BORDER = [(460.0, 7287.0), (458.0, 7300.0), (459.5, 7312.0), (461.0, 7325.0), (459.0, 7340.0), (460.0, 7355.0)]
KAARNAVAARA_OUTER = [(452.0, 7360.0), (428.0, 7363.0), (410.0, 7358.0), (402.0, 7338.0), (401.0, 7312.0),
                     (404.0, 7296.0), (425.0, 7291.0), (445.0, 7289.0)]
ROUTAJARVI_OUTER = [(472.0, 7356.0), (492.0, 7353.0), (506.0, 7348.0), (507.0, 7320.0), (505.0, 7286.0),
                    (490.0, 7283.0), (472.0, 7284.0)]
LAKE = {"name": "Routajärvi", "cx": 485.0, "cy": 7303.0, "a": 2.1, "b": 5.0}  # ellipse, km

CENTRES = {"K0": (440.0, 7305.0), "R0": (470.0, 7300.0)}
GRID = 0.25  # town street spacing, km

# name, kind, municipality, (x, y) km, target population, elderly share
PLACES = [
    ("Kaarnavaaran kirkonkylä", "centre", "996", CENTRES["K0"], 2700, 0.27),
    ("Vaaranpää", "village", "996", (436.0, 7330.0), 320, 0.33),
    ("Ylä-Kaarna", "village", "996", (425.0, 7352.0), 110, 0.42),
    ("Kaarnalampi", "village", "996", (422.0, 7355.8), 45, 0.45),
    ("Särkilahti", "village", "996", (415.0, 7298.0), 180, 0.38),
    ("Palovaara", "village", "996", (408.0, 7315.0), 90, 0.41),
    ("Honkaniemi", "village", "996", (408.5, 7323.5), 70, 0.44),
    ("Lehtovaara", "village", "996", (442.0, 7298.0), 150, 0.30),
    ("Kontiokylä", "village", "996", (418.0, 7309.0), 130, 0.36),
    ("Routajärven kirkonkylä", "centre", "997", CENTRES["R0"], 2300, 0.28),
    ("Kivikoski", "village", "997", (485.0, 7320.0), 260, 0.34),
    ("Korpiranta", "village", "997", (500.0, 7343.0), 120, 0.43),
    ("Aapajoki", "village", "997", (465.0, 7330.0), 210, 0.35),
    ("Salmenkylä", "village", "997", (492.0, 7302.0), 160, 0.37),
    ("Kuusivaara", "village", "997", (500.0, 7295.0), 60, 0.45),
    ("Pajukoski", "village", "997", (469.0, 7290.0), 140, 0.31),
    ("Hirvasniemi", "village", "997", (493.0, 7290.0), 90, 0.39),
]
PLACE_XY = {p[0]: p[3] for p in PLACES}


def _town_row(c: tuple[float, float]) -> list[tuple[float, float]]:
    return [(c[0] + i * GRID, c[1]) for i in range(-3, 4)]


K0, R0 = CENTRES["K0"], CENTRES["R0"]
# Main road between the centres and on to the borders, as chained ways (waypoints are kept exactly).
ROADS: list[tuple[list[tuple[float, float]], dict[str, str]]] = [
    ([(403.0, 7303.0), (410.0, 7307.0), (418.0, 7309.0), (430.0, 7304.0), (439.25, 7305.0)],
     {"highway": "trunk", "maxspeed": "100", "ref": "99", "name": "Pohjolantie"}),
    (_town_row(K0), {"highway": "trunk", "maxspeed": "50", "ref": "99", "name": "Kaarnavaarantie"}),
    ([(440.75, 7305.0), (448.0, 7301.0), (456.0, 7303.0), (463.0, 7299.0), (469.25, 7300.0)],
     {"highway": "trunk", "maxspeed": "100", "ref": "99", "name": "Pohjolantie"}),
    (_town_row(R0), {"highway": "trunk", "maxspeed": "50", "ref": "99", "name": "Routajärventie"}),
    ([(470.75, 7300.0), (480.0, 7296.0), (486.0, 7291.0), (493.0, 7290.0), (504.0, 7287.5)],
     {"highway": "primary", "maxspeed": "80", "ref": "99", "name": "Pohjolantie"}),
    # Kaarnavaara: north to Vaaranpää and a long dead end to Ylä-Kaarna and Kaarnalampi
    ([(440.0, 7305.75), (438.5, 7312.0), (441.0, 7320.0), (436.0, 7330.0)],
     {"highway": "secondary", "maxspeed": "80", "ref": "942", "name": "Vaarantie"}),
    ([(436.0, 7330.0), (431.0, 7336.0), (433.0, 7342.0), (427.0, 7347.0), (425.0, 7352.0), (422.0, 7355.8)],
     {"highway": "unclassified", "maxspeed": "60", "name": "Ylä-Kaarnantie"}),
    # Kaarnavaara: west to Särkilahti, then a dead end to Palovaara and Honkaniemi (grocery desert)
    ([(430.0, 7304.0), (424.0, 7299.0), (415.0, 7298.0)],
     {"highway": "tertiary", "maxspeed": "80", "ref": "19451", "name": "Särkilahdentie"}),
    ([(415.0, 7298.0), (410.0, 7305.0), (412.0, 7310.0), (408.0, 7315.0), (406.5, 7320.0), (408.5, 7323.5)],
     {"highway": "unclassified", "name": "Palovaarantie"}),
    ([(440.0, 7304.25), (443.0, 7300.0), (442.0, 7298.0)],
     {"highway": "tertiary", "maxspeed": "60", "name": "Lehtovaarantie"}),
    # Routajärvi: north-east to Kivikoski and a dead end to Korpiranta
    ([(470.75, 7300.75), (474.0, 7307.0), (480.0, 7313.0), (485.0, 7320.0)],
     {"highway": "tertiary", "maxspeed": "80", "ref": "19460", "name": "Kivikoskentie"}),
    ([(485.0, 7320.0), (490.0, 7326.0), (493.0, 7333.0), (497.0, 7337.0), (500.0, 7343.0)],
     {"highway": "unclassified", "maxspeed": "60", "name": "Korpirannantie"}),
    ([(469.5, 7300.75), (466.0, 7310.0), (468.0, 7320.0), (465.0, 7330.0)],
     {"highway": "secondary", "maxspeed": "80", "ref": "943", "name": "Aapajoentie"}),
    ([(470.0, 7299.25), (471.0, 7294.0), (469.0, 7290.0)],
     {"highway": "tertiary", "maxspeed": "60", "name": "Pajukoskentie"}),
    # Routajärvi: to the ferry landing, across the lake, and the long way round
    ([(480.0, 7296.0), (482.0, 7300.0), (482.85, 7303.0)],
     {"highway": "unclassified", "maxspeed": "60", "name": "Lauttarannantie"}),
    ([(487.15, 7303.0), (489.5, 7302.5), (492.0, 7302.0), (496.0, 7298.0), (500.0, 7295.0)],
     {"highway": "unclassified", "maxspeed": "60", "name": "Salmentie"}),
    ([(485.0, 7320.0), (489.0, 7314.0), (490.5, 7308.0), (492.0, 7302.0)],
     {"highway": "unclassified", "name": "Järvenkiertotie"}),
]
# Short shore lanes make both landings junctions, so the ferry stays its own edge after simplification.
ROADS += [
    ([(482.85, 7303.0), (482.7, 7303.6), (482.75, 7304.3)],
     {"highway": "unclassified", "maxspeed": "40", "name": "Lauttarannan kuja"}),
    ([(487.15, 7303.0), (487.3, 7303.7), (487.2, 7304.4)],
     {"highway": "unclassified", "maxspeed": "40", "name": "Salmenrannantie"}),
]
FERRY = ([(482.85, 7303.0), (485.0, 7303.2), (487.15, 7303.0)],
         {"route": "ferry", "motor_vehicle": "yes", "foot": "yes", "name": "Routasalmen lautta"})
# Ways a drive network must drop.
NON_DRIVE = [
    ([(425.0, 7352.0), (426.5, 7354.5), (428.0, 7357.5)], {"highway": "track", "tracktype": "grade3"}),
    ([(K0[0] - 0.25, K0[1] + 0.25), (K0[0] - 0.5, K0[1] + 0.5)], {"highway": "footway", "name": "Kirkkopolku"}),
]


# --------------------------------------------------------------------------------------------
# Roads
# --------------------------------------------------------------------------------------------


class Network:
    """Nodes keyed by rounded coordinates (metres) so that ways share their junctions."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[float, float], int] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []

    def node(self, x: float, y: float) -> int:
        key = (round(x, 1), round(y, 1))
        if key not in self.nodes:
            self.nodes[key] = len(self.nodes) + 1
        return self.nodes[key]

    def add_way(self, coords_m: list[tuple[float, float]], tags: dict[str, str]) -> None:
        ids = [self.node(x, y) for x, y in coords_m]
        self.ways.append((ids, tags))

    def xy(self) -> np.ndarray:
        arr = np.zeros((len(self.nodes), 2))
        for (x, y), i in self.nodes.items():
            arr[i - 1] = (x, y)
        return arr


def densify(waypoints_km: list[tuple[float, float]], rng: np.random.Generator,
            spacing: float = 150.0) -> list[tuple[float, float]]:
    """Waypoints (km) to a winding polyline (m); waypoints stay exact, segments get smooth bends."""
    pts = [(x * KM, y * KM) for x, y in waypoints_km]
    out = [pts[0]]
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:], strict=True):
        length = math.hypot(x1 - x0, y1 - y0)
        n = int(length // spacing)
        if n >= 2:
            t = np.arange(1, n) / n
            amp = min(0.06 * length, 900.0)
            coef = rng.normal(0.0, 1.0, 3) * np.array([1.0, 0.5, 0.25])
            off = amp * sum(c * np.sin((k + 1) * np.pi * t) for k, c in enumerate(coef))
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            for ti, oi in zip(t, off, strict=True):
                out.append((x0 + ti * (x1 - x0) - uy * oi, y0 + ti * (y1 - y0) + ux * oi))
        out.append((x1, y1))
    return out


def build_network(rng: np.random.Generator) -> tuple[Network, list[LineString]]:
    net = Network()
    rural_lines = []
    # Town grids: horizontal streets (row 0 is the main road) and vertical streets.
    for cname, (cx, cy) in CENTRES.items():
        for j in range(-3, 4):
            if j == 0:
                continue
            row = [((cx + i * GRID) * KM, (cy + j * GRID) * KM) for i in range(-3, 4)]
            tags = {"highway": "residential", "maxspeed": "40"}
            if j == 1:
                tags["oneway"] = "yes"
            if j == -1:
                tags["oneway"] = "yes"
                row = row[::-1]
            tags["name"] = f"{'Kaarna' if cname == 'K0' else 'Routa'}kuja {j + 4}"
            net.add_way(row, tags)
        for i in range(-3, 4):
            col = [((cx + i * GRID) * KM, (cy + j * GRID) * KM) for j in range(-3, 4)]
            speed = "50" if i == 0 else "40"
            prefix = "Kirkko" if cname == "K0" else "Koulu"
            net.add_way(col, {"highway": "residential", "maxspeed": speed, "name": f"{prefix}tie {i + 4}"})
    for wps, tags in ROADS:
        coords = densify(wps, rng)
        net.add_way(coords, tags)
        if tags.get("maxspeed") != "50":  # not a street inside a town
            rural_lines.append(LineString(coords))
    net.add_way(densify(FERRY[0], rng, spacing=1e9), FERRY[1])
    for wps, tags in NON_DRIVE:
        net.add_way(densify(wps, rng), tags)
    return net, rural_lines


def drive_graph(net: Network, *, ferry: bool = True) -> nx.Graph:
    """An undirected length-weighted graph of the drivable ways (for checking the built-in gaps)."""
    xy = net.xy()
    g = nx.Graph()
    for ids, tags in net.ways:
        if tags.get("highway") in ("track", "footway"):
            continue
        if tags.get("route") == "ferry" and not ferry:
            continue
        for a, b in zip(ids[:-1], ids[1:], strict=True):
            g.add_edge(a, b, length=float(np.hypot(*(xy[a - 1] - xy[b - 1]))))
    return g


def write_osm(net: Network, path: Path) -> None:
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    xy = net.xy()
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    lines = ["<?xml version='1.0' encoding='UTF-8'?>",
             '<osm version="0.6" generator="arjenturva scripts/make_demo.py (synthetic data)">',
             f'  <bounds minlat="{lat.min() - 0.001:.7f}" minlon="{lon.min() - 0.001:.7f}" '
             f'maxlat="{lat.max() + 0.001:.7f}" maxlon="{lon.max() + 0.001:.7f}"/>']
    for i in range(len(xy)):
        lines.append(f'  <node id="{i + 1}" version="1" lat="{lat[i]:.7f}" lon="{lon[i]:.7f}"/>')
    for w, (ids, tags) in enumerate(net.ways, start=1):
        lines.append(f'  <way id="{w}" version="1">')
        lines.extend(f'    <nd ref="{n}"/>' for n in ids)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items()))
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Municipalities and population
# --------------------------------------------------------------------------------------------


def municipality_polygons() -> list[Polygon]:
    k = Polygon([(x * KM, y * KM) for x, y in [*BORDER, *KAARNAVAARA_OUTER]])
    r = Polygon([(x * KM, y * KM) for x, y in [*BORDER[::-1], *ROUTAJARVI_OUTER[::-1]]])
    assert k.is_valid and r.is_valid
    return [k, r]


def lake_polygon() -> Polygon:
    t = np.linspace(0, 2 * np.pi, 73)[:-1]
    return Polygon(np.c_[(LAKE["cx"] + LAKE["a"] * np.cos(t)) * KM, (LAKE["cy"] + LAKE["b"] * np.sin(t)) * KM])


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer split of ``total`` proportional to ``weights`` (largest remainder)."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base


def area_class(d_centre_km: float) -> str:
    """Documented rule for the demo: distance to the nearest municipal centre."""
    if d_centre_km <= 2.0:
        return "M4"
    if d_centre_km <= 6.0:
        return "M5"
    if d_centre_km <= 15.0:
        return "M6"
    return "M7"


def make_population(rng: np.random.Generator, rural_lines: list[LineString]) -> gpd.GeoDataFrame:
    munis = shapely.union_all(municipality_polygons())
    lake = lake_polygon()
    minx, miny, maxx, maxy = (int(v // KM) for v in munis.bounds)
    ix, iy = np.meshgrid(np.arange(minx, maxx + 1), np.arange(miny, maxy + 1), indexing="ij")
    ix, iy = ix.ravel(), iy.ravel()
    cells = shapely.box(ix * KM, iy * KM, (ix + 1) * KM, (iy + 1) * KM)
    ok = shapely.within(cells, munis) & ~shapely.contains(lake, shapely.centroid(cells))
    ix, iy = ix[ok], iy[ok]
    cx, cy = ix + 0.5, iy + 0.5  # cell centres, km
    pop = np.zeros(len(ix), dtype=int)
    elderly = np.full(len(ix), 0.38)
    claimed = np.zeros(len(ix), dtype=bool)
    for _name, kind, _code, (px, py), target, eld in PLACES:
        d = np.hypot(cx - px, cy - py)
        radius, scale = (3.6, 0.9) if kind == "centre" else (1.6, 0.6)
        sel = np.flatnonzero((d <= radius) & ~claimed)
        share = allocate(target, np.exp(-d[sel] / scale))
        while len(sel) > 1 and share.min() < 12:  # no tiny fringe cells: move their people inwards
            sel = sel[share >= share.min() + 1] if (share >= 12).any() else sel[:1]
            share = allocate(target, np.exp(-d[sel] / scale))
        pop[sel] += share
        claimed[sel] = True
        # older people further out from the centre, younger in the core
        elderly[sel] = eld + (0.04 * (d[sel] / radius) if kind == "centre" else 0.0)
    # scattered houses along rural roads
    roads = shapely.union_all(rural_lines)
    dist = shapely.distance(shapely.points(cx * KM, cy * KM), roads) / KM
    prob = np.where(claimed, 0.0, 0.9 * np.exp(-dist / 1.5) * (dist < 3.6) + 0.02)
    lived = rng.random(len(ix)) < prob
    small = rng.random(len(ix)) < 0.07
    scattered = np.where(small, rng.integers(1, 10, len(ix)), 9 + rng.geometric(0.25, len(ix)))
    pop = np.where(lived, scattered, pop)
    elderly = np.where(lived, rng.uniform(0.33, 0.47, len(ix)), elderly)
    keep = pop > 0
    ix, iy, cx, cy, pop, elderly = ix[keep], iy[keep], cx[keep], cy[keep], pop[keep], elderly[keep]
    d_centre = np.min([np.hypot(cx - c[0], cy - c[1]) for c in CENTRES.values()], axis=0)
    children = np.clip(0.16 - 0.12 * (elderly - 0.27), 0.07, 0.17)
    ages = np.array([rng.multinomial(n, [c, 1 - c - e, e]) for n, c, e in zip(pop, children, elderly, strict=True)])
    population = pop.copy()
    small_cell = pop < 10
    ages[small_cell] = -1  # Statistics Finland hides the age groups of cells under 10 people
    hide = small_cell & (rng.random(len(pop)) < 0.35)
    population[hide] = -1  # ... and some of those cells entirely
    gdf = gpd.GeoDataFrame(
        {
            "cell_id": [f"1km_{x * 1000}_{y * 1000}" for x, y in zip(ix, iy, strict=True)],
            "population": population,
            "age_0_14": ages[:, 0],
            "age_15_64": ages[:, 1],
            "age_65_plus": ages[:, 2],
            "area_class": [area_class(d) for d in d_centre],
        },
        geometry=[box(x * KM, y * KM, (x + 1) * KM, (y + 1) * KM) for x, y in zip(ix, iy, strict=True)],
        crs=CRS,
    )
    return gdf.sort_values("cell_id", kind="stable").reset_index(drop=True)


# Population projection (scenario vaesto_2040): SYNTHETIC figures in the layout of Statistics
# Finland's PxWeb CSV of table 14wx (Väestöennuste 2024), as it downloads with Alue, Sukupuoli
# (Yhteensä) and Ikä (every single year) in the rows and Vuosi in the columns. Per municipality and
# age band: the population in 2024 and in 2040; other years lie on the line between them, and each
# band's total is spread over its single years (the remainder to the youngest).
PROJECTION_FILE = "projection/vaestoennuste_2024.csv"
PROJECTION_YEARS = (2024, 2030, 2035, 2040)
PROJECTION = {
    "Kaarnavaara": {(0, 14): (1380, 1080), (15, 64): (4410, 3660), (65, 99): (3340, 4080), (100, 100): (4, 9)},
    "Routajärvi": {(0, 14): (1370, 960), (15, 64): (4460, 3570), (65, 99): (3550, 4620), (100, 100): (3, 8)},
}


def projection_csv() -> str:
    """The demo's population projection file (PxWeb CSV layout, UTF-8)."""
    def spread(total: int, n: int) -> list[int]:
        return [total // n + (1 if k < total % n else 0) for k in range(n)]

    info = "Väestö 31.12. (ennuste 2024)"
    lines = ['"14wx -- Väestöennuste 2024: Väestö iän ja sukupuolen mukaan alueittain, 2024-2045 '
             '(SYNTHETIC demo figures)"', "",
             ",".join(f'"{h}"' for h in ["Alue", "Sukupuoli", "Ikä", "Tiedot", *map(str, PROJECTION_YEARS)])]
    for name, bands in PROJECTION.items():
        per_age: dict[int, list[int]] = {}
        for (lo, hi), (first, last) in bands.items():
            totals = [round(first + (last - first) * (y - 2024) / 16) for y in PROJECTION_YEARS]
            cols = [spread(t, hi - lo + 1) for t in totals]
            for k, age in enumerate(range(lo, hi + 1)):
                per_age[age] = [c[k] for c in cols]
        rows = [("Yhteensä", [sum(v[j] for v in per_age.values()) for j in range(len(PROJECTION_YEARS))])]
        rows += [(str(a) if a < 100 else "100 -", per_age[a]) for a in sorted(per_age)]
        for age, values in rows:
            lines.append(f'"{name}","Yhteensä","{age}","{info}",' + ",".join(map(str, values)))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Services, actors, config
# --------------------------------------------------------------------------------------------

# id: (fi, en, demand, threshold_km, threshold_min, sectors, mobile required_days, remote, comment)
ALL = "all"
SERVICES = {
    "health_station": ("Terveysasema", "Health station", "population",
                       {"default": 25, "M4": 10, "M5": 20, "M6": 30, "M7": 40}, {"default": 45, "M7": 60},
                       ["wellbeing_county", "company", "cooperative"], 5, 0.5,
                       "a mobile health unit counts fully at 5 days/week; a remote reception counts half"),
    "dental": ("Hammashoitola", "Dental clinic", "population", {"default": 30, "M7": 60}, None,
               ["wellbeing_county", "company", "cooperative"], 5, None, ""),
    "pharmacy": ("Apteekki", "Pharmacy", "population", {"default": 20, "M6": 30, "M7": 45}, None,
                 ["company", "cooperative", "wellbeing_county"], None, 0.5,
                 "a medicine pick-up point (apteekin palvelupiste) counts as remote"),
    "grocery": ("Ruokakauppa", "Grocery shop", "population",
                {"default": 5, "M4": 3, "M5": 10, "M6": 15, "M7": 20}, None,
                ["company", "cooperative", "village_association", "association", "volunteer"], 2, 0.3,
                "a shop van (kauppa-auto) twice a week counts fully; an order pick-up point 0.3"),
    "library": ("Kirjasto", "Library", "population", {"default": 15, "M7": 30}, None,
                ["municipality", "association", "village_association"], 1, 0.3,
                "a mobile library stop once a week counts fully"),
    "school": ("Perusopetus (koulu)", "Primary school", "age_0_14", {"default": 10, "M6": 20, "M7": 35}, None,
               ["municipality", "foundation"], None, None, ""),
    "day_care": ("Varhaiskasvatus", "Early childhood education", "age_0_14",
                 {"default": 5, "M5": 10, "M6": 15, "M7": 25}, None,
                 ["municipality", "company", "association", "parish"], None, None, ""),
    "elder_home_care": ("Kotihoito", "Home care for older people", "age_65_plus",
                        {"default": 25, "M7": 40}, {"default": 40, "M7": 50},
                        ["wellbeing_county", "company", "cooperative", "foundation", "association", "parish",
                         "volunteer"], 5, 0.2, "distance from the home-care base the team drives from"),
    "social_services": ("Sosiaalipalvelut", "Social services", "population", {"default": 25, "M7": 50}, None,
                        ["wellbeing_county", "state", "association", "parish"], 5, 0.7,
                        "video meetings count 0.7"),
    "post": ("Postipalvelu", "Postal service", "population", {"default": 10, "M7": 25}, None,
             ["company", "cooperative", "village_association", "state"], 5, 0.5, ""),
    "atm": ("Käteisnosto", "Cash withdrawal", "population", {"default": 10, "M7": 30}, None,
            ["company", "cooperative"], None, None, "an ATM or cash back at a shop"),
    "sports": ("Liikuntapaikka", "Sports facility", "population", {"default": 5, "M7": 15}, None,
               ["municipality", "association", "village_association", "volunteer", "state"], None, None, ""),
}

# Smallest newly covered demand of a proposed agreement, where the defaults (by demand group:
# fixed 100 residents or 25 children, mobile 30 or 10, remote 20 or 5) do not fit: a new health
# station, dental clinic or social services office needs a town, not a village.
MIN_DEMAND = {
    "health_station": {"fixed": 2000},
    "dental": {"fixed": 2000},
    "pharmacy": {"fixed": 1500},
    "social_services": {"fixed": 2000},
    "library": {"fixed": 500},
    "atm": {"fixed": 300},
}
# Services delivered at people's homes: never proposed as a fixed point.
DELIVERY = {"elder_home_care": "home"}

# point_id, name, services, actor_id, mode, days_per_week, capacity, anchor place, offset (km)
POINTS = [
    ("KA01", "Kaarnavaaran terveysasema", "health_station", "A03", "fixed", 5, 600, "Kaarnavaaran kirkonkylä", (0.25, 0.25)),
    ("KA02", "Kaarnavaaran hammashoitola", "dental", "A03", "fixed", 5, 150, "Kaarnavaaran kirkonkylä", (0.25, 0.5)),
    ("KA03", "Kaarnavaaran apteekki", "pharmacy", "A21", "fixed", 6, 500, "Kaarnavaaran kirkonkylä", (0.0, -0.25)),
    ("KA04", "Kauppa Vaara Kaarnavaara", "grocery;post;atm", "A20", "fixed", 7, 2500, "Kaarnavaaran kirkonkylä", (0.5, 0.0)),
    ("KA05", "Lähikauppa Kaarna", "grocery", "A28", "fixed", 6, 900, "Kaarnavaaran kirkonkylä", (-0.5, -0.25)),
    ("KA06", "Kaarnavaaran kirjasto", "library", "A01", "fixed", 5, 700, "Kaarnavaaran kirkonkylä", (-0.25, 0.25)),
    ("KA07", "Kaarnavaaran yhtenäiskoulu", "school", "A01", "fixed", 5, 320, "Kaarnavaaran kirkonkylä", (-0.5, 0.5)),
    ("KA08", "Päiväkoti Kaarnanen", "day_care", "A01", "fixed", 5, 80, "Kaarnavaaran kirkonkylä", (0.5, 0.5)),
    ("KA09", "Kotihoito Kaarnavaara", "elder_home_care", "A05", "fixed", 7, 120, "Kaarnavaaran kirkonkylä", (0.75, -0.25)),
    ("KA10", "Palvelutori Kaarnavaara", "social_services;post", "A03", "fixed", 3, 200, "Kaarnavaaran kirkonkylä", (0.0, 0.25)),
    ("KA11", "Kaarnavaaran urheilukenttä ja kuntosali", "sports", "A01", "fixed", 7, 400, "Kaarnavaaran kirkonkylä", (-0.75, 0.75)),
    ("KA12", "Käteisautomaatti Kaarnavaara", "atm", "A29", "fixed", 7, 800, "Kaarnavaaran kirkonkylä", (0.25, -0.25)),
    ("KA13", "Vaaranpään kyläkauppa", "grocery;post", "A20", "fixed", 6, 400, "Vaaranpää", (0.2, 0.0)),
    ("KA14", "Vaaranpään koulu", "school;day_care", "A01", "fixed", 5, 40, "Vaaranpää", (-0.2, 0.1)),
    ("KA15", "Vaaranpään kuntosali", "sports", "A14", "fixed", 7, 60, "Vaaranpää", (0.0, 0.3)),
    ("KA16", "Kirjastoauto: Vaaranpää", "library", "A01", "mobile", 1, 60, "Vaaranpää", (0.0, -0.2)),
    ("KA17", "Kirjastoauto: Ylä-Kaarna", "library", "A01", "mobile", 1, 30, "Ylä-Kaarna", (0.0, 0.0)),
    ("KA18", "Kauppa-auto: Ylä-Kaarna", "grocery", "A22", "mobile", 2, 40, "Ylä-Kaarna", (0.1, 0.0)),
    ("KA19", "Kirjastoauto: Särkilahti", "library", "A01", "mobile", 1, 40, "Särkilahti", (0.0, 0.0)),
    ("KA20", "Särkilahden kylätalo", "sports", "A12", "fixed", 3, 40, "Särkilahti", (0.1, 0.1)),
    ("KA21", "Lehtovaaran koulu", "school", "A01", "fixed", 5, 35, "Lehtovaara", (0.0, 0.0)),
    ("KA22", "Terveysauto: Kontiokylä", "health_station", "A03", "mobile", 1, 25, "Kontiokylä", (0.0, 0.0)),
    ("KA23", "Kontiokylän kyläkoulu", "school", "A01", "fixed", 5, 25, "Kontiokylä", (0.2, 0.0)),
    ("KA24", "Kaarnavaaran seurakuntakeskus", "social_services", "A17", "fixed", 2, 60, "Kaarnavaaran kirkonkylä", (-0.25, 0.0)),
    ("KA25", "Kaarnavaaran palvelutalo", "elder_home_care", "A15", "fixed", 7, 40, "Kaarnavaaran kirkonkylä", (-0.75, -0.5)),
    ("KA26", "Etäasiointipiste Kaarnavaaran kirjasto", "social_services", "A07", "remote", 5, 50, "Kaarnavaaran kirkonkylä", (-0.25, 0.3)),
    ("RO01", "Routajärven terveysasema", "health_station", "A03", "fixed", 5, 500, "Routajärven kirkonkylä", (0.25, 0.25)),
    ("RO02", "Hammaslääkäriasema Kalliola", "dental", "A23", "fixed", 4, 120, "Routajärven kirkonkylä", (-0.25, 0.25)),
    ("RO03", "Routajärven apteekki", "pharmacy", "A24", "fixed", 6, 450, "Routajärven kirkonkylä", (0.0, -0.25)),
    ("RO04", "Kauppa Vaara Routajärvi", "grocery;atm", "A20", "fixed", 7, 2000, "Routajärven kirkonkylä", (0.5, 0.0)),
    ("RO05", "Osuuskauppa Routa, Routajärvi", "grocery;post", "A28", "fixed", 7, 1500, "Routajärven kirkonkylä", (-0.5, 0.0)),
    ("RO06", "Routajärven kirjasto", "library", "A02", "fixed", 5, 600, "Routajärven kirkonkylä", (0.0, 0.5)),
    ("RO07", "Routajärven koulu", "school", "A02", "fixed", 5, 280, "Routajärven kirkonkylä", (-0.5, 0.5)),
    ("RO08", "Päiväkoti Routanen", "day_care", "A02", "fixed", 5, 70, "Routajärven kirkonkylä", (0.5, -0.5)),
    ("RO09", "Kotihoito Routajärvi", "elder_home_care", "A06", "fixed", 7, 110, "Routajärven kirkonkylä", (0.75, 0.25)),
    ("RO10", "Routajärven sosiaalitoimisto", "social_services", "A03", "fixed", 3, 150, "Routajärven kirkonkylä", (0.25, -0.5)),
    ("RO11", "Routajärven uimahalli ja urheilukenttä", "sports", "A02", "fixed", 7, 500, "Routajärven kirkonkylä", (-0.75, -0.5)),
    ("RO12", "Kivikosken kyläkauppa", "grocery;post", "A27", "fixed", 6, 350, "Kivikoski", (0.2, 0.0)),
    ("RO13", "Kivikosken koulu", "school", "A02", "fixed", 5, 45, "Kivikoski", (-0.2, 0.1)),
    ("RO14", "Perhepäivähoito Kivikoski", "day_care", "A02", "fixed", 5, 8, "Kivikoski", (0.0, 0.2)),
    ("RO15", "Kivikosken kylätalo ja kuntosali", "sports", "A13", "fixed", 4, 50, "Kivikoski", (0.1, -0.2)),
    ("RO16", "Aapajoen kauppa", "grocery;post;atm", "A25", "fixed", 6, 300, "Aapajoki", (0.1, 0.0)),
    ("RO17", "Terveysauto: Aapajoki", "health_station", "A03", "mobile", 1, 25, "Aapajoki", (0.0, 0.1)),
    ("RO18", "Kirjastoauto: Aapajoki", "library", "A02", "mobile", 1, 40, "Aapajoki", (-0.1, 0.0)),
    ("RO19", "Salmenkylän kyläkauppa", "grocery", "A26", "fixed", 5, 200, "Salmenkylä", (0.1, 0.0)),
    ("RO20", "Etävastaanotto Salmenkylän kylätalo", "health_station;social_services", "A03", "remote", 2, 30,
     "Salmenkylä", (0.0, 0.15)),
    ("RO21", "Kauppa-auto: Korpiranta", "grocery", "A22", "mobile", 1, 30, "Korpiranta", (0.0, 0.0)),
    ("RO22", "Kirjastoauto: Korpiranta", "library", "A02", "mobile", 1, 30, "Korpiranta", (0.1, 0.0)),
    ("RO23", "Kirjastoauto: Salmenkylä", "library", "A02", "mobile", 1, 30, "Salmenkylä", (-0.1, 0.0)),
    ("RO24", "Kauppa-auto: Hirvasniemi", "grocery", "A22", "mobile", 2, 40, "Hirvasniemi", (0.0, 0.0)),
    ("RO25", "Pajukosken koulu", "school;day_care", "A02", "fixed", 5, 40, "Pajukoski", (0.0, 0.0)),
    ("RO26", "Routajärven seurakuntatalo", "social_services;elder_home_care", "A18", "fixed", 2, 50,
     "Routajärven kirkonkylä", (0.0, 0.25)),
    ("RO27", "Apteekin palvelupiste Kivikoski", "pharmacy", "A24", "remote", 3, 40, "Kivikoski", (0.0, -0.1)),
    ("RO28", "Routajärven palvelukoti", "elder_home_care", "A16", "fixed", 7, 35, "Routajärven kirkonkylä", (0.75, 0.5)),
    ("RO29", "Etäasiointipiste Routajärven kirjasto", "social_services", "A07", "remote", 5, 40,
     "Routajärven kirkonkylä", (0.0, 0.6)),
    ("RO30", "Aapajoen kyläkoulu", "school", "A02", "fixed", 5, 30, "Aapajoki", (0.2, 0.1)),
    ("RO31", "Kotihoidon tukikohta Aapajoki", "elder_home_care", "A06", "fixed", 5, 30, "Aapajoki", (0.0, -0.2)),
    ("RO32", "Hirvasniemen kylätalo", "sports", "A13", "fixed", 2, 30, "Hirvasniemi", (0.1, 0.1)),
]

M_ALL = "996;997"
# actor_id, name, sector, services, capacity, municipalities, base place, offset, max_km, modes, empl, €/km, lang
ACTORS = [
    ("A01", "Kaarnavaaran kunta", "municipality", "library;school;day_care;sports", 2000, "996",
     "Kaarnavaaran kirkonkylä", (0.0, 0.0), 70, "fixed;mobile;remote", False, 0.6, "fi"),
    ("A02", "Routajärven kunta", "municipality", "library;school;day_care;sports", 1800, "997",
     "Routajärven kirkonkylä", (0.0, 0.0), 70, "fixed;mobile;remote", False, 0.6, "fi"),
    ("A03", "Pohjolan hyvinvointialue", "wellbeing_county", "health_station;dental;social_services;elder_home_care",
     3000, "*", "Routajärven kirkonkylä", (0.25, 0.25), 120, "fixed;mobile;remote", False, 0.8, "fi;sv;se"),
    ("A04", "Pohjolan hyvinvointialue, suun terveydenhuolto", "wellbeing_county", "dental", 300, "*",
     "Kaarnavaaran kirkonkylä", (0.25, 0.5), 90, "fixed;mobile", False, 0.8, "fi;sv"),
    ("A05", "Pohjolan hyvinvointialue, Kaarnavaaran kotihoito", "wellbeing_county", "elder_home_care", 150, "996",
     "Kaarnavaaran kirkonkylä", (0.75, -0.25), 70, "mobile;remote", False, 0.5, "fi"),
    ("A06", "Pohjolan hyvinvointialue, Routajärven kotihoito", "wellbeing_county", "elder_home_care", 140, "997",
     "Routajärven kirkonkylä", (0.75, 0.25), 70, "mobile;remote", False, 0.5, "fi"),
    ("A07", "Valtion yhteispalvelupiste Pohjola", "state", "social_services;post", 300, "*",
     "Routajärven kirkonkylä", (0.0, 0.6), 100, "fixed;remote", False, 0.5, "fi;sv;se"),
    ("A08", "Pohjolan luontopalvelut", "state", "sports", 200, "*",
     "Kaarnavaaran kirkonkylä", (0.5, 0.75), 100, "fixed", False, 0.5, "fi;sv"),
    ("A09", "Kaarnavaaran Eläkeläiset ry", "association", "elder_home_care;social_services", 40, "996",
     "Kaarnavaaran kirkonkylä", (-0.25, -0.5), 40, "fixed;mobile", False, 0.3, "fi"),
    ("A10", "Routajärven Urheiluseura ry", "association", "sports", 300, "997",
     "Routajärven kirkonkylä", (-0.75, -0.5), 50, "fixed;mobile", False, 0.3, "fi"),
    ("A11", "Kaarnavaaran 4H-yhdistys ry", "association", "day_care;sports;elder_home_care", 60, M_ALL,
     "Kaarnavaaran kirkonkylä", (-0.5, 0.25), 60, "fixed;mobile", True, 0.3, "fi"),
    ("A12", "Särkilahden kyläyhdistys ry", "village_association", "grocery;post;library;sports", 60, "996",
     "Särkilahti", (0.1, 0.1), 30, "fixed;remote", True, 0.3, "fi"),
    ("A13", "Kivikosken kyläyhdistys ry", "village_association", "sports;library;grocery", 50, "997",
     "Kivikoski", (0.1, -0.2), 40, "fixed;remote", False, 0.3, "fi"),
    ("A14", "Vaaranpään kylätoimikunta ry", "village_association", "sports;library", 40, "996",
     "Vaaranpää", (0.0, 0.3), 30, "fixed;remote", False, 0.3, "fi"),
    ("A15", "Kaarnavaaran Palvelutalosäätiö sr", "foundation", "elder_home_care", 60, "996",
     "Kaarnavaaran kirkonkylä", (-0.75, -0.5), 60, "fixed;mobile", True, 0.5, "fi"),
    ("A16", "Routajärven Vanhustentalosäätiö sr", "foundation", "elder_home_care;social_services", 50, "997",
     "Routajärven kirkonkylä", (0.75, 0.5), 60, "fixed;mobile", False, 0.5, "fi"),
    ("A17", "Kaarnavaaran seurakunta", "parish", "social_services;elder_home_care;day_care", 80, "996",
     "Kaarnavaaran kirkonkylä", (-0.25, 0.0), 70, "fixed;mobile;remote", False, 0.4, "fi;se"),
    ("A18", "Routajärven seurakunta", "parish", "social_services;elder_home_care;day_care", 70, "997",
     "Routajärven kirkonkylä", (0.0, 0.25), 70, "fixed;mobile;remote", False, 0.4, "fi"),
    ("A19", "Sote-osuuskunta Lähellä", "cooperative", "health_station;elder_home_care;social_services", 120, "*",
     "Kaarnavaaran kirkonkylä", (0.5, -0.5), 90, "mobile;remote", False, 0.7, "fi;se"),
    ("A20", "Kauppa Vaara Oy", "company", "grocery;post;atm", 4000, "*",
     "Kaarnavaaran kirkonkylä", (0.5, 0.0), 60, "fixed;mobile", False, 0.9, "fi"),
    ("A21", "Kaarnavaaran apteekki", "company", "pharmacy", 500, M_ALL,
     "Kaarnavaaran kirkonkylä", (0.0, -0.25), 60, "fixed;remote", False, 0.7, "fi;sv"),
    ("A22", "Kauppa-auto Niemelä Tmi", "company", "grocery;post", 150, "*",
     "Routajärven kirkonkylä", (-0.5, -0.25), 80, "mobile", False, 0.9, "fi"),
    ("A23", "Hammaslääkäriasema Kalliola Oy", "company", "dental", 120, M_ALL,
     "Routajärven kirkonkylä", (-0.25, 0.25), 60, "fixed", False, 0.8, "fi"),
    ("A24", "Routajärven apteekki", "company", "pharmacy", 450, M_ALL,
     "Routajärven kirkonkylä", (0.0, -0.25), 60, "fixed;remote", False, 0.7, "fi"),
    ("A25", "Aapajoen Kauppa Oy", "company", "grocery;post;atm", 300, "997",
     "Aapajoki", (0.1, 0.0), 40, "fixed;mobile", False, 0.9, "fi"),
    ("A26", "Salmenkylän kyläkauppa Tmi", "company", "grocery", 200, "997",
     "Salmenkylä", (0.1, 0.0), 30, "fixed", False, 0.9, "fi"),
    ("A27", "Kivikosken Kyläkauppaosuuskunta", "cooperative", "grocery;post", 350, "997",
     "Kivikoski", (0.2, 0.0), 50, "fixed;mobile", False, 0.8, "fi"),
    ("A28", "Osuuskauppa Routa", "cooperative", "grocery;post;atm", 3000, "*",
     "Routajärven kirkonkylä", (-0.5, 0.0), 70, "fixed;mobile;remote", False, 0.9, "fi;sv"),
    ("A29", "Kaarnavaaran Säästöosuuskunta", "cooperative", "atm", 2000, "*",
     "Kaarnavaaran kirkonkylä", (0.25, -0.25), 60, "fixed", False, 0.9, "fi;sv"),
    ("A30", "Kaarnavaaran Kyläkauppaosuuskunta", "cooperative", "grocery;post", 200, "996",
     "Kaarnavaaran kirkonkylä", (0.75, 0.0), 80, "fixed;mobile", True, 0.8, "fi"),
    ("A31", "Kotipalvelu Hilla Oy", "company", "elder_home_care", 90, M_ALL,
     "Kaarnavaaran kirkonkylä", (0.5, 0.25), 70, "mobile", False, 0.7, "fi"),
    ("A32", "Lääkärikeskus Revontuli Oy", "company", "health_station;dental", 250, "*",
     "Routajärven kirkonkylä", (0.5, 0.5), 100, "fixed;mobile;remote", False, 1.0, "fi;sv;se"),
    ("A33", "Kaarnavaaran vapaaehtoisverkosto", "volunteer", "elder_home_care;grocery", 30, "996",
     "Kaarnavaaran kirkonkylä", (-0.5, -0.5), 40, "mobile", False, 0.25, "fi"),
    ("A34", "Routajärven kauppakassiapu", "volunteer", "grocery", 25, "997",
     "Routajärven kirkonkylä", (0.25, 0.75), 40, "mobile", False, 0.25, "fi"),
    ("A35", "Korpirannan naapuriapu", "volunteer", "grocery;elder_home_care", 10, "997",
     "Korpiranta", (0.0, 0.1), 30, "mobile", False, 0.2, "fi"),
    ("A36", "Ylä-Kaarnan kyläyhdistys ry", "village_association", "library;sports;grocery", 30, "996",
     "Ylä-Kaarna", (0.0, 0.1), 30, "fixed;remote", True, 0.3, "fi"),
    ("A37", "Korpirannan kyläseura ry", "village_association", "sports;post", 20, "997",
     "Korpiranta", (0.1, 0.1), 30, "fixed;remote", True, 0.3, "fi"),
    ("A38", "Pohjolan Muistiyhdistys ry", "association", "social_services;elder_home_care", 40, "*",
     "Routajärven kirkonkylä", (-0.25, 0.5), 80, "fixed;mobile;remote", True, 0.4, "fi;sv"),
    ("A39", "Routajärven Lapsiperheyhdistys ry", "association", "day_care", 25, "997",
     "Routajärven kirkonkylä", (0.5, -0.25), 40, "fixed", False, 0.3, "fi"),
    ("A40", "Kylätalkkarit – Pohjolan työllistämissäätiö sr", "foundation", "elder_home_care;sports", 60, "*",
     "Kaarnavaaran kirkonkylä", (0.25, 0.75), 80, "mobile", True, 0.4, "fi"),
]

# Vehicles of mobile actors (`arjenturva routes`): blank base = the actor's, weekdays in English or Finnish.
VEHICLE_ROWS: list[dict[str, object]] = [
    {"vehicle_id": vid, "name": name, "actor_id": aid, "x": x, "y": y, "hours_per_day": hours, "weekdays": days,
     "max_duration_min": dur, "max_distance_km": km, "cost_per_km": cost, "services": services}
    for vid, name, aid, x, y, hours, days, dur, km, cost, services in [
        ("TA-KA", "Terveysauto Kaarnavaara", "A19", "", "", 8, "ma;ti;ke;to;pe", "", 300, "", "health_station"),
        ("TA-RO", "Terveysauto Routajärvi", "A03", "", "", 8, "mon;tue;wed;thu;fri", 450, 300, 0.8,
         "health_station"),
        ("KAUPPA", "Kauppa-auto Vaara", "A20", 440471, 7305009, 9, "tue;fri", "", 350, "", "grocery;post"),
        ("KIRJASTO", "Kirjastoauto Kaarnavaara", "A01", "", "", 7.5, "mon;wed;thu", "", 250, "", "library"),
    ]
]

# Gaps built into the data (checked below against road distances on the generated network).
GAP_SPEC = {
    "health_station": ["Ylä-Kaarna", "Kaarnalampi", "Palovaara", "Honkaniemi", "Korpiranta"],
    "grocery": ["Särkilahti", "Palovaara", "Honkaniemi"],
}
FERRY_DEPENDENT = {"health_station": ["Salmenkylä"]}
FILLERS = {
    "health_station": ["A03", "A19", "A32"],
    "grocery": ["A30", "A12", "A20", "A22"],
}


def anchor_xy(place: str, off: tuple[float, float]) -> tuple[float, float]:
    px, py = PLACE_XY[place]
    return (px + off[0]) * KM, (py + off[1]) * KM


def snap_near_road(x: float, y: float, node_xy: np.ndarray, k: int) -> tuple[float, float]:
    """A site 25–60 m beside the nearest road node to (x, y)."""
    i = int(np.argmin(np.hypot(node_xy[:, 0] - x, node_xy[:, 1] - y)))
    ang = 2.399963 * k  # golden angle: deterministic, spread directions
    r = 25 + (k * 7) % 36
    return float(node_xy[i, 0] + r * math.cos(ang)), float(node_xy[i, 1] + r * math.sin(ang))


def csv_cell(v: object) -> str:
    s = "" if v is None else str(v)
    if any(c in s for c in ',;"\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def write_csv(rows: list[dict[str, object]], path: Path) -> None:
    cols = list(rows[0])
    lines = [",".join(cols)] + [",".join(csv_cell(r[c]) for c in cols) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _yaml_list(items: list[str]) -> str:
    return "[" + ", ".join(items) + "]"


def _yaml_map(d: dict[str, float]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"


def config_text() -> str:
    out = [
        "# arjenturva workspace: SYNTHETIC demo (fictional municipalities, people and organisations).",
        "# Generated by scripts/make_demo.py; edit the script, not this file. See README.md.",
        "name: Arjen turva -demo (Kaarnavaara ja Routajärvi)",
        "language: fi                      # fi | en: labels, rationales and reports",
        "synthetic: true                   # every map and report says the data is made up",
        "",
        "inputs:                           # paths are relative to this file",
        "  municipalities: {path: municipalities.gpkg}",
        "  population: {path: population.gpkg}            # 1 km grid; -1 = suppressed small count",
        "  service_points: {path: service_points.csv}     # lon/lat (WGS84)",
        "  actors: {path: actors.csv}                     # x/y (EPSG:3067)",
        "  places: {path: places.gpkg}                    # villages, used to name gap areas",
        "  vehicles: {path: vehicles.csv}                 # mobile actors' vehicles, for `arjenturva routes`",
        "# each input may declare `attribution:` (source and licence); maps and reports show them",
        "",
        "network:",
        "  source: roads.osm               # OpenStreetMap XML with one car ferry (Routasalmen lautta)",
        "  cost: distance                  # thresholds below are checked in km and, where given, minutes",
        "  speed_kmh: {default: 80, residential: 40, unclassified: 60, ferry: 10}",
        "  speed_factors: {}               # synthetic roads: driven at these speeds (no measured factors)",
        "  snap_tolerance_m: 5000          # origins farther than this from a road are reported",
        "  attribution: synthetic roads (arjenturva scripts/make_demo.py)",
        "",
        "area_classes:",
        "  source: column                  # the population grid has SYKE classes in `area_class`",
        "",
        "gaps:",
        "  basket: [grocery, pharmacy, health_station, post]   # the everyday basket (arjen turva index)",
        "",
        "# Service catalogue. Thresholds per urban-rural class (K1..M7, `default` for the rest):",
        "# a cell is covered when it is within every limit given (km and/or minutes).",
        "services:",
    ]
    for sid, (fi, en, demand, tkm, tmin, sectors, mob, remote, note) in SERVICES.items():
        out.append(f"  {sid}:".ljust(34) + f"# {note}" if note else f"  {sid}:")
        out.append(f"    label: {{fi: {fi}, en: {en}}}")
        out.append(f"    demand: {demand}")
        out.append(f"    threshold_km: {_yaml_map(tkm)}")
        if tmin:
            out.append(f"    threshold_min: {_yaml_map(tmin)}")
        out.append(f"    sectors: {_yaml_list(sectors)}")
        if mob:
            out.append(f"    mobile: {{required_days: {mob}}}")
        if remote is not None:
            out.append(f"    remote: {remote}")
        if sid in DELIVERY:
            out.append(f"    delivery: {DELIVERY[sid]}".ljust(34) + "# never proposed as a fixed point")
        if sid in MIN_DEMAND:
            out.append(f"    min_demand: {_yaml_map(MIN_DEMAND[sid])}".ljust(34)
                       + "# smallest newly covered demand of an agreement")
    out += [
        "",
        "proposals:",
        "  max_new_sites: 4                # new fixed sites (several services at one site = one site)",
        "  max_mobile_routes: 6            # mobile services (one visiting stop each)",
        "  max_remote_points: 6            # remote services with a support point",
        "  min_sectors: 3                  # agreements per municipality span at least 3 sectors",
        "  max_actor_share: 0.5            # no single actor carries more than half",
        "  weight_65_plus: 1.5             # people aged 65+ count 1.5 times",
        "  time_limit_s: 20                # solver time limit; the output reports the gap",
        "",
        "routes:",
        "  max_iterations: 1000            # PyVRP iterations per day and vehicle group: the demo's",
        "                                  # small days reach the same plan as with 3000",
        "",
        "export:",
        "  suppress_below: 10              # never show cells under 10 people individually",
        "",
        "scenarios:",
        "  kirjastoauto_lakkautetaan:",
        "    description: The mobile library stops running (Kirjastoauto lakkautetaan)",
        "    close_points: [KA16, KA17, KA19, RO18, RO22, RO23]",
        "  vaesto_2040:                    # the demand of 2040: each cell's age groups scaled per municipality",
        "    description: Population of 2040 by the projection (Väestö 2040; synthetic figures)",
        f"    population: {{year: 2040, factors: {PROJECTION_FILE}}}",
        "  lautta_suljettu:                # the ferry closed: roads running into the polygon are left out",
        "    description: Routasalmen lautta out of service (Lautta suljettu)",
        f"    close_roads: [{{polygon: {_ferry_polygon()}}}]   # corners x, y in EPSG:3067",
        "",
    ]
    return "\n".join(out)


def _ferry_polygon() -> str:
    """A 1 km square (EPSG:3067 metres) around the middle of the ferry crossing."""
    mx, my = FERRY[0][1]
    corners = [(mx - 0.5, my - 0.5), (mx + 0.5, my - 0.5), (mx + 0.5, my + 0.5), (mx - 0.5, my + 0.5)]
    return "[" + ", ".join(f"[{round(x * KM)}, {round(y * KM)}]" for x, y in corners) + "]"


README = """# Demo workspace (SYNTHETIC DATA)

Everything in this folder is **synthetic**: the municipalities Kaarnavaara (code 996) and
Routajärvi (code 997), their villages, roads, inhabitants, service points and organisations are
invented. Any resemblance to real places, people or organisations is coincidental. The codes 996
and 997 are not used by any real Finnish municipality (checked against the 2012, 2017, 2020,
2021, 2023 and 2025 municipality lists). The area lies in EPSG:3067 at about x 401–507 km,
y 7 283–7 363 km (southern Lapland) and overlaps real municipalities on a map: ignore that.

## How it was made
`python scripts/make_demo.py [--out DIR]`, fixed random seed {seed}. The script writes the same
bytes on every run (GeoPackages are written with `OGR_CURRENT_DATE` pinned), and
`tests/test_demo_data.py` checks that this folder equals a fresh generation. Change the script,
never these files by hand.

| file | what |
|---|---|
| `arjenturva.yaml` | workspace config: inputs, network, service catalogue with thresholds, proposals |
| `municipalities.gpkg` | 2 polygons: `code`, `name`, `region`, `wellbeing_county` |
| `population.gpkg` | {ncells} inhabited 1 km cells, {pop} people; `population`, `age_0_14`, `age_15_64`, `age_65_plus`, `area_class` (SYKE K1..M7) |
| `places.gpkg` | 2 municipal centres and {nvill} villages: `name`, `kind`, `population` |
| `roads.osm` | OpenStreetMap XML, {nnodes} nodes, {nways} ways: town grids, trunk/primary main road, secondary/tertiary/unclassified roads, long dead ends, one car ferry, one track and one footway |
| `service_points.csv` | {npoints} service points (lon/lat), fixed, mobile and remote |
| `actors.csv` | {nactors} actors in all ten sectors (x/y in EPSG:3067) |
| `vehicles.csv` | 4 vehicles of mobile actors for `arjenturva routes`: two health buses, a shop van, a mobile library |
| `expected_gaps.json` | the gaps built in, with road distances, for tests |
| `projection/vaestoennuste_2024.csv` | a population projection for 2024–2040 in the layout of Statistics Finland's PxWeb CSV (table 14wx, Väestöennuste 2024), with **synthetic** figures: 0–14 and 15–64 shrink, 65+ grows (scenario `vaesto_2040`) |

Population: suppressed small counts follow Statistics Finland's convention: cells under 10
people have their age groups set to -1, and some of them the population too. Area classes are a
simple demo rule (distance to the nearest municipal centre: ≤2 km M4, ≤6 km M5, ≤15 km M6,
else M7), not SYKE's real classification.

## Built-in gaps
- **Health station** (threshold 40 km in M7): the villages at the end of long dead-end roads
  ({health}) are {hmin}–{hmax} km by road from the nearest health station
  point of any mode. Actors that can fill the gap:
  Pohjolan hyvinvointialue (mobile/remote), Sote-osuuskunta Lähellä (cooperative, mobile),
  Lääkärikeskus Revontuli Oy (company, mobile/remote).
- **Grocery desert** (threshold 20 km in M7): the western villages of Kaarnavaara
  ({grocery}) have no shop within 20 km by road. Actors: Kaarnavaaran Kyläkauppaosuuskunta (mobile, employment
  scheme), Särkilahden kyläyhdistys ry (pick-up point / remote), Kauppa Vaara Oy, Kauppa-auto
  Niemelä Tmi.
- **Ferry**: Salmenkylä (Routajärvi) reaches the health station in about {ferry_km} km only over the
  car ferry Routasalmen lautta; the road round the lake is {detour_km} km (beyond the threshold).
  A network that drops the ferry turns Salmenkylä into a health-station gap; the scenario
  `lautta_suljettu` closes it (`arjenturva run --scenario lautta_suljettu`).

What `arjenturva propose` makes of them: the catalogue allows no new fixed health station in a
village (`min_demand` of a fixed health station is 2 000 residents; the largest gap area has about
1 200), so mobile health units close the health-station gaps (Sote-osuuskunta Lähellä in
Kaarnavaara, Pohjolan hyvinvointialue in Routajärvi). The grocery desert gets a shop van twice a
week (Kauppa Vaara Oy) and, since about 1 200 people live in its reach (a fixed shop needs 100), a
village shop at the new Palovaara hub by Osuuskauppa Routa, which is not one of the actors above: a
remote pick-up point would count only 0.3, and the mobile routes go to the health units. The same
gap areas lack most other services too: the new fixed sites become village hubs (school, day care,
post, cash, sports) and the remote points serve the pharmacy, social services and post. Home care
(`delivery: home`) is only ever proposed as a mobile or remote service.

`expected_gaps.json` lists these villages, their coordinates (EPSG:3067) and the road distances.

## Licence
Generated by the project and released under the project's licence (EUPL-1.2, see `LICENSE`).
No third-party data is included.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default data/demo)")
    args = ap.parse_args(argv)
    out: Path = args.out
    rng = np.random.default_rng(SEED)

    net, rural = build_network(rng)
    pop = make_population(rng, rural)
    node_xy = net.xy()

    munis = gpd.GeoDataFrame(MUNICIPALITIES, geometry=municipality_polygons(), crs=CRS)
    places = gpd.GeoDataFrame(
        {"name": [p[0] for p in PLACES], "kind": [p[1] for p in PLACES], "population": [p[4] for p in PLACES]},
        geometry=[Point(p[3][0] * KM, p[3][1] * KM) for p in PLACES], crs=CRS)

    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    point_rows, point_xy = [], {}
    for k, (pid, name, services, actor, mode, days, cap, place, off) in enumerate(POINTS):
        x, y = snap_near_road(*anchor_xy(place, off), node_xy, k)
        point_xy[pid] = (x, y)
        lon, lat = to_ll.transform(x, y)
        point_rows.append({"point_id": pid, "name": name, "services": services, "actor_id": actor, "mode": mode,
                           "days_per_week": days, "capacity": cap, "lon": f"{lon:.6f}", "lat": f"{lat:.6f}"})
    actor_rows = []
    for k, (aid, name, sector, services, cap, mun, place, off, maxkm, modes, empl, cost, lang) in enumerate(ACTORS):
        x, y = snap_near_road(*anchor_xy(place, off), node_xy, k + 100)
        actor_rows.append({"actor_id": aid, "name": name, "sector": sector, "services": services, "capacity": cap,
                           "municipalities": mun, "x": round(x), "y": round(y), "max_travel_km": maxkm,
                           "modes": modes, "employment_scheme": str(empl).lower(), "cost_per_km": cost,
                           "languages": lang})

    expected = check_gaps(net, node_xy, point_xy, pop)

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    munis.to_file(out / "municipalities.gpkg", layer="municipalities", driver="GPKG")
    pop.to_file(out / "population.gpkg", layer="population", driver="GPKG")
    places.to_file(out / "places.gpkg", layer="places", driver="GPKG")
    write_osm(net, out / "roads.osm")
    write_csv(point_rows, out / "service_points.csv")
    write_csv(actor_rows, out / "actors.csv")
    write_csv(VEHICLE_ROWS, out / "vehicles.csv")
    (out / "arjenturva.yaml").write_text(config_text(), encoding="utf-8")
    (out / PROJECTION_FILE).parent.mkdir(parents=True, exist_ok=True)
    (out / PROJECTION_FILE).write_text(projection_csv(), encoding="utf-8")
    (out / "expected_gaps.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n",
                                            encoding="utf-8")
    valid = pop[pop["population"] >= 0]
    (out / "README.md").write_text(README.format(
        seed=SEED, ncells=len(pop), pop=int(valid["population"].sum()), nvill=len(PLACES) - 2,
        nnodes=len(net.nodes), nways=len(net.ways), npoints=len(POINTS), nactors=len(ACTORS),
        health=", ".join(GAP_SPEC["health_station"]),
        hmin=min(v["road_km"] for v in expected["health_station"]["villages"]),  # type: ignore[index]
        hmax=max(v["road_km"] for v in expected["health_station"]["villages"]),  # type: ignore[index]
        grocery=", ".join(GAP_SPEC["grocery"]),
        ferry_km=expected["ferry_dependent"][0]["road_km_with_ferry"],
        detour_km=expected["ferry_dependent"][0]["road_km_without_ferry"]), encoding="utf-8")
    print(f"wrote {out}: {len(pop)} cells, {int(valid['population'].sum())} people, "
          f"{len(net.nodes)} road nodes, {len(POINTS)} points, {len(ACTORS)} actors")
    return 0


def _road_km(g: nx.Graph, node_xy: np.ndarray, sources: list[tuple[float, float]]) -> dict[int, float]:
    ids = [int(np.argmin(np.hypot(node_xy[:, 0] - x, node_xy[:, 1] - y))) + 1 for x, y in sources]
    ids = [i for i in ids if i in g]
    return {n: d / KM for n, d in nx.multi_source_dijkstra_path_length(g, ids, weight="length").items()}


def _place_node(name: str, node_xy: np.ndarray) -> int:
    x, y = PLACE_XY[name]
    return int(np.argmin(np.hypot(node_xy[:, 0] - x * KM, node_xy[:, 1] - y * KM))) + 1


def check_gaps(net: Network, node_xy: np.ndarray, point_xy: dict[str, tuple[float, float]],
               pop: gpd.GeoDataFrame) -> dict[str, object]:
    """Measure the built-in gaps on the generated roads and fail loudly if one is not a gap."""
    g, g_noferry = drive_graph(net), drive_graph(net, ferry=False)
    place_code = {p[0]: p[2] for p in PLACES}
    result: dict[str, object] = {
        "_note": "Villages built to be gaps (road distance from the village to the nearest point offering the "
                 "service, any mode, exceeds the M7 threshold). Coordinates EPSG:3067 metres.",
    }
    for sid, villages in GAP_SPEC.items():
        tkm = SERVICES[sid][3]["M7"]
        srcs = [point_xy[p[0]] for p in POINTS if sid in p[2].split(";")]
        dist = _road_km(g, node_xy, srcs)
        rows = []
        for v in villages:
            d = dist.get(_place_node(v, node_xy), math.inf)
            if not d > tkm + 3:
                raise SystemExit(f"built-in gap broken: {v} is {d:.1f} km from {sid} (threshold {tkm})")
            x, y = PLACE_XY[v]
            rows.append({"name": v, "municipality": place_code[v], "x": x * KM, "y": y * KM,
                         "area_class": "M7", "road_km": round(d, 1), "threshold_km": tkm})
        result[sid] = {"threshold_km_M7": tkm, "villages": rows, "actors_able_to_fill": FILLERS[sid]}
    sid = "health_station"
    srcs = [point_xy[p[0]] for p in POINTS if sid in p[2].split(";") and p[4] == "fixed"]
    with_f, without_f = _road_km(g, node_xy, srcs), _road_km(g_noferry, node_xy, srcs)
    ferry_rows = []
    for v in FERRY_DEPENDENT[sid]:
        n = _place_node(v, node_xy)
        a, b = with_f[n], without_f.get(n, math.inf)
        if not (a < 35 and b > 43):
            raise SystemExit(f"ferry check broken: {v} {a:.1f} km with ferry, {b:.1f} km without")
        x, y = PLACE_XY[v]
        ferry_rows.append({"name": v, "municipality": place_code[v], "service": sid, "x": x * KM, "y": y * KM,
                           "road_km_with_ferry": round(a, 1), "road_km_without_ferry": round(b, 1),
                           "threshold_km": SERVICES[sid][3]["M7"]})
    result["ferry_dependent"] = ferry_rows
    return result


if __name__ == "__main__":
    raise SystemExit(main())
