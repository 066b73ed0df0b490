"""The bundled workspaces: the synthetic demo and the `arjenturva init` templates, and copying them."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from ..config import DEFAULT_CONFIG_NAME
from ..errors import ArjenturvaError, OutputExistsError


def template_dir() -> Path:
    """Folder of the `arjenturva init` template workspace."""
    return Path(str(resources.files("arjenturva") / "templates" / "workspace"))


def demo_source_dir() -> Path:
    """Folder of the bundled synthetic demo workspace."""
    packaged = Path(str(resources.files("arjenturva"))) / "_demo"
    if (packaged / DEFAULT_CONFIG_NAME).exists():
        return packaged
    repo = Path(__file__).resolve().parents[2] / "data" / "demo"
    if (repo / DEFAULT_CONFIG_NAME).exists():
        return repo
    msg = "the bundled demo workspace is missing from this installation. Fix: reinstall arjenturva"
    raise ArjenturvaError(msg)


def copy_tree(src: Path, dest: Path, *, force: bool) -> list[Path]:
    """Copy every file of ``src`` into ``dest``; refuse to overwrite any without ``force``."""
    files = [p for p in sorted(src.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    targets = [dest / p.relative_to(src) for p in files]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        msg = (
            f"{dest} already holds {existing[0].name}"
            + (f" and {len(existing) - 1} more file(s)" if len(existing) > 1 else "")
            + ". Fix: choose an empty folder or pass --force to overwrite"
        )
        raise OutputExistsError(msg)
    for p, t in zip(files, targets, strict=True):
        t.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, t)
    return targets
