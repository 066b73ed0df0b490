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

from ..errors import ArjenturvaError, OutputExistsError


class OutputWriteError(ArjenturvaError):
    """The file system refused the results (read-only, full disk, no permission)."""


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
    stage = target.parent / _staging_name(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_leftovers(target)
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
    except OSError as e:
        shutil.rmtree(stage, ignore_errors=True)
        raise _write_error(target, e) from e
    try:
        yield stage
    except BaseException as e:
        shutil.rmtree(stage, ignore_errors=True)
        if _is_write_failure(e):
            raise _write_error(target, e) from e
        raise
    try:
        (stage / MARKER).unlink()
        old = target.parent / f".{target.name}.replaced-{os.getpid()}"
        if target.exists():
            os.replace(target, old)
        os.replace(stage, target)
    except OSError as e:
        shutil.rmtree(stage, ignore_errors=True)
        raise _write_error(target, e) from e
    shutil.rmtree(old, ignore_errors=True)


def _is_write_failure(e: BaseException) -> bool:
    """An error of the file system (read-only, full, no permission), also as GDAL reports it."""
    if isinstance(e, OSError):
        return True
    try:
        from pyogrio.errors import DataLayerError, DataSourceError, FeatureError
    except ImportError:  # pragma: no cover - pyogrio is a dependency
        return False
    return isinstance(e, DataSourceError | DataLayerError | FeatureError)


def _free_bytes(path: Path) -> int | None:
    for folder in (path, *path.parents):
        if folder.exists():
            try:
                return shutil.disk_usage(folder).free
            except OSError:
                return None
    return None


def _write_error(target: Path, e: BaseException) -> OutputWriteError:
    if isinstance(e, OSError) and e.strerror:
        reason = e.strerror
    else:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
    free = _free_bytes(target.parent)
    if free is not None and free < 4 << 20 and "space" not in reason.lower():
        reason += f"; No space left on the disk: {free // 1024} kB free"
    msg = (
        f"{target}: the results could not be written ({reason}); the folder was left as it was. "
        "Fix: choose a writable --out folder on a disk with free space"
    )
    return OutputWriteError(msg)
