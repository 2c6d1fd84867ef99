"""`metaflow-lsp fix [--diff] PATH...` on a small project in a temporary git repository."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from metaflow_lsp.cli import main

BROKEN = '''
from metaflow import FlowSpec, Parameter, retry, step


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    @retry(times=7)  # flaky network
    def start(self):
        self.rows = 10 if self.test_mode else 1000
        self.next(self.end)

    @step
    def end(self):
        pass
'''

FIXED = '''
from metaflow import FlowSpec, Parameter, retry, step


class TrainFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @retry(times=4)  # flaky network
    @step
    def start(self):
        self.rows = 10 if self.test_mode else 1000
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
'''


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("__pycache__/")  # no final newline
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "train.py").write_text(dedent(BROKEN))
    return tmp_path


def test_fix_writes_the_safe_fixes_and_exits_0_when_nothing_is_left(project, capsys):
    assert main(["fix", str(project)]) == 0
    assert (project / "flows" / "train.py").read_text() == dedent(FIXED)
    assert (project / ".gitignore").read_text() == "__pycache__/\n.metaflow\n.metaflow_spin\n"
    err = capsys.readouterr().err
    assert "fixed MF" in err and "Fixed 4 problems." in err
    # The result checks clean, and a second run has nothing to do.
    assert main(["check", str(project)]) == 0
    assert main(["fix", str(project)]) == 0
    assert (project / "flows" / "train.py").read_text() == dedent(FIXED)


def test_fix_diff_prints_and_writes_nothing(project, capsys):
    before = (project / "flows" / "train.py").read_text()
    assert main(["fix", "--diff", str(project / "flows" / "train.py")]) == 1  # something would change
    out = capsys.readouterr().out
    assert "-    @retry(times=7)  # flaky network\n" in out
    assert "+    @retry(times=4)  # flaky network\n" in out
    assert '+if __name__ == "__main__":\n' in out
    assert "+.metaflow\n" in out
    assert (project / "flows" / "train.py").read_text() == before
    assert (project / ".gitignore").read_text() == "__pycache__/"


def test_fix_exits_1_and_lists_what_needs_a_person(project, capsys):
    (project / "flows" / "other.py").write_text(dedent(BROKEN).replace(
        'test_mode = Parameter("test_mode", type=bool, default=False)', 'alpha = Parameter("alpha", default=0.1)').replace(
        "self.rows = 10 if self.test_mode else 1000", "self.rows = 1000"))
    assert main(["fix", str(project)]) == 1
    captured = capsys.readouterr()
    assert "other.py:4:7: MF204" in captured.out  # no test-mode Parameter: adding one is the user's call
    assert "1 left that need a person" in captured.err
    assert "@retry(times=4)" in (project / "flows" / "other.py").read_text()
    # Both files needed the .gitignore lines: added once.
    assert (project / ".gitignore").read_text().count(".metaflow\n") == 1


def test_fix_usage_errors(tmp_path, capsys):
    assert main(["fix", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_fix_through_the_installed_command(project):
    result = subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "fix", "--diff", "flows"], cwd=project,
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("--- a/flows/train.py\n+++ b/flows/train.py\n")
