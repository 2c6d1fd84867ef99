"""What the README shows is what the tool does: the rule table and the demo output are compared with real output."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(name: str) -> str:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", README, re.S)
    assert match, f"README has no {name} section"
    return match.group(1)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metaflow_lsp.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "METAFLOW_LSP_STRICT": "1"})


def test_rule_table_is_the_rule_list():
    """`metaflow-lsp rules --format markdown` prints the README's table; every rule is in it."""
    result = run_cli("rules", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert section("rules").strip() == result.stdout.strip()


def test_demo_output_is_what_check_prints_on_the_examples():
    """The quick start's `make demo` runs `metaflow-lsp check examples/`: the README shows its real output."""
    result = run_cli("check", "examples/")
    assert result.returncode == 1, result.stderr  # the examples carry deliberate problems
    shown = section("demo-output").strip().removeprefix("```").removesuffix("```").strip()
    assert shown == result.stdout.strip()
