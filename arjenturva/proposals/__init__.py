"""Cross-sector partnership proposals, and classic location models, on the road network.

The modules behind this façade, one job each:

- :mod:`.problem`: the problem in array form (:class:`ProposalProblem`) and its solution;
- :mod:`.evaluate`: the derived index of a problem and the evaluation of a selection;
- :mod:`.mip`, :mod:`.highs`: the exact MIP and running HiGHS on it;
- :mod:`.greedy`: the greedy heuristic; :mod:`.solver`: :func:`solve`, which picks between them;
- :mod:`.classic`: LSCP and MCLP on a cost matrix, :mod:`.pmedian`: p-median (exact, reduced);
  :mod:`.locate` runs them on geodata;
- :mod:`.candidates`: candidate sites; :mod:`.options`: candidate options;
- :mod:`.build`: gap cells, actors and sites into a problem; :mod:`.readback`: a solution into
  agreements; :mod:`.shares`: what each chosen option adds; :mod:`.rationale`: the words of both
  (:func:`rationale_for` builds an agreement's rationale from its row of ``proposals.csv``);
- :mod:`.propose`: :func:`propose_partnerships`, the whole proposal step.
"""

from __future__ import annotations

from .build import BuiltProblem, ProblemLookup, build_problem
from .classic import LocationSolution, solve_lscp, solve_mclp
from .evaluate import Evaluation, evaluate_selection
from .greedy import solve_greedy
from .locate import LocationMatrix, LocationResult, locate_facilities, location_matrix
from .mip import solve_mip
from .options import CandidateOptions
from .pmedian import solve_pmedian
from .problem import FIXED, MOBILE, REMOTE, ProposalProblem, ProposalSolution
from .propose import propose_partnerships
from .rationale import MODE_CODES, MODE_NAMES, rationale_for, site_label
from .readback import ProposalResult
from .solver import solve

__all__ = [
    "FIXED",
    "MOBILE",
    "MODE_CODES",
    "MODE_NAMES",
    "REMOTE",
    "BuiltProblem",
    "CandidateOptions",
    "Evaluation",
    "LocationMatrix",
    "LocationResult",
    "LocationSolution",
    "ProblemLookup",
    "ProposalProblem",
    "ProposalResult",
    "ProposalSolution",
    "build_problem",
    "evaluate_selection",
    "locate_facilities",
    "location_matrix",
    "propose_partnerships",
    "rationale_for",
    "site_label",
    "solve",
    "solve_greedy",
    "solve_lscp",
    "solve_mclp",
    "solve_mip",
    "solve_pmedian",
]
