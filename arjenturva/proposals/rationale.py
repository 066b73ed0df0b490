"""The words of the proposals: an agreement's rationale, its site's name, and the warnings.

Everything here is built from the columns of one row of the ``proposals`` table (see
:data:`arjenturva.results.PROPOSALS`), so a report can write the rationale of an agreement read
from ``proposals.csv`` in another language with :func:`rationale_for`. The words come from
:mod:`arjenturva.labels`; numbers are formatted by :func:`arjenturva.labels.format_number`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .. import labels
from ..config import Config
from .problem import FIXED, MOBILE, REMOTE

MODE_CODES = {"fixed": FIXED, "mobile": MOBILE, "remote": REMOTE}
MODE_NAMES = {v: k for k, v in MODE_CODES.items()}

GAP_REASONS = ("distance", "unreachable", "partial")
"""Why the people an agreement covers are not covered today (the ``gap_reason`` column): the
nearest point is beyond the threshold, no point can be reached by road, or only a mobile or
remote point serves them (in part)."""


def _nothing_to_propose(cause: str, lang: str) -> str:
    """Why there is nothing to propose, in ``lang``."""
    return labels.NOTHING_TO_PROPOSE[cause].get(lang)


# --- reading a row --------------------------------------------------------------------------------


def _number(row: Mapping[str, Any], key: str) -> float:
    """The row's figure ``key``; ``nan`` when missing or blank."""
    value = row.get(key)
    if value is None:
        return math.nan
    try:
        x = float(value)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def _text(row: Mapping[str, Any], key: str) -> str:
    """The row's text ``key``; ``""`` when missing or blank (NaN, None)."""
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _digits(value: float) -> int:
    """Decimals to print: whole figures without, others with one."""
    return 0 if float(value).is_integer() else 1


def _km(value: float, lang: str) -> str:
    """A distance in km: one decimal below 10 km, none above."""
    return labels.format_number(value, lang, 1 if value < 10 else 0)


# --- the site -------------------------------------------------------------------------------------


_FI_NO_GRADATION = frozenset("dghjlmnrsv")
"""Consonants that never alternate in Finnish stems (k, p and t do: ranta → rannasta)."""


def elative_fi(name: str) -> str | None:
    """The Finnish elative ("from") of a place name, or None when it is not known for sure.

    Endings of :data:`arjenturva.labels.FI_ELATIVE_ENDINGS` are inflected by the table
    (Korpiranta → Korpirannasta, Honkaniemi → Honkaniemestä). Other names ending in a, o, u, ä, ö
    or y after a consonant that never alternates, or after a vowel, take -sta/-stä by vowel
    harmony (Ylä-Kaarna → Ylä-Kaarnasta, Kittilä → Kittilästä); the rest (Kemi, Muhos, Liminka)
    would often be guessed wrong and are left to an uninflected wording.
    """
    low = name.lower()
    for ending, elative in labels.FI_ELATIVE_ENDINGS:
        if low.endswith(ending):
            stem = name[: len(name) - len(ending)]
            if name[len(stem)].isupper():
                elative = elative[0].upper() + elative[1:]
            return stem + elative
    if len(low) >= 3 and low[-1] in "aouäöy" and (low[-2] in _FI_NO_GRADATION or low[-2] in "aeiouyäö"):
        last_word = low.replace("-", " ").split()[-1]
        back = any(v in last_word for v in "aou")
        return name + ("sta" if back else "stä")
    return None


def site_label(row: Mapping[str, Any], lang: str) -> str:
    """The name of an agreement's site in ``lang``.

    A site with a compass direction (``site_bearing``) lies away from named places and is named by
    its relation to the nearest one ("9,6 km koilliseen Korpirannasta", "9.6 km NE of Korpiranta");
    any other site by ``site_name`` (a place, a service point or an actor's base).
    """
    bearing = _text(row, "site_bearing")
    place = _text(row, "site_place")
    km = _number(row, "site_place_km")
    if not bearing or not place or not math.isfinite(km):
        return _text(row, "site_name")
    direction = labels.label(labels.DIRECTION, bearing, lang)
    km_text = labels.format_number(km, lang, 1)
    place_from = elative_fi(place) if lang == "fi" else place
    word = labels.SITE_RELATION if place_from is not None else labels.SITE_RELATION_PLAIN
    return word.get(lang).format(km=km_text, direction=direction, place=place, place_from=place_from)


# --- the rationale --------------------------------------------------------------------------------


def _threshold(row: Mapping[str, Any], lang: str) -> str:
    """``40 km``, ``60 min`` or ``40 km / 60 min``: the thresholds that apply to the agreement's cells."""
    parts = []
    for key, unit in (("threshold_km", "km"), ("threshold_min", "min")):
        v = _number(row, key)
        if math.isfinite(v):
            parts.append(f"{labels.format_number(v, lang, _digits(v))} {unit}")
    return " / ".join(parts)


def _reason(row: Mapping[str, Any], lang: str) -> str:
    """Why the people are not covered today, with the threshold and today's distance."""
    reason = _text(row, "gap_reason")
    dist = _number(row, "distance_today_km")
    threshold = _threshold(row, lang)
    if reason == "unreachable" or not math.isfinite(dist):
        return labels.DISTANCE_NONE.get(lang).format(threshold=threshold)
    word = labels.DISTANCE_PARTIAL if reason == "partial" else labels.DISTANCE_NOW
    return word.get(lang).format(threshold=threshold, km=_km(dist, lang))


def _visits(row: Mapping[str, Any], lang: str) -> str:
    """How often a mobile service comes, and from how far."""
    if _text(row, "mode") != "mobile":
        return ""
    days = _number(row, "days_per_week")
    base_km = _number(row, "distance_from_base_km")
    base_text = _km(base_km, lang) if math.isfinite(base_km) else "?"
    if days == 1:
        return labels.RATIONALE_MOBILE_ONCE.get(lang).format(base_km=base_text)
    days_text = labels.format_number(days, lang, _digits(days)) if math.isfinite(days) else "?"
    return labels.RATIONALE_MOBILE.get(lang).format(days=days_text, base_km=base_text)


def _ages(row: Mapping[str, Any], lang: str) -> str:
    """Residents aged 65+ among the covered, for services whose demand is the whole population."""
    if (_text(row, "demand_group") or "population") != "population":
        return ""
    p65 = _number(row, "covered_65_plus")
    if not math.isfinite(p65):
        return labels.RATIONALE_AGES_UNKNOWN.get(lang)
    return labels.RATIONALE_AGES.get(lang).format(p65=labels.format_number(p65, lang))


def rationale_for(row: Mapping[str, Any], config: Config, lang: str) -> str:
    """The rationale of one agreement in ``lang``, built from its row of the ``proposals`` table.

    It says where the gap is and for whom (the service's demand group: "children aged 0–14" for a
    school), why they are not covered today (today's road distance against the threshold, no road
    to any point, or only part coverage by a mobile or remote point), who would close it and how,
    and how much of the demand the agreement covers (as an equivalent when the mode counts only in
    part; with residents aged 65+, or that the age groups are unknown, for services of the whole
    population).

    Parameters
    ----------
    row
        One row of the ``proposals`` table, e.g. from
        ``arjenturva.results.read_table(results_dir, PROPOSALS)`` (a pandas row or a dict).
    config
        The workspace config (for the service's label).
    lang
        ``"fi"`` or ``"en"``.

    Returns
    -------
    str
        One or two sentences; ``proposals.csv`` holds this text in the config's language.
    """
    group = _text(row, "demand_group") or "population"
    group_word = labels.label(labels.DEMAND_COUNT, group, lang)
    head = labels.RATIONALE_HEAD.get(lang).format(
        site=site_label(row, lang),
        service=labels.service_label(config, _text(row, "service"), lang),
        demand=labels.format_number(_number(row, "demand_reached"), lang),
        group=group_word,
        reason=_reason(row, lang),
    )
    part = _number(row, "demand_covered") < _number(row, "demand_reached") - 0.5
    offer = (labels.RATIONALE_OFFER_PART if part else labels.RATIONALE_OFFER).get(lang).format(
        actor=_text(row, "actor_name"),
        sector=labels.label(labels.SECTOR, _text(row, "sector"), lang),
        mode=labels.label(labels.MODE, _text(row, "mode"), lang),
        visits=_visits(row, lang),
        covered=labels.format_number(_number(row, "demand_covered"), lang),
        group=group_word,
        ages=_ages(row, lang),
    )
    return head + offer


# --- warnings -------------------------------------------------------------------------------------


def municipality_warning(
    word: labels.Word, lang: str, *, code: str, names: Mapping[str, str], **fields: Any
) -> str:
    """A warning about one municipality, named by its name and code ("Kaarnavaara (996): …")."""
    return word.get(lang).format(name=names.get(code) or code, code=code, **fields)
