"""arjenturva: map rural everyday-service networks (the Finnish *Arjen turva* model).

Road-distance coverage gaps per service, and cross-sector partnership proposals that close them.
"""

from .api import copy_demo, init_workspace, load_workspace
from .config import Config, load_config
from .errors import ArjenturvaError, ConfigError, InputDataError, NetworkError, ValidationError
from .workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "ArjenturvaError",
    "Config",
    "ConfigError",
    "InputDataError",
    "NetworkError",
    "ValidationError",
    "Workspace",
    "__version__",
    "copy_demo",
    "init_workspace",
    "load_config",
    "load_workspace",
]
