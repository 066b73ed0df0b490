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

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Workspace config file (or its folder).")
]
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
    table = Table(title=f"{len(e.problems)} problem(s) in the inputs", title_justify="left",
                  show_lines=False, expand=False)
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
            _print_json({"valid": False, "problems": [vars(p) for p in e.problems],
                         "warnings": [vars(p) for p in e.warnings]})
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
    t.add_row("population total", f"{summary['population_total']:,}".replace(",", " ")
              + f" ({summary['population_suppressed_cells']} suppressed cells)")
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
def validate(config: ConfigOpt = Path("arjenturva.yaml"), as_json: JsonOpt = False,
             quiet: QuietOpt = False) -> None:
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


def _run_pipeline(config: Path, out_dir: Path | None, force: bool, as_json: bool, quiet: bool,
                  label: str) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    show = not quiet and not as_json and sys.stderr.isatty()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err, disable=not show, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def progress(msg: str) -> None:
            bar.update(task, description=f"{label}: {msg}")

        def step_done(step: str, seconds: float) -> None:
            if not as_json and not quiet:
                err.print(f"[green]✓[/green] {step} ({seconds:.1f} s)")

        result = api.run_pipeline(config, out_dir=out_dir, force=force, progress=progress,
                                  step_done=step_done)
    if as_json:
        _print_json({"results": str(result.results_dir), "files": [str(f) for f in result.files],
                     "timings_s": result.timings, "network": result.network.info,
                     "workspace": result.workspace.summary(),
                     "summary": json.loads(result.gaps.summary.to_json(orient="records")),
                     "gap_areas": len(result.gaps.gap_areas), "warnings": result.gaps.warnings,
                     **result.extras})
        return
    if quiet:
        out.print(f"Results in {result.results_dir}")
        return
    out.print(_summary_table(result.workspace.summary()))
    out.print(_gaps_table(result.gaps.summary, result.workspace.config.language))
    out.print(f"{len(result.gaps.gap_areas)} gap areas.")
    for w in result.gaps.warnings:
        err.print(f"[yellow]Warning:[/yellow] {w}")
    out.print(f"Results in [bold]{result.results_dir}[/bold]:")
    for f in result.files:
        out.print(f"  {f}")


@app.command()
def run(
    config: ConfigOpt = Path("arjenturva.yaml"),
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder (default: results/ "
                                                  "beside the config).")] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run the whole pipeline: validate, network, gaps, writing every output.

    Example:  arjenturva run -c my-workspace --out my-workspace/results-2026
    """
    _run(lambda: _run_pipeline(config, out_dir, force, as_json, quiet, "arjenturva run"))


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo workspace and results.")]
    = Path("demo-run"),
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
def network_build(config: ConfigOpt = Path("arjenturva.yaml"), as_json: JsonOpt = False,
                  quiet: QuietOpt = False,
                  rebuild: Annotated[bool, typer.Option("--rebuild", help="Ignore the cache and build anew.")]
                  = False) -> None:
    """Build the road network from the configured source and cache it in the workspace.

    Example:  arjenturva network build -c demo-run
    """
    _network_command(config, as_json, quiet, use_cache=not rebuild)


@network_app.command("info")
def network_info(config: ConfigOpt = Path("arjenturva.yaml"), as_json: JsonOpt = False,
                 quiet: QuietOpt = False) -> None:
    """Show nodes, edges, km of road and connected components (loads from the cache when valid).

    Example:  arjenturva network info -c demo-run --json
    """
    _network_command(config, as_json, quiet, use_cache=True)


def _gaps_table(summary: Any, language: str) -> Table:
    """Services as rows, municipalities as columns: uncovered population (covered share)."""
    per = summary[summary["service"] != "ALL"]
    t = Table(title="Uncovered population by service and municipality (covered share of demand)",
              title_justify="left")
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
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Results folder (default: results/ "
                                                  "beside the config).")] = None,
    service: Annotated[list[str] | None, typer.Option("--service", "-s", help="Only this service "
                                                      "(repeatable).")] = None,
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
        from .io import ensure_writable
        from .outputs import GAP_FILES

        ensure_writable([Path(target) / f for f in GAP_FILES], force=force)
        net = api.build_network(ws.config, progress=progress)
        result = api.find_gaps(ws, network=net, services=service or None, progress=progress)
        files = api.write_gaps(result, ws, net, target, force=force)
        if as_json:
            _print_json({"results": str(target), "files": [str(f) for f in files],
                         "summary": json.loads(result.summary.to_json(orient="records")),
                         "gap_areas": len(result.gap_areas), "warnings": result.warnings})
            return
        out.print(_gaps_table(result.summary, ws.config.language))
        out.print(f"{len(result.gap_areas)} gap areas. Results in [bold]{target}[/bold].")
        for w in result.warnings:
            err.print(f"[yellow]Warning:[/yellow] {w}")

    _run(body)


def main() -> None:
    """Entry point of the ``arjenturva`` console script."""
    app()


if __name__ == "__main__":
    main()
