"""`check --format github` (workflow commands GitHub Actions shows as annotations) and `--format sarif` (a SARIF
2.1.0 log, validated against the schema in tests/fixtures/sarif/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import FIXTURES, ROOT
from metaflow_lsp.docs import rule_page
from metaflow_lsp.rules import RULES

SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-2.1.0-rtm.5.json").read_text(encoding="utf-8"))

# MF202 (information) on line 4, MF204 (warning) on line 8, MF011 (error) on line 13; `é` before the MF011 target
# makes its column differ between code points and bytes.
FLOW = '''\
from metaflow import FlowSpec, Parameter, step


def helper():
    return 1


class TinyFlow(FlowSpec):
    rows = Parameter("rows", type=int, default=10)

    @step
    def start(self):
        self.é = [1]; self.next(self.nowhere)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TinyFlow()
'''


def check(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "check", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "METAFLOW_LSP_STRICT": "1"}, timeout=120)


def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.metaflow-lsp]\nignore = ["MF203"]\n', encoding="utf-8")
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "odd,name: x.py").write_text(FLOW, encoding="utf-8")
    return tmp_path


def test_github_format_prints_one_workflow_command_a_finding(tmp_path):
    root = project(tmp_path)
    result = check(root, "--format", "github", "flows")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "::notice file=flows/odd%2Cname%3A x.py,line=4,col=5,title=MF202::Helper function `helper` is defined in a "
        "flow file: move it to `common.py`, so other flows and notebooks can import it.",
        "::warning file=flows/odd%2Cname%3A x.py,line=8,col=7,title=MF204::`TinyFlow` has no test-mode Parameter: "
        'add `test_mode = Parameter("test_mode", type=bool, default=False)` and shrink the data and fan-outs with it.',
        "::error file=flows/odd%2Cname%3A x.py,line=13,col=33,title=MF011::Step `start` transitions to `nowhere`, "
        "which is not a step of `TinyFlow`.",
    ]
    assert result.stderr == ""


def test_github_format_escapes_what_ends_a_message(tmp_path):
    from metaflow_lsp.check_formats import github_lines

    row = {"path": "a.py", "severity": "hint", "code": "MF206", "line": 1, "column": 2,
           "message": "100% sure\nsecond line"}
    assert github_lines([row]) == ["::notice file=a.py,line=1,col=2,title=MF206::100%25 sure%0Asecond line"]


def test_sarif_log_is_valid_sarif_2_1_0_with_the_rule_table_and_1_based_positions(tmp_path):
    root = project(tmp_path)
    result = check(root, "--format", "sarif", "flows")
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    [run] = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    assert all(rule["helpUri"] == rule_page(rule["id"]).as_uri() and rule_page(rule["id"]).is_file()
               for rule in rules)
    found = {result["ruleId"]: result for result in run["results"]}
    assert set(found) == {"MF011", "MF202", "MF204"}
    assert [found[code]["level"] for code in ("MF011", "MF202", "MF204")] == ["error", "note", "warning"]
    for code, result in found.items():
        assert rules[result["ruleIndex"]]["id"] == code
    location = found["MF011"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "flows/odd%2Cname%3A%20x.py"
    # `self.nowhere` starts at code point 33 (byte 34: `é` is two bytes) and ends before `)`, at 45.
    assert location["region"] == {"startLine": 13, "startColumn": 33, "endLine": 13, "endColumn": 45}
    assert run["columnKind"] == "unicodeCodePoints"
    text = check(root, "flows").stdout.splitlines()
    assert "flows/odd,name: x.py:13:33: MF011 Step `start` transitions to `nowhere`, which is not a step of " \
           "`TinyFlow`." in text  # the same position as the text format


def test_sarif_of_a_clean_project_has_no_results_and_links_to_the_configured_docs(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.metaflow-lsp]\ndocs-url = "https://docs.example/rules/"\n',
                                             encoding="utf-8")
    result = check(tmp_path, "--format", "sarif", str(tmp_path))
    assert result.returncode == 0, result.stderr
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == "https://docs.example/rules/MF000"


def test_the_repositorys_pre_commit_hook_runs_check_on_python_files():
    import yaml

    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {key: hook[key] for key in ("id", "entry", "language", "types")} == {
        "id": "metaflow-lsp", "entry": "metaflow-lsp check", "language": "python", "types": ["python"]}
    # `language: python` installs this repository as a package: its console script is the hook's entry.
    assert 'metaflow-lsp = "metaflow_lsp._bootstrap:console"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.slow
def test_pre_commit_runs_the_repositorys_hook_on_a_commits_flow_files(tmp_path):
    """`pre-commit try-repo` as a user's config referencing this repository would: pre-commit installs the package
    into a virtualenv of its own (from PyPI) and runs the hook on the repository's Python files."""
    project = tmp_path / "project"
    (project / "flows").mkdir(parents=True)
    (project / "flows" / "tiny.py").write_text(FLOW, encoding="utf-8")
    (project / "notes.txt").write_text("self.next(self.nowhere)\n", encoding="utf-8")  # not Python: not checked
    git = ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    result = subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "metaflow-lsp", "--all-files"],
                            cwd=project, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "- hook id: metaflow-lsp" in result.stdout
    assert "flows/tiny.py:13:33: MF011 Step `start` transitions to `nowhere`, which is not a step of `TinyFlow`." \
        in result.stdout.splitlines()
    assert "notes.txt" not in result.stdout
