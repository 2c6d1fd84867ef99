"""The language server re-runs only the rules whose inputs an edit changed (`rule_reuse`): typing inside steps, in
every rule's fixtures, must give after each keystroke exactly the findings of a fresh check, and an edit that
changes what a rule reads must change its findings as a fresh check does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, TUTORIALS
from metaflow_lsp.builder import parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.context import RuleContext
from metaflow_lsp.engine import check_source
from metaflow_lsp.reuse import NodeReuse
from metaflow_lsp.rule_reuse import RuleReuse
from metaflow_lsp.rules import Reads

SOURCES = sorted({p.read_text() for p in [*TUTORIALS.glob("*/*.py"), *(FIXTURES / "rules").glob("MF*/*.py")]
                  if "class " in p.read_text()})
# Typed into a line: what changes a step's header, its transitions, its `self.x` accesses or only its body.
PIECES = ["x", "1", "9", " ", "self.", "self.x", "self.next(self.end)", "inputs", '"', ",", "(", ")", "#", "# noqa",
          "# noqa: MF108", "foreach=", 'foreach="x"', "@retry(times=9)", "@catch", "end", "join", "start", ":", "=",
          "self.merge_artifacts(inputs)", "exclude=[]", "test_mode", "pip install x", "install_dependencies"]


def outcome(source: str, reuse: NodeReuse | None, path: str = "flow.py"):
    result = check_source(source, Path(path), Settings(), None, reuse)
    return [(f.code, f.span, f.message, f.data) for f in result.findings]


def inside_methods(source: str) -> list[int]:
    """The lines of the file that are inside an indented method body: edits there keep every other method."""
    lines = source.split("\n")
    return [i for i, line in enumerate(lines) if line.startswith("        ") and line.strip()]


@st.composite
def typing_sessions(draw):
    """A fixture and the versions of typing and deleting within one line of a method at a time, pressing Enter in
    one, deleting one or copying one below itself: the line count changes, and the later methods move."""
    source = draw(st.sampled_from(SOURCES))
    versions = [source]
    for _ in range(draw(st.integers(1, 8))):
        lines = versions[-1].split("\n")
        candidates = inside_methods(versions[-1])
        if not candidates:
            break
        number = draw(st.sampled_from(candidates))
        line = lines[number]
        at = draw(st.integers(0, len(line)))
        edit = draw(st.sampled_from(["type", "type", "delete", "enter", "delete line", "copy line"]))
        if edit == "type":
            lines[number] = line[:at] + draw(st.sampled_from(PIECES)) + line[at:]
        elif edit == "delete":
            lines[number] = line[:at] + line[at + draw(st.integers(1, 12)):]
        elif edit == "enter":
            lines[number:number + 1] = [line[:at], line[:len(line) - len(line.lstrip())] + line[at:].lstrip()]
        elif edit == "delete line":
            del lines[number]
        else:
            lines.insert(number, line)
        versions.append("\n".join(lines))
    return versions


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(typing_sessions())
def test_typing_inside_steps_gives_the_findings_of_a_fresh_check(versions):
    reuse = NodeReuse()
    for text in versions:
        assert outcome(text, reuse) == outcome(text, None)


def edits_of_what_rules_read(source: str):
    """For each line of a step that holds something a rule level reads (a `self.x`, a decorator, a transition),
    the file with that thing altered on that line: a name lengthened, a number or a string changed."""
    lines = source.split("\n")
    for number, line in enumerate(lines):
        if not line.startswith(("        ", "    @")):
            continue
        for old, new in (("self.", "self.x"), ("@", "@x"), ('"', '"x'), ("1", "2"), ("(self", "(self, more"),
                         ("inputs", "items"), ("= ", "= 0 or "), ("lambda", "max"), ("def ", "def x"),
                         ("(", "(x, "), ("(", "x(")):
            if old in line:
                yield "\n".join(lines[:number] + [line.replace(old, new, 1)] + lines[number + 1:])


def lines_added_and_removed(source: str):
    """For each line inside a method body: the file with Enter pressed at its end (an indented empty line after it),
    and with the line deleted. Either moves every later line."""
    lines = source.split("\n")
    for number in inside_methods(source):
        line = lines[number]
        yield "\n".join(lines[:number + 1] + [line[:len(line) - len(line.lstrip())]] + lines[number + 1:])
        yield "\n".join(lines[:number] + lines[number + 1:])


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.split("class ", 1)[1].split("(", 1)[0][:40])
def test_altering_what_a_rule_reads_gives_the_findings_of_a_fresh_check(source):
    # As a test module too, where rules read more of the steps (MF202: the helpers the steps call are the flow's).
    for path in ("flow.py", "test_flow.py") if "\ndef " in source else ("flow.py",):
        reuse = NodeReuse()
        outcome(source, reuse, path)
        for edited in edits_of_what_rules_read(source):
            assert outcome(edited, reuse, path) == outcome(edited, None, path)
            assert outcome(source, reuse, path) == outcome(source, None, path)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.split("class ", 1)[1].split("(", 1)[0][:40])
def test_adding_and_removing_lines_gives_the_findings_of_a_fresh_check(source):
    # Every later hit moves: a rule whose messages or data name lines must say so (`names_lines`).
    reuse = NodeReuse()
    outcome(source, reuse)
    for edited in lines_added_and_removed(source):
        assert outcome(edited, reuse) == outcome(edited, None)
        assert outcome(source, reuse) == outcome(source, None)


def test_every_fixture_checked_by_the_server_gives_the_cli_findings():
    for source in SOURCES:
        assert outcome(source, NodeReuse()) == outcome(source, None)


STATS = (TUTORIALS / "02-statistics" / "stats.py").read_text()


def changed_level(before: str, after: str) -> Reads | None:
    """The level `RuleReuse` finds changed between two versions checked in turn."""
    reuse = NodeReuse()
    check_source(before, Path("flow.py"), Settings(), None, reuse)
    module = parse_module(after, Path("flow.py"), None, reuse)
    return RuleReuse(RuleContext(module, Settings(), None, reuse)).changed


@pytest.mark.parametrize(("old", "new", "level"), [
    ("self.genre = self.input", "self.genre = self.input", None),
    ("self.genre = self.input", "self.genre = self.input  # a comment", Reads.ALL),
    ("self.genre = self.input", "self.genre = (self.input)", Reads.DATA),
    ("self.genre = self.input", "self.kind = self.input", Reads.DATA),
    ("self.next(self.join)", "self.next(self.end)", Reads.GRAPH),
    ("def compute_statistics(self):", "def compute_statistic(self):", Reads.MODULE),
])
def test_an_edit_changes_the_level_it_touches(old, new, level):
    assert old in STATS
    assert changed_level(STATS, STATS.replace(old, new, 1)) == level


LONG_STEP_BELOW = """\
from metaflow import FlowSpec, step


class LongFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.train)

    @step
    def train(self):
""" + "".join(f"        self.a{i} = {i}\n" for i in range(40)) + """\
        if self.a1:
            self.next(self.end)
        else:
            self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_a_line_added_above_a_long_step_moves_where_its_extract_stops():
    """MF201's fix data names the line Extract stops before (kept with the step, relative to its `def`)."""
    reuse = NodeReuse()
    for text in (LONG_STEP_BELOW, LONG_STEP_BELOW.replace("self.x = 1", "self.x = 1\n        self.y = 2"),
                 LONG_STEP_BELOW.replace("self.x = 1\n", "")):
        found = outcome(text, reuse)
        assert found == outcome(text, None)
        assert any(data and "transition" in data for _code, _span, _message, data in found)


@pytest.mark.parametrize(("added", "level"), [
    ("        pass", Reads.ALL),  # every later position moved, nothing else changed
    ("        self.kind = 1", Reads.DATA),
    ("        if self.genre:\n            self.next(self.join)", Reads.GRAPH),
])
def test_an_added_line_changes_the_level_it_touches(added, level):
    """A line added in a step moves every later line: the previous version is compared as the edit moved it."""
    assert changed_level(STATS, STATS.replace("self.genre = self.input", f"self.genre = self.input\n{added}", 1)) \
        == level


def test_a_line_added_keeps_the_graph_rules_hits_moved():
    """Enter above a finding of a graph rule (MF108, in the join): its hit moves one line lower, as a fresh check has
    it."""
    source = STATS.replace("        self.next(self.end)", "        print(self.quartiles)\n        self.next(self.end)", 1)
    reuse = NodeReuse()
    before = outcome(source, reuse)
    edited_line = source.split("\n").index("        self.genre = self.input")
    edited = source.replace("self.genre = self.input", "self.genre = self.input\n", 1)
    after = outcome(edited, reuse)
    assert after == outcome(edited, None)
    assert any(span.line > edited_line for _code, span, _message, _data in before)
    assert [(code, span.line) for code, span, _message, _data in after] == \
        [(code, span.line + (span.line > edited_line)) for code, span, _message, _data in before]
