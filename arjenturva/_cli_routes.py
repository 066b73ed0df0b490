"""The ``arjenturva routes`` command: weekly routes of the mobile actors' vehicles.

cli.py registers it; the body calls :mod:`arjenturva.api` only, and prints a table per vehicle and
weekday, the timetable in the config's language and the coverage before and after the routes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from . import _console as console
from . import api

Runner = Callable[..., None]
CONFIG_HELP = "Workspace config file (or its folder)."
OUT_HELP = "Results folder (default: results/ beside the config)."


def routes_command(run: Runner) -> Callable[..., None]:
    """The Typer command function; ``run`` is the CLI's error guard (``run(body, as_json=...)``)."""

    def routes(
        config: Annotated[Path, typer.Option("--config", "-c", help=CONFIG_HELP)] = Path("arjenturva.yaml"),
        out_dir: Annotated[Path | None, typer.Option("--out", "-o", help=OUT_HELP)] = None,
        time_limit: Annotated[
            float | None,
            typer.Option(
                "--time-limit",
                min=0.001,
                help="Solver seconds for the whole week (default: routes.time_limit_s).",
            ),
        ] = None,
        seed: Annotated[
            int | None, typer.Option("--seed", min=0, help="Seed of the solver (default: routes.seed).")
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite existing routes.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    ) -> None:
        """Weekly routes for the mobile actors' vehicles (inputs.vehicles), planned against the gaps.

        Each weekday, each vehicle leaves its base, stops at villages, service points or gap-area
        sites and is back within its working day; the stops, their days and the routes maximise the
        newly covered demand (the proposals' weights) minus the cost of the km driven (PyVRP, one
        solve per weekday and group of vehicles). Coverage after the routes comes from the gap
        analysis with the stops as mobile service points. Writes routes.csv, routes_summary.csv and
        the routes and route_stops layers of results.gpkg (the gap outputs too when the folder has
        none). The same seed gives the same routes unless the time limit stops the search.

        Example:  arjenturva routes -c demo-run --force
        """

        def body() -> None:
            progress = console.progress(quiet or as_json)
            ws = api.load_workspace(config, progress=progress)
            target = Path(out_dir or api.default_results_dir(ws.config))
            api.check_writable(target, "routes", force=force)
            net = api.build_network(ws.config, progress=progress)
            gaps = api.find_gaps(ws, network=net, progress=progress)
            if not api.has_gap_results(target):
                api.write_gaps(gaps, ws, net, target, force=force)
            plan = api.plan_routes(
                ws, network=net, gaps=gaps, time_limit_s=time_limit, seed=seed, progress=progress
            )
            files = api.write_routes(plan, target, force=force)
            _report(plan, files, target, as_json=as_json, quiet=quiet)

        run(body, as_json=as_json)

    return routes


def _report(plan: Any, files: list[Path], target: Path, *, as_json: bool, quiet: bool) -> None:
    lines = plan.lines
    if as_json:
        console.print_json(
            {
                "results": str(target),
                "files": [str(f) for f in files],
                "routes": lines.drop(columns="geometry").to_dict(orient="records"),
                "summary": plan.summary.to_dict(orient="records"),
                **plan.facts(),
            }
        )
        return
    if quiet:
        return
    if lines.empty:
        console.out.print(
            "No routes: no stop that would newly cover people fits a vehicle's working day and distance "
            "limit."
        )
    table = Table(title="Weekly routes", title_justify="left")
    for col in ("vehicle", "weekday", "stops", "km", "hours", "people served"):
        table.add_column(col, justify="left" if col in ("vehicle", "weekday") else "right")
    for r in lines.itertuples(index=False):
        table.add_row(
            console.esc(r.vehicle_id),
            r.weekday,
            str(r.stops),
            f"{r.km:.1f}",
            f"{r.duration_min / 60:.1f}",
            f"{r.people_served:,.0f}".replace(",", " "),
        )
    if not lines.empty:
        console.out.print(table)
    by_vehicle: dict[str, list[str]] = {}
    for t in plan.timetable:
        by_vehicle.setdefault(t.vehicle_id, []).append(t.text)
    for vehicle, texts in by_vehicle.items():
        console.out.print(f"[bold]{console.esc(vehicle)}[/bold]")
        for text in texts:
            console.out.print(f"  {console.esc(text)}")
    s = plan.summary
    cov = Table(title="Coverage before → after the routes", title_justify="left")
    for col in ("municipality", "service", "uncovered before", "after", "stops", "visits/week"):
        cov.add_column(col, justify="left" if col in ("municipality", "service") else "right")
    for r in s[s["stops"] > 0].itertuples(index=False):
        cov.add_row(
            r.municipality,
            r.service,
            f"{r.uncovered_demand_before:,.0f}".replace(",", " "),
            f"{r.uncovered_demand_after:,.0f}".replace(",", " "),
            str(r.stops),
            str(r.visits_per_week),
        )
    console.out.print(cov)
    if any(x.time_limit_hit for x in plan.solves):
        console.err.print(
            "[yellow]Warning:[/yellow] the time limit stopped the search; another run may differ"
        )
    for w in plan.warnings:
        console.err.print(f"[yellow]Warning:[/yellow] {console.esc(w)}")
    console.out.print(f"Results in [bold]{console.esc(target)}[/bold].")
