"""Re-parsing only the edited method gives exactly the tree a full parse gives, or declines (None) and the whole text
is parsed: never a different tree."""

from __future__ import annotations

import ast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, TUTORIALS
from metaflow_lsp.incremental import reparse_edited_method
from metaflow_lsp.text import LineIndex

# Random edits make invalid escapes such as "\\s" in strings: Python warns about them while parsing, whichever parse.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SOURCES = sorted(p.read_text() for p in [*TUTORIALS.glob("*/*.py"), *(FIXTURES / "rules").glob("MF1*/*.py")])
# What typing puts on one line, including pieces that open a string or a bracket the rest of the file never closes.
PIECES = ["x", " ", "self.", "(", ")", ":", "#", '"""', "'", "\\", "    ", "def f(self):", "@step", "\t", "é"]

FLOW = '''\
from metaflow import FlowSpec, step


class EditedFlow(FlowSpec):
    @step
    def start(self):
        self.x = 1
        self.next(self.end)

    @step
    def end(self):
        print(self.x)
'''


def lines_of(text: str) -> list[str]:
    return LineIndex(text).lines


def dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def reparsed(old: str, new: str) -> ast.Module | None:
    result = reparse_edited_method(lines_of(old), ast.parse(old), lines_of(new))
    return result.tree if result is not None else None


@st.composite
def one_line_edits(draw):
    source = draw(st.sampled_from(SOURCES))
    lines = lines_of(source)
    number = draw(st.integers(0, len(lines) - 1))
    line = lines[number]
    start = draw(st.integers(0, len(line)))
    end = draw(st.integers(start, min(len(line), start + 8)))
    lines[number] = line[:start] + draw(st.sampled_from(PIECES + [""])) + line[end:]
    return source, "\n".join(lines)


@st.composite
def line_count_edits(draw):
    """Enter pressed anywhere (the new line indented like the one it splits, or not), lines pasted, or lines
    deleted: the later lines move."""
    source = draw(st.sampled_from(SOURCES))
    lines = lines_of(source)
    number = draw(st.integers(0, len(lines) - 1))
    line = lines[number]
    kind = draw(st.sampled_from(["enter", "paste", "delete"]))
    if kind == "enter":
        at = draw(st.integers(0, len(line)))
        indent = line[:len(line) - len(line.lstrip())] if draw(st.booleans()) else ""
        lines[number:number + 1] = [line[:at], indent + line[at:]]
    elif kind == "paste":
        pasted = draw(st.lists(st.sampled_from(lines + ["", "        self.y = 2", "    @step"]), min_size=1, max_size=4))
        lines[number:number] = pasted
    else:
        del lines[number:number + draw(st.integers(1, 3))]
    return source, "\n".join(lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(one_line_edits(), line_count_edits()))
def test_a_reparsed_tree_is_the_tree_of_a_full_parse(edit):
    old, new = edit
    tree = reparsed(old, new)
    try:
        expected = ast.parse(new)
    except SyntaxError:
        assert tree is None  # a text that does not parse is never given a tree
        return
    if tree is not None:
        assert dump(tree) == dump(expected)


def test_an_edit_inside_a_step_reparses_that_step_only():
    old_tree = ast.parse(FLOW)
    new = FLOW.replace("self.x = 1", "self.x = 12")
    result = reparse_edited_method(lines_of(FLOW), old_tree, lines_of(new))
    assert result is not None and result.move is None
    tree = result.tree
    assert dump(tree) == dump(ast.parse(new))
    old_class, new_class = old_tree.body[1], tree.body[1]
    assert new_class.body[0] is not old_class.body[0]  # start, edited
    assert new_class.body[1] is old_class.body[1]  # end, the same node
    assert dump(old_tree) == dump(ast.parse(FLOW))  # the previous version's tree is left as it was


def test_a_line_added_inside_a_step_moves_the_later_nodes_in_place():
    old_tree = ast.parse(FLOW)
    end = old_tree.body[1].body[1]
    new = FLOW.replace("self.x = 1", "self.x = 1\n        self.y = 2\n")
    result = reparse_edited_method(lines_of(FLOW), old_tree, lines_of(new))
    assert result is not None and result.move is not None and result.moved_after == 7
    assert (result.move.first, result.move.last, result.move.delta) == (7, 6, 2)  # two lines inserted before line 7
    assert dump(result.tree) == dump(ast.parse(new))
    assert result.tree.body[1].body[1] is end and end.lineno == 13  # the same node, two lines lower (was 11)


def test_a_line_removed_inside_a_step_moves_the_later_nodes_up():
    new = FLOW.replace("        self.x = 1\n", "")
    result = reparse_edited_method(lines_of(FLOW), ast.parse(FLOW), lines_of(new))
    assert result is not None and result.move is not None and result.move.delta == -1
    assert dump(result.tree) == dump(ast.parse(new))


def test_moving_uses_the_flattened_nodes_it_is_given():
    """The server passes the nodes it flattened for its rules: moving a method then walks no tree."""
    from metaflow_lsp.walk import flatten

    old_tree = ast.parse(FLOW)
    end = old_tree.body[1].body[1]
    given = {id(end): flatten(end)}
    asked = []
    new = FLOW.replace("self.x = 1", "self.x = 1\n        self.y = 2")
    result = reparse_edited_method(lines_of(FLOW), old_tree, lines_of(new),
                                   lambda node: asked.append(node) or given.get(id(node)))
    assert result is not None and end in asked
    assert dump(result.tree) == dump(ast.parse(new))


def test_the_last_method_of_a_class_moves_the_class_end():
    new = FLOW.replace("print(self.x)", "print(self.x, 1)")
    tree = reparsed(FLOW, new)
    assert tree is not None and tree.body[1].end_col_offset == ast.parse(new).body[1].end_col_offset


def test_an_unchanged_text_keeps_its_tree():
    tree = ast.parse(FLOW)
    result = reparse_edited_method(lines_of(FLOW), tree, lines_of(FLOW))
    assert result is not None and result.tree is tree


def test_what_only_a_full_parse_can_tell_is_declined():
    cases = {
        "a method added": FLOW.replace("        self.next(self.end)\n", "        self.next(self.end)\n\n    def f(self):\n        pass\n"),
        "a step's lines deleted with its neighbour's": FLOW.replace("        self.next(self.end)\n\n    @step\n", ""),
        "an edit between methods": FLOW.replace("\n\n    @step\n    def end", "\n#\n    @step\n    def end"),
        "a string opened in a step": FLOW.replace("self.x = 1", 'self.x = """1'),
        "a bracket opened in a step": FLOW.replace("self.x = 1", "self.x = (1"),
        "a step pulled out of the class": FLOW.replace("    def start(self):", "def start(self):"),
        "an edit at module level": FLOW.replace("import FlowSpec, step", "import FlowSpec, step, card"),
        "a second definition in the step's lines": FLOW.replace("        self.next(self.end)", "    x = 1"),
        "a backslash continuing the step's last line": FLOW.replace("print(self.x)", "print(self.x) \\"),
        "a backslash joining a line to the def": FLOW.replace("    @step\n    def end", " \\\n    def end"),
    }
    for case, new in cases.items():
        assert reparsed(FLOW, new) is None, case
