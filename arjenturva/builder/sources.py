"""Which public files the builder reads, and whether they hold what it needs.

:class:`BuildSources` names a file (or, for health facilities, several) per input of
:data:`~arjenturva.builder.specs.SOURCE_SPECS`. It comes from a small YAML *sources file*
(:func:`read_sources`), a mapping (:func:`sources_from_mapping`) or is made directly.
:func:`check_sources` then opens every file once, before anything is built: a missing required
input, a file that is not there or cannot be read, a missing layer or column are reported all at
once (one :class:`~arjenturva.errors.Problem` each, naming the file, the column and the fix), and
missing optional inputs become notes.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import InputDataError, InputFileError, Problem, ValidationError
from .specs import SERVICE_SOURCES, SOURCE_SPECS, SourceSpec, spec

__all__ = ["BuildSources", "CheckedSource", "check_sources", "read_sources", "sources_from_mapping"]

_KEYS = tuple(s.key for s in SOURCE_SPECS)


@dataclass(frozen=True)
class BuildSources:
    """The files the builder reads, by input key.

    Attributes
    ----------
    files
        Input key (``boundaries``, ``roads``, ...) to its files; most inputs take one file,
        ``health_facilities`` several. Keys not given are left out.
    layers
        Input key to the layer to read from a multi-layer file (default: the spec's layer, or the
        only layer of the file).
    origin
        Where the paths came from (the sources file), for messages.
    """

    files: Mapping[str, tuple[Path, ...]] = field(default_factory=dict)
    layers: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""

    def with_files(self, overrides: Mapping[str, str | Path | Sequence[str | Path] | None]) -> BuildSources:
        """A copy with the files of ``overrides`` (e.g. CLI options) replacing those given here;
        ``None`` values are ignored."""
        files = dict(self.files)
        for key, value in overrides.items():
            if value is None or (isinstance(value, list | tuple) and not value):
                continue
            if key not in _KEYS:
                msg = f"unknown input '{key}'. Fix: use one of {', '.join(_KEYS)}"
                raise InputDataError(msg)
            values = [value] if isinstance(value, str | Path) else list(value)
            files[key] = tuple(Path(v).expanduser() for v in values)
        return BuildSources(files, self.layers, self.origin)


@dataclass(frozen=True)
class CheckedSource:
    """One file that passed :func:`check_sources`.

    Attributes
    ----------
    spec
        The input it is.
    path
        The file.
    layer
        The layer to read (``None`` for tables and single-layer files read as they are).
    columns
        The first accepted name of each spec column to the column's name in this file.
    """

    spec: SourceSpec
    path: Path
    layer: str | None
    columns: Mapping[str, str]

    def col(self, name: str) -> str:
        """The file's column for the spec column whose first accepted name is ``name``."""
        return self.columns[name]


# ---------------------------------------------------------------------------------------------
# Sources files
# ---------------------------------------------------------------------------------------------


def read_sources(path: str | Path, *, data_dir: str | Path | None = None) -> BuildSources:
    """Read a sources file: YAML naming a file per input key.

    Relative paths are read from ``data_dir`` when given, else from the file's own ``data_dir:``
    key (itself relative to the sources file), else from the sources file's folder. An input is a
    path, a list of paths (``health_facilities``) or ``{path: ..., layer: ...}``.

    Raises
    ------
    InputFileError
        When the file is missing or not YAML.
    ValidationError
        When keys are unknown or values malformed (all named at once).
    """
    p = Path(path).expanduser()
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as e:
        msg = f"{p}: cannot read the sources file ({e.strerror or e}). Fix: check the --sources path"
        raise InputFileError(msg) from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        first = str(e).splitlines()[0]
        msg = f"{p}: the sources file is not valid YAML ({first}). Fix: write `key: path` lines"
        raise InputFileError(msg) from e
    if not isinstance(data, dict):
        msg = f"{p}: the sources file must map input keys to paths (e.g. `roads: roads.gpkg`)"
        raise InputFileError(msg)
    folder = p.parent
    if data_dir is not None:
        base = Path(data_dir).expanduser()
    elif data.get("data_dir") is not None:
        base = folder / Path(str(data["data_dir"])).expanduser()
    else:
        base = folder
    return sources_from_mapping(data, base=base, origin=str(p))


def sources_from_mapping(data: Mapping[str, Any], *, base: str | Path = ".", origin: str = "sources"
                         ) -> BuildSources:
    """The sources a mapping names (the content of a sources file), relative paths read from
    ``base``. The key ``data_dir`` is ignored here (:func:`read_sources` resolves it).

    Raises
    ------
    ValidationError
        When keys are unknown or values malformed (all named at once).
    """
    base = Path(base)
    problems: list[Problem] = []
    files: dict[str, tuple[Path, ...]] = {}
    layers: dict[str, str] = {}
    for key, value in data.items():
        if key == "data_dir":
            continue
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(origin, "", str(key), "unknown input key",
                                    f"{hint}use one of: {', '.join(_KEYS)}, data_dir"))
            continue
        s = spec(key)
        entries = value if isinstance(value, list) else [value]
        if len(entries) > 1 and not s.many:
            problems.append(Problem(origin, "", key, f"{len(entries)} files given, {key} takes one",
                                    "give one path"))
            continue
        paths: list[Path] = []
        for entry in entries:
            if isinstance(entry, dict) and set(entry) <= {"path", "layer"} and entry.get("path"):
                if entry.get("layer"):
                    layers[key] = str(entry["layer"])
                entry = entry["path"]
            if not isinstance(entry, str | Path) or not str(entry).strip():
                problems.append(Problem(origin, "", key, f"expected a path, got {entry!r}",
                                        f"write `{key}: path/to/file` or `{key}: {{path: ..., layer: ...}}`"))
                continue
            q = Path(str(entry)).expanduser()
            paths.append(q if q.is_absolute() else base / q)
        if paths:
            files[key] = tuple(paths)
    if problems:
        raise ValidationError(problems)
    return BuildSources(files, layers, origin)


# ---------------------------------------------------------------------------------------------
# Checking the files
# ---------------------------------------------------------------------------------------------


def _given_as(s: SourceSpec, origin: str) -> str:
    where = f" or `{s.key}:` in {origin}" if origin else f" or `{s.key}:` in a --sources file"
    return f"{s.option} FILE{where}"


def _header(s: SourceSpec, path: Path, layer: str | None, problems: list[Problem]
            ) -> tuple[list[str], str | None] | None:
    """The columns of a file (and the layer read), or ``None`` after adding a problem."""
    if s.kind == "table":
        try:
            cols = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            problems.append(Problem(str(path), "", "", f"cannot read the {s.key} table ({first})",
                                    f"give the original CSV file of {s.source}"))
            return None
        return [str(c) for c in cols], None
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    name = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        found = [str(row[0]) for row in pyogrio.list_layers(name)]
        want = layer or s.layer
        if want not in found:
            if len(found) == 1 and layer is None:
                want = found[0]
            else:
                problems.append(Problem(
                    str(path), "", "", f"no {s.key} layer '{want}' (layers: {', '.join(found) or 'none'})",
                    f"set `{s.key}: {{path: ..., layer: NAME}}` in the sources file"))
                return None
        fields = pyogrio.read_info(name, layer=want)["fields"]
    except (DataSourceError, DataLayerError, OSError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        problems.append(Problem(str(path), "", "", f"cannot read the {s.key} layer ({first})",
                                f"give the original file of {s.source} (a GIS vector file)"))
        return None
    return [str(c) for c in fields], want


def _check_file(s: SourceSpec, path: Path, layer: str | None, problems: list[Problem]
                ) -> CheckedSource | None:
    if not path.exists():
        problems.append(Problem(str(path), "", "", f"{s.key} file not found",
                                f"check the path given as {s.option} or `{s.key}:` (a sources file's "
                                "relative paths are read from its data_dir)"))
        return None
    if path.is_dir() or path.stat().st_size == 0:
        what = "is a folder" if path.is_dir() else "is empty"
        problems.append(Problem(str(path), "", "", f"the {s.key} file {what}", f"give the {s.what} file"))
        return None
    head = _header(s, path, layer, problems)
    if head is None:
        return None
    cols, used_layer = head
    found: dict[str, str] = {}
    shown = ", ".join(cols[:12]) + (", …" if len(cols) > 12 else "")
    for c in s.columns:
        hit = c.find(cols)
        if hit is None:
            problems.append(Problem(
                str(path), "", c.label(), f"column missing ({c.meaning}); the file has: {shown}",
                f"give the original file of {s.source}, or rename its column to '{c.names[0].rstrip('*')}'"))
        else:
            found[c.names[0]] = hit
    if len(found) < len(s.columns):
        return None
    return CheckedSource(s, path, used_layer, found)


def check_sources(sources: BuildSources) -> tuple[dict[str, tuple[CheckedSource, ...]], list[str]]:
    """Open every file and check its columns, all before anything is built.

    Returns
    -------
    dict
        Input key to its checked files (keys not given are left out).
    list of str
        Notes: the optional inputs not given and what the builder does without them.

    Raises
    ------
    ValidationError
        Every problem at once: a required input not given, a file missing or unreadable, a
        layer or column missing, no service-point input at all.
    """
    problems: list[Problem] = []
    notes: list[str] = []
    checked: dict[str, tuple[CheckedSource, ...]] = {}
    for s in SOURCE_SPECS:
        paths = sources.files.get(s.key, ())
        if not paths:
            if s.required:
                problems.append(Problem(
                    "(not given)", "", s.key, f"required input not given: {s.what}",
                    f"give {_given_as(s, sources.origin)} ({s.source}, {s.licence})"))
            else:
                notes.append(f"{s.key} not given: {s.when_missing}")
            continue
        ok = [c for p in paths if (c := _check_file(s, p, sources.layers.get(s.key), problems)) is not None]
        if len(ok) == len(paths):
            checked[s.key] = tuple(ok)
    if not any(sources.files.get(k) for k in SERVICE_SOURCES):
        problems.append(Problem(
            "(not given)", "", " / ".join(SERVICE_SOURCES), "no service points: give at least one of them",
            f"give {spec(SERVICE_SOURCES[0]).option} FILE or {spec(SERVICE_SOURCES[1]).option} FILE"))
    if problems:
        raise ValidationError(problems)
    return checked, notes
