"""`metaflow-lsp graph`: the Mermaid and DOT drawings of the fixtures checked exactly against the snapshots in
tests/snapshots/graph/, and the command's JSON, folders, flow choice and errors as a user runs them.

After a deliberate change of the drawings: `METAFLOW_LSP_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest
tests/test_graph_command.py`, then review the snapshots' diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, TUTORIALS
from metaflow_lsp.cli import main

GRAPH_FIXTURES = sorted((FIXTURES / "graph").glob("*.py"))
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "graph"
EXTENSIONS = {"mermaid": "mmd", "dot": "dot"}
UPDATE = os.environ.get("METAFLOW_LSP_UPDATE_SNAPSHOTS") == "1"


def graph(capsys, *arguments) -> tuple[int, str, str]:
    code = main(["graph", *map(str, arguments)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
@pytest.mark.parametrize("path", GRAPH_FIXTURES, ids=lambda p: p.stem)
def test_drawing_matches_its_snapshot(path: Path, fmt: str, capsys):
    code, out, err = graph(capsys, path, "--format", fmt)
    assert code == 0 and err == ""
    snapshot = SNAPSHOTS / f"{path.stem}.{EXTENSIONS[fmt]}"
    if UPDATE:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(out, encoding="utf-8")
    assert snapshot.is_file(), f"no snapshot {snapshot}: run with METAFLOW_LSP_UPDATE_SNAPSHOTS=1"
    assert out == snapshot.read_text(encoding="utf-8"), f"{snapshot.name} differs (see the module docstring)"


def test_every_snapshot_has_its_fixture():
    expected = {f"{path.stem}.{extension}" for path in GRAPH_FIXTURES for extension in EXTENSIONS.values()}
    assert {snapshot.name for snapshot in SNAPSHOTS.iterdir()} == expected


def test_mermaid_has_one_edge_per_out_func_and_no_keyword_ids(capsys):
    path = FIXTURES / "graph" / "branches.py"
    _, text, _ = graph(capsys, path)
    [flow] = json.loads(text)["flows"]
    _, mermaid, _ = graph(capsys, path, "--format", "mermaid")
    edges = [line for line in mermaid.splitlines() if "-->" in line]
    assert len(edges) == sum(len(step["next"]) for step in flow["steps"]) == 12
    ids = {line.split()[0] for line in edges} | {line.split()[-1] for line in edges}
    assert "end" not in ids and '(["end"])' in mermaid
    assert any(line.strip().endswith("-->|foreach folds| s5") for line in edges)


def test_json_of_a_folder_walks_it_as_check_does(tmp_path, capsys):
    (tmp_path / ".gitignore").write_text("scratch/\n", encoding="utf-8")
    subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "flows").mkdir()
    (tmp_path / "scratch").mkdir()
    source = (FIXTURES / "graph" / "broken.py").read_text(encoding="utf-8")
    (tmp_path / "flows" / "broken.py").write_text(source, encoding="utf-8")
    (tmp_path / "scratch" / "copy.py").write_text(source.replace("BrokenFlow", "IgnoredFlow"), encoding="utf-8")
    (tmp_path / "flows" / "half.py").write_text("class Half(:\n", encoding="utf-8")
    code, out, err = graph(capsys, tmp_path)
    assert code == 0
    flows = json.loads(out)["flows"]
    assert [flow["name"] for flow in flows] == ["BrokenFlow", "OtherFlow"]
    assert flows[0]["missing"] == ["trian"] and flows[0]["file"] == str(tmp_path / "flows" / "broken.py")
    steps = {step["name"]: step for step in flows[0]["steps"]}
    assert steps["start"]["next"] == ["trian", "evaluate"] and steps["train"]["type"] is None
    assert "half.py:1: cannot parse it" in err and "not drawn" in err


def test_flow_run_from_another_file_is_drawn_once(tmp_path, capsys):
    base = (FIXTURES / "graph" / "broken.py").read_text(encoding="utf-8")
    (tmp_path / "base_flows.py").write_text(base, encoding="utf-8")
    (tmp_path / "run_other.py").write_text(
        "from base_flows import OtherFlow\n\nif __name__ == '__main__':\n    OtherFlow()\n", encoding="utf-8")
    _, out, _ = graph(capsys, tmp_path / "run_other.py", "--format", "json")
    [flow] = json.loads(out)["flows"]
    assert flow["name"] == "OtherFlow" and flow["file"] == str(tmp_path / "base_flows.py")
    _, out, _ = graph(capsys, tmp_path)
    assert [flow["name"] for flow in json.loads(out)["flows"]] == ["BrokenFlow", "OtherFlow"]


def test_flow_choice_and_errors(tmp_path, capsys):
    path = FIXTURES / "graph" / "broken.py"
    code, out, _ = graph(capsys, path, "--flow", "OtherFlow", "--format", "mermaid")
    assert code == 0 and out.startswith("---\ntitle: OtherFlow\n---\nflowchart TD\n") and "BrokenFlow" not in out
    code, out, err = graph(capsys, path, "--flow", "NoSuchFlow")
    assert code == 2 and out == "" and "no flow named 'NoSuchFlow' (flows found: BrokenFlow, OtherFlow)" in err
    code, out, err = graph(capsys, tmp_path / "missing.py")
    assert code == 2 and "no such file or folder" in err
    (tmp_path / "plain.py").write_text("print('no flow here')\n", encoding="utf-8")
    code, out, err = graph(capsys, tmp_path / "plain.py", "--format", "dot")
    assert code == 1 and out == "" and "no flow found" in err
    code, out, _ = graph(capsys, tmp_path / "plain.py")
    assert code == 1 and json.loads(out) == {"flows": []}


def test_the_installed_command_draws_the_tutorials():
    """The console script as a user runs it, on the flows shipped in Metaflow's wheel."""
    result = subprocess.run([str(Path(sys.executable).parent / "metaflow-lsp"), "graph", str(TUTORIALS)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    flows = json.loads(result.stdout)["flows"]
    assert {"HelloFlow", "PlayListFlow", "MovieStatsFlow"} <= {flow["name"] for flow in flows}
    assert all(step["type"] for flow in flows for step in flow["steps"])
