"""Positions between the model and LSP: a `Span` (0-based lines, UTF-8 byte columns) becomes a `types.Range` in the
position encoding the server negotiated with the client.

pygls picks the encoding at `initialize` (`ServerCapabilitiesBuilder.choose_position_encoding`): the first of the
client's `general.positionEncodings` that it supports (utf-8, utf-16, utf-32), UTF-16 when the client offers none
(the LSP default). Every feature that sends a range (diagnostics, code actions, code lenses) converts here with the
encoding from `encoding_of(server)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..text import LineIndex, Span, split_lines

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

UTF16 = types.PositionEncodingKind.Utf16


def encoding_of(server: MetaflowLanguageServer) -> str:
    """The position encoding negotiated with the client (UTF-16 before `initialize` or when none was offered)."""
    return server.workspace.position_encoding or UTF16


def column(lines: LineIndex, line: int, byte_col: int, encoding: str = UTF16) -> int:
    """The column of byte `byte_col` of `line`, counted in `encoding`'s code units."""
    if encoding == types.PositionEncodingKind.Utf8:
        return byte_col
    if encoding == types.PositionEncodingKind.Utf32:
        return lines.char_col(line, byte_col)
    return lines.utf16_col(line, byte_col)


def to_range(span: Span, lines: LineIndex, encoding: str = UTF16) -> types.Range:
    return types.Range(start=types.Position(line=span.line, character=column(lines, span.line, span.col, encoding)),
                       end=types.Position(line=span.end_line,
                                          character=column(lines, span.end_line, span.end_col, encoding)))


def line_start(text: str, line: int, encoding: str = UTF16) -> types.Position:
    """The position of the start of `line` of `text`; past the last line, the end of the document (where an edit
    that appends lines starts and ends)."""
    lines = split_lines(text, keepends=True)
    if line < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(line=line, character=0)
    last = lines[-1]
    width = column(LineIndex(last), 0, len(last.encode()), encoding)
    return types.Position(line=len(lines) - 1, character=width)


def char_index(line: str, character: int, encoding: str = UTF16) -> int:
    """The index in `line` (code points, without its line break) of a client's column in `encoding`'s units,
    clamped to the line; a column inside a character's units counts as before it."""
    if encoding == types.PositionEncodingKind.Utf32 or line.isascii():
        return min(max(character, 0), len(line))
    if encoding == types.PositionEncodingKind.Utf8:
        return len(line.encode()[:max(character, 0)].decode(errors="ignore"))
    return len(line.encode("utf-16-le")[:2 * max(character, 0)].decode("utf-16-le", errors="ignore"))


def byte_column(lines: LineIndex, position: types.Position, encoding: str = UTF16) -> int:
    """The UTF-8 byte column of a client's position (the inverse of `column`), clamped to the line."""
    text = lines.line(position.line)
    if encoding == types.PositionEncodingKind.Utf8:
        return min(position.character, len(text.encode()))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text[: position.character].encode())
    units = text.encode("utf-16-le")[: position.character * 2]
    return len(units.decode("utf-16-le", errors="ignore").encode())
