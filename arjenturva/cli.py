"""Command-line interface: a thin layer that parses options, calls :mod:`arjenturva.api` and
prints rich tables. Every user-fixable error becomes ``Error: ...`` on stderr and exit code 1."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from . import _cli_batch, _cli_routes, api
from . import _console as console
from ._cli_build import build_workspace_command
from ._cli_stress import stress_command
from ._console import err, out
from .errors import ArjenturvaError, ValidationError

app = typer.Typer(
    name="arjenturva",
    help=(
        "Map rural everyday-service networks: road-distance coverage gaps per service and "
        "cross-sector partnership proposals (the Finnish Arjen turva model).\n\n"
        "Start with:  arjenturva demo --out demo-run"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
network_app = typer.Typer(help="Build, cache and inspect the road network.", no_args_is_help=True)
app.add_typer(network_app, name="network")

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Workspace config file (or its folder).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON summary.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")]


EXIT_CRASH = 3
"""Exit code of an unexpected failure (a bug): the message names a crash log."""

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells expect."""


def _run(fn: Callable[[], None], *, as_json: bool = False) -> None:
    """Run a command body; user errors print ``Error: ...`` and exit 1, Ctrl-C exits 130 and an
    unexpected failure writes a crash log and exits 3. The console never shows a traceback."""
    try:
        fn()
    except ValidationError as e:
        if as_json:
            console.print_json(
                {
                    "valid": False,
                    "problems": [vars(p) for p in e.problems],
                    "warnings": [vars(p) for p in e.warnings],
                }
            )
        console.print_problems(e)
        err.print(f"[bold red]Error:[/bold red] {len(e.problems)} problem(s) in the inputs; nothing was run.")
        raise typer.Exit(1) from None
    except ArjenturvaError as e:
        console.print_error(str(e))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print_error(
            "interrupted. Results folders were left as they were before this command; its unfinished "
            "output was removed",
            label="Stopped",
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # noqa: BLE001 - the last guard: a bug becomes a crash log, not a traceback
        log = api.write_crash_log(e, sys.argv)
        first = str(e).splitlines()[0] if str(e) else ""
        console.print_error(
            f"arjenturva failed unexpectedly ({type(e).__name__}: {first}). "
            f"This is a bug; the details are in {log}. Please report it with that file",
            label="Crash",
        )
        raise typer.Exit(EXIT_CRASH) from None


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"arjenturva {api.version()}")
        raise typer.Exit()


@app.command()
def validate(
    config: ConfigOpt = Path("arjenturva.yaml"), as_json: JsonOpt = False, quiet: QuietOpt = False
) -> None:
    """Check every input against the data contract and report all problems at once.

    Prints what was loaded (features per layer, municipalities, sectors, services, population)
    and exits 0, or prints a table of problems (file, row or id, column, fix) and exits 1.

    Example:  arjenturva validate --config my-workspace/arjenturva.yaml
    """

    def body() -> None:
        ws = api.load_workspace(config, progress=console.progress(quiet))
        summary = ws.summary()
        if as_json:
            console.print_json({"valid": True, **summary})
            return
        out.print(console.summary_table(summary))
        for w in ws.warnings:
            err.print(f"[yellow]Warning:[/yellow] {console.esc(w)}")
        out.print("[green]All inputs are valid.[/green]")

    _run(body, as_json=as_json)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
    force: ForceOpt = False,
) -> None:
    """Create a workspace: a commented arjenturva.yaml and template input files.

    The templates hold a header and one example row each and validate as written; replace the
    example rows with your data.

    Example:  arjenturva init pudasjarvi && arjenturva validate -c pudasjarvi
    """

    def body() -> None:
        files = api.init_workspace(directory, force=force)
        out.print(f"Created workspace in [bold]{console.esc(directory)}[/bold]:")
        for f in files:
            out.print(f"  {console.esc(f)}")
        out.print(f"Next: edit the files, then run  arjenturva validate -c {console.esc(directory)}")

    _run(body)


def _run_pipeline(
    config: Path,
    out_dir: Path | None,
    force: bool,
    as_json: bool,
    quiet: bool,
    label: str,
    scenario: str | None = None,
) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    show = not quiet and not as_json and sys.stderr.isatty()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def progress(msg: str) -> None:
            bar.update(task, description=f"{label}: {msg}")

        def step_done(step: str, seconds: float) -> None:
            if not as_json and not quiet:
                err.print(f"[green]✓[/green] {step} ({seconds:.1f} s)")

        result = api.run_pipeline(
            config, out_dir=out_dir, force=force, progress=progress, step_done=step_done, scenario=scenario
        )
    console.print_run(result, as_json=as_json, quiet=quiet)


@app.command()
def run(
    config: ConfigOpt = Path("arjenturva.yaml"),
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Results folder (default: results/ beside the config).")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            help="Apply a scenario defined under `scenarios:` (default results folder: results-NAME/).",
        ),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run the whole pipeline: validate, network, gaps, proposals, maps and reports.

    Example:  arjenturva run -c my-workspace --out my-workspace/results-2026
    Example:  arjenturva run -c demo-run --scenario kirjastoauto_lakkautetaan
    """
    _run(lambda: _run_pipeline(config, out_dir, force, as_json, quiet, "arjenturva run", scenario))


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the demo workspace and results.")
    ] = Path("demo-run"),
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Copy the bundled synthetic demo workspace to --out and run the whole pipeline on it.

    The results go to OUT/results. The demo data is synthetic: two fictional municipalities.

    Example:  arjenturva demo --out demo-run
    """

    def body() -> None:
        cfg_path = api.copy_demo(out_dir, force=force)
        if not as_json and not quiet:
            out.print(f"Demo workspace (synthetic data) copied to [bold]{console.esc(out_dir)}[/bold].")
        _run_pipeline(cfg_path, out_dir / "results", force, as_json, quiet, "arjenturva demo")

    _run(body)


def _network_command(config: Path, as_json: bool, quiet: bool, use_cache: bool) -> None:
    def body() -> None:
        net = api.build_network(config, use_cache=use_cache, progress=console.progress(quiet))
        if as_json:
            console.print_json(net.info)
        else:
            out.print(console.network_table(net.info))

    _run(body)


@network_app.command("build")
def network_build(
    config: ConfigOpt = Path("arjenturva.yaml"),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Ignore the cache and build anew.")] = False,
) -> None:
    """Build the road network from the configured source and cache it in the workspace.

    Example:  arjenturva network build -c demo-run
    """
    _network_command(config, as_json, quiet, use_cache=not rebuild)


@network_app.command("info")
def network_info(
    config: ConfigOpt = Path("arjenturva.yaml"), as_json: JsonOpt = False, quiet: QuietOpt = False
) -> None:
    """Show nodes, edges, km of road and connected components (loads from the cache when valid).

    Example:  arjenturva network info -c demo-run --json
    """
    _network_command(config, as_json, quiet, use_cache=True)


@app.command()
def gaps(
    config: ConfigOpt = Path("arjenturva.yaml"),
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Results folder (default: results/ beside the config).")
    ] = None,
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only this service (repeatable).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            min=0,
            help="Processes for the sweeps: 1, 0 = every core (default: every core for large analyses).",
        ),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Find who lives beyond each service's distance or time threshold, grouped into gap areas.

    Writes results.gpkg (population, gaps, gap_areas, service_points, municipalities), access.csv,
    summary.csv, summary.xlsx, gap_areas.csv and run.json.

    Example:  arjenturva gaps -c demo-run --service health_station
    """

    def body() -> None:
        progress = console.progress(quiet)
        ws = api.load_workspace(config, progress=progress)
        target = out_dir or api.default_results_dir(ws.config)
        api.check_writable(target, "gaps", force=force)
        net = api.build_network(ws.config, progress=progress)
        result = api.find_gaps(ws, network=net, services=service or None, progress=progress, workers=workers)
        files = api.write_gaps(result, ws, net, target, force=force)
        if as_json:
            console.print_json(
                {
                    "results": str(target),
                    "files": [str(f) for f in files],
                    "summary": json.loads(result.summary.to_json(orient="records")),
                    "gap_areas": len(result.gap_areas),
                    "warnings": result.warnings,
                }
            )
            return
        out.print(console.gaps_table(result.summary, ws.config.language))
        console.print_facts(api.gap_facts(result, ws.config))
        out.print(f"{len(result.gap_areas)} gap areas. Results in [bold]{console.esc(target)}[/bold].")
        for w in result.warnings:
            err.print(f"[yellow]Warning:[/yellow] {console.esc(w)}")

    _run(body)


@app.command()
def propose(
    config: ConfigOpt = Path("arjenturva.yaml"),
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Results folder (default: results/ beside the config).")
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service", "-s", help="Only this service (repeatable; one service for classic models)."
        ),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", "-m", help="partnership (cross-sector MIP), lscp, mclp or pmedian.")
    ] = "partnership",
    p: Annotated[int | None, typer.Option("--p", help="Number of sites for mclp and pmedian.")] = None,
    max_new_sites: Annotated[
        int | None, typer.Option("--max-new-sites", help="Budget of new fixed sites (overrides the config).")
    ] = None,
    max_mobile_routes: Annotated[
        int | None,
        typer.Option("--max-mobile-routes", help="Budget of mobile routes (overrides the config)."),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Propose cross-sector partnership agreements that close the coverage gaps.

    The partnership model (a mixed-integer programme solved with HiGHS) chooses which actor covers
    which gap, how (fixed point, mobile visits, remote) and where, within capacities, budgets and
    cross-sector rules. When the workspace has vehicles, their weekly routes are planned first and
    the agreements close what the routes leave (routes.csv, routes_summary.csv). Writes
    proposals.csv, proposals_summary.csv and the proposals and new_sites layers of results.gpkg
    (the gap outputs too when the folder has none). Classic location models
    (--model lscp|mclp|pmedian) write location_<model>_<service>.csv.

    Example:  arjenturva propose -c demo-run --max-new-sites 3
    Example:  arjenturva propose -c demo-run --model mclp --p 5 --service health_station
    """

    if model.lower() not in ("partnership", "lscp", "mclp", "pmedian"):
        raise typer.BadParameter("use partnership, lscp, mclp or pmedian", param_hint="--model")
    if model.lower() != "partnership" and (not service or len(service) != 1):
        raise typer.BadParameter("classic models need exactly one --service", param_hint="--service")

    def body() -> None:
        progress = console.progress(quiet)
        ws = api.load_workspace(config, progress=progress)
        target = Path(out_dir or api.default_results_dir(ws.config))
        net = api.build_network(ws.config, progress=progress)
        if model.lower() != "partnership":
            loc = api.locate_facilities(
                ws, model=model, service=(service or [""])[0], p=p, network=net, progress=progress
            )
            path = api.write_locations(loc, target, force=force)
            console.print_locations(loc, path, as_json=as_json)
            return
        api.check_writable(target, "proposals", force=force)
        if ws.vehicles is not None:
            api.check_writable(target, "routes", force=force)
        gaps_result = api.find_gaps(ws, network=net, progress=progress)
        if not api.has_gap_results(target):
            api.write_gaps(gaps_result, ws, net, target, force=force)
        plan, res = api.propose_after_routes(
            ws, network=net, gaps=gaps_result, progress=progress, services=service or None,
            max_new_sites=max_new_sites, max_mobile_routes=max_mobile_routes,
        )
        files = api.write_proposals(res, target, force=force)
        if plan is not None:  # the vehicles' weekly routes came first
            files += api.write_routes(plan, target, force=True)
        if as_json:
            console.print_json(
                {"results": str(target), "files": [str(f) for f in files], **console.proposal_json(res)}
            )
            return
        console.print_proposals(res)
        out.print(f"Results in [bold]{console.esc(target)}[/bold].")

    _run(body)


ResultsArg = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        "--results",
        "-r",
        help="Results folder to draw from and write into (default: results/ beside the config).",
    ),
]
LangOpt = Annotated[str | None, typer.Option("--lang", help="fi or en (default: the config's language).")]


@app.command("map")
def map_command(
    config: ConfigOpt = Path("arjenturva.yaml"),
    results: ResultsArg = None,
    lang: LangOpt = None,
    png: Annotated[bool, typer.Option("--png/--no-png", help="Static PNG maps.")] = True,
    html: Annotated[bool, typer.Option("--html/--no-html", help="Interactive map.html.")] = True,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draw maps from a results folder: PNG per service and per municipality, and map.html.

    Example:  arjenturva map -c demo-run --lang en --force
    """

    def body() -> None:
        cfg = api.as_config(config)
        target = Path(results or api.default_results_dir(cfg))
        net = api.build_network(cfg, progress=console.progress(quiet)) if png or html else None
        files = api.write_maps_and_reports(
            target,
            cfg,
            network=net,
            lang=lang,
            force=force,
            maps=png,
            html_map=html,
            reports=False,
            progress=console.progress(quiet),
        )
        console.print_files(files, "map file(s)", as_json, quiet=quiet)

    _run(body)


@app.command()
def report(
    config: ConfigOpt = Path("arjenturva.yaml"),
    results: ResultsArg = None,
    lang: LangOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write printable HTML reports (one per municipality and an overall one) and municipality briefs.

    Example:  arjenturva report -c demo-run --lang en --force
    """

    def body() -> None:
        cfg = api.as_config(config)
        target = Path(results or api.default_results_dir(cfg))
        files = api.write_maps_and_reports(
            target, cfg, lang=lang, force=force, maps=False, html_map=False, reports=True
        )
        console.print_files(files, "report(s)", as_json, quiet=quiet)

    _run(body)


@app.command()
def compare(
    results: Annotated[list[Path], typer.Argument(help="Results folders (or workspaces holding results/).")],
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="run (scenarios side by side) or municipality (default: run for several folders)."
        ),
    ] = None,
    indicator: Annotated[
        str, typer.Option("--indicator", help="Indicator of the side-by-side table.")
    ] = "uncovered_population",
    service: Annotated[list[str] | None, typer.Option("--service", "-s", help="Only this service.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write comparison.csv/.xlsx/.json/.png here.")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Compare municipalities or runs (scenarios) side by side, with differences to the first run.

    Example:  arjenturva compare demo-run/results demo-run/results-closure --out comparison
    """

    if by not in (None, "run", "municipality"):
        raise typer.BadParameter("use run or municipality", param_hint="--by")

    def body() -> None:
        res = api.compare_results(results, by=by, indicator=indicator, services=service)  # type: ignore[arg-type]
        files = api.write_comparison(res, out_dir, force=force) if out_dir else []
        console.print_comparison(res, files, as_json=as_json)

    _run(body)


@app.command()
def fetch(
    codes: Annotated[
        str, typer.Option("--codes", help="Municipality codes, comma-separated (e.g. 614,583).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the new workspace.")],
    year: Annotated[int, typer.Option("--year", help="Population grid year.")] = 2023,
    no_roads: Annotated[bool, typer.Option("--no-roads", help="Skip the OpenStreetMap roads.")] = False,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="YAML mapping of OSM tags to service ids.")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Download public data into a ready workspace (needs internet; responses are cached).

    Boundaries, wellbeing services counties, regions and the 1 km population grid come from
    Statistics Finland's WFS (CC BY 4.0); roads and service points from OpenStreetMap (ODbL).

    Example:  arjenturva fetch --codes 614,583 --out posio-pelkosenniemi
    """

    def body() -> None:
        res = api.fetch_workspace(
            codes,
            out_dir,
            year=year,
            roads=not no_roads,
            force=force,
            mapping=mapping,
            progress=console.progress(quiet),
        )
        if as_json:
            console.print_json(res.summary())
            return
        out.print(f"Workspace written to [bold]{console.esc(out_dir)}[/bold]:")
        for f in res.files:
            out.print(f"  {console.esc(f)}")
        for w in res.warnings:
            err.print(f"[yellow]Warning:[/yellow] {console.esc(w)}")
        out.print(f"Next: arjenturva validate -c {console.esc(out_dir)}")

    _run(body)


app.command("build-workspace")(build_workspace_command(_run))  # options in _cli_build.py
app.command("stress")(stress_command(_run))  # options in _cli_stress.py
app.command("batch")(_cli_batch.batch_command(_run))  # options in _cli_batch.py
app.command("routes")(_cli_routes.routes_command(_run))  # options in _cli_routes.py


def main() -> None:
    """Entry point of the ``arjenturva`` console script."""
    app()


if __name__ == "__main__":
    main()
