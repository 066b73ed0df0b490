"""The ``arjenturva batch`` command: its options, one :func:`arjenturva.api.run_batch` call with a
progress bar over the tasks, and what it prints.

cli.py registers the command with :func:`batch_command`, handing it the CLI's error guard
(``_run``). Dask is imported only when the command runs (the ``batch`` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import _console as console
from . import api
from ._console import err, out

__all__ = ["SplitBy", "batch_command"]

Runner = Callable[..., None]


class SplitBy(StrEnum):
    """The column of the municipalities layer a workspace is split by."""

    municipality = "municipality"
    region = "region"
    wellbeing_county = "wellbeing_county"


@contextmanager
def _task_bar(quiet: bool) -> Iterator[Callable[[Any, int, int], None]]:
    """A progress bar over the tasks (on a terminal, unless quiet); yields the per-task callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("batch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.description}"), console=err, disable=quiet or not err.is_terminal)
    with bar:
        tid = bar.add_task("", total=None)

        def on_task(outcome: Any, done: int, total: int) -> None:
            bar.update(tid, completed=done, total=total, description=f"{outcome.name}: {outcome.status}")

        yield on_task


def _print_result(res: Any) -> None:
    counts = {s: sum(o.status == s for o in res.outcomes) for s in ("done", "skipped", "failed")}
    where = "no cluster (nothing to run)" if res.scheduler is None else (
        f"{res.scheduler.kind} Dask cluster {res.scheduler.address}, {res.scheduler.workers} worker(s)")
    out.print(
        f"{len(res.outcomes)} run(s): {counts['done']} done, {counts['skipped']} skipped (complete), "
        f"{counts['failed']} failed, in {res.timings_s.get('total', 0):.0f} s on {console.esc(where)}"
    )
    if res.failed:
        out.print(console.frame_table(
            _failures(res.failed), f"{len(res.failed)} failed run(s) (also in batch.json)"))
    out.print(f"Runs in [bold]{console.esc(res.out_dir / 'runs')}[/bold]; written:")
    for f in res.files:
        out.print(f"  {console.esc(f)}")


def _failures(failed: list[Any]) -> Any:
    import pandas as pd

    return pd.DataFrame({"run": [o.name for o in failed], "error": [o.error for o in failed],
                         "message": [o.message for o in failed]})


def _json(res: Any) -> dict[str, Any]:
    return {
        "out_dir": str(res.out_dir),
        "scheduler": None if res.scheduler is None else res.scheduler.as_dict(),
        "timings_s": res.timings_s,
        "runs": [{"name": o.name, "status": o.status, "seconds": o.seconds, "error": o.error or None,
                  "message": o.message or None} for o in res.outcomes],
        "files": [str(f) for f in res.files],
    }


def batch_command(run: Runner) -> Callable[..., None]:
    """The Typer command function; ``run`` is the CLI's error guard (``run(body, as_json=...)``)."""

    def batch(
        config: Annotated[list[Path] | None, typer.Option("--config", "-c", help=(
            "A workspace config (or its folder); repeat for several workspaces. "
            "Default: ./arjenturva.yaml"))] = None,
        out_dir: Annotated[Path | None, typer.Option("--out", "-o", help=(
            "The batch folder: runs/<run>/, batch_summary.csv/.xlsx, batch.json "
            "(default: batch/ beside the first config)."))] = None,
        scenario: Annotated[list[str] | None, typer.Option("--scenario", help=(
            "A scenario run beside the baseline, defined under `scenarios:`. Repeatable."))] = None,
        split: Annotated[SplitBy | None, typer.Option("--split", help=(
            "One run per municipality, region or wellbeing county of each workspace, the other "
            "municipalities of the layer as its context."))] = None,
        scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS", help=(
            "A running Dask scheduler (tcp://host:8786). Default: a local cluster, one worker per core."
        ))] = None,
        workers: Annotated[int | None, typer.Option("--workers", min=1, help=(
            "Worker processes of the local cluster (default: one per core)."))] = None,
        no_maps: Annotated[bool, typer.Option("--no-maps", help="No maps or reports: tables only.")] = False,
        retries: Annotated[int, typer.Option("--retries", min=0, help=(
            "Reruns of a task after an unexpected error or a lost worker."))] = 2,
        force: Annotated[bool, typer.Option("--force", help=(
            "Run every run again; without it, runs whose folder is complete are skipped."))] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    ) -> None:
        """Run many runs on Dask: workspaces × scenarios, or one workspace split into pieces.

        Each run is written as `arjenturva run` writes it, into runs/<run>/ of the batch folder,
        with batch_summary.csv/.xlsx (the summary rows of every run) and batch.json (tasks,
        status, timings, failures, scheduler). A rerun skips complete runs; a failing run does
        not stop the others. Needs the batch extra: pip install "arjenturva\\[batch]".

        Example:  arjenturva batch -c national --split wellbeing_county --scenario closure -o nat-batch

        Example:  arjenturva batch -c pilot -c lappi-pp --scenario closure --scheduler tcp://10.0.0.5:8786
        """

        def body() -> None:
            configs = config or [Path("arjenturva.yaml")]
            first = configs[0]
            target = out_dir or (first if first.is_dir() else first.parent) / "batch"
            with _task_bar(quiet or as_json) as on_task:
                res = api.run_batch(
                    configs,
                    out_dir=target,
                    scenarios=scenario or (),
                    split=None if split is None else split.value,
                    scheduler=scheduler,
                    workers=workers,
                    maps=not no_maps,
                    force=force,
                    retries=retries,
                    progress=console.progress(quiet or as_json),
                    on_task=on_task,
                )
            if as_json:
                console.print_json(_json(res))
            elif not quiet:
                _print_result(res)
            if res.failed:
                console.print_error(
                    f"{len(res.failed)} of {len(res.outcomes)} run(s) failed; the others are written. "
                    "Fix the cause named above (also in batch.json) and rerun: complete runs are skipped"
                )
                raise typer.Exit(1)

        run(body, as_json=as_json)

    return batch
