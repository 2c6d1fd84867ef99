"""`metaflow-lsp fix --extract STEP [--flow NAME] FLOW.py`: Extract from the command line, through the real CLI."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

TWO_FLOWS = textwrap.dedent('''
    from metaflow import FlowSpec, step


    class FirstFlow(FlowSpec):
        @step
        def start(self):
            self.rows = [1, 2, 3]
            self.total = sum(self.rows)
            self.next(self.end)

        @step
        def end(self):
            pass


    class SecondFlow(FlowSpec):
        @step
        def start(self):
            self.words = ["a", "b"]
            self.next(self.end)

        @step
        def end(self):
            print(self.words)
    ''').lstrip("\n")


def fix(directory: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", "fix", *arguments], cwd=directory,
                          capture_output=True, text=True, timeout=120)


def test_extract_a_step_of_a_chosen_flow(tmp_path):
    (tmp_path / "flows.py").write_text(TWO_FLOWS)
    ambiguous = fix(tmp_path, "--extract", "start", "flows.py")
    assert ambiguous.returncode == 2
    assert ("step `start` is defined in several flows (FirstFlow, SecondFlow); choose one with --flow NAME"
            in ambiguous.stderr)
    assert not (tmp_path / "common.py").exists()

    preview = fix(tmp_path, "--extract", "start", "--flow", "SecondFlow", "--diff", "flows.py")
    assert preview.returncode == 1, preview.stderr
    assert "+        self.words = common.start()" in preview.stdout and "+++ b/common.py" in preview.stdout
    assert (tmp_path / "flows.py").read_text() == TWO_FLOWS and not (tmp_path / "common.py").exists()

    done = fix(tmp_path, "--extract", "start", "--flow", "SecondFlow", "flows.py")
    assert done.returncode == 0, done.stderr
    assert "flows.py: extracted the body of step `start` to common.py" in done.stderr
    flows = (tmp_path / "flows.py").read_text()
    assert "self.words = common.start()" in flows and "self.rows = [1, 2, 3]" in flows
    assert 'def start():\n    """Body of the `start` step of SecondFlow.' in (tmp_path / "common.py").read_text()


def test_refusal_and_usage_errors_say_why(tmp_path):
    (tmp_path / "flows.py").write_text(TWO_FLOWS)
    refused = fix(tmp_path, "--extract", "end", "--flow", "FirstFlow", "flows.py")
    assert refused.returncode == 1
    assert "flows.py: not extracted: Step `end` has no body to extract." in refused.stderr
    assert fix(tmp_path, "--extract", "start", "--flow", "Nope", "flows.py").stderr.endswith(
        "no flow named `Nope`\n")
    assert "--extract takes one flow file" in fix(tmp_path, "--extract", "start", "flows.py", "flows.py").stderr
    assert "--flow needs --extract STEP" in fix(tmp_path, "--flow", "FirstFlow", "flows.py").stderr
    assert (tmp_path / "flows.py").read_text() == TWO_FLOWS and not (tmp_path / "common.py").exists()
