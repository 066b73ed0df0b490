"""The package layout the README promises: small modules, one-way imports, a light CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "arjenturva"
MAX_LINES = 600


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_exceeds_the_line_limit():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def _imports(path: Path) -> set[str]:
    """Modules of arjenturva a file imports (relative imports resolved to their package)."""
    tree = ast.parse(path.read_text())
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    package = parts[:-1] if path.name != "__init__.py" else parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ((node.module,) if node.module else ()))
                if not node.module:
                    found |= {f"{mod}.{a.name}" for a in node.names}
                    continue
            else:
                mod = node.module or ""
            found.add(mod)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.split(".")[0] == "arjenturva"}


def _cli_helpers() -> list[Path]:
    """The CLI's option-handling modules (``_cli_<command>.py``), part of the CLI layer."""
    return sorted(PACKAGE.glob("_cli_*.py"))


def test_cli_imports_only_api_errors_and_its_console_helper():
    helpers = {f"arjenturva.{p.stem}" for p in _cli_helpers()}
    allowed = {"arjenturva.api", "arjenturva.errors", "arjenturva._console", *helpers}
    assert _imports(PACKAGE / "cli.py") <= allowed
    for path in _cli_helpers():
        assert _imports(path) <= {"arjenturva.api", "arjenturva.errors", "arjenturva._console"}, path.name
    assert _imports(PACKAGE / "_console.py") <= {"arjenturva.errors"}


def test_lower_layers_never_import_upper_ones():
    upper = {
        "arjenturva.api",
        "arjenturva.cli",
        "arjenturva._console",
        *(f"arjenturva.{p.stem}" for p in _cli_helpers()),
    }
    for path in _modules():
        if (
            path.name in ("api.py", "pipeline.py", "cli.py", "_console.py", "__main__.py")
            or path.name.startswith("_api_")  # the API layer's own modules (api re-exports them)
            or path in _cli_helpers()
            or path == PACKAGE / "__init__.py"
        ):
            continue
        assert not (_imports(path) & upper), f"{path.relative_to(PACKAGE)} imports {_imports(path) & upper}"


def test_help_imports_no_analysis_library():
    code = (
        "import sys; from arjenturva.cli import app; "
        "heavy = {'numpy', 'pandas', 'geopandas', 'scipy', 'shapely', 'matplotlib', 'folium', 'osmnx', "
        "'networkx', 'pydantic', 'pyogrio', 'highspy'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert loaded.strip() == "[]", loaded
