"""Re-parsing only the method a keystroke is in.

Typing changes lines inside one step. When the edit (the lines that differ from the previous version) lies inside
one method of a top-level class, only that method's lines are parsed again, and the new tree is the previous one with
that method replaced. When the edit added or removed lines, every node after the method is moved by that many lines,
in place (`Reparsed.move`). Anything else (an edit between methods, a method that no longer parses on its own)
returns None and the caller parses the whole text.

Why this gives exactly the tree a full parse would: the lines before the method and after it are unchanged, the
method starts a logical line at the same indentation, and its new text parses on its own as one complete definition
(no string or bracket left open, no line ending in a backslash), so the tokenizer is in the same state at both ends as
it was in the previous version. The method is parsed at its own indentation, under an `if 1:` line, so columns and
string contents are the file's; only line numbers are shifted back.

Moving the later nodes in place, rather than copying them, keeps their identity, and with it everything computed from
them (`reuse`); the model reads positions from nodes (`model`), so it moves with them. The previous tree is left
inconsistent: it is the previous version, which only `reuse` keeps, to compare node identities.
"""

from __future__ import annotations

import ast
import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass

from .text import Span

_Method = (ast.FunctionDef, ast.AsyncFunctionDef)
_Definition = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TYPE_PARAMS = sys.version_info >= (3, 12)

NodesOf = Callable[[ast.AST], "list[ast.AST] | None"]


@dataclass(frozen=True, slots=True)
class LineMove:
    """Where an edit that added or removed lines left the previous version's lines: lines `first` to `last`
    (0-based; `last` is `first - 1` when lines were only inserted) were replaced, and every later line moved by
    `delta`."""

    first: int
    last: int
    delta: int

    def line(self, line: int) -> int | None:
        """Where a line of the previous version is now; None for a replaced one."""
        if line < self.first:
            return line
        return line + self.delta if line > self.last else None

    def span(self, span: Span) -> Span | None:
        line, end_line = self.line(span.line), self.line(span.end_line)
        if line is None or end_line is None:
            return None
        return span if line == span.line and end_line == span.end_line else Span(line, span.col, end_line,
                                                                                span.end_col)


@dataclass(frozen=True, slots=True)
class Reparsed:
    tree: ast.Module
    move: LineMove | None = None  # when the edit added or removed lines
    moved_after: int = 0  # the 0-based line, in the previous version, after which every node moved


def reparse_edited_method(old_lines: list[str], old_tree: ast.Module, new_lines: list[str],
                          nodes_of: NodesOf = lambda node: None) -> Reparsed | None:
    """The tree of `new_lines`, built from `old_tree` (the tree of `old_lines`), or None when only a full parse can
    tell. The new tree shares every node but the edited method and its class; `nodes_of(node)`, when it knows them,
    gives every node under a method (`walk.flatten`'s list), which saves walking it again to move it."""
    first = _common_prefix(old_lines, new_lines)
    if first == len(old_lines) == len(new_lines):
        return Reparsed(old_tree)
    room = min(len(old_lines), len(new_lines)) - first
    same_end = _common_prefix(old_lines[len(old_lines) - room:][::-1], new_lines[len(new_lines) - room:][::-1])
    delta = len(new_lines) - len(old_lines)
    # The edit replaced old lines first..last_old (none when it only inserted) by new ones.
    last_old = len(old_lines) - same_end - 1
    found = _method_spanning(old_tree, first, last_old)
    if found is None:
        return None
    class_index, member_index, start, end = found
    new_end = end + delta
    if new_end < start or any(line.endswith("\\") for line in new_lines[start:new_end + 1]):
        # A backslash joins two lines into one logical line, whose indentation is its first line's: at either end
        # of the method that mixes in text outside what is re-parsed, and inside it a full parse is simply safer.
        return None
    old_class = old_tree.body[class_index]
    old_method = old_class.body[member_index]
    new_method = _parse_method(new_lines[start:new_end + 1], start)
    if new_method is None or new_method.col_offset != old_method.col_offset:
        return None
    new_class = copy.copy(old_class)
    new_class.body = list(old_class.body)
    new_class.body[member_index] = new_method
    if member_index == len(new_class.body) - 1:  # the class ends where its last method ends
        new_class.end_lineno, new_class.end_col_offset = new_method.end_lineno, new_method.end_col_offset
    elif delta:
        new_class.end_lineno = (old_class.end_lineno or old_class.lineno) + delta
    new_tree = ast.Module(body=list(old_tree.body), type_ignores=old_tree.type_ignores)
    new_tree.body[class_index] = new_class
    if delta:  # (`type_ignores` is empty: the file is parsed without type comments)
        for node in [*old_class.body[member_index + 1:], *old_tree.body[class_index + 1:]]:
            _move(node, delta, nodes_of)
    return Reparsed(new_tree, LineMove(first, last_old, delta) if delta else None, end)


def _common_prefix(old: list[str], new: list[str], chunk: int = 256) -> int:
    """How many first lines two lists share. Chunks are compared by the list's own (C) equality, then the differing
    chunk line by line: a keystroke in a 5,000-line file costs microseconds here."""
    size = min(len(old), len(new))
    for start in range(0, size, chunk):
        stop = min(start + chunk, size)
        if old[start:stop] != new[start:stop]:
            return next(i for i in range(start, stop) if old[i] != new[i])
    return size


def _method_spanning(tree: ast.Module, first: int, last: int) -> tuple[int, int, int, int] | None:
    """(class index, member index, first line, last line) of the top-level class method whose lines, decorators
    included, hold lines `first` to `last` (0-based; `last` is `first - 1` for lines inserted before `first`)."""
    for class_index, statement in enumerate(tree.body):
        if not isinstance(statement, ast.ClassDef) or not statement.lineno - 1 <= first <= (statement.end_lineno or 0):
            continue
        for member_index, member in enumerate(statement.body):
            if isinstance(member, _Method):
                start = min([member.lineno] + [d.lineno for d in member.decorator_list]) - 1
                if start <= first and last <= (member.end_lineno or member.lineno) - 1:
                    return class_index, member_index, start, (member.end_lineno or member.lineno) - 1
        return None
    return None


def _parse_method(lines: list[str], start: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The one definition `lines` hold, with the line numbers it has in the file (its first line is `start`)."""
    try:
        wrapper = ast.parse("if 1:\n" + "\n".join(lines) + "\n")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body = wrapper.body[0].body if len(wrapper.body) == 1 and isinstance(wrapper.body[0], ast.If) else []
    if len(body) != 1 or not isinstance(body[0], _Method):
        return None
    return ast.increment_lineno(body[0], start - 1)  # the wrapper's line 2 is the file's line start + 1


def _move(root: ast.AST, delta: int, nodes_of: NodesOf) -> None:
    """Moves every node under `root` by `delta` lines, in place."""
    nodes = nodes_of(root)
    if nodes is None:
        nodes = list(ast.walk(root))
    elif _TYPE_PARAMS:  # `walk.flatten` leaves out type parameters (`def f[T]()`), which have positions too
        nodes = nodes + [n for d in nodes if type(d) in _Definition for p in d.type_params for n in ast.walk(p)]
    for node in nodes:
        try:
            node.lineno += delta
            node.end_lineno += delta
        except AttributeError:  # a node without a position (`arguments`, `comprehension`, `Load`, ...)
            pass
