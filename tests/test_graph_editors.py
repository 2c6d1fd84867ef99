"""The README's flow-graph section, run: its Mermaid example is what `metaflow-lsp graph` prints for the example
flow, its Neovim `:MetaflowGraph` snippet works in Debian's Neovim 0.7 and its Eglot expression in Emacs 28 with
Eglot 1.9, both headless against the real server (scripts in tests/editors/)."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT
from test_editors import CONSOLE_SCRIPT, EDITORS, _eglot_folder, _needed, _run_editor

README = (ROOT / "README.md").read_text(encoding="utf-8")
FLOW = '''
from metaflow import FlowSpec, step


class ShownFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.train, self.evaluate)

    @step
    def train(self):
        self.next(self.join)

    @step
    def evaluate(self):
        self.next(self.joyn)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass

    @step
    def draft(self):
        self.notes = "no self.next yet"
'''.lstrip()


def readme_block(marker: str, language: str) -> str:
    """The fenced block right after `<!-- marker -->` in the README, dedented."""
    found = re.search(rf"<!-- {re.escape(marker)} -->\n( *)```{language}\n(.*?)\n\1```", README, re.S)
    assert found, f"no {language} block after <!-- {marker} --> in README.md"
    indent = found.group(1)
    return "\n".join(line.removeprefix(indent) for line in found.group(2).splitlines()) + "\n"


def test_readme_mermaid_example_is_the_commands_output():
    example = re.search(r"<!-- graph-example: (\S+) -->", README).group(1)
    drawn = subprocess.run([str(CONSOLE_SCRIPT), "graph", example, "--format", "mermaid"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, check=True).stdout
    assert readme_block(f"graph-example: {example}", "mermaid") == drawn


def test_readme_graph_command_in_neovim(tmp_path):
    nvim = _needed("nvim", "neovim")
    flow, snippet, neutral = tmp_path / "project" / "shown.py", tmp_path / "graph.lua", tmp_path / "server-cwd"
    flow.parent.mkdir()
    neutral.mkdir()
    flow.write_text(FLOW, encoding="utf-8")
    snippet.write_text(readme_block("neovim-graph", "lua"), encoding="utf-8")
    outcome = _run_editor(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-S", str(EDITORS / "graph.lua")],
        {"MFLSP_SERVER": str(CONSOLE_SCRIPT), "MFLSP_CWD": str(neutral), "MFLSP_FLOW": str(flow),
         "MFLSP_SNIPPET": str(snippet)},
        tmp_path / "neovim.json", neutral)
    assert outcome["lines"] == [
        "ShownFlow",
        "  start (split) -> train, evaluate  line 6",
        "  train (linear) -> join  line 10",
        "  evaluate (linear) -> joyn  line 14",
        "  join (join) -> end  line 18",
        "  end (end)  line 22",
        "  draft (no valid self.next)  line 26",
    ]


def test_readme_graph_command_in_emacs_eglot(tmp_path):
    emacs = _needed("emacs", "emacs-nox")
    flow, snippet = tmp_path / "project" / "shown.py", tmp_path / "graph.el"
    flow.parent.mkdir()
    subprocess.run(["git", "init", "-q", str(flow.parent)], check=True)  # Eglot finds the project by it
    flow.write_text(FLOW, encoding="utf-8")
    expression = re.search(r"`(\(eglot-execute-command .*?\))`", README, re.S).group(1)
    snippet.write_text(expression, encoding="utf-8")
    outcome = _run_editor(
        [emacs, "--batch", "-Q", "-L", _eglot_folder(), "-l", str(EDITORS / "graph.el")],
        {"MFLSP_SERVER": str(CONSOLE_SCRIPT), "MFLSP_FLOW": str(flow), "MFLSP_SNIPPET": str(snippet)},
        tmp_path / "emacs.json", tmp_path)
    assert outcome["flows"] == [{"name": "ShownFlow", "steps": ["start", "train", "evaluate", "join", "end", "draft"]}]
