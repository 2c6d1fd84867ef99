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
    reuse = NodeReuse()
    for text in versions:
        kept, fresh = parse_module(text, Path("flow.py"), None, reuse), parse_module(text, Path("flow.py"))
        assert [(f.name, list(f.steps), [s.span for s in f.steps.values()], list(f.parameters), sorted(f.methods),
                 list(f.class_attributes)) for f in kept.flows] == \
               [(f.name, list(f.steps), [s.span for s in f.steps.values()], list(f.parameters), sorted(f.methods),
                 list(f.class_attributes)) for f in fresh.flows]
