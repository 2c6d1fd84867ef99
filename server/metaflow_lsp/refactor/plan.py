"""What a fix produces: a plan of whole-file changes, and the smallest line edits that turn one text into another.

A fix computes the new text of every file it touches (with libcst for Python, as plain text for .gitignore); the
language server and `metaflow-lsp fix` then turn each change into edits. Nothing here imports libcst, so the code
action list can use these types without paying for it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from ..text import split_lines


class FixError(Exception):
    """A fix cannot be made safely; the message says why, in words for the user."""


@dataclass(frozen=True)
class FileChange:
    path: Path
    old: str | None  # None: the file does not exist yet
    new: str

    @property
    def is_new(self) -> bool:
        return self.old is None


@dataclass
class FixPlan:
    title: str
    changes: list[FileChange] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)  # codes fixed (fixAll, `metaflow-lsp fix`)

    @property
    def creates_files(self) -> bool:
        return any(change.is_new for change in self.changes)

    def change_for(self, path: Path) -> FileChange | None:
        return next((c for c in self.changes if c.path == path), None)


@dataclass(frozen=True)
class LineEdit:
    """Replace lines [start, end) of the old text (0-based) with `text` (whole lines, newlines included)."""

    start: int
    end: int
    text: str


def line_edits(old: str, new: str) -> list[LineEdit]:
    """The smallest whole-line replacements turning `old` into `new`, in document order, not overlapping.

    Whole lines keep the edit free of column arithmetic (UTF-8 vs UTF-16) and leave the editor's cursor, folds and
    breakpoints alone everywhere the fix does not touch.
    """
    old_lines = split_lines(old, keepends=True)
    new_lines = split_lines(new, keepends=True)
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(LineEdit(i1, i2, "".join(new_lines[j1:j2])))
    return edits


def unified_diff(change: FileChange, label: str | None = None) -> str:
    name = label or str(change.path)
    return "".join(difflib.unified_diff(split_lines(change.old or "", keepends=True),
                                        split_lines(change.new, keepends=True),
                                        "/dev/null" if change.is_new else f"a/{name}", f"b/{name}"))


def apply_line_edits(old: str, edits: list[LineEdit]) -> str:
    """What a client does with `line_edits`: used by tests and as a self-check."""
    lines = split_lines(old, keepends=True)
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        lines[edit.start:edit.end] = [edit.text]
    return "".join(lines)
