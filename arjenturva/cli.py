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


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo workspace and results.")]
    = Path("demo-run"),
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Copy the bundled synthetic demo workspace to --out and run the pipeline on it.

    Example:  arjenturva demo --out demo-run
    """

    def body() -> None:
        cfg_path = api.copy_demo(out_dir, force=force)
        if not as_json:
            out.print(f"Demo workspace copied to [bold]{out_dir}[/bold] (synthetic data).")
        ws = api.load_workspace(cfg_path, progress=_progress(quiet))
        summary = ws.summary()
        if as_json:
            _print_json({"workspace": str(out_dir), **summary})
            return
        out.print(_summary_table(summary))
        out.print("[green]Inputs valid.[/green]")

    _run(body)


def main() -> None:
    """Entry point of the ``arjenturva`` console script."""
    app()


if __name__ == "__main__":
    main()
