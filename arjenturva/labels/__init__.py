"""Every user-facing word of arjenturva, in Finnish and English, in one place.

Maps, reports, the web map, proposal rationales and the tables' label columns take their words
from here; no other module holds a fi/en text. Each entry is a :class:`Word` with both languages,
so a missing translation is impossible by construction (a test checks that none is empty).
Numbers and dates are formatted per language by :func:`format_number` and :func:`format_date`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from ..errors import ArjenturvaError
from .ui import UI as UI
from .words import LANGUAGES as LANGUAGES
from .words import Lang as Lang
from .words import Word as Word

if TYPE_CHECKING:
    from ..config import Config, ServiceConfig

SECTOR: Final[dict[str, Word]] = {
    "municipality": Word("kunta", "municipality"),
    "wellbeing_county": Word("hyvinvointialue", "wellbeing services county"),
    "state": Word("valtio", "state"),
    "association": Word("yhdistys", "association"),
    "village_association": Word("kyläyhdistys", "village association"),
    "foundation": Word("säätiö", "foundation"),
    "parish": Word("seurakunta", "parish"),
    "company": Word("yritys", "company"),
    "cooperative": Word("osuuskunta", "cooperative"),
    "volunteer": Word("vapaaehtoiset", "volunteers"),
}
"""Actor sectors (ids in :data:`arjenturva.schema.SECTORS`)."""

AREA_CLASS: Final[dict[str, Word]] = {
    "K1": Word("Sisempi kaupunkialue", "Inner urban area"),
    "K2": Word("Ulompi kaupunkialue", "Outer urban area"),
    "K3": Word("Kaupungin kehysalue", "Peri-urban area"),
    "M4": Word("Maaseudun paikalliskeskus", "Local centre in rural area"),
    "M5": Word("Kaupungin läheinen maaseutu", "Rural area close to urban area"),
    "M6": Word("Ydinmaaseutu", "Rural heartland"),
    "M7": Word("Harvaan asuttu maaseutu", "Sparsely populated rural area"),
}
"""SYKE urban–rural classes."""

MODE: Final[dict[str, Word]] = {
    "fixed": Word("kiinteä palvelupiste", "fixed service point"),
    "mobile": Word("liikkuva palvelu", "mobile service"),
    "remote": Word("etäpalvelu tukipisteellä", "remote service with a support point"),
}
"""Delivery modes: one wording each, used by maps, reports, the web map and rationales."""

DEMAND: Final[dict[str, Word]] = {
    "population": Word("koko väestö", "whole population"),
    "age_65_plus": Word("yli 65-vuotiaat", "aged 65+"),
    "age_0_14": Word("0–14-vuotiaat", "aged 0–14"),
    "age_15_64": Word("15–64-vuotiaat", "aged 15–64"),
}
"""Demand groups (the population column a service's demand counts)."""

ALL_SERVICES: Final = Word("kaikki palvelut", "all services")

SYNTHETIC: Final = Word(
    "Synteettinen esimerkkiaineisto: kunnat, asukkaat, toimijat ja tiet ovat keksittyjä.",
    "Synthetic example data: the municipalities, residents, actors and roads are fictional.",
)
"""Shown on every map and report of a workspace whose config says ``synthetic: true``."""

SOURCES_UNDECLARED: Final = Word(
    "Aineistojen lähteitä ei ole ilmoitettu (arjenturva.yaml: inputs.*.attribution).",
    "Data sources not declared (arjenturva.yaml: inputs.*.attribution).",
)

SOLVER_STATUS: Final[dict[str, Word]] = {
    "optimal": Word("optimaalinen", "optimal"),
    "time_limit": Word("aikaraja täyttyi", "time limit reached"),
    "greedy": Word("ahne heuristiikka (ei optimointia)", "greedy heuristic (not optimised)"),
    "infeasible": Word("ei käypää ratkaisua", "infeasible"),
    "nothing_to_propose": Word("ei ehdotettavaa", "nothing to propose"),
}
"""How the proposals were solved (``proposals.status`` of ``run.json``)."""

INPUT_ROLE: Final[dict[str, Word]] = {
    "municipalities": Word("kuntarajat", "municipal boundaries"),
    "population": Word("väestöruudut", "population grid"),
    "service_points": Word("palvelupisteet", "service points"),
    "actors": Word("toimijat", "actors"),
    "places": Word("paikannimet", "place names"),
    "network": Word("tieverkko", "road network"),
    "area_classes": Word("aluetyypit", "area classes"),
}
"""The input files of a run (keys of ``inputs`` in ``run.json``)."""

BUILT_SERVICE: Final[dict[str, Word]] = {
    "health_station": Word("Terveysasema", "Health station"),
    "municipal_centre": Word("Kuntakeskus", "Municipal centre"),
}
"""The services of a workspace written by ``arjenturva build-workspace`` (their config labels)."""

AREA_CLASS_SOURCE: Final[dict[str, Word]] = {
    "column": Word("väestöaineiston area_class-sarake", "the population layer's area_class column"),
    "derived": Word("johdettu väestöruuduista", "derived from the population grid"),
    "column+derived": Word(
        "väestöaineiston area_class-sarake, puuttuvat johdettu väestöruuduista",
        "the population layer's area_class column, blanks derived from the population grid",
    ),
}
"""Where the area classes of a run came from (``area_classes`` of ``run.json``)."""


# --- proposal rationales -------------------------------------------------------------------------

# A rationale is RATIONALE_HEAD (the gap: who, why, today's distance, the threshold) and then
# RATIONALE_OFFER (who would close it, how, and how much of the demand it covers).
RATIONALE_HEAD: Final = Word(
    "{site}, {service}: {demand} {group} {reason}.", "{site}, {service}: {demand} {group} {reason}."
)
DISTANCE_NOW: Final = Word(
    "asuu kynnystä ({threshold}) kauempana: lähin palvelupiste on nyt keskimäärin {km} km:n päässä "
    "tietä pitkin",
    "live beyond the {threshold} threshold: the nearest service point is now on average {km} km away by road",
)
DISTANCE_NONE: Final = Word(
    "ei tavoita tieverkolla yhtään palvelupistettä (kynnys {threshold})",
    "cannot reach any service point by road (threshold {threshold})",
)
DISTANCE_PARTIAL: Final = Word(
    "saa palvelun nyt vain osittain liikkuvana tai etäpalveluna (kynnys {threshold}; lähin piste "
    "keskimäärin {km} km:n päässä)",
    "are now served only in part, by a mobile or remote service (threshold {threshold}; the nearest "
    "point on average {km} km away)",
)
RATIONALE_OFFER: Final = Word(
    " {actor} ({sector}) tarjoaisi palvelun: {mode}{visits}; se kattaisi {covered} {group}{ages}.",
    " {actor} ({sector}) would provide it as a {mode}{visits}, covering {covered} {group}{ages}.",
)
RATIONALE_OFFER_PART: Final = Word(
    " {actor} ({sector}) tarjoaisi palvelun: {mode}{visits}; se kattaisi laskennallisesti {covered} "
    "{group}{ages}.",
    " {actor} ({sector}) would provide it as a {mode}{visits}, covering the equivalent of {covered} "
    "{group}{ages}.",
)
"""The offer when the mode counts only in part (a remote service, a mobile one on fewer days)."""
RATIONALE_MOBILE: Final = Word(
    " {days} päivänä viikossa, {base_km} km tukikohdastaan",
    ", {days} days a week, {base_km} km from its base",
)
RATIONALE_MOBILE_ONCE: Final = Word(
    " kerran viikossa, {base_km} km tukikohdastaan", ", once a week, {base_km} km from its base"
)
RATIONALE_AGES: Final = Word(" (heistä {p65} yli 65-vuotiaita)", " ({p65} of them aged 65+)")
RATIONALE_AGES_UNKNOWN: Final = Word(" (ikäryhmiä ei tiedetä)", " (age groups unknown)")

DEMAND_COUNT: Final[dict[str, Word]] = {
    "population": Word("asukasta", "residents"),
    "age_0_14": Word("lasta (0–14 v.)", "children aged 0–14"),
    "age_15_64": Word("15–64-vuotiasta", "residents aged 15–64"),
    "age_65_plus": Word("yli 65-vuotiasta", "residents aged 65+"),
}
"""A demand group after a number ("1 038 asukasta", "123 children aged 0–14")."""

# --- proposed sites named by their relation to a place ---------------------------------------------

DIRECTION: Final[dict[str, Word]] = {
    "N": Word("pohjoiseen", "N"),
    "NE": Word("koilliseen", "NE"),
    "E": Word("itään", "E"),
    "SE": Word("kaakkoon", "SE"),
    "S": Word("etelään", "S"),
    "SW": Word("lounaaseen", "SW"),
    "W": Word("länteen", "W"),
    "NW": Word("luoteeseen", "NW"),
}
"""Compass directions from a place to a site."""

WEEKDAY: Final[dict[str, Word]] = dict(zip(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), (
    Word("maanantai", "Monday"), Word("tiistai", "Tuesday"), Word("keskiviikko", "Wednesday"),
    Word("torstai", "Thursday"), Word("perjantai", "Friday"), Word("lauantai", "Saturday"),
    Word("sunnuntai", "Sunday")), strict=True))
"""Weekdays of the mobile routes (``routes.csv`` codes); Finnish in lower case, as within a sentence."""

SITE_RELATION: Final = Word("{km} km {direction} {place_from}", "{km} km {direction} of {place}")
"""A site away from named places: "9,6 km koilliseen Korpirannasta", "9.6 km NE of Korpiranta"."""
SITE_RELATION_PLAIN: Final = Word("{km} km {direction} paikasta {place}", "{km} km {direction} of {place}")
"""The same when the Finnish elative of the place name is not known (the name stays uninflected)."""

FI_ELATIVE_ENDINGS: Final[tuple[tuple[str, str], ...]] = (
    ("kirkonkylä", "kirkonkylästä"),
    ("kylä", "kylästä"),
    ("ranta", "rannasta"),
    ("vaara", "vaarasta"),
    ("niemi", "niemestä"),
    ("lahti", "lahdesta"),
    ("lampi", "lammesta"),
    ("järvi", "järvestä"),
    ("joki", "joesta"),
    ("koski", "koskesta"),
    ("mäki", "mäestä"),
    ("saari", "saaresta"),
    ("salmi", "salmesta"),
    ("kangas", "kankaasta"),
    ("harju", "harjusta"),
    ("lehto", "lehdosta"),
    ("vuoma", "vuomasta"),
    ("selkä", "selästä"),
    ("perä", "perästä"),
    ("pää", "päästä"),
    ("aho", "ahosta"),
    ("maa", "maasta"),
    ("suo", "suosta"),
)
"""Final parts of Finnish place names and their elative ("from"): Korpiranta → Korpirannasta."""

# --- proposal warnings (municipalities by name and code) -----------------------------------------

SECTOR_SHORTFALL: Final = Word(
    "{name} ({code}): monialaisuussääntöä (vähintään {k} sektoria) ei voida täyttää; {n} sektoria puuttuu",
    "{name} ({code}): the cross-sector rule (at least {k} sectors) cannot be met; {n} sector(s) short",
)
BELOW_MINIMUM: Final = Word(
    "{name} ({code}): {service}, {mode} ({actor}) jätettiin pois: se kattaisi vain {covered}, "
    "vähimmäiskoko on {minimum}",
    "{name} ({code}): {service}, {mode} ({actor}) was dropped: it would newly cover only {covered}, "
    "below its minimum of {minimum}",
)

NOTHING_TO_PROPOSE: Final[dict[str, Word]] = {
    "no_actors_given": Word(
        "toimijoita ei ole annettu (inputs.actors): ei ehdotettavaa",
        "no actors given (inputs.actors): nothing to propose",
    ),
    "no_gaps": Word("ei katvealueita: ei ehdotettavaa", "no coverage gaps: nothing to propose"),
    "unreachable": Word(
        "kaikki palvelun ulkopuolelle jäävät ruudut ovat tieverkon ulkopuolella "
        "(network.snap_tolerance_m): uusi palvelupiste ei tavoittaisi niitä; ks. summary.xlsx",
        "every uncovered cell is off the road network (beyond network.snap_tolerance_m): "
        "nothing a new site could reach; see the unreachable cells in summary.xlsx",
    ),
    "no_actors": Word("ei toimijoita: ei ehdotettavaa", "no actors given: nothing to propose"),
    "no_sites": Word("ei ehdokaspaikkoja tieverkolla", "no candidate sites on the road network"),
    "no_options": Word(
        "mikään toimija ei voi kattaa katvealueita: palvelu, sektori, toimintatapa tai "
        "toiminta-alue ei sovi (tarkista toimijoiden palvelut, kunnat, toimintatavat ja "
        "max_travel_km sekä palvelujen sektorit)",
        "no actor can cover the gaps: none offers the service there with an allowed sector, "
        "mode and operating area (check actors' services, municipalities, modes and "
        "max_travel_km, and the services' sectors)",
    ),
    "at_capacity": Word(
        "kaikki mahdolliset toimijat ovat täynnä tai toiminta-alueensa ulkopuolella",
        "every actor that could help is at capacity or outside its area: nothing to propose",
    ),
}
"""Why the proposals hold no agreement, per cause."""


# --- look-ups and formatting ---------------------------------------------------------------------


@cache
def ui(lang: str) -> Mapping[str, str]:
    """The :data:`UI` words in one language, as a read-only mapping ``key -> text``."""
    return {key: word.get(lang) for key, word in UI.items()}


def label(group: Mapping[str, Word], key: str, lang: str) -> str:
    """The word for ``key`` in ``group`` (e.g. :data:`SECTOR`), or ``key`` itself when unknown."""
    word = group.get(key)
    return word.get(lang) if word is not None else key


def format_number(value: Any, lang: str, digits: int = 0) -> str:
    """Format a number with the language's separators (``1 234,5`` in Finnish); blank for NaN."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if not math.isfinite(x):
        return ""
    text = f"{x:,.{digits}f}"
    if lang == "fi":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text.replace("-", "\u2212") if x < 0 else text


def format_share(value: Any, lang: str, digits: int = 1) -> str:
    """A share 0–1 as a percentage in the language's format (``64,9 %``); blank for NaN."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{format_number(v * 100, lang, digits)}\u00a0%" if math.isfinite(v) else ""


def format_date(d: date, lang: str) -> str:
    """``29.11.2026`` in Finnish, ``2026-11-29`` in English."""
    return f"{d.day}.{d.month}.{d.year}" if lang == "fi" else d.isoformat()


def resolve_language(config: Config, lang: str | None) -> Lang:
    """The language to use: ``lang`` when given, else ``config.language``.

    Raises
    ------
    ArjenturvaError
        When ``lang`` is not ``fi`` or ``en``.
    """
    value = lang or config.language
    if value == "fi":
        return "fi"
    if value == "en":
        return "en"
    msg = f"unknown language '{value}'. Fix: use 'fi' or 'en'"
    raise ArjenturvaError(msg)


def service_label(config: Config, service: str, lang: str) -> str:
    """The label of a service in ``lang`` (the id, spaced, when the service is not in the config)."""
    svc = config.services.get(service)
    return getattr(svc.label, lang) if svc is not None else service.replace("_", " ")


def _digits(v: Any) -> int:
    return 0 if float(v).is_integer() else 1


def format_threshold(svc: ServiceConfig, lang: str) -> str:
    """``25 km (M7: 40 km) · 60 min`` for a service's thresholds."""
    parts = []
    for limits, unit in ((svc.threshold_km, "km"), (svc.threshold_min, "min")):
        if not limits:
            continue
        default = limits.get("default")
        others = [
            f"{k}: {format_number(v, lang, _digits(v))} {unit}" for k, v in limits.items() if k != "default"
        ]
        text = f"{format_number(default, lang, _digits(default))} {unit}" if default is not None else ""
        if others:
            text = f"{text} ({', '.join(others)})" if text else ", ".join(others)
        parts.append(text)
    return " · ".join(parts)
