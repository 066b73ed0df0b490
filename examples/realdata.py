"""A ready workspace for the Arjen turva pilot municipalities, built from real public data.

:func:`build_pilot_workspace` is ``arjenturva build-workspace`` (:mod:`arjenturva.builder`) for
the five pilot municipalities, reading the offline copies of public data sets in the project's
``../shared/data`` folder (every sub-folder has a ``SOURCE.md``) through the sources file
``examples/shared_data_sources.yaml``. The same from the command line::

    arjenturva build-workspace --sources examples/shared_data_sources.yaml \\
        --municipalities 615,320,583,614,851 --language en --out pilot

The result is loaded and validated by the project's own loaders like any user workspace
(:func:`arjenturva.api.load_workspace`). Scripts in ``examples/`` import this module as
``from realdata import ...``; elsewhere, put ``examples/`` on ``sys.path`` first.

What goes in and the choices made are those of :mod:`arjenturva.builder` (the README's
"Building a workspace from public data"); the generated ``build.json`` lists them with every
source file's checksum. Note for the pilot: OSM's health facilities are thin there (none in
Posio, Pudasjärvi or Tornio's health centre), so gaps found for ``health_station`` are partly a
**data gap**.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from arjenturva.builder import BUILT_FILES, DEFAULT_BUFFER_M, build_workspace

__all__ = ["PILOT_CODES", "PILOT_FILES", "PILOT_NAME", "SOURCES_FILE", "build_pilot_workspace"]

PILOT_CODES: tuple[str, ...] = ("615", "320", "583", "614", "851")
"""Pudasjärvi, Kemijärvi, Pelkosenniemi, Posio and Tornio: the Arjen turva pilot (2012–2014)."""

PILOT_NAME = "Arjen turva pilot municipalities (real data)"
"""The name of the pilot workspace."""

SOURCES_FILE = Path(__file__).resolve().with_name("shared_data_sources.yaml")
"""The sources file naming the public data files of ``../shared/data``."""

PILOT_FILES: tuple[str, ...] = BUILT_FILES
"""The files :func:`build_pilot_workspace` writes."""


def build_pilot_workspace(shared_data: str | Path, out_dir: str | Path, *,
                          codes: Sequence[str] = PILOT_CODES, force: bool = False,
                          buffer_m: float = DEFAULT_BUFFER_M, language: str = "en") -> Path:
    """Write a ready workspace for some municipalities from the shared real data.

    Parameters
    ----------
    shared_data
        The folder of real public data (``../shared/data``), holding the files that
        :data:`SOURCES_FILE` names.
    out_dir
        The workspace folder to write (created when missing).
    codes
        Municipality codes (leading zeros may be omitted) or names. Default: the five Arjen
        turva pilot municipalities.
    force
        Overwrite existing workspace files.
    buffer_m
        Roads, service points and places are taken within this distance of the municipalities'
        convex hull; municipalities within it of the study area are context.
    language
        ``"en"`` or ``"fi"``: the language of the generated config.

    Returns
    -------
    Path
        The generated ``arjenturva.yaml``; load it with :func:`arjenturva.api.load_workspace`.

    Raises
    ------
    ValidationError
        When a source file is missing, unreadable or lacks a column (all named at once).
    InputDataError
        When a code is not a municipality of the key.
    OutputExistsError
        When a workspace file exists and ``force`` is false.
    """
    result = build_workspace(out_dir, sources=SOURCES_FILE, data_dir=shared_data, municipalities=codes,
                             buffer_m=buffer_m, language=language, name=PILOT_NAME, force=force)
    return result.config_path
