"""Exception hierarchy.

Every error a user can fix derives from :class:`ArjenturvaError`. The CLI catches it, prints
``Error: ...`` and exits with code 1; anything else is a bug and shows a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class ArjenturvaError(Exception):
    """Base class for errors a user can fix (bad input, config, missing file)."""


class ConfigError(ValueError, ArjenturvaError):
    """The workspace configuration (``arjenturva.yaml``) is invalid."""


class InputDataError(ValueError, ArjenturvaError):
    """An input layer breaks the data contract."""


class InputFileError(InputDataError):
    """An input file is missing, empty or unreadable."""


class DuplicateIDError(InputDataError):
    """An id column holds the same value twice."""


class NetworkError(ArjenturvaError):
    """The road network cannot be built or loaded."""


class OfflineError(NetworkError):
    """A step needs the internet and none is available."""


class OutputExistsError(ArjenturvaError):
    """An output would overwrite existing files; pass ``--force`` to allow it."""


class ProposalError(ArjenturvaError):
    """The proposal settings contradict each other."""


@dataclass(frozen=True)
class Problem:
    """One problem found while validating inputs.

    Parameters
    ----------
    file
        The file (or config key) the problem is in.
    where
        The row number or feature id (``row 12``, ``id A7``); empty for whole-file problems.
    column
        The column or config key; empty when not applicable.
    message
        What is wrong.
    fix
        How to fix it.
    severity
        ``"error"`` stops the run, ``"warning"`` is reported and the run goes on.
    """

    file: str
    where: str
    column: str
    message: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        parts = [self.file]
        if self.where:
            parts.append(self.where)
        if self.column:
            parts.append(f"column '{self.column}'")
        return f"{', '.join(parts)}: {self.message}. Fix: {self.fix}"


class ValidationError(InputDataError):
    """Several input problems, reported all at once."""

    def __init__(self, problems: list[Problem]):
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity != "error"]
        n = len(self.problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the inputs:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
