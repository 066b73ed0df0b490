"""Making a workspace: the template, the bundled demo, and ready workspaces from public data
(online with ``fetch``, from files on disk with ``build-workspace``). :mod:`arjenturva.api`
re-exports these; heavy libraries are imported inside the functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .builder import BuildResult, BuildSources
    from .fetch import FetchResult

DEFAULT_CONFIG_NAME = "arjenturva.yaml"

Progress = Callable[[str], None]


def init_workspace(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Scaffold a workspace: a commented ``arjenturva.yaml`` and template input files.

    The templates hold a header and one example row each, and validate as written.

    Returns
    -------
    list of Path
        The files written.
    """
    from .workspace.scaffold import copy_tree, template_dir

    return copy_tree(template_dir(), Path(directory), force=force)


def copy_demo(directory: str | Path, *, force: bool = False) -> Path:
    """Copy the bundled demo workspace to ``directory`` and return its config path."""
    from .workspace.scaffold import copy_tree, demo_source_dir

    dest = Path(directory)
    copy_tree(demo_source_dir(), dest, force=force)
    return dest / DEFAULT_CONFIG_NAME


def fetch_workspace(
    codes: str | Sequence[str],
    out_dir: str | Path,
    *,
    year: int = 2023,
    roads: bool = True,
    mapping: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> FetchResult:
    """Download public data (Statistics Finland's WFS, OpenStreetMap) into a ready workspace.

    Needs internet; responses are cached. See :func:`arjenturva.fetch.fetch_workspace`.
    """
    from .fetch import fetch_workspace as _fetch

    return _fetch(
        codes,
        out_dir,
        year=year,
        roads="osmnx" if roads else None,
        force=force,
        mapping=mapping,
        progress=progress,
    )


def build_workspace(
    out_dir: str | Path,
    *,
    sources: str | Path | Mapping[str, Any] | BuildSources | None = None,
    files: Mapping[str, str | Path | Sequence[str | Path] | None] | None = None,
    municipalities: Sequence[str] = (),
    regions: Sequence[str] = (),
    wellbeing_counties: Sequence[str] = (),
    data_dir: str | Path | None = None,
    buffer_m: float = 30_000.0,
    language: str = "fi",
    name: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Write a ready workspace for any set of Finnish municipalities from offline public data files
    (municipality boundaries and key, postal-area population, NLS roads, ...), named by a sources
    file or mapping and per-input ``files``. The study area is municipality codes or names,
    regions (maakunta) and wellbeing services counties; the municipalities around it become
    context. Works offline. See :func:`arjenturva.builder.build_workspace`.
    """
    from .builder import build_workspace as _build

    return _build(
        out_dir,
        sources=sources,
        files=files,
        municipalities=municipalities,
        regions=regions,
        wellbeing_counties=wellbeing_counties,
        data_dir=data_dir,
        buffer_m=buffer_m,
        language=language,
        name=name,
        force=force,
        progress=progress,
    )
