"""The words of the proposals: mode labels, the rationale of an agreement, and why nothing was proposed.

Every fi/en text the proposals write is here, with its wording unchanged.
"""

from __future__ import annotations

import numpy as np

from ..schema import SECTOR_LABELS
from .problem import FIXED, MOBILE, REMOTE

MODE_CODES = {"fixed": FIXED, "mobile": MOBILE, "remote": REMOTE}
MODE_NAMES = {v: k for k, v in MODE_CODES.items()}
MODE_LABELS = {
    "fixed": {"fi": "kiinteä palvelupiste", "en": "fixed service point"},
    "mobile": {"fi": "liikkuva palvelu", "en": "mobile service"},
    "remote": {"fi": "etäpalvelu tukipisteellä", "en": "remote service with a support point"},
}

# Why there is nothing to propose: (English, Finnish) per cause.
_NOTHING_TO_PROPOSE = {
    "no_actors_given": (
        "no actors given (inputs.actors): nothing to propose",
        "toimijoita ei ole annettu (inputs.actors): ei ehdotettavaa",
    ),
    "no_gaps": ("no coverage gaps: nothing to propose", "ei katvealueita: ei ehdotettavaa"),
    "unreachable": (
        "every uncovered cell is off the road network (beyond network.snap_tolerance_m): "
        "nothing a new site could reach; see the unreachable cells in summary.xlsx",
        "kaikki palvelun ulkopuolelle jäävät ruudut ovat tieverkon ulkopuolella "
        "(network.snap_tolerance_m): uusi palvelupiste ei tavoittaisi niitä; ks. summary.xlsx",
    ),
    "no_actors": ("no actors given: nothing to propose", "ei toimijoita: ei ehdotettavaa"),
    "no_sites": ("no candidate sites on the road network", "ei ehdokaspaikkoja tieverkolla"),
    "no_options": (
        "no actor can cover the gaps: none offers the service there with an allowed sector, "
        "mode and operating area (check actors' services, municipalities, modes and "
        "max_travel_km, and the services' sectors)",
        "mikään toimija ei voi kattaa katvealueita: palvelu, sektori, toimintatapa tai "
        "toiminta-alue ei sovi (tarkista toimijoiden palvelut, kunnat, toimintatavat ja "
        "max_travel_km sekä palvelujen sektorit)",
    ),
    "at_capacity": (
        "every actor that could help is at capacity or outside its area: nothing to propose",
        "kaikki mahdolliset toimijat ovat täynnä tai toiminta-alueensa ulkopuolella",
    ),
}


def _nothing_to_propose(cause: str, lang: str) -> str:
    """Why there is nothing to propose, in English for ``lang == "en"`` and in Finnish otherwise."""
    en, fi = _NOTHING_TO_PROPOSE[cause]
    return en if lang == "en" else fi


def _distance_phrase(lang: str, dist_km: float, service_label: str) -> str:
    if np.isfinite(dist_km):
        if lang == "fi":
            return f"asuu nyt keskimäärin {dist_km:.0f} km:n päässä palvelusta {service_label.lower()}"
        return f"now live on average {dist_km:.0f} km from a {service_label.lower()}"
    if lang == "fi":
        return f"ei tavoita nyt tieverkolla yhtään palvelua {service_label.lower()}"
    return f"cannot reach any {service_label.lower()} by road now"


def _rationale(
    lang: str,
    *,
    place: str,
    people: float,
    p65: float,
    service_label: str,
    dist_km: float,
    actor: str,
    sector: str,
    mode: str,
    days: float,
    base_km: float,
) -> str:
    sector_l = SECTOR_LABELS.get(sector, {}).get(lang, sector)
    mode_l = MODE_LABELS[mode][lang]
    if lang == "fi":
        text = (
            f"{place}: {people:.0f} asukasta ({p65:.0f} yli 65-vuotiasta) "
            f"{_distance_phrase(lang, dist_km, service_label)}; {actor} ({sector_l}) tarjoaa sen: {mode_l}"
        )
        if mode == "mobile":
            text += f" {days:.0f} päivänä viikossa, {base_km:.0f} km tukikohdasta"
        return text + "."
    text = (
        f"{place}: {people:.0f} residents ({p65:.0f} aged 65+) "
        f"{_distance_phrase(lang, dist_km, service_label)}; {actor} ({sector_l}) provides it as a {mode_l}"
    )
    if mode == "mobile":
        text += f" {days:.0f} day(s) a week, {base_km:.0f} km from its base"
    return text + "."
