"""Property tests: real flows cut, stuffed and torn apart never crash the engine or the server, and every diagnostic
stays inside the document as the editor counts it (LSP lines end at \\n, \\r\\n or \\r; columns in UTF-16 units).

(1) many examples straight through `engine.check_source` and the LSP conversion; (2) fewer through the real server,
as incremental `didChange` edits followed by a pull.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from conftest import FIXTURES, TUTORIALS
from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.lsp.diagnostics import to_diagnostics
from metaflow_lsp.lsp.server import MAX_SOURCE_CHARS
from test_lsp_session import capabilities, pull, session

LINE_BREAK = re.compile(r"\r\n|\r|\n")
CORPUS = sorted({p for p in [*TUTORIALS.glob("*/*.py"), *FIXTURES.rglob("*.py")]})
SOURCES = [p.read_bytes().decode("utf-8", errors="replace") for p in CORPUS]
SNIPPETS = ["self.next(", "self.next(self.end)", "@step\n", "def ", "class X(FlowSpec):\n", "    ", "\t", "(", ")",
            "[", "]", "{", ":", "'", '"', '"""', "\\", "#", "# noqa: MF011", "\n", "\r\n", "\r", "é", "🚀", "\u200d",
            "\ufffd", "foreach=", "self.input", "@retry(times=9)\n", "@pypi(packages={'x': ''})\n", "lambda: 0",
            "from metaflow import *\n", "if True:\n", "    " * 30 + "x\n", "(" * 120, "x" * 500]


def lsp_lines(text: str) -> list[str]:
    return LINE_BREAK.split(text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def assert_inside(diagnostics: list[types.Diagnostic], text: str) -> None:
    lines = lsp_lines(text)
    for diagnostic in diagnostics:
        start, end = diagnostic.range.start, diagnostic.range.end
        assert 0 <= start.line < len(lines) and 0 <= end.line < len(lines), (diagnostic, len(lines))
        assert (start.line, start.character) <= (end.line, end.character), diagnostic
        assert 0 <= start.character <= utf16_len(lines[start.line]), (diagnostic, lines[start.line])
        assert 0 <= end.character <= utf16_len(lines[end.line]), (diagnostic, lines[end.line])


@st.composite
def mangled(draw) -> str:
    """A real flow after a few random truncations, insertions and deletions."""
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["truncate", "insert", "insert", "delete", "delete"]))
        at = draw(st.integers(0, len(text)))
        if kind == "truncate":
            text = text[:at]
        elif kind == "insert":
            piece = draw(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=8)))
            text = text[:at] + piece + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 80)):]
    return text


def check(text: str) -> list[types.Diagnostic]:
    result = check_source(text, Path("flow.py"), Settings())
    return to_diagnostics(result, Settings(), MAX_SOURCE_CHARS)


def test_corpus_is_real():
    assert len(SOURCES) > 20 and any("FlowSpec" in s for s in SOURCES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_engine_never_crashes_and_ranges_stay_inside(text):
    assert_inside(check(text), text)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SOURCES), st.integers(0, 10_000))
def test_every_prefix_of_a_flow(text, cut):
    """What an editor sees while a file is typed top to bottom."""
    text = text[: cut % (len(text) + 1)]
    diagnostics = check(text)
    assert_inside(diagnostics, text)
    assert [d.code for d in diagnostics].count("MF000") <= 1


# -- through the server ------------------------------------------------------------------------------------------


def position(text: str, offset: int) -> types.Position:
    before = lsp_lines(text[:offset])
    return types.Position(line=len(before) - 1, character=utf16_len(before[-1]))


@st.composite
def edit_script(draw) -> tuple[str, list[tuple[int, int, str]]]:
    """A flow and a few edits (start offset, end offset, new text), each valid on the text the previous ones left."""
    text = original = draw(st.sampled_from(SOURCES))
    edits = []
    for _ in range(draw(st.integers(1, 5))):
        start = draw(st.integers(0, len(text)))
        end = min(len(text), start + draw(st.integers(0, 60)))
        # Never split a \r\n: the editor would not either.
        if 0 < start < len(text) and text[start - 1] == "\r" and text[start] == "\n":
            start -= 1
        if 0 < end < len(text) and text[end - 1] == "\r" and text[end] == "\n":
            end += 1
        new = draw(st.one_of(st.sampled_from(SNIPPETS), st.just("")))
        edits.append((start, end, new))
        text = text[:start] + new + text[end:]
    return original, edits


async def run_script(root: Path, original: str, edits: list[tuple[int, int, str]]) -> None:
    async with session(root, caps=capabilities()) as client:
        uri = (root / "flow.py").as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=original)))
        assert_inside(list((await pull(client, uri)).items), original)
        text = original
        for version, (start, end, new) in enumerate(edits, start=2):
            change = types.TextDocumentContentChangePartial(
                range=types.Range(start=position(text, start), end=position(text, end)), text=new)
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[change]))
            text = text[:start] + new + text[end:]
            report = await pull(client, uri)
            assert_inside(list(report.items), text)
            # The server holds the same text as the client: the same syntax error, if any, as the engine finds.
            assert [(d.range, d.message) for d in report.items if d.code == "MF000"] == \
                [(d.range, d.message) for d in check(text) if d.code == "MF000"]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(edit_script())
def test_server_survives_random_edits(tmp_path, script):
    original, edits = script
    asyncio.run(asyncio.wait_for(run_script(tmp_path, original, edits), 60))
