"""Bad input gets a clear answer, never a crash, a hang or a corrupted file.

Line breaks: Python and LSP end lines at \\n, \\r\\n and \\r only; a quick fix that counted lines as `str.splitlines`
does (form feeds, \\x0b, \\x1c-\\x1e, \\x85, \\u2028, \\u2029) edited the wrong lines. The property tests put those
characters where Python allows them (comments, strings, a form feed before a statement) and check that every fix,
applied as an editor applies its edits, gives exactly the fixed text with every one of them kept.
"""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from hostile import NOT_LINE_BREAKS, apply_text_edits, lsp_lines
from metaflow_lsp.lsp.code_actions import text_edits
from metaflow_lsp.refactor import fixes

FIXABLE = textwrap.dedent('''
    from metaflow import FlowSpec, retry, step


    class TrainFlow(FlowSpec):
        """Trains."""

        @retry(times=9)
        @step
        def start(self):
            self.rows = "many"
            self.next(self.end)

        @step
        def end(self):
            pass
''').lstrip("\n")
LINES = FIXABLE.split("\n")

junk = st.text(st.sampled_from([*NOT_LINE_BREAKS, "a", " ", "é", "🚀"]), min_size=1, max_size=6)


@st.composite
def hostile_flow(draw) -> tuple[str, str, list[str]]:
    """(FIXABLE with the characters added, the marker-free text, the pieces added): comments at line ends and on
    lines of their own, a form feed before a statement, inside the string literal."""
    lines = list(LINES)
    pieces: list[str] = []
    for index in sorted(draw(st.sets(st.integers(0, len(LINES) - 2), min_size=1, max_size=8)), reverse=True):
        line = lines[index]
        kind = draw(st.sampled_from(["trailing", "own line", "form feed", "string"]))
        text = draw(junk)
        if kind == "trailing" and line.strip():
            piece = f"  # j{index} {text}"
            lines[index] = line + piece
        elif kind == "string" and '"many"' in line:
            piece = f"j{index}{text}"
            lines[index] = line.replace('"many"', f'"many{piece}"')
        elif kind == "form feed" and line.strip() and not line.startswith(" "):
            piece = "\x0c"
            lines[index] = piece + line
        else:
            indent = line[: len(line) - len(line.lstrip())]
            piece = f"{indent}# j{index} {text}\n"
            lines[index] = piece + line
        pieces.append(piece)
    return "\n".join(lines), pieces


def _without(text: str, pieces: list[str]) -> str:
    for piece in pieces:
        assert piece in text, f"{piece!r} was lost"
        text = text.replace(piece, "", 1)
    return text


def _as_editor_applies(old: str, new: str) -> str:
    return apply_text_edits(old, text_edits(old, new))


def _count(text: str) -> dict[str, int]:
    return {char: text.count(char) for char in NOT_LINE_BREAKS}


@settings(max_examples=150, deadline=None)
@given(hostile_flow())
def test_fix_all_keeps_every_other_character(case):
    source, pieces = case
    ast.parse(source)  # the generator only writes valid Python
    clean_plan, _ = fixes.fix_all(FIXABLE, fixes.FixContext(None))
    plan, remaining = fixes.fix_all(source, fixes.FixContext(None))
    if "\x0c" in pieces:  # libcst cannot give such a line back: the file is left alone, the findings stay
        assert plan.changes == [] and {"MF103", "MF112"} <= {f.code for f in remaining}
        return
    assert plan.fixed == clean_plan.fixed
    fixed = _as_editor_applies(source, plan.changes[0].new)
    ast.parse(fixed)
    assert _count(fixed) == _count(source)
    assert _without(fixed, pieces) == clean_plan.changes[0].new


@settings(max_examples=150, deadline=None)
@given(hostile_flow(), st.integers(0, len(LINES) - 2))
def test_noqa_lands_on_the_line_the_editor_shows(case, line):
    source, _ = case
    shown = lsp_lines(source)
    if not shown[line].strip() or shown[line].lstrip(" \x0c").startswith("#"):
        line = next(n for n, text in enumerate(shown) if text.strip().startswith("@retry"))
    try:
        new = fixes.add_noqa(source, line, "MF103")
    except fixes.FixError:  # refused (a line inside the docstring): nothing written is fine
        return
    fixed = lsp_lines(_as_editor_applies(source, new))
    ast.parse("".join(fixed))
    assert "# noqa: MF103" in fixed[line] or "MF103" in fixed[line]
    assert fixed[:line] + fixed[line + 1:] == shown[:line] + shown[line + 1:]
