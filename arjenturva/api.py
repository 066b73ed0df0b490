"""The Python API: everything the CLI does, as functions that return data and never print.

A researcher can script a run::

    import arjenturva as at
    ws = at.load_workspace("arjenturva.yaml")
    print(ws.summary())
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from .config import DEFAULT_CONFIG_NAME, Config, load_config
from .errors import ArjenturvaError, OutputExistsError
from .workspace import Workspace
from .workspace import load_workspace as _load_workspace

Progress = Callable[[str], None]


def as_config(config: Config | str | Path) -> Config:
    """Accept a loaded :class:`Config` or a path to ``arjenturva.yaml`` (or its folder)."""
    return config if isinstance(config, Config) else load_config(config)


def load_workspace(config: Config | str | Path = DEFAULT_CONFIG_NAME, *,
                   progress: Progress | None = None) -> Workspace:
    """Load and validate every input of a workspace.

    Parameters
    ----------
    config
        A :class:`Config`, or the path of ``arjenturva.yaml`` (or of its folder).
    progress
        Optional callback for step messages.

    Returns
    -------
    Workspace
        The validated layers in EPSG:3067.

    Raises
    ------
    ConfigError, ValidationError
        When the config or the inputs are invalid; ``ValidationError.problems`` lists them all.
    """
    cfg = as_config(config)
    return _load_workspace(cfg, progress=progress)


def demo_source_dir() -> Path:
    """Folder of the bundled synthetic demo workspace."""
    packaged = Path(str(resources.files("arjenturva"))) / "_demo"
    if (packaged / DEFAULT_CONFIG_NAME).exists():
        return packaged
    repo = Path(__file__).resolve().parents[1] / "data" / "demo"
    if (repo / DEFAULT_CONFIG_NAME).exists():
        return repo
    msg = "the bundled demo workspace is missing from this installation. Fix: reinstall arjenturva"
    raise ArjenturvaError(msg)


def _copy_tree(src: Path, dest: Path, *, force: bool) -> list[Path]:
    files = [p for p in sorted(src.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    targets = [dest / p.relative_to(src) for p in files]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        msg = (f"{dest} already holds {existing[0].name}"
               + (f" and {len(existing) - 1} more file(s)" if len(existing) > 1 else "")
               + ". Fix: choose an empty folder or pass --force to overwrite")
        raise OutputExistsError(msg)
    for p, t in zip(files, targets, strict=True):
        t.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, t)
    return targets


def init_workspace(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Scaffold a workspace: a commented ``arjenturva.yaml`` and template input files.

    The templates hold a header and one example row each, and validate as written.

    Returns
    -------
    list of Path
        The files written.
    """
    src = Path(str(resources.files("arjenturva") / "templates" / "workspace"))
    return _copy_tree(src, Path(directory), force=force)


def copy_demo(directory: str | Path, *, force: bool = False) -> Path:
    """Copy the bundled demo workspace to ``directory`` and return its config path."""
    dest = Path(directory)
    _copy_tree(demo_source_dir(), dest, force=force)
    return dest / DEFAULT_CONFIG_NAME
