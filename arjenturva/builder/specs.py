"""The public data files ``arjenturva build-workspace`` reads, each described once.

Every input is a :class:`SourceSpec`: what it is, where it comes from and under which licence,
the columns read, whether it is required and what happens without it. The checks of
:mod:`arjenturva.builder.sources`, ``build.json`` and the README's inputs table all take their
facts from :data:`SOURCE_SPECS`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SERVICE_SOURCES", "SOURCE_SPECS", "Column", "SourceSpec", "attribution", "spec"]


@dataclass(frozen=True)
class Column:
    """One column a source must have.

    Attributes
    ----------
    names
        The accepted names, the first preferred (``("kunta", "NATCODE")``). A name ending in
        ``*`` matches any column that starts with the rest (``"65-69*"`` matches
        ``"65-69 years, 2018 (HE)"``).
    meaning
        What the builder reads from it.
    """

    names: tuple[str, ...]
    meaning: str

    def find(self, columns: list[str]) -> str | None:
        """The first column of ``columns`` this column accepts, or ``None``."""
        for name in self.names:
            if name.endswith("*"):
                hit = next((c for c in columns if c.startswith(name[:-1])), None)
                if hit is not None:
                    return hit
            elif name in columns:
                return name
        return None

    def label(self) -> str:
        """``kunta`` or ``kunta (or NATCODE)``, for messages."""
        first, *rest = self.names
        return first if not rest else f"{first} (or {', '.join(rest)})"


@dataclass(frozen=True)
class SourceSpec:
    """One input of the builder.

    Attributes
    ----------
    key
        The key in a sources file and the API (``boundaries``); the CLI option is ``--`` plus
        the key with ``-`` for ``_``.
    what
        What the file holds.
    source
        The publisher and data set.
    licence
        The data's licence.
    kind
        ``"table"`` (CSV) or ``"layer"`` (any GDAL vector format; zipped Shapefiles too).
    columns
        The columns read.
    required
        Whether the builder stops without it.
    when_missing
        What the builder does without an optional input.
    attribution
        The attribution line the generated config and ``build.json`` carry for it.
    layer
        The layer read from a multi-layer file (``layer:`` in a sources file overrides it).
    many
        Several files may be given (their points are combined).
    """

    key: str
    what: str
    source: str
    licence: str
    kind: str
    columns: tuple[Column, ...]
    required: bool
    attribution: str = ""
    when_missing: str = ""
    layer: str | None = None
    many: bool = False

    @property
    def option(self) -> str:
        """The CLI option, e.g. ``--postal-population``."""
        return "--" + self.key.replace("_", "-")


AGE_65_BANDS = ("65-69", "70-74", "75-79", "80-84", "85 years")
"""The Paavo age bands of people aged 65 or over (column name prefixes)."""

STATFI = "Statistics Finland (Tilastokeskus)"
CC_BY = "CC BY 4.0"
ODBL = "ODbL 1.0 (© OpenStreetMap contributors)"
KEY_ATTRIBUTION = ("Municipality boundaries and the municipality key © Statistics Finland (Tilastokeskus), "
                   "CC BY 4.0")
NLS_MAP = "Contains data from the National Land Survey of Finland General Map 1:1 000 000, CC BY 4.0"

SOURCE_SPECS: tuple[SourceSpec, ...] = (
    SourceSpec(
        "boundaries",
        "municipality polygons, one per municipality",
        f"{STATFI}, municipalities 2025 (kunta1000k/kunta4500k; e.g. the geofi or WFS export)",
        CC_BY,
        "layer",
        (Column(("kunta", "NATCODE", "code"), "municipality code"),
         Column(("nimi", "NAMEFIN", "name"), "municipality name")),
        required=True,
        attribution=KEY_ATTRIBUTION,
    ),
    SourceSpec(
        "municipality_key",
        "the municipality key: region (maakunta) and wellbeing services county per municipality",
        f"{STATFI}, municipality key 2025 (kuntaavain; geofi's municipality_key_2025)",
        CC_BY,
        "table",
        (Column(("kunta", "municipality_code"), "municipality code (zero-padding optional)"),
         Column(("municipality_name_fi", "name_fi"), "municipality name"),
         Column(("maakunta_code",), "region code"),
         Column(("maakunta_name_fi",), "region name (also _sv and _en when present)"),
         Column(("hyvinvointialue_code",), "wellbeing services county code"),
         Column(("hyvinvointialue_name_fi",), "wellbeing services county name (also _sv, _en)")),
        required=True,
        attribution=KEY_ATTRIBUTION,
    ),
    SourceSpec(
        "postal_population",
        "population per postal area",
        f"{STATFI}, Paavo postal-code area statistics 2022 (geofi's statfi_zipcode_population)",
        CC_BY,
        "table",
        (Column(("posti_alue",), "5-digit postal code"),
         Column(("population_2022", "population"), "population")),
        required=True,
        attribution="Postal-area population and centroids (Paavo) © Statistics Finland, CC BY 4.0",
    ),
    SourceSpec(
        "postal_centroids",
        "a representative point per postal area, EPSG:3067",
        f"{STATFI}, Paavo postal-code areas (representative points)",
        CC_BY,
        "table",
        (Column(("Postal code area",), "'00100  Name (Municipality)': the first 5 characters are the code"),
         Column(("X coordinate in metres",), "x, EPSG:3067"),
         Column(("Y coordinate in metres",), "y, EPSG:3067")),
        required=True,
        attribution="Postal-area population and centroids (Paavo) © Statistics Finland, CC BY 4.0",
    ),
    SourceSpec(
        "roads",
        "road lines with a road class",
        "National Land Survey of Finland (Maanmittauslaitos), General Map 1:1 000 000, layer road",
        CC_BY,
        "layer",
        (Column(("DXF_LAYER",), "road class (MOOTTORIT, VALTAT, MAANT, PAIKALLIST, LOSSI): its speed"),),
        required=True,
        attribution=NLS_MAP,
        layer="road",
    ),
    SourceSpec(
        "demographics",
        "age bands per municipality, for the 65+ share",
        f"{STATFI}, Paavo 2018 summed per municipality",
        CC_BY,
        "table",
        (Column(("Area",), "municipality name"),
         Column(("Inhabitants, total*",), "population"),
         *(Column((f"{band}*",), "people aged 65+") for band in AGE_65_BANDS)),
        required=False,
        attribution="Age structure (Paavo) © Statistics Finland, CC BY 4.0",
        when_missing="population.csv gets no age_65_plus column (services can still use population)",
    ),
    SourceSpec(
        "rural_type",
        "the municipality's rural area type, for the area class outside urban settlements",
        f"{STATFI} / Ministry of Agriculture, rural area types 2018 (kuntien maaseututyypit)",
        CC_BY,
        "table",
        (Column(("kunta",), "municipality code"),
         Column(("alueluokka",), "rural area type (Harvaan asuttu maaseutu -> M7, Ydinmaaseutu -> M6, ...)")),
        required=False,
        attribution="Rural area types © Statistics Finland, CC BY 4.0",
        when_missing="outside urban settlements every population point is M6 (core rural)",
    ),
    SourceSpec(
        "urban_settlements",
        "urban settlement polygons (taajamat), for the urban area classes",
        "Finnish Environment Institute (SYKE), YKR urban settlements 2022",
        CC_BY,
        "layer",
        (Column(("Vaesto21Lk", "population"), "settlement population"),),
        required=False,
        attribution="Urban settlements © Finnish Environment Institute SYKE, CC BY 4.0",
        when_missing="no K2/M4 classes: every point gets its municipality's rural class",
    ),
    SourceSpec(
        "places",
        "named settlements (villages, municipal centres, towns), for map labels and proposals",
        "National Land Survey of Finland, General Map 1:1 000 000, layer cityp",
        CC_BY,
        "layer",
        (Column(("TEXT1",), "name"), Column(("DXF_LAYER",), "kind (KYLA, KUNTAKES, KAUPUNKI, ...)")),
        required=False,
        attribution=NLS_MAP,
        when_missing="the workspace has no places layer (maps and proposals name no villages)",
        layer="cityp",
    ),
    SourceSpec(
        "health_facilities",
        "health-care points (service health_station); several files may be given",
        "OpenStreetMap health facilities (e.g. synthea-international's Finnish provider lists)",
        ODBL,
        "table",
        (Column(("name",), "facility name"), Column(("LAT", "lat"), "latitude, WGS84"),
         Column(("LON", "lon"), "longitude, WGS84")),
        required=False,
        attribution="Health facilities © OpenStreetMap contributors, ODbL 1.0",
        when_missing="no health_station service",
        many=True,
    ),
    SourceSpec(
        "municipal_centres",
        "one point per municipal centre (service municipal_centre: town-hall services)",
        "National Land Survey of Finland place names (kuntakeskus), via geofi's central localities",
        CC_BY,
        "table",
        (Column(("teksti",), "name"), Column(("kuntatunnus",), "municipality code"),
         Column(("X",), "longitude, WGS84"), Column(("Y",), "latitude, WGS84")),
        required=False,
        attribution="Municipal centre points © National Land Survey of Finland, CC BY 4.0",
        when_missing="no municipal_centre service",
    ),
)
"""Every input of the builder, required ones first."""

SERVICE_SOURCES: tuple[str, ...] = ("health_facilities", "municipal_centres")
"""Inputs that give service points: at least one is needed."""



def attribution(keys: list[str]) -> str:
    """One attribution text for the inputs given (each source once, in the order of
    :data:`SOURCE_SPECS`)."""
    given = set(keys)
    lines = [s.attribution for s in SOURCE_SPECS if s.key in given]
    return "; ".join(dict.fromkeys(lines)) + "."


def spec(key: str) -> SourceSpec:
    """The spec of one input key."""
    return next(s for s in SOURCE_SPECS if s.key == key)
