"""Command-line interface: a thin layer that parses options, calls :mod:`arjenturva.api` and
prints rich tables. Every user-fixable error becomes ``Error: ...`` on stderr and exit code 1."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from . import __version__, api
from .errors import ArjenturvaError, ValidationError
from .io import ensure_writable, write_csv
from .outputs import GAP_FILES, PROPOSAL_FILES, write_proposal_results

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

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Workspace config file (or its folder).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON summary.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")]


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def _progress(quiet: bool) -> Callable[[str], None]:
    if quiet or not sys.stderr.isatty():
        return lambda _msg: None
    return lambda msg: err.print(f"[dim]… {msg}[/dim]")


def _print_problems(e: ValidationError) -> None:
    table = Table(
        title=f"{len(e.problems)} problem(s) in the inputs",
        title_justify="left",
        show_lines=False,
        expand=False,
    )
    for col in ("file", "row / id", "column", "problem", "fix"):
        table.add_column(col, overflow="fold")
    for p in e.problems:
        table.add_row(p.file, p.where, p.column, p.message, p.fix)
    err.print(table)
    if e.warnings:
        err.print(f"[yellow]{len(e.warnings)} warning(s):[/yellow]")
        for w in e.warnings:
            err.print(f"  [yellow]-[/yellow] {w}")


def _run(fn: Callable[[], None], *, as_json: bool = False) -> None:
    """Run a command body; user errors print ``Error: ...`` and exit 1."""
    try:
        fn()
    except ValidationError as e:
        if as_json:
            _print_json(
                {
                    "valid": False,
                    "problems": [vars(p) for p in e.problems],
                    "warnings": [vars(p) for p in e.warnings],
                }
            )
        _print_problems(e)
        err.print(f"[bold red]Error:[/bold red] {len(e.problems)} problem(s) in the inputs; nothing was run.")
        raise typer.Exit(1) from None
    except ArjenturvaError as e:
        err.print(f"[bold red]Error:[/bold red] {e}", markup=True, highlight=False)
        raise typer.Exit(1) from None


def _summary_table(summary: dict[str, Any]) -> Table:
    t = Table(title=f"Workspace: {summary['name']}", title_justify="left", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    for layer, n in summary["layers"].items():
        t.add_row(f"{layer}", f"{n} features")
    t.add_row("municipality list", ", ".join(summary["municipalities"]))
    t.add_row(
        "population total",
        f"{summary['population_total']:,}".replace(",", " ")
        + f" ({summary['population_suppressed_cells']} suppressed cells)",
    )
    t.add_row("services (config)", ", ".join(summary["services_configured"]))
    t.add_row("services with points", ", ".join(summary["services_with_points"]))
    t.add_row("point modes", ", ".join(f"{k} {v}" for k, v in summary["modes"].items()))
    t.add_row("actor sectors", ", ".join(f"{k} {v}" for k, v in summary["sectors"].items()) or "-")
    return t


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"arjenturva {__version__}")
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
        ws = api.load_workspace(config, progress=_progress(quiet))
        summary = ws.summary()
        if as_json:
            _print_json({"valid": True, **summary})
            return
        out.print(_summary_table(summary))
        for w in ws.warnings:
            err.print(f"[yellow]Warning:[/yellow] {w}")
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
        out.print(f"Created workspace in [bold]{directory}[/bold]:")
        for f in files:
            out.print(f"  {f}")
        out.print(f"Next: edit the files, then run  arjenturva validate -c {directory}")

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
    if as_json:
        _print_json(
            {
                "results": str(result.results_dir),
                "files": [str(f) for f in dict.fromkeys(result.files)],
                "timings_s": result.timings,
                "network": result.network.info,
                "workspace": result.workspace.summary(),
                "summary": json.loads(result.gaps.summary.to_json(orient="records")),
                "gap_areas": len(result.gaps.gap_areas),
                "warnings": result.gaps.warnings,
                **result.extras,
            }
        )
        return
    if quiet:
        out.print(f"Results in {result.results_dir}")
        return
    out.print(_summary_table(result.workspace.summary()))
    out.print(_gaps_table(result.gaps.summary, result.workspace.config.language))
    n_areas = len(result.gaps.gap_areas)
    out.print(f"{n_areas} gap area{'s' if n_areas != 1 else ''}.")
    if result.proposals is not None:
        _print_proposals(result.proposals)
    for w in result.gaps.warnings:
        err.print(f"[yellow]Warning:[/yellow] {w}")
    out.print(f"Results in [bold]{result.results_dir}[/bold]:")
    for f in dict.fromkeys(result.files):
        out.print(f"  {f}")


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
            out.print(f"Demo workspace (synthetic data) copied to [bold]{out_dir}[/bold].")
        _run_pipeline(cfg_path, out_dir / "results", force, as_json, quiet, "arjenturva demo")

    _run(body)


def _network_table(info: dict[str, Any]) -> Table:
    t = Table(title="Road network", title_justify="left", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    rows = [
        ("source", str(info.get("source", ""))),
        ("nodes", f"{info.get('nodes', 0):,}"),
        ("edges (directed)", f"{info.get('edges', 0):,}"),
        ("road length", f"{info.get('km', 0):,.1f} km"),
        ("components", f"{info.get('components', 0):,}"),
        ("share of nodes in the largest", f"{100 * info.get('largest_share', 0):.1f} %"),
        ("road outside the largest", f"{info.get('km_outside_largest', 0):,.1f} km"),
        ("cache", str(info.get("cache_path") or "-")),
        ("loaded from cache", "yes" if info.get("from_cache") else "no"),
        ("seconds", f"{info.get('seconds', 0):.2f}"),
    ]
    for k, v in rows:
        t.add_row(k, v.replace(",", " "))
    return t


def _network_command(config: Path, as_json: bool, quiet: bool, use_cache: bool) -> None:
    def body() -> None:
        net = api.build_network(config, use_cache=use_cache, progress=_progress(quiet))
        if as_json:
            _print_json(net.info)
        else:
            out.print(_network_table(net.info))

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


def _gaps_table(summary: Any, language: str) -> Table:
    """Services as rows, municipalities as columns: uncovered population (covered share)."""
    per = summary[summary["service"] != "ALL"]
    t = Table(
        title="Uncovered population by service and municipality (covered share of demand)",
        title_justify="left",
    )
    t.add_column("service", style="bold")
    munis = list(dict.fromkeys(zip(per["municipality"], per["municipality_name"], strict=True)))
    for code, name in munis:
        t.add_column(f"{code} {name}", justify="right")
    for sid, df in per.groupby("service", sort=False):
        by = df.set_index("municipality")
        cells = []
        for code, _name in munis:
            if code in by.index:
                r = by.loc[code]
                share = r["covered_share"]
                share_txt = f" ({100 * share:.0f} %)" if share == share else ""
                cells.append(f"{r['uncovered_population']:,.0f}{share_txt}".replace(",", " "))
            else:
                cells.append("-")
        t.add_row(str(sid), *cells)
    return t


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
            "--workers", "-w", min=0,
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
        progress = _progress(quiet)
        ws = api.load_workspace(config, progress=progress)
        target = out_dir or api.default_results_dir(ws.config)
        ensure_writable([Path(target) / f for f in GAP_FILES], force=force)
        net = api.build_network(ws.config, progress=progress)
        result = api.find_gaps(ws, network=net, services=service or None, progress=progress,
                               workers=workers)
        files = api.write_gaps(result, ws, net, target, force=force)
        if as_json:
            _print_json(
                {
                    "results": str(target),
                    "files": [str(f) for f in files],
                    "summary": json.loads(result.summary.to_json(orient="records")),
                    "gap_areas": len(result.gap_areas),
                    "warnings": result.warnings,
                }
            )
            return
        out.print(_gaps_table(result.summary, ws.config.language))
        out.print(f"{len(result.gap_areas)} gap areas. Results in [bold]{target}[/bold].")
        for w in result.warnings:
            err.print(f"[yellow]Warning:[/yellow] {w}")

    _run(body)


def _print_proposals(res: Any) -> None:
    if res.proposals.empty:
        out.print(f"[bold]Proposals:[/bold] {res.message or 'none'}")
        return
    sol = res.solution
    for muni, df in res.proposals.groupby(["municipality", "municipality_name"], sort=True):
        t = Table(title=f"Proposed agreements: {muni[0]} {muni[1]}", title_justify="left", show_lines=False)
        for col, just in (
            ("id", "left"),
            ("service", "left"),
            ("actor (sector)", "left"),
            ("mode", "left"),
            ("site", "left"),
            ("people", "right"),
            ("65+", "right"),
        ):
            t.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
        for r in df.itertuples(index=False):
            mode = r.mode + (f" {r.days_per_week:.0f} d/wk" if r.mode == "mobile" else "")
            t.add_row(
                r.agreement_id,
                r.service_label,
                f"{r.actor_name} ({r.sector})",
                mode,
                r.site_name,
                f"{r.people_reached:,.0f}".replace(",", " "),
                f"{r.covered_65_plus:,.0f}".replace(",", " "),
            )
        out.print(t)
        for r in df.itertuples(index=False):
            out.print(f"  [bold]{r.agreement_id}[/bold] {r.rationale}", highlight=False)
    if sol is not None:
        gap = "" if sol.mip_gap != sol.mip_gap else f", gap {100 * sol.mip_gap:.2f} %"
        out.print(
            f"Solver: {sol.solver}, status {sol.status}{gap}, {sol.seconds:.1f} s; "
            f"{res.n_units} demand units × {res.n_options} options."
        )
    for w in res.warnings:
        err.print(f"[yellow]Note:[/yellow] {w}")


def _proposal_json(res: Any) -> dict[str, Any]:
    sol = res.solution
    return {
        "status": res.status,
        "message": res.message,
        "solver": None
        if sol is None
        else {
            "name": sol.solver,
            "status": sol.status,
            "objective": sol.objective,
            "bound": sol.bound,
            "mip_gap": sol.mip_gap,
            "seconds": sol.seconds,
        },
        "agreements": json.loads(res.proposals.drop(columns="geometry").to_json(orient="records")),
        "coverage": json.loads(res.summary.to_json(orient="records")),
        "warnings": res.warnings,
    }


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
    cross-sector rules. Writes proposals.csv, proposals_summary.csv and the proposals and new_sites
    layers of results.gpkg (the gap outputs too when the folder has none). Classic location models
    (--model lscp|mclp|pmedian) write location_<model>_<service>.csv.

    Example:  arjenturva propose -c demo-run --max-new-sites 3
    Example:  arjenturva propose -c demo-run --model mclp --p 5 --service health_station
    """

    def body() -> None:
        progress = _progress(quiet)
        ws = api.load_workspace(config, progress=progress)
        target = Path(out_dir or api.default_results_dir(ws.config))
        net = api.build_network(ws.config, progress=progress)
        if model.lower() != "partnership":
            if not service or len(service) != 1:
                err.print("[bold red]Error:[/bold red] classic models need exactly one --service")
                raise typer.Exit(1)
            loc = api.locate_facilities(
                ws, model=model, service=service[0], p=p, network=net, progress=progress
            )
            path = target / f"location_{loc.model}_{loc.service}.csv"
            ensure_writable([path], force=force)
            sites = loc.sites.assign(x=loc.sites.geometry.x, y=loc.sites.geometry.y).drop(columns="geometry")
            write_csv(sites, path)
            info = {
                "model": loc.model,
                "service": loc.service,
                "status": loc.status,
                "objective": loc.objective,
                "mip_gap": loc.mip_gap,
                "seconds": loc.seconds,
                "demand_total": loc.demand_total,
                "demand_covered": loc.demand_covered,
                "excluded_demand": loc.excluded_demand,
                "sites": json.loads(sites.to_json(orient="records")),
                "file": str(path),
            }
            if as_json:
                _print_json(info)
                return
            t = Table(
                title=f"{loc.model.upper()} for {loc.service}: {len(sites)} sites ({loc.status})",
                title_justify="left",
            )
            for col in ("site", "kind", "demand served", "x", "y"):
                t.add_column(col)
            for r in sites.itertuples(index=False):
                t.add_row(
                    str(r.site_name), str(r.site_kind), f"{r.demand_served:,.0f}", f"{r.x:.0f}", f"{r.y:.0f}"
                )
            out.print(t)
            out.print(
                f"Objective {loc.objective:,.1f}; demand covered {loc.demand_covered:,.0f} of "
                f"{loc.demand_total:,.0f} (not reachable from any candidate: {loc.excluded_demand:,.0f}). "
                f"Written {path}"
            )
            return
        ensure_writable([target / f for f in PROPOSAL_FILES], force=force)
        gaps_result = api.find_gaps(ws, network=net, progress=progress)
        if not (target / "results.gpkg").exists():
            api.write_gaps(gaps_result, ws, net, target, force=force)
        res = api.propose_partnerships(
            ws,
            network=net,
            gaps=gaps_result,
            services=service or None,
            max_new_sites=max_new_sites,
            max_mobile_routes=max_mobile_routes,
            progress=progress,
        )
        files = write_proposal_results(res, target, force=force)
        if as_json:
            _print_json({"results": str(target), "files": [str(f) for f in files], **_proposal_json(res)})
            return
        _print_proposals(res)
        out.print(f"Results in [bold]{target}[/bold].")

    _run(body)


ResultsArg = Annotated[
    Path | None, typer.Option("--results", "-r", help="Results folder (default: results/ beside the config).")
]
LangOpt = Annotated[str | None, typer.Option("--lang", help="fi or en (default: the config's language).")]


def _print_files(files: list[Path], what: str, as_json: bool) -> None:
    if as_json:
        _print_json({"files": [str(f) for f in files]})
        return
    out.print(f"{len(files)} {what} written:")
    for f in files:
        out.print(f"  {f}")


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
        net = api.build_network(cfg, progress=_progress(quiet)) if png else None
        files = api.write_maps_and_reports(
            target,
            cfg,
            network=net,
            lang=lang,
            force=force,
            maps=png,
            html_map=html,
            reports=False,
            progress=_progress(quiet),
        )
        _print_files(files, "map file(s)", as_json)

    _run(body)


@app.command()
def report(
    config: ConfigOpt = Path("arjenturva.yaml"),
    results: ResultsArg = None,
    lang: LangOpt = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write printable HTML reports: one per municipality and an overall one.

    Example:  arjenturva report -c demo-run --lang en --force
    """

    def body() -> None:
        cfg = api.as_config(config)
        target = Path(results or api.default_results_dir(cfg))
        files = api.write_maps_and_reports(
            target, cfg, lang=lang, force=force, maps=False, html_map=False, reports=True
        )
        _print_files(files, "report(s)", as_json)

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

    def body() -> None:
        from .compare import compare_results, write_comparison

        if by not in (None, "run", "municipality"):
            err.print("[bold red]Error:[/bold red] --by must be run or municipality")
            raise typer.Exit(1)
        res = compare_results(results, by=by, indicator=indicator, services=service)  # type: ignore[arg-type]
        files = write_comparison(res, out_dir, force=force) if out_dir else []
        if as_json:
            _print_json(
                {
                    "by": res.by,
                    "indicator": res.indicator,
                    "table": json.loads(res.table.reset_index().to_json(orient="records")),
                    "differences": None
                    if res.differences is None
                    else json.loads(res.differences.reset_index().to_json(orient="records")),
                    "files": [str(f) for f in files],
                }
            )
            return
        if res.by == "run":
            runs = list(dict.fromkeys(res.table["run"]))
            wide = res.table.pivot_table(index="service", columns="run", values=res.indicator, sort=False)
            wide = wide.reindex(columns=runs)
            for r in runs[1:]:
                wide[f"Δ {r}"] = wide[r] - wide[runs[0]]
            out.print(
                _frame_table(wide.reset_index(), f"{res.indicator} by run (Δ = difference to {runs[0]})")
            )
        else:
            out.print(_frame_table(res.table, f"Comparison by {res.by}: {res.indicator}"))
        for f in files:
            out.print(f"  {f}")

    _run(body)


def _frame_table(df: Any, title: str) -> Table:
    frame = df.reset_index() if getattr(df.index, "name", None) or df.index.nlevels > 1 else df
    t = Table(title=title, title_justify="left")
    for c in frame.columns:
        t.add_column(str(c), justify="right" if str(frame[c].dtype).startswith(("float", "int")) else "left")
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append(
                    ""
                    if v != v
                    else "0"
                    if v == 0
                    else (f"{v:.3f}" if abs(v) < 1 else f"{v:,.0f}".replace(",", " "))
                )
            else:
                cells.append(str(v))
        t.add_row(*cells)
    return t


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
        from .fetch import fetch_workspace

        res = fetch_workspace(
            codes,
            out_dir,
            year=year,
            roads=None if no_roads else "osmnx",
            force=force,
            mapping=mapping,
            progress=_progress(quiet),
        )
        if as_json:
            _print_json(res.summary())
            return
        out.print(f"Workspace written to [bold]{out_dir}[/bold]:")
        for f in res.files:
            out.print(f"  {f}")
        for w in res.warnings:
            err.print(f"[yellow]Warning:[/yellow] {w}")
        out.print(f"Next: arjenturva validate -c {out_dir}")

    _run(body)


def main() -> None:
    """Entry point of the ``arjenturva`` console script."""
    app()


if __name__ == "__main__":
    main()
