"""`metaflow-lsp check`, `rules` and `explain` as a user runs them: output, exit status, config errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

BROKEN = '''\
from metaflow import FlowSpec, step


class TrainFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.trian)

    @step
    def train(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
'''


def run(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "train.py").write_text(BROKEN)
    return tmp_path


def test_text_output_and_exit_status_one(project):
    result = run("check", "--select", "MF011", "flows", cwd=project)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "flows/train.py:7:19: MF011 Step `start` transitions to `trian`, which is not a step of `TrainFlow`. "
        "Did you mean `train`?"]
    assert result.stderr.strip() == "Found 1 problem in 1 of 1 files."


def test_json_output_is_one_based_with_end_positions(project):
    result = run("check", "--format", "json", "--select", "MF011", "flows", cwd=project)
    assert result.returncode == 1
    [row] = json.loads(result.stdout)
    assert row["path"] == "flows/train.py"
    assert (row["code"], row["severity"]) == ("MF011", "error")
    assert (row["line"], row["column"], row["end_line"], row["end_column"]) == (7, 19, 7, 29)


def test_clean_files_exit_zero(project):
    (project / "flows" / "train.py").write_text(BROKEN.replace("self.trian", "self.train"))
    result = run("check", "--select", "MF0", "flows", cwd=project)
    assert (result.returncode, result.stdout) == (0, "")


def test_ignore_drops_a_code(project):
    assert run("check", "--select", "MF0", "--ignore", "MF011", "flows", cwd=project).returncode == 0


def test_unknown_code_is_a_usage_error(project):
    result = run("check", "--select", "MF999", "flows", cwd=project)
    assert result.returncode == 2
    assert "MF999" in result.stderr and "no rule code" in result.stderr


def test_missing_path_is_a_usage_error(project):
    result = run("check", "no/such/dir", cwd=project)
    assert result.returncode == 2 and "no such file" in result.stderr


def test_invalid_pyproject_value_is_reported_once_with_exit_two(project):
    (project / "pyproject.toml").write_text('[tool.metaflow-lsp]\nmax-step-statements = "many"\n')
    (project / "flows" / "predict.py").write_text(BROKEN)
    result = run("check", "flows", cwd=project)
    assert result.returncode == 2
    assert result.stderr.count("max-step-statements") == 1
    assert "MF011" in result.stdout  # the defaults still applied: findings are reported


def test_pyproject_selection_applies(project):
    (project / "pyproject.toml").write_text('[tool.metaflow-lsp]\nignore = ["MF011"]\nselect = ["MF0"]\n')
    assert run("check", "flows", cwd=project).returncode == 0


def test_non_ascii_columns_count_characters(project):
    source = BROKEN.replace("        self.next(self.trian)", "        x = 'ñé'; self.next(self.trian)")
    (project / "flows" / "train.py").write_text(source)
    [row] = json.loads(run("check", "--format", "json", "--select", "MF011", "flows", cwd=project).stdout)
    line = source.splitlines()[row["line"] - 1]
    assert line[row["column"] - 1:row["end_column"] - 1] == "self.trian"


def test_lone_carriage_returns_end_lines(project):
    (project / "flows" / "train.py").write_bytes(BROKEN.replace("\n", "\r").encode())
    [row] = json.loads(run("check", "--format", "json", "--select", "MF011", "flows", cwd=project).stdout)
    assert (row["line"], row["column"]) == (7, 19)


def test_syntax_error_and_undecodable_bytes_do_not_stop_the_run(project):
    (project / "flows" / "broken.py").write_bytes(b"from metaflow import step\ndef f(:\n    pass\n")
    (project / "flows" / "latin1.py").write_bytes(b"# caf\xe9\nx = 1\n")
    (project / "flows" / "not_a_flow.py").write_bytes(b"def f(:\n    pass\n")  # no flow word: not ours to parse
    result = run("check", "--format", "json", "flows", cwd=project)
    rows = json.loads(result.stdout)
    assert {"flows/broken.py"} == {r["path"] for r in rows if r["code"] == "MF000"}
    assert result.returncode == 1


def test_rules_lists_every_code_and_explain_prints_the_page():
    from metaflow_lsp.rules import RULES

    listed = run("rules").stdout
    assert all(code in listed for code in RULES)
    page = run("explain", "mf201")
    assert page.returncode == 0 and page.stdout.startswith("# MF201")
    assert run("explain", "MF999").returncode == 2


def test_git_ignored_files_are_skipped_whatever_their_names(project):
    """Names go to git NUL-separated: a file name with a line break is one name, and git's rule still applies."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("generated_*\n")
    (project / "flows" / "generated_\nflow.py").write_text(BROKEN)
    result = run("check", "--select", "MF0", "flows", cwd=project)
    reported = {line.split(":")[0] for line in result.stdout.splitlines()}
    assert reported == {"flows/train.py"}, result.stdout


def test_help_and_a_mistyped_command_list_every_command():
    # `check` builds only the core commands' parser (a pre-commit hook runs it on every commit); help lists all.
    listed = run("--help").stdout
    assert all(command in listed for command in ("check", "fix", "test-mode", "init", "ci-workflow", "graph",
                                                 "notebook"))
    mistyped = run("chek", "flow.py")
    assert mistyped.returncode == 2 and "'test-mode'" in mistyped.stderr and "'check'" in mistyped.stderr
