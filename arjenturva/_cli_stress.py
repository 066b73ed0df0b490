"""The ``arjenturva stress`` command: resilience when an actor or a sector leaves (``stress.csv``).

cli.py registers it; the body calls :mod:`arjenturva.api` only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from . import _console as console
from . import api

Runner = Callable[..., None]
CONFIG_HELP = "Workspace config file (or its folder)."
OUT_HELP = "Results folder (default: results/ beside the config)."


def stress_command(run: Runner) -> Callable[..., None]:
    """The Typer command function; ``run`` is the CLI's error guard (``run(body, as_json=...)``)."""

    def stress(
        config: Annotated[Path, typer.Option("--config", "-c", help=CONFIG_HELP)] = Path("arjenturva.yaml"),
        out_dir: Annotated[Path | None, typer.Option("--out", "-o", help=OUT_HELP)] = None,
        service: Annotated[
            list[str] | None, typer.Option("--service", "-s", help="Only this service (repeatable).")
        ] = None,
        top: Annotated[int, typer.Option("--top", help="Rows of the ranking shown on the console.")] = 15,
        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing stress.csv.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    ) -> None:
        """Resilience: who would lose a service if an actor, or a whole sector, stopped.

        For every actor that runs service points, and for every sector, its points are closed and
        the rise in each municipality's uncovered demand per service is measured with the gap
        rules (partial coverage counted). Writes stress.csv into the results folder (the gap
        outputs too when the folder has none), ranked by the people who would lose coverage.

        Example:  arjenturva stress -c demo-run
        """

        def body() -> None:
            progress = console.progress(quiet or as_json)
            ws = api.load_workspace(config, progress=progress)
            target = Path(out_dir or api.default_results_dir(ws.config))
            net = api.build_network(ws.config, progress=progress)
            if not api.has_gap_results(target):
                gaps = api.find_gaps(ws, network=net, progress=progress)
                api.write_gaps(gaps, ws, net, target, force=force)
            res = api.stress_test(ws, network=net, services=service or None, progress=progress)
            path = api.write_stress(res, target, force=force)
            if (target / "report.html").is_file():  # the reports gain their section on actors leaving
                api.write_maps_and_reports(target, ws.config, maps=False, html_map=False, force=True,
                                           progress=progress)
            _report(res, path, top=top, as_json=as_json, quiet=quiet)

        run(body, as_json=as_json)

    return stress


def _report(res: Any, path: Path, *, top: int, as_json: bool, quiet: bool) -> None:
    if as_json:
        console.print_json(
            {
                "stress": str(path),
                "rows": len(res.table),
                "recomputations": res.scenarios,
                "seconds": round(res.seconds, 3),
                "top": res.table.head(top).to_dict(orient="records"),
            }
        )
        return
    if not quiet:
        console.print_stress(res.table, top)
    console.out.print(f"{res.scenarios} recomputations in {res.seconds:.1f} s. Results in {path}")
