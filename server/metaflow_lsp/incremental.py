"""Re-parsing only the method a keystroke is in.

Typing changes one line inside one step. When the edit (the lines that differ from the previous version) lies inside
one method of a top-level class and keeps the line count, only that method's lines are parsed again, and the new
tree is the previous one with that method replaced. Anything else (an edit between methods, a line added or removed,
a method that no longer parses on its own) returns None and the caller parses the whole text.

Why this gives exactly the tree a full parse would: the lines before the method and after it are unchanged, the
method starts a logical line at the same indentation, and its new text parses on its own as one complete definition
(no string or bracket left open, no line ending in a backslash), so the tokenizer is in the same state at both ends as it was in the previous
version. The method is parsed at its own indentation, under an `if 1:` line, so columns and string contents are the
file's; only line numbers are shifted back in place.
"""

from __future__ import annotations

import ast
import copy

_Method = (ast.FunctionDef, ast.AsyncFunctionDef)


def reparse_edited_method(old_lines: list[str], old_tree: ast.Module, new_lines: list[str]) -> ast.Module | None:
    """The tree of `new_lines`, built from `old_tree` (the tree of `old_lines`), or None when only a full parse can
    tell. The previous tree is not modified: the new one shares every node but the edited method and its class."""
    if len(old_lines) != len(new_lines):
        return None
    first = _first_difference(old_lines, new_lines)
    if first is None:
        return old_tree
    last = len(new_lines) - 1 - _first_difference(old_lines[::-1], new_lines[::-1])
    found = _method_spanning(old_tree, first, last)
    if found is None:
        return None
    class_index, member_index, start, end = found
    if any(line.endswith("\\") for line in new_lines[start:end + 1]):
        # A backslash joins two lines into one logical line, whose indentation is its first line's: at either end
        # of the method that mixes in text outside what is re-parsed, and inside it a full parse is simply safer.
        return None
    old_method = old_tree.body[class_index].body[member_index]
    new_method = _parse_method(new_lines[start:end + 1], start)
    if new_method is None or new_method.col_offset != old_method.col_offset:
        return None
    old_class = old_tree.body[class_index]
    new_class = copy.copy(old_class)
    new_class.body = list(old_class.body)
    new_class.body[member_index] = new_method
    if member_index == len(new_class.body) - 1:  # the class ends where its last method ends
        new_class.end_lineno, new_class.end_col_offset = new_method.end_lineno, new_method.end_col_offset
    new_tree = ast.Module(body=list(old_tree.body), type_ignores=old_tree.type_ignores)
    new_tree.body[class_index] = new_class
    return new_tree


def _first_difference(old: list[str], new: list[str], chunk: int = 256) -> int | None:
    """The first index where two lists of the same length differ, or None. Chunks are compared by the list's own
    (C) equality, then the differing chunk line by line: a keystroke in a 5,000-line file costs microseconds here."""
    for start in range(0, len(old), chunk):
        if old[start:start + chunk] != new[start:start + chunk]:
            return next(i for i in range(start, min(start + chunk, len(old))) if old[i] != new[i])
    return None


def _method_spanning(tree: ast.Module, first: int, last: int) -> tuple[int, int, int, int] | None:
    """(class index, member index, first line, last line) of the top-level class method whose lines, decorators
    included, hold lines `first` to `last` (0-based)."""
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
