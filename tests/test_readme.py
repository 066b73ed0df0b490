"""The README runs as written: its workflow commands, its Python example and its config reference
(the way sqlite-utils tests its docs)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from arjenturva.cli import app
from arjenturva.config import config_from_dict

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def _workflow_commands() -> list[list[str]]:
    section = README.read_text(encoding="utf-8").split("## Workflow", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    commands = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "arjenturva", line
            commands.append(words[1:])
    return commands


@pytest.mark.slow
def test_workflow_and_python_example_run_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})
    commands = _workflow_commands()
    assert len(commands) >= 8
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"arjenturva {' '.join(args)}\n{result.output}"
    assert (tmp_path / "comparison" / "comparison.csv").is_file()
    (code,) = [b for b in _blocks("python") if "import arjenturva as at" in b]
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    assert len(namespace["props"].proposals) > 0  # type: ignore[attr-defined]
    assert namespace["summary"]["municipality"].tolist()[0] == "996"  # type: ignore[index]


def test_config_reference_is_a_valid_config():
    (block,) = [b for b in _blocks("yaml") if "services:" in b and "network:" in b]
    config_from_dict(yaml.safe_load(block))


def test_first_two_commands_are_install_demo_and_tests():
    first = _blocks("bash")[0].strip().splitlines()
    assert first == ['pip install . && arjenturva demo --out demo-run', 'pip install -e ".[test]" && pytest']


def test_quoted_rationale_is_a_real_demo_row(demo_run):
    import pandas as pd

    text = " ".join(README.read_text(encoding="utf-8").split())
    quote = re.search(r'"(4,3 km kaakkoon Ylä-Kaarnasta[^"]*)"', text)
    assert quote, "the README quotes a rationale of the demo"
    rows = pd.read_csv(demo_run.results / "proposals.csv")["rationale"]
    rationales = [r.replace("\u00a0", " ") for r in rows]
    assert any(r.startswith(quote.group(1)) for r in rationales), quote.group(1)
