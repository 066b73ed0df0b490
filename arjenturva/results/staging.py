"""Whole-folder atomicity: a run writes into a staging folder and moves it into place at the end.

A results folder is always either the previous complete run or the new complete run, never a mix
of the two. While a run works, its files live in ``.<name>.incomplete-<pid>`` beside the target,
marked by an ``INCOMPLETE`` file. Only when every file is written does the staging folder take
the target's place (with ``--force``, the old folder is set aside first and removed after the
swap). A run that is interrupted leaves the old folder untouched; the staging folder is removed
(Ctrl-C) or stays behind, clearly marked, until the next run of the same target removes it
(a killed process).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from ..errors import OutputExistsError

MARKER: Final = "INCOMPLETE"
"""The file that marks a staging folder whose run has not finished."""


def _staging_name(target: Path) -> str:
    return f".{target.name}.incomplete-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(target: Path) -> list[Path]:
    """Staging folders of earlier runs of ``target`` whose process is gone."""
    found: list[Path] = []
    prefix = f".{target.name}.incomplete-"
    if not target.parent.is_dir():
        return found
    for p in target.parent.iterdir():
        if p.name.startswith(prefix) and p.is_dir():
            pid = p.name[len(prefix) :]
            if not pid.isdigit() or not _pid_alive(int(pid)) or int(pid) == os.getpid():
                found.append(p)
    return found


def clean_leftovers(target: Path) -> list[Path]:
    """Remove staging folders that interrupted runs of ``target`` left behind; return them."""
    removed = leftovers(target)
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    return removed


@contextlib.contextmanager
def staged_folder(target: str | Path, *, force: bool, keep: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a fresh staging folder for ``target``; move it into place when the block completes.

    Parameters
    ----------
    target
        The results folder to (re)write.
    force
        Replace an existing ``target``. Without it, an existing non-empty ``target`` is an error.
    keep
        Names of files of the existing ``target`` to carry over into the new folder (e.g. the
        gap analysis when only the proposals are rewritten).

    Raises
    ------
    OutputExistsError
        When ``target`` exists, holds files and ``force`` is false.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        msg = f"{target}: exists and is not a folder. Fix: choose another --out folder"
        raise OutputExistsError(msg)
    keep = list(keep)
    if target.is_dir() and any(target.iterdir()):
        if not (target / "run.json").is_file():
            names = sorted(p.name for p in target.iterdir())
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            msg = (
                f"{target}: holds files that are not the results of an arjenturva run ({shown}); "
                "they would be replaced. Fix: choose a new or empty --out folder"
            )
            raise OutputExistsError(msg)
        if not force and not keep:
            msg = f"output already exists: {target}. Fix: choose another --out folder or pass --force"
            raise OutputExistsError(msg)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    stage = target.parent / _staging_name(target)
    stage.mkdir()
    (stage / MARKER).write_text(
        f"This folder is an unfinished arjenturva run for {target.name}. It is not a result; "
        "the next run of the same folder removes it.\n",
        encoding="utf-8",
    )
    for name in keep:
        src = target / name
        if src.is_dir():
            shutil.copytree(src, stage / name)
        elif src.is_file():
            shutil.copy2(src, stage / name)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    (stage / MARKER).unlink()
    old = target.parent / f".{target.name}.replaced-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    os.replace(stage, target)
    shutil.rmtree(old, ignore_errors=True)
