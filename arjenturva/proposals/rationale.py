"""The rationale of an agreement, and why nothing was proposed, in the config's language.

The words come from :mod:`arjenturva.labels`; this module only fills them in.
"""

from __future__ import annotations

import numpy as np

from .. import labels
from .problem import FIXED, MOBILE, REMOTE

MODE_CODES = {"fixed": FIXED, "mobile": MOBILE, "remote": REMOTE}
MODE_NAMES = {v: k for k, v in MODE_CODES.items()}


def _nothing_to_propose(cause: str, lang: str) -> str:
    """Why there is nothing to propose, in ``lang``."""
    return labels.NOTHING_TO_PROPOSE[cause].get(lang)


def _distance_phrase(lang: str, dist_km: float, service_label: str) -> str:
    if np.isfinite(dist_km):
        return labels.DISTANCE_NOW.get(lang).format(km=f"{dist_km:.0f}", service=service_label.lower())
    return labels.DISTANCE_NONE.get(lang).format(service=service_label.lower())


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
    text = labels.RATIONALE_HEAD.get(lang).format(
        place=place,
        people=f"{people:.0f}",
        p65=f"{p65:.0f}",
        distance=_distance_phrase(lang, dist_km, service_label),
        actor=actor,
        sector=labels.label(labels.SECTOR, sector, lang),
        mode=labels.label(labels.MODE, mode, lang),
    )
    if mode == "mobile":
        text += labels.RATIONALE_MOBILE.get(lang).format(days=f"{days:.0f}", base_km=f"{base_km:.0f}")
    return text + "."
