"""The server's copy of a document after incremental changes is the text the editor has: positions count LSP's
lines (broken only at \\r\\n, \\r and \\n, not at form feeds or \\u2028 as `str.splitlines` breaks) and columns in
the negotiated encoding's units."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import PositionCodec

from metaflow_lsp.lsp.documents import Document

ENCODINGS = [types.PositionEncodingKind.Utf16, types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf32]
PIECES = ["a", "bc", " ", "\n", "\r\n", "\r", "\x0c", "\x0b", "\x1c", "\x85", "\u2028", "é", "😋", "日本", "\t"]
UNITS = {types.PositionEncodingKind.Utf16: lambda c: 2 if ord(c) > 0xFFFF else 1,
         types.PositionEncodingKind.Utf8: lambda c: len(c.encode()),
         types.PositionEncodingKind.Utf32: lambda c: 1}


def lsp_lines(text: str) -> list[str]:
    """Each line's content, as LSP counts lines (a text ending in a break has an empty last line)."""
    return re.split(r"\r\n|\r|\n", text)


def offset(text: str, line: int, character: int, encoding: str) -> int:
    """The reference: the offset in `text` of an LSP position, counted character by character."""
    lines = re.split(r"(\r\n|\r|\n)", text)  # contents and breaks, alternating
    position = 0
    for index in range(0, 2 * line, 2):
        position += len(lines[index]) + len(lines[index + 1])
    units = 0
    for char in lines[2 * line]:
        if units + UNITS[encoding](char) > character:
            break
        units += UNITS[encoding](char)
        position += 1
    return position


@st.composite
def change(draw, text: str, encoding: str):
    lines = lsp_lines(text)

    def position():
        line = draw(st.integers(0, len(lines) - 1))
        width = sum(UNITS[encoding](c) for c in lines[line])
        return line, draw(st.integers(0, width))

    start, end = sorted([position(), position()])
    return start, end, "".join(draw(st.lists(st.sampled_from(PIECES), max_size=4)))


@st.composite
def sessions(draw):
    """An encoding, a text, changes typed into it, and the text the editor then has."""
    encoding = draw(st.sampled_from(ENCODINGS))
    initial = text = "".join(draw(st.lists(st.sampled_from(PIECES), max_size=30)))
    changes = []
    for _ in range(draw(st.integers(1, 6))):
        start, end, new = draw(change(text, encoding))
        changes.append((start, end, new))
        text = text[:offset(text, *start, encoding)] + new + text[offset(text, *end, encoding):]
    return encoding, initial, changes, text


def apply(document: Document, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    document.apply_change(types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(*start), end=types.Position(*end)), text=text))


@settings(max_examples=2000, deadline=None)
@given(sessions())
def test_incremental_changes_give_the_editors_text(session):
    encoding, initial, changes, expected = session
    document = Document("file:///flow.py", initial, version=1, position_codec=PositionCodec(encoding=encoding))
    for start, end, text in changes:
        apply(document, start, end, text)
    assert document.source == expected
    assert "".join(document.lines) == expected


def test_a_change_below_a_form_feed_lands_on_its_line():
    document = Document("file:///flow.py", "a\x0cb\nc\n", version=1)
    apply(document, (1, 0), (1, 0), "X")
    assert document.source == "a\x0cb\nXc\n"  # pygls's own documents give "a\x0cXb\nc\n"


def test_a_change_that_joins_a_carriage_return_and_a_line_feed_makes_one_line_break():
    document = Document("file:///flow.py", "\n\n\raa\n", version=1)
    apply(document, (3, 0), (3, 2), "")  # "\r" and "\n" now touch: one break, four lines
    apply(document, (0, 0), (3, 0), "")
    assert document.source == ""


def test_a_change_at_the_end_of_the_text_appends():
    document = Document("file:///flow.py", "a\n", version=1)
    apply(document, (1, 0), (1, 0), "b")
    apply(document, (5, 0), (5, 0), "!")  # past the end: clamped to it, as pygls clamps
    assert document.source == "a\nb!"
