"""Loading a workspace: every input read, checked against the data contract and normalised.

:func:`load_workspace` (in :mod:`~arjenturva.workspace.load`) runs one loader per layer
(:mod:`~arjenturva.workspace.layers`) with the shared checks of
:mod:`~arjenturva.workspace.checks`, and returns a :class:`Workspace`
(:mod:`~arjenturva.workspace.model`), or raises one :class:`~arjenturva.errors.ValidationError`
holding every problem found.
"""

from .checks import NEAR_MUNICIPALITY_M
from .load import load_workspace
from .model import Workspace

__all__ = ["NEAR_MUNICIPALITY_M", "Workspace", "load_workspace"]
