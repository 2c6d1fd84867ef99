"""Reusing unchanged methods between versions (the language server's keystroke path) never changes a result: after
every edit of a sequence, the findings equal those of a fresh check of the same text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, TUTORIALS
from metaflow_lsp.builder import parse_module
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.reuse import NodeReuse

SOURCES = sorted(p.read_text() for p in [*TUTORIALS.glob("*/*.py"), *(FIXTURES / "rules").glob("MF1*/*.py"),
                                         *(FIXTURES / "rules").glob("MF2*/*.py")])
PIECES = ["\n", "    ", "x", "self.", "self.next(self.end)", "        self.y = self.x\n", "#", ":", "(", "\n\n",
          "    @step\n    def extra(self):\n        self.next(self.end)\n"]


def outcome(source: str, reuse: NodeReuse | None):
    result = check_source(source, Path("flow.py"), Settings(), None, reuse)
    return [(f.code, f.span, f.message, f.data) for f in result.findings]


@st.composite
def edit_sequences(draw):
    source = draw(st.sampled_from(SOURCES))
    versions = [source]
    for _ in range(draw(st.integers(1, 6))):
        text = versions[-1]
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        versions.append(text)
    return versions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit_sequences())
def test_reuse_gives_the_same_findings_as_a_fresh_check(versions):
    reuse = NodeReuse()
    for text in versions:
        assert outcome(text, reuse) == outcome(text, None)


def test_unchanged_steps_keep_their_nodes_and_changed_ones_do_not():
    source = (TUTORIALS / "02-statistics" / "stats.py").read_text()
    reuse = NodeReuse()
    before = {s.name: s for s in parse_module(source, None, None, reuse).flows[0].steps.values()}
    edited = source.replace("self.genre = self.input", "self.genre = self.input  # edited")
    after = {s.name: s for s in parse_module(edited, None, None, reuse).flows[0].steps.values()}
    assert after["compute_statistics"] is not before["compute_statistics"]
    assert after["compute_statistics"].node is not before["compute_statistics"].node
    for name in ("start", "join", "end"):
        assert after[name] is before[name] and after[name].node is before[name].node


def test_a_line_added_in_a_step_keeps_the_later_steps_moved():
    """Enter in one step parses that step again; the later steps are the same objects, their positions moved."""
    source = (TUTORIALS / "02-statistics" / "stats.py").read_text()
    reuse = NodeReuse()
    before = {s.name: s for s in parse_module(source, None, None, reuse).flows[0].steps.values()}
    end_line, parses = before["end"].span.line, reuse.full_parses
    edited = source.replace("self.genre = self.input", "self.genre = self.input\n\n        pass", 1)
    after = {s.name: s for s in parse_module(edited, None, None, reuse).flows[0].steps.values()}
    assert reuse.full_parses == parses  # only `compute_statistics` was parsed
    assert after["compute_statistics"] is not before["compute_statistics"]
    assert after["start"] is before["start"] and after["end"] is before["end"]
    assert after["end"].span.line == end_line + 2 == parse_module(edited).flows[0].steps["end"].span.line


MEMBERS_BELOW = """\
from metaflow import FlowSpec, Parameter, step


class FirstFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

    alpha = Parameter("alpha", default=1)
    label = "first"

    @step
    def end(self):
        print(self.x)


class SecondFlow(FlowSpec):
    beta = Parameter("beta", default=2)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def test_members_below_an_added_line_move_with_it():
    """Parameters and attributes are read with their positions: those below the edit, in the edited class and in a
    later one, must be read again."""
    reuse = NodeReuse()
    parse_module(MEMBERS_BELOW, Path("flow.py"), None, reuse)
    for edited in (MEMBERS_BELOW.replace("self.x = 1", "self.x = 1\n        self.y = 2"),
                   MEMBERS_BELOW.replace("self.x = 1", "self.x = 1\n        self.y = 2\n        self.z = 3"),
                   MEMBERS_BELOW.replace("self.x = 1\n", "")):
        parses = reuse.full_parses
        kept = parse_module(edited, Path("flow.py"), None, reuse)
        assert reuse.full_parses == parses
        assert model_of(kept) == model_of(parse_module(edited, Path("flow.py")))


def test_a_step_that_moves_is_read_again():
    """Positions are part of what is reused: a step pushed down by a new line gets fresh spans."""
    source = (TUTORIALS / "00-helloworld" / "helloworld.py").read_text()
    reuse = NodeReuse()
    first = parse_module(source, None, None, reuse).flows[0].steps["end"]
    moved = parse_module(source.replace("class HelloFlow", "\nclass HelloFlow"), None, None, reuse)
    assert moved.flows[0].steps["end"].span.line == first.span.line + 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit_sequences())
def test_the_model_after_edits_equals_a_fresh_parse(versions):
    # A keystroke in one step updates the model of its class rather than reading the class again.
    # A line added or removed in one moves the later ones in place; every position must move with them.
    reuse = NodeReuse()
    for text in versions:
        kept, fresh = parse_module(text, Path("flow.py"), None, reuse), parse_module(text, Path("flow.py"))
        assert model_of(kept) == model_of(fresh)


def model_of(module) -> list:
    """Everything the model says of a module's flows, positions included."""
    def step_of(s):
        return (s.name, s.span, s.owner, [(d.qualified, d.span) for d in s.decorators],
                [(t.kind, t.span, t.targets, t.conditional) for t in s.transitions],
                [(a.name, a.kind, a.span, a.conditional, a.called) for a in s.accesses],
                s.tail.span if s.tail else None, s.is_start, s.is_end)
    return [(f.name, f.span, [step_of(s) for s in f.steps.values()],
             [(p.attr, p.span, p.kind) for p in f.parameters.values()], sorted(f.methods),
             sorted(f.class_attributes.items()), [(d.qualified, d.span) for d in f.decorators])
            for f in module.flows] + [
        sorted((n, i.span) for n, i in module.functions.items()), sorted((n, i.span) for n, i in module.classes.items()),
        sorted(module.constants.items()), [(i.bound_name, i.span) for i in module.imports], sorted(module.main_calls)]
