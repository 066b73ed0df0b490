"""Loading a workspace: every input read, checked against the data contract and normalised.

All problems are collected and raised together as one :class:`~arjenturva.errors.ValidationError`,
each naming the file, the row or id, the column and the fix.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import Config
from ..errors import Problem, ValidationError
from .checks import _where
from .layers import _load_actors, _load_municipalities, _load_places, _load_population, _load_service_points
from .model import Workspace
from .study import split_study_area, study_area_problems
from .vehicles import load_vehicles


def load_workspace(config: Config, *, progress: Callable[[str], None] | None = None) -> Workspace:
    """Read and validate every input named in the config.

    Parameters
    ----------
    config
        The workspace configuration (see :func:`arjenturva.config.load_config`).
    progress
        Optional callback receiving a short message per step.

    Returns
    -------
    Workspace
        The validated layers. Warnings (repaired geometries and similar) are in ``warnings``.

    Raises
    ------
    ValidationError
        With every problem found, when any input breaks the data contract.
    """
    problems: list[Problem] = []
    say = progress or (lambda _msg: None)
    say("municipalities")
    munis = _load_municipalities(config, problems)
    say("population")
    pop = _load_population(config, munis, problems)
    say("service points")
    points = _load_service_points(config, munis, problems)
    say("actors")
    actors = _load_actors(config, munis, problems)
    places = _load_places(config, problems)
    vehicles = load_vehicles(config, actors, problems)
    if points is not None and actors is not None:
        known = set(actors["actor_id"])
        folded = {a.casefold(): a for a in known}
        label = str(config.inputs.service_points.path)
        for aid, row, pid in zip(points["actor_id"], points["_row"], points["point_id"], strict=True):
            if aid and aid not in known:
                hint = f"did you mean '{folded[aid.casefold()]}'? " if aid.casefold() in folded else ""
                problems.append(
                    Problem(
                        label,
                        _where(row, pid),
                        "actor_id",
                        f"unknown actor '{aid}'",
                        f"{hint}use an actor_id from the actors file or leave it blank",
                    )
                )
    problems.extend(study_area_problems(config, munis))
    if config.network.source:
        src = config.resolve(config.network.source)
        trouble = (
            "not found"
            if not src.exists()
            else "is a folder, not a file"
            if src.is_dir()
            else "is empty"
            if src.stat().st_size == 0
            else ""
        )
        if trouble:
            problems.append(
                Problem(
                    "arjenturva.yaml",
                    "",
                    "network.source",
                    f"road network file {src} {trouble}",
                    "check `network.source` (relative to the config file) names the road network file",
                )
            )
    if any(p.severity == "error" for p in problems) or munis is None or pop is None or points is None:
        # A layer that could not be read always comes with an error problem.
        raise ValidationError(problems)
    study = split_study_area(config, munis, pop)
    if study.left_out.features:
        lo = study.left_out
        problems.append(
            Problem(
                str(config.inputs.population.path),
                "",
                "",
                f"{lo.features} population feature(s) with {lo.people:,.0f} people lie in context "
                f"municipalities ({', '.join(lo.municipalities)}) and are left out of the indicators",
                "nothing to do; add a code to `study_area` to study that municipality too",
                severity="warning",
            )
        )
    files = {
        name: config.resolve(spec.path)
        for name, spec in config.inputs.model_dump().items()
        if spec is not None
        for spec in [getattr(config.inputs, name)]
    }
    return Workspace(
        config=config,
        municipalities=study.municipalities,
        population=study.population,
        context=study.context,
        left_out=study.left_out,
        service_points=points,
        actors=actors,
        places=places,
        vehicles=vehicles,
        warnings=[p for p in problems if p.severity != "error"],
        files=files,
    )
