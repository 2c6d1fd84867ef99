"""Diagnostics through the real server: pulled by clients that declare textDocument.diagnostic, pushed to the others."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from metaflow_lsp.rules import RULES
from test_lsp_session import (capabilities, codes, open_document, pull, replace_all, session, wait_for_published,
                              write)

GOOD = '''\
from metaflow import FlowSpec, Parameter, step


class HelloFlow(FlowSpec):
    test_mode = Parameter("test_mode", default=False)

    @step
    def start(self):
        print(self.test_mode)
        self.next(self.middle)

    @step
    def middle(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    HelloFlow()
'''
UNKNOWN_TARGET = "MF011"
BROKEN = GOOD.replace("self.next(self.end)", "self.next(self.nowhere)")
BROKEN_LINE = 13  # 0-based line of `self.next(self.nowhere)`


@pytest.fixture(autouse=True)
def _rules_exist():
    assert UNKNOWN_TARGET in RULES and "MF000" in RULES


def of(code, diagnostics):
    return [d for d in diagnostics if d.code == code]


# -- pull ----------------------------------------------------------------------------------------------------------


async def test_pull_open_change_save(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path) as client:
        uri = open_document(client, path, BROKEN)
        report = await pull(client, uri)
        assert report.kind == "full"
        [diagnostic] = of(UNKNOWN_TARGET, report.items)
        assert diagnostic.range == types.Range(start=types.Position(line=BROKEN_LINE, character=18),
                                               end=types.Position(line=BROKEN_LINE, character=30))
        assert diagnostic.source == "metaflow-lsp"
        assert diagnostic.severity == types.DiagnosticSeverity.Error
        assert diagnostic.code_description.href.endswith("MF011.md")
        assert diagnostic.data["target"] == "nowhere"

        # Same version, same id: unchanged.
        again = await pull(client, uri, report.result_id)
        assert again.kind == "unchanged" and again.result_id == report.result_id

        replace_all(client, uri, GOOD, 2, BROKEN)
        fixed = await pull(client, uri, report.result_id)
        assert fixed.kind == "full" and fixed.result_id != report.result_id
        assert of(UNKNOWN_TARGET, fixed.items) == []

        # Saving may change what other files see: a new id, the same findings.
        path.write_text(GOOD, encoding="utf-8")
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        saved = await pull(client, uri, fixed.result_id)
        assert saved.kind == "full" and of(UNKNOWN_TARGET, saved.items) == []
        assert client.published == []  # a pulling client never gets pushed diagnostics


async def test_pull_of_a_file_not_open_reads_the_disk_and_missing_files_are_empty(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path) as client:
        report = await pull(client, path.as_uri())
        assert codes(of(UNKNOWN_TARGET, report.items)) == [UNKNOWN_TARGET]
        missing = await pull(client, (tmp_path / "gone.py").as_uri())
        assert missing.kind == "full" and list(missing.items) == []


# -- push ----------------------------------------------------------------------------------------------------------


async def test_push_open_change_save_close(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path, BROKEN)
        opened = await wait_for_published(client, uri)
        assert opened.version == 1
        [diagnostic] = of(UNKNOWN_TARGET, opened.diagnostics)
        assert diagnostic.range.start == types.Position(line=BROKEN_LINE, character=18)
        assert diagnostic.data["target"] == "nowhere"

        count = len(client.published)
        replace_all(client, uri, GOOD, 2, BROKEN)
        changed = await wait_for_published(client, uri, after=count)
        assert changed.version == 2 and of(UNKNOWN_TARGET, changed.diagnostics) == []

        count = len(client.published)
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        saved = await wait_for_published(client, uri, after=count)
        assert saved.version == 2

        count = len(client.published)
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        closed = await wait_for_published(client, uri, after=count)
        assert list(closed.diagnostics) == []


async def test_push_drops_outdated_versions(tmp_path):
    path = write(tmp_path, "hello.py", GOOD)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path, GOOD)
        await wait_for_published(client, uri)
        count = len(client.published)
        text = GOOD
        for version in range(2, 32):  # a burst of keystrokes, far faster than the debounce
            new = BROKEN if version % 2 else GOOD
            replace_all(client, uri, new, version, text)
            text = new
        last = await wait_for_published(client, uri, lambda p: p.version == 31, after=count)
        assert codes(of(UNKNOWN_TARGET, last.diagnostics)) == [UNKNOWN_TARGET]
        await asyncio.sleep(0.2)  # anything late would show up now
        burst = [p for p in client.published[count:] if p.uri == uri]
        assert burst[-1].version == 31
        assert len(burst) < 10, "the debounce should coalesce a burst"
        versions = [p.version for p in burst]
        assert versions == sorted(versions)


async def test_syntax_error_while_typing_gives_exactly_one_diagnostic(tmp_path):
    path = write(tmp_path, "hello.py", GOOD)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path, GOOD)
        await wait_for_published(client, uri)
        count = len(client.published)
        # Type `    @step\n    def ` then a half-written signature, one character at a time.
        typed = "    @step\n    def half(self, "
        text = GOOD
        insert_at = text.index("    @step\n    def end")
        line = text[:insert_at].count("\n")
        version = 1
        for index, char in enumerate(typed):
            version += 1
            prefix = typed[:index]
            position = types.Position(line=line + prefix.count("\n"), character=len(prefix.split("\n")[-1]))
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=position, end=position), text=char)]))
            await asyncio.sleep(0.003)
        final = await wait_for_published(client, uri, lambda p: p.version == version, after=count)
        assert codes(final.diagnostics) == ["MF000"]
        assert final.diagnostics[0].message.startswith("Syntax error")
        for params in client.published[count:]:
            assert len(of("MF000", params.diagnostics)) <= 1
            if of("MF000", params.diagnostics):
                assert len(params.diagnostics) == 1


async def test_utf16_columns_after_non_ascii_text(tmp_path):
    line = '        s = "🚀 é"; self.next(self.nowhere)  # 🚀'
    source = GOOD.replace("        print(self.test_mode)\n        self.next(self.middle)",
                          "        print(self.test_mode)\n" + line)
    path = write(tmp_path, "emoji.py", source)
    prefix = line[: line.index("self.nowhere")]
    expected = len(prefix.encode("utf-16-le")) // 2
    assert expected != len(prefix.encode("utf-8")) and expected != len(prefix)
    async with session(tmp_path) as client:
        uri = open_document(client, path, source)
        report = await pull(client, uri)
        [diagnostic] = of(UNKNOWN_TARGET, report.items)
        assert diagnostic.range.start.character == expected
        assert diagnostic.range.end.character == expected + len("self.nowhere")


async def test_noqa_silences_only_the_named_code(tmp_path):
    silenced = BROKEN.replace("self.next(self.nowhere)", "self.next(self.nowhere)  # noqa: MF011")
    other = BROKEN.replace("self.next(self.nowhere)", "self.next(self.nowhere)  # noqa: MF201")
    async with session(tmp_path) as client:
        uri = open_document(client, write(tmp_path, "silenced.py", silenced))
        assert of(UNKNOWN_TARGET, (await pull(client, uri)).items) == []
        uri = open_document(client, write(tmp_path, "other.py", other))
        assert codes(of(UNKNOWN_TARGET, (await pull(client, uri)).items)) == [UNKNOWN_TARGET]


async def test_untitled_document_and_non_utf8_bytes(tmp_path):
    raw = BROKEN.encode().replace(b"def end(self):", b"def end(self):  # caf\xe9")
    path = tmp_path / "latin1.py"
    path.write_bytes(raw)
    async with session(tmp_path) as client:
        report = await pull(client, path.as_uri())  # not open: read from disk, bad bytes replaced
        assert codes(of(UNKNOWN_TARGET, report.items)) == [UNKNOWN_TARGET]
        uri = "untitled:Untitled-1"
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=BROKEN)))
        report = await pull(client, uri)
        assert codes(of(UNKNOWN_TARGET, report.items)) == [UNKNOWN_TARGET]


async def test_huge_file_gets_one_clear_note(tmp_path):
    from metaflow_lsp.lsp.server import MAX_SOURCE_CHARS

    huge = GOOD + "\n".join(f"x_{i} = {i}" for i in range(MAX_SOURCE_CHARS // 8)) + "\n"
    path = write(tmp_path, "huge.py", huge)
    async with session(tmp_path) as client:
        report = await pull(client, open_document(client, path, huge))
        [note] = report.items
        assert note.severity == types.DiagnosticSeverity.Information and "Not checked" in note.message


async def test_watched_file_change_rechecks_open_documents(tmp_path):
    """A base flow edited outside the editor (git checkout): open documents that use it are checked again."""
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path)
        await wait_for_published(client, uri)
        count = len(client.published)
        write(tmp_path, "pyproject.toml", '[tool.metaflow-lsp]\nignore = ["MF011"]\n')
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=(tmp_path / "pyproject.toml").as_uri(), type=types.FileChangeType.Created)]))
        again = await wait_for_published(client, uri, after=count)
        assert of(UNKNOWN_TARGET, again.diagnostics) == []


async def test_a_helper_copied_into_another_flow_file_on_disk_is_seen_at_once(tmp_path):
    """MF401 compares with the project's other flow files: a watched-file event makes a new copy count now, not
    after the index's few seconds of caching."""
    helper = "\n\ndef normalise(rows):\n    total = sum(rows)\n    return [r / total for r in rows]\n"
    path = write(tmp_path, "train.py", GOOD + helper)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        assert "MF401" not in codes((await pull(client, uri)).items)
        other = write(tmp_path, "score.py", GOOD.replace("TrainFlow", "ScoreFlow") + helper)
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=other.as_uri(), type=types.FileChangeType.Created)]))
        assert "MF401" in codes((await pull(client, uri)).items)


async def test_lone_carriage_returns_end_lines(tmp_path):
    """Old Mac line ends: Python and LSP both break lines at a lone \\r; the diagnostic lands on the right line."""
    source = BROKEN.replace("\n", "\r")
    path = tmp_path / "mac.py"
    path.write_bytes(source.encode())
    async with session(tmp_path) as client:
        report = await pull(client, open_document(client, path, source))
        [diagnostic] = of(UNKNOWN_TARGET, report.items)
        assert diagnostic.range.start == types.Position(line=BROKEN_LINE, character=18)
