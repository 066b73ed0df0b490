"""The ``arjenturva build-workspace`` command: its options, how they become one
:func:`arjenturva.api.build_workspace` call, and what it prints.

cli.py registers the command with :func:`build_workspace_command`, handing it the CLI's error
guard (``_run``). The option help of each input file repeats the facts of
``arjenturva.builder.specs`` (the builder is not imported here, so ``--help`` stays fast); a test
checks that every input has its option.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from . import _console as console
from . import api
from ._console import err, out

__all__ = ["INPUT_HELP", "build_workspace_command"]

INPUT_HELP: dict[str, str] = {
    "boundaries": "Municipality boundaries: polygons with kunta, nimi (Statistics Finland, CC BY 4.0). "
    "Required, here or in --sources.",
    "municipality_key": "Municipality key: kunta, municipality_name_fi, maakunta_code/_name_fi, "
    "hyvinvointialue_code/_name_fi (Statistics Finland, CC BY 4.0). Required, here or in --sources.",
    "postal_population": "Population per postal area: posti_alue, population_2022 (Paavo, CC BY 4.0). "
    "Required, here or in --sources.",
    "postal_centroids": "Postal-area points: 'Postal code area', 'X/Y coordinate in metres' in EPSG:3067 "
    "(Paavo, CC BY 4.0). Required, here or in --sources.",
    "roads": "Road lines with DXF_LAYER classes, layer road (NLS General Map 1:1M, CC BY 4.0). "
    "Required, here or in --sources.",
    "demographics": "Age bands per municipality: Area, 'Inhabitants, total', 65-69 ... '85 years or over' "
    "(Paavo, CC BY 4.0). Optional: without it no age_65_plus.",
    "rural_type": "Rural area type per municipality: kunta, alueluokka (Statistics Finland, CC BY 4.0). "
    "Optional: without it M6 outside settlements.",
    "urban_settlements": "Urban settlements: polygons with Vaesto21Lk (SYKE YKR taajamat, CC BY 4.0; "
    "a zipped Shapefile is fine). Optional: without it no K2/M4 classes.",
    "places": "Named settlements: TEXT1, DXF_LAYER, layer cityp (NLS General Map 1:1M, CC BY 4.0). "
    "Optional: without it no places layer.",
    "health_facilities": "Health facilities: name, LAT, LON (OpenStreetMap, ODbL); repeat for several "
    "files. Optional: without it no health_station service.",
    "municipal_centres": "Municipal centre points: teksti, kuntatunnus, X/Y lon/lat (NLS, CC BY 4.0). "
    "Optional: without it no municipal_centre service.",
}
"""The help of each input option (``--`` plus the key with ``-`` for ``_``)."""

FileOpt = Path | None
Runner = Callable[..., None]


def _opt(key: str) -> Any:
    return typer.Option("--" + key.replace("_", "-"), help=INPUT_HELP[key], metavar="FILE",
                        rich_help_panel="Input files")


def _area(*names: str, metavar: str, help: str) -> Any:
    return typer.Option(*names, metavar=metavar, help=help, rich_help_panel="Area")


def _files(*names: str, metavar: str, help: str) -> Any:
    return typer.Option(*names, metavar=metavar, help=help, rich_help_panel="Input files")


def _print_result(res: Any, out_dir: Path) -> None:
    c = res.counts
    out.print(f"Workspace written to [bold]{console.esc(out_dir)}[/bold]:")
    for f in res.files.values():
        out.print(f"  {console.esc(f)}")
    pop = f"{c['population']:,.0f}".replace(",", " ")
    km = f"{c['road_km']:,.0f}".replace(",", " ")
    points = ", ".join(f"{k} {v}" for k, v in c["service_points"].items())
    out.print(
        f"Study area: {c['study_municipalities']} municipalities, {pop} people in {c['population_points']} "
        f"postal areas; context: {c['context_municipalities']} municipalities (no population); "
        f"service points: {console.esc(points)}; roads: {km} km"
    )
    for note in res.notes:
        err.print(f"[yellow]Note:[/yellow] {console.esc(note)}")
    out.print(f"Next: arjenturva validate -c {console.esc(out_dir)}  (then arjenturva run -c ...)")


def build_workspace_command(run: Runner) -> Callable[..., None]:
    """The Typer command function; ``run`` is the CLI's error guard (``run(body, as_json=...)``)."""

    def build_workspace(
        out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the new workspace.")],
        municipalities: Annotated[list[str] | None, _area("--municipalities", "-m", metavar="CODES", help=(
            "Municipality codes or names, comma-separated (e.g. 615,320 or Posio). Repeatable."))] = None,
        region: Annotated[list[str] | None, _area("--region", metavar="NAME", help=(
            "A region (maakunta) by name or code, e.g. Lappi or 19. Repeatable."))] = None,
        wellbeing_county: Annotated[list[str] | None, _area("--wellbeing-county", metavar="NAME", help=(
            "A wellbeing services county by name or code, e.g. 'Lapin hyvinvointialue', Lapland or 21. "
            "Repeatable."))] = None,
        sources: Annotated[Path | None, _files("--sources", metavar="YAML", help=(
            "YAML naming a file per input (see examples/shared_data_sources.yaml); the options below "
            "replace its entries."))] = None,
        data_dir: Annotated[Path | None, _files("--data-dir", metavar="DIR", help=(
            "Folder the sources file's relative paths are read from (overrides its data_dir)."))] = None,
        boundaries: Annotated[FileOpt, _opt("boundaries")] = None,
        municipality_key: Annotated[FileOpt, _opt("municipality_key")] = None,
        postal_population: Annotated[FileOpt, _opt("postal_population")] = None,
        postal_centroids: Annotated[FileOpt, _opt("postal_centroids")] = None,
        roads: Annotated[FileOpt, _opt("roads")] = None,
        demographics: Annotated[FileOpt, _opt("demographics")] = None,
        rural_type: Annotated[FileOpt, _opt("rural_type")] = None,
        urban_settlements: Annotated[FileOpt, _opt("urban_settlements")] = None,
        places: Annotated[FileOpt, _opt("places")] = None,
        health_facilities: Annotated[list[Path] | None, _opt("health_facilities")] = None,
        municipal_centres: Annotated[FileOpt, _opt("municipal_centres")] = None,
        buffer_km: Annotated[float, typer.Option("--buffer-km", help=(
            "Roads, places and service points within this distance of the study area; municipalities "
            "within it are context."))] = 30.0,
        language: Annotated[str, typer.Option("--language", help="Language of the config: fi or en.")] = "fi",
        name: Annotated[str | None, typer.Option("--name", help="Workspace name (default: the area)")] = None,
        force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    ) -> None:
        """Build a ready workspace for any Finnish municipalities from offline public data files.

        The study area is the union of --municipalities, --region and --wellbeing-county (names
        and codes from the municipality key). The municipalities around it (within --buffer-km,
        and any holding a kept service point) are written as context: their service points and
        roads count, their population is left out. Writes municipalities.gpkg, population.csv,
        service_points.csv, roads.gpkg, places.gpkg, arjenturva.yaml (with study_area) and
        build.json (sources, attribution, counts, notes). Missing files or columns are all named
        at once, with the fix.

        Example:  arjenturva build-workspace --sources examples/shared_data_sources.yaml
        --region Lappi --region Pohjois-Pohjanmaa --out lappi-pp

        Example:  arjenturva build-workspace --sources examples/shared_data_sources.yaml
        -m 615,320,583,614,851 --out pilot
        """

        def body() -> None:
            files = {
                "boundaries": boundaries,
                "municipality_key": municipality_key,
                "postal_population": postal_population,
                "postal_centroids": postal_centroids,
                "roads": roads,
                "demographics": demographics,
                "rural_type": rural_type,
                "urban_settlements": urban_settlements,
                "places": places,
                "health_facilities": health_facilities,
                "municipal_centres": municipal_centres,
            }
            res = api.build_workspace(
                out_dir,
                sources=sources,
                files=files,
                municipalities=municipalities or (),
                regions=region or (),
                wellbeing_counties=wellbeing_county or (),
                data_dir=data_dir,
                buffer_m=buffer_km * 1000.0,
                language=language,
                name=name,
                force=force,
                progress=console.progress(quiet or as_json),
            )
            if as_json:
                console.print_json(res.summary())
            elif not quiet:
                _print_result(res, out_dir)

        run(body, as_json=as_json)

    return build_workspace
