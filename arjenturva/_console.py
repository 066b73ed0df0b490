"""Console output of the CLI: rich tables, JSON, progress and problem lists.

The CLI's own formatting helper: it only formats what :mod:`arjenturva.api` returns.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import ValidationError


def esc(value: Any) -> str:
    """Any value as text that rich prints literally (``[x]`` in a name is not markup)."""
    return escape(str(value))


out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, ensure_ascii=False, default=str))


def progress(quiet: bool) -> Callable[[str], None]:
    if quiet or not sys.stderr.isatty():
        return lambda _msg: None
    return lambda msg: err.print(f"[dim]… {esc(msg)}[/dim]")


def print_problems(e: ValidationError) -> None:
    table = Table(
        title=f"{len(e.problems)} problem(s) in the inputs",
        title_justify="left",
        show_lines=False,
        expand=False,
    )
    for col in ("file", "row / id", "column", "problem", "fix"):
        table.add_column(col, overflow="fold")
    for p in e.problems:
        table.add_row(*(esc(v) for v in (p.file, p.where, p.column, p.message, p.fix)))
    err.print(table)
    if e.warnings:
        err.print(f"[yellow]{len(e.warnings)} warning(s):[/yellow]")
        for w in e.warnings:
            err.print(f"  [yellow]-[/yellow] {esc(w)}")


def _names(items: list[str], most: int = 12) -> str:
    """A list of municipalities, cut after ``most`` with the count."""
    if len(items) <= most:
        return ", ".join(items)
    return f"{len(items)}: " + ", ".join(items[:most]) + ", …"


def summary_table(summary: dict[str, Any]) -> Table:
    t = Table(title=f"Workspace: {esc(summary['name'])}", title_justify="left", show_header=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    for layer, n in summary["layers"].items():
        t.add_row(f"{layer}", f"{n} features")
    t.add_row("municipality list", esc(_names(summary["municipalities"])))
    if summary.get("context_municipalities"):
        t.add_row("context (points and roads only)", esc(_names(summary["context_municipalities"])))
        left = summary["population_left_out"]
        t.add_row("population left out", f"{left['people']:,.0f}".replace(",", " ")
                  + f" in {left['features']} features of the context")
    t.add_row(
        "population total",
        f"{summary['population_total']:,}".replace(",", " ")
        + f" ({summary['population_suppressed_cells']} suppressed cells)",
    )
    t.add_row("services (config)", esc(", ".join(summary["services_configured"])))
    t.add_row("services with points", esc(", ".join(summary["services_with_points"])))
    t.add_row("point modes", ", ".join(f"{k} {v}" for k, v in summary["modes"].items()))
    t.add_row("actor sectors", ", ".join(f"{k} {v}" for k, v in summary["sectors"].items()) or "-")
    return t


def network_table(info: dict[str, Any]) -> Table:
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
        t.add_row(k, esc(v.replace(",", " ")))
    return t


WIDE_MUNICIPALITIES = 6
"""Up to this many municipalities, the gaps table has one column per municipality."""

LONG_TABLE_ROWS = 15
"""Longer console tables show their first rows and point to the CSV file."""


def gaps_table(summary: Any, language: str) -> Table:
    """The gaps per service and municipality: demand not covered (covered share of demand).

    A few municipalities: services as rows, municipalities as columns. Many (a region):
    municipalities as rows, worst first, the first :data:`LONG_TABLE_ROWS` of them.
    """
    per = summary[summary["service"] != "ALL"]
    munis = list(dict.fromkeys(zip(per["municipality"], per["municipality_name"], strict=True)))
    if len(munis) > WIDE_MUNICIPALITIES:
        return _region_table(summary)
    t = Table(
        title="Demand not covered by service and municipality (covered share of demand)",
        title_justify="left",
    )
    t.add_column("service", style="bold")
    for code, name in munis:
        t.add_column(f"{esc(code)} {esc(name)}", justify="right")
    for sid, df in per.groupby("service", sort=False):
        by = df.set_index("municipality")
        cells = []
        for code, _name in munis:
            if code in by.index:
                r = by.loc[code]
                share = r["covered_share"]
                share_txt = f" ({100 * share:.0f} %)" if share == share else ""
                cells.append(f"{r['uncovered_demand']:,.0f}{share_txt}".replace(",", " "))
            else:
                cells.append("-")
        t.add_row(esc(sid), *cells)
    return t


def _region_table(summary: Any) -> Table:
    """Municipalities as rows: residents lacking a service, services with gaps, the worst service."""
    per = summary[summary["service"] != "ALL"]
    across = summary[summary["service"] == "ALL"].set_index("municipality")
    worst = per.sort_values("uncovered_demand", ascending=False).drop_duplicates("municipality")
    worst = worst.set_index("municipality")
    order = across.sort_values("population_lacking_any_service", ascending=False).index.tolist()
    shown = order[:LONG_TABLE_ROWS]
    more = f"; {len(order) - len(shown)} more in summary.csv" if len(order) > len(shown) else ""
    t = Table(
        title=f"Municipalities by residents lacking a service (the {len(shown)} with most{more})",
        title_justify="left",
    )
    for col, just in (
        ("municipality", "left"),
        ("residents", "right"),
        ("lacking a service", "right"),
        ("services with gaps", "right"),
        ("worst service: demand not covered", "left"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for code in shown:
        a = across.loc[code]
        w = worst.loc[code] if code in worst.index else None
        worst_txt = "-" if w is None else f"{esc(w['service'])}: {_count(w['uncovered_demand'])}"
        t.add_row(
            f"{esc(code)} {esc(a['municipality_name'])}",
            _count(a["population"]),
            _count(a["population_lacking_any_service"]),
            _count(a["services_with_gaps"]),
            worst_txt,
        )
    return t


def _count(value: float) -> str:
    """A head count with a space as thousands separator; blank when unknown."""
    return "" if value != value else f"{value:,.0f}".replace(",", " ")


def print_proposals(res: Any) -> None:
    if res.proposals.empty:
        out.print(f"[bold]Proposals:[/bold] {esc(res.message or 'none')}")
        return
    sol = res.solution
    if res.proposals["municipality"].nunique() > WIDE_MUNICIPALITIES:
        _proposals_by_municipality(res.proposals)
    else:
        _proposals_in_full(res.proposals)
    if sol is not None:
        gap = "" if sol.mip_gap != sol.mip_gap else f", MIP gap {100 * sol.mip_gap:.2f} %"
        limit = " (time limit hit: the best solution found so far)" if sol.status == "time_limit" else ""
        out.print(
            f"Solver: {sol.solver}, status {sol.status}{limit}{gap}, {sol.seconds:.1f} s; "
            f"{res.n_units} demand units × {res.n_options} options."
        )
    price = getattr(res, "cross_sector", None)
    if price is not None:
        out.print(
            f"Cross-sector rule (at least {price.min_sectors} sectors per municipality): the agreements "
            f"newly cover {_count(price.covered_with_rule)}; without the rule they would cover "
            f"{_count(price.covered_without_rule)} ({_count(price.agreements_without_rule)} agreements)."
        )
    notes = list(res.warnings)
    for w in notes[:MOST_NOTES]:
        err.print(f"[yellow]Note:[/yellow] {esc(w)}")
    if len(notes) > MOST_NOTES:
        err.print(f"[yellow]Note:[/yellow] … and {len(notes) - MOST_NOTES} more notes on the proposals "
                  "(run.json: proposals.warnings).")


MOST_NOTES = 8
"""Notes on the proposals printed in full; the rest are counted (all are in run.json)."""


def _proposals_by_municipality(df: Any) -> None:
    title = "Proposed agreements by municipality (every agreement, with its rationale: proposals.csv)"
    t = Table(title=title, title_justify="left")
    for col, just in (("municipality", "left"), ("agreements", "right"), ("sectors", "right"),
                      ("demand covered", "right"), ("residents", "right"), ("65+", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for (code, name), grp in df.groupby(["municipality", "municipality_name"], sort=True):
        t.add_row(esc(f"{code} {name}"), str(len(grp)), str(grp["sector"].nunique()),
                  _count(grp["demand_covered"].sum()), _count(grp["people_reached"].sum()),
                  _count(grp["covered_65_plus"].sum()))
    out.print(t)


def _proposals_in_full(proposals: Any) -> None:
    for muni, df in proposals.groupby(["municipality", "municipality_name"], sort=True):
        t = Table(
            title=f"Proposed agreements: {esc(muni[0])} {esc(muni[1])}",
            title_justify="left",
            show_lines=False,
        )
        for col, just in (
            ("id", "left"),
            ("service", "left"),
            ("actor (sector)", "left"),
            ("mode", "left"),
            ("site", "left"),
            ("demand covered", "right"),
            ("residents", "right"),
            ("65+", "right"),
        ):
            t.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
        for r in df.itertuples(index=False):
            mode = r.mode + (f" {r.days_per_week:.0f} d/wk" if r.mode == "mobile" else "")
            t.add_row(
                esc(r.agreement_id),
                esc(r.service_label),
                esc(f"{r.actor_name} ({r.sector})"),
                esc(mode),
                esc(r.site_name),
                _count(r.demand_covered),
                _count(r.people_reached),
                _count(r.covered_65_plus),
            )
        out.print(t)
        for r in df.itertuples(index=False):
            out.print(f"  [bold]{esc(r.agreement_id)}[/bold] {esc(r.rationale)}", highlight=False)


def proposal_json(res: Any) -> dict[str, Any]:
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
        "cross_sector_rule": None if res.cross_sector is None else res.cross_sector.facts(),
    }


def print_error(message: str, *, label: str = "Error") -> None:
    """``Error: message`` on stderr, the message printed as plain text (never as markup)."""
    err.print(f"[bold red]{label}:[/bold red] ", end="")
    err.print(message, markup=False, highlight=False)


def print_files(files: list[Path], what: str, as_json: bool, *, quiet: bool = False) -> None:
    if as_json:
        print_json({"files": [str(f) for f in files]})
        return
    out.print(f"{len(files)} {what} written" + ("." if quiet else ":"))
    if not quiet:
        for f in files:
            out.print(f"  {esc(f)}")


def print_facts(facts: dict[str, Any]) -> None:
    """What the run did not show in its tables: people the roads miss, snapping and suppression."""
    un = facts.get("unreachable") or {}
    if un.get("cells"):
        reasons = "; ".join(f"{k}: {v}" for k, v in (un.get("reasons") or {}).items())
        err.print(
            f"[yellow]Note:[/yellow] {un['cells']} population cells ({un['people']:,.0f} people) are not "
            f"reached by the road network ({reasons}); they count as uncovered.".replace(",", " "),
            markup=True,
            highlight=False,
        )
        largest = un.get("largest") or []
        if largest:
            named = ", ".join(
                f"{c['cell_id']} ({c.get('municipality_name') or c['municipality']}: "
                f"{_count(c['people'])} people)"
                for c in largest
            )
            err.print(f"      Largest: {esc(named)}; all in summary.xlsx, sheet unreachable.",
                      highlight=False)
    snap = facts.get("snapping") or {}
    if snap.get("points_beyond_tolerance"):
        err.print(
            f"[yellow]Note:[/yellow] {snap['points_beyond_tolerance']} service point(s) lie beyond "
            "network.snap_tolerance_m from any road and serve no one: "
            f"{esc(', '.join(snap.get('points') or []))} (see summary.xlsx, sheet unreachable).",
        )
    sup = facts.get("suppressed") or {}
    if sup.get("cells_suppressed_in_source") or sup.get("cells_below_threshold"):
        out.print(
            f"Suppressed: {sup.get('cells_suppressed_in_source', 0)} cells suppressed in the source, "
            f"{sup.get('cells_below_threshold', 0)} below {sup.get('threshold')} people: "
            "not shown one by one, counted in every total."
        )


def frame_table(df: Any, title: str) -> Table:
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
        t.add_row(*(esc(c) for c in cells))
    return t


def print_locations(loc: Any, path: Path, *, as_json: bool) -> None:
    """The sites a classic location model chose, as a table or JSON."""
    sites = loc.sites.assign(x=loc.sites.geometry.x, y=loc.sites.geometry.y).drop(columns="geometry")
    if as_json:
        print_json(
            {
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
        )
        return
    t = Table(
        title=f"{loc.model.upper()} for {loc.service}: {len(sites)} sites ({loc.status})",
        title_justify="left",
    )
    for col in ("site", "kind", "demand served", "x", "y"):
        t.add_column(col)
    for r in sites.itertuples(index=False):
        t.add_row(esc(r.site_name), esc(r.site_kind), f"{r.demand_served:,.0f}", f"{r.x:.0f}", f"{r.y:.0f}")
    out.print(t)
    out.print(
        f"Objective {loc.objective:,.1f}; demand covered {loc.demand_covered:,.0f} of "
        f"{loc.demand_total:,.0f} (not reachable from any candidate: {loc.excluded_demand:,.0f}). "
        f"Written {path}"
    )


def print_run(result: Any, *, as_json: bool, quiet: bool) -> None:
    """What a whole run did (an :class:`arjenturva.api.RunResult`): JSON, one line, or tables."""
    if as_json:
        print_json(
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
        out.print(f"Results in {esc(result.results_dir)}")
        return
    out.print(summary_table(result.workspace.summary()))
    out.print(gaps_table(result.gaps.summary, result.workspace.config.language))
    n_areas = len(result.gaps.gap_areas)
    out.print(f"{n_areas} gap area{'s' if n_areas != 1 else ''}.")
    print_facts(result.extras)
    if result.proposals is not None:
        print_proposals(result.proposals)
    cache_warning = result.network.info.get("cache_warning")
    ws_warnings = [str(w) for w in result.workspace.warnings]
    for w in [*ws_warnings, *result.gaps.warnings, *([cache_warning] if cache_warning else [])]:
        err.print(f"[yellow]Warning:[/yellow] {esc(w)}")
    out.print(f"Results in [bold]{esc(result.results_dir)}[/bold]:")
    for f in dict.fromkeys(result.files):
        out.print(f"  {esc(f)}")


def print_stress(table: Any, top: int) -> None:
    """The first ``top`` actor rows of the stress ranking (all rows are in stress.csv)."""
    actors = table[table["level"] == "actor"]
    if actors.empty:
        out.print("No actor alone keeps anyone covered: closing any one actor's points uncovers nobody.")
        return
    t = Table(title=f"Who alone keeps people covered (top {min(top, len(actors))} of {len(actors)}; "
              "all rows and the sectors: stress.csv)", title_justify="left")
    for col, just in (("rank", "right"), ("actor (sector)", "left"), ("service", "left"),
                      ("municipality", "left"), ("demand losing coverage", "right"), ("65+", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in actors.head(top).itertuples(index=False):
        t.add_row(str(r.rank), esc(f"{r.actor_name} ({r.sector})"), esc(r.service_label),
                  esc(f"{r.municipality} {r.municipality_name}"), _count(r.demand_losing_coverage),
                  _count(r.people_65_plus_losing_coverage))
    out.print(t)


def print_comparison(res: Any, files: list[Path], *, as_json: bool) -> None:
    """A comparison of runs (side by side, with differences to the first) or municipalities."""
    if as_json:
        print_json(
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
        out.print(frame_table(wide.reset_index(), f"{res.indicator} by run (Δ = difference to {runs[0]})"))
    else:
        out.print(frame_table(res.table, f"Comparison by {res.by}: {res.indicator}"))
    for f in files:
        out.print(f"  {esc(f)}")
