"""The server's copy of each open document, kept as LSP defines it.

pygls 2 splits a document into lines with `str.splitlines`, which also breaks at form feeds, vertical tabs,
\\x1c-\\x1e, \\x85, \\u2028 and \\u2029: an incremental change below such a character lands on the wrong line, and the
server then checks text the user never wrote. It also rebuilds the whole text in a Python loop over every line on
each keystroke. `Document` applies a change through LSP's own line breaks (\\r\\n, \\r, \\n: `text.split_lines`),
touching only the lines the change spans and their neighbours; `Workspace` makes pygls create such documents.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace import Workspace as PyglsWorkspace

from ..text import split_lines
from .convert import UTF16, char_index


class Document(TextDocument):
    """A pygls document whose incremental changes are applied on LSP's lines, in time proportional to the change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The lines of `_lines_of` (with their breaks), kept from one change to the next.
        self._lines_cache: list[str] | None = None
        self._lines_of: str | None = None

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self._edit_lines())

    def _edit_lines(self) -> list[str]:
        source = self.source
        if self._lines_cache is None or self._lines_of is not source:
            self._lines_cache, self._lines_of = split_lines(source, keepends=True), source
        return self._lines_cache

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = list(self._edit_lines())
        if not lines or lines[-1].endswith(("\n", "\r")):
            lines.append("")  # the line after the last break, where a cursor can stand
        start_line, start_col = self._index(lines, change.range.start)
        end_line, end_col = self._index(lines, change.range.end)
        if (end_line, end_col) < (start_line, start_col):
            (start_line, start_col), (end_line, end_col) = (end_line, end_col), (start_line, start_col)
        # The lines around the change are split again with it: a "\r" and a "\n" it brings together (or apart) are
        # one line break (or two).
        first, last = max(start_line - 1, 0), min(end_line + 1, len(lines) - 1)
        edited = ("".join(lines[first:start_line]) + lines[start_line][:start_col] + change.text
                  + lines[end_line][end_col:] + "".join(lines[end_line + 1:last + 1]))
        lines[first:last + 1] = split_lines(edited, keepends=True)
        if lines and lines[-1] == "":
            lines.pop()
        self._source = "".join(lines)
        self._lines_cache, self._lines_of = lines, self._source

    def _index(self, lines: list[str], position: types.Position) -> tuple[int, int]:
        """(line, code point index) of a client's position, clamped to the document as pygls clamps it."""
        if position.line >= len(lines):
            return len(lines) - 1, len(lines[-1])
        line = lines[position.line]
        content = line.rstrip("\r\n")
        return position.line, char_index(content, position.character, self._encoding)

    @property
    def _encoding(self) -> str:
        return getattr(self.position_codec, "encoding", None) or UTF16


class Workspace(PyglsWorkspace):
    """pygls's workspace, with `Document`s."""

    def _create_text_document(self, doc_uri: str, source: str | None = None, version: int | None = None,
                               language_id: str | None = None) -> TextDocument:
        return Document(doc_uri, source=source, version=version, language_id=language_id, sync_kind=self._sync_kind,
                        position_codec=self._position_codec)


def use_lsp_lines(workspace: PyglsWorkspace) -> None:
    """Makes pygls's workspace create `Document`s from now on. pygls builds its workspace itself, in `initialize`,
    before the server's handler runs; `Workspace` only overrides the factory of documents (no state of its own), so
    the instance simply becomes one."""
    workspace.__class__ = Workspace
