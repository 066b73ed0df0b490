"""arjenturva: map rural everyday-service networks (the Finnish *Arjen turva* model).

Road-distance coverage gaps per service, and cross-sector partnership proposals that close them.
"""

from .api import (
    RunResult,
    build_network,
    copy_demo,
    find_gaps,
    init_workspace,
    load_workspace,
    locate_facilities,
    propose_partnerships,
    run_pipeline,
)
from .compare import compare_results
from .config import Config, load_config
from .errors import ArjenturvaError, ConfigError, InputDataError, NetworkError, ValidationError
from .workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "ArjenturvaError",
    "RunResult",
    "Config",
    "ConfigError",
    "InputDataError",
    "NetworkError",
    "ValidationError",
    "Workspace",
    "__version__",
    "build_network",
    "compare_results",
    "locate_facilities",
    "propose_partnerships",
    "find_gaps",
    "run_pipeline",
    "copy_demo",
    "init_workspace",
    "load_config",
    "load_workspace",
]
