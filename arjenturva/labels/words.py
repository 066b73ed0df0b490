"""The :class:`Word`: one user-facing text in Finnish and English (see :mod:`arjenturva.labels`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Lang = Literal["fi", "en"]

LANGUAGES: Final[tuple[Lang, ...]] = ("fi", "en")


@dataclass(frozen=True)
class Word:
    """One user-facing text in both languages (may hold ``str.format`` fields)."""

    fi: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``fi`` or ``en``)."""
        return self.en if lang == "en" else self.fi
