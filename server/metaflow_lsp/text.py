"""Source positions.

Python's `ast` reports columns as UTF-8 byte offsets; LSP wants UTF-16 code units and people (and the CLI) count
characters. Every position inside the model is a `Span` in ast terms (0-based line, UTF-8 byte column), and is
converted once, at the edge, through a `LineIndex` of the same text.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True, slots=True)
class Span:
    """A range in the source: 0-based lines, UTF-8 byte columns, end exclusive."""

    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def of(cls, node: ast.AST) -> "Span":
        end_line = getattr(node, "end_lineno", None) or node.lineno
        end_col = getattr(node, "end_col_offset", None)
        return cls(node.lineno - 1, node.col_offset, end_line - 1, node.col_offset if end_col is None else end_col)

    @classmethod
    def of_name(cls, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> "Span":
        """The span of the name after `def` / `class`: what an editor should underline for the whole definition."""
        keyword = "class " if isinstance(node, ast.ClassDef) else ("async def " if isinstance(node, ast.AsyncFunctionDef) else "def ")
        col = node.col_offset + len(keyword)
        return cls(node.lineno - 1, col, node.lineno - 1, col + len(node.name.encode()))

    @classmethod
    def line_start(cls, line: int) -> "Span":
        return cls(line, 0, line, 0)


# Python and LSP both end a line at \r\n, \n or a lone \r, and nowhere else: `str.splitlines` also breaks at form
# feeds, vertical tabs, \x1c-\x1e, \x85, \u2028 and \u2029, which would put every later line off by one.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_WITH_BREAK = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of `text` as Python and LSP count them. Use this, never `str.splitlines`, for source text.

    Like `splitlines`: `keepends=True` keeps each line's break, and "".join() of the result gives `text` back; a
    text ending in a line break has no empty last line. `LineIndex.lines` differs on purpose: it always has the last
    (possibly empty) line, the one a cursor can stand on."""
    if keepends:
        return _LINE_WITH_BREAK.findall(text)
    lines = _LINE_BREAK.split(text) if "\r" in text else text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class LineIndex:
    """Converts byte columns of one text into UTF-16 (LSP) or code point (CLI) columns, and back."""

    def __init__(self, text: str):
        self.text = text

    @cached_property
    def lines(self) -> list[str]:
        if "\r" not in self.text:
            return self.text.split("\n")
        return _LINE_BREAK.split(self.text)

    def line(self, number: int) -> str:
        lines = self.lines
        return lines[number] if 0 <= number < len(lines) else ""

    def utf16_col(self, line: int, byte_col: int) -> int:
        text = self.line(line)
        if text.isascii():
            return min(byte_col, len(text))
        prefix = text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore")
        return len(prefix.encode("utf-16-le")) // 2

    def char_col(self, line: int, byte_col: int) -> int:
        text = self.line(line)
        if text.isascii():
            return min(byte_col, len(text))
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def clamp(self, span: Span) -> Span:
        """Keep a span inside the document, whatever a rule computed."""
        last = max(len(self.lines) - 1, 0)
        line = min(max(span.line, 0), last)
        end_line = min(max(span.end_line, line), last)
        col = min(max(span.col, 0), len(self.line(line).encode()))
        end_col = min(max(span.end_col, 0), len(self.line(end_line).encode()))
        if end_line == line and end_col < col:
            end_col = col
        return Span(line, col, end_line, end_col)
