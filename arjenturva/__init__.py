"""arjenturva: map rural everyday-service networks (the Finnish *Arjen turva* model).

Road-distance coverage gaps per service, and cross-sector partnership proposals that close them.
The public names below are loaded on first use, so ``import arjenturva`` (and the CLI's
``--help``) stays fast; the analysis libraries are imported only by the work that needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "RunResult": "api",
    "build_network": "api",
    "build_workspace": "api",
    "compare_results": "api",
    "copy_demo": "api",
    "find_gaps": "api",
    "init_workspace": "api",
    "load_workspace": "api",
    "locate_facilities": "api",
    "propose_partnerships": "api",
    "read_results": "api",
    "run_pipeline": "api",
    "Config": "config",
    "load_config": "config",
    "ArjenturvaError": "errors",
    "ConfigError": "errors",
    "InputDataError": "errors",
    "NetworkError": "errors",
    "ValidationError": "errors",
    "Workspace": "workspace",
}

__all__ = [
    "ArjenturvaError",
    "Config",
    "ConfigError",
    "InputDataError",
    "NetworkError",
    "RunResult",
    "ValidationError",
    "Workspace",
    "__version__",
    "build_network",
    "build_workspace",
    "compare_results",
    "copy_demo",
    "find_gaps",
    "init_workspace",
    "load_config",
    "load_workspace",
    "locate_facilities",
    "propose_partnerships",
    "read_results",
    "run_pipeline",
]

if TYPE_CHECKING:
    from .api import (
        RunResult,
        build_network,
        build_workspace,
        compare_results,
        copy_demo,
        find_gaps,
        init_workspace,
        load_workspace,
        locate_facilities,
        propose_partnerships,
        read_results,
        run_pipeline,
    )
    from .config import Config, load_config
    from .errors import ArjenturvaError, ConfigError, InputDataError, NetworkError, ValidationError
    from .workspace import Workspace


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'arjenturva' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
