"""Typing in a 1,000-line flow: every version gets its diagnostics, pushed or pulled, and an outdated version is
never published after a newer one. How fast this is, is measured by benchmarks/bench.py (see the README), not here:
a timed assertion would only measure the machine's load.
"""

from __future__ import annotations

from lsprotocol import types

from test_lsp_session import capabilities, open_document, pull, session, wait_for_published, write

ROUNDS = 25


def thousand_line_flow() -> str:
    lines = ["from metaflow import FlowSpec, Parameter, step", "", "", "class BigFlow(FlowSpec):",
             '    test_mode = Parameter("test_mode", default=False)', ""]
    steps = 82
    for index in range(steps):
        name = "start" if index == 0 else f"step_{index}"
        following = "end" if index == steps - 1 else f"step_{index + 1}"
        lines += ["    @step", f"    def {name}(self):"]
        lines += [f"        self.value_{index}_{j} = {j} * 2  # é" for j in range(8)]
        lines += [f"        self.next(self.{following})", ""]
    lines += ["    @step", "    def end(self):", "        print(self.test_mode)", "", "",
              'if __name__ == "__main__":', "    BigFlow()", ""]
    return "\n".join(lines)


def edit(client, uri: str, version: int, source: str) -> None:
    """Types one character at the end of a step's comment: the flow stays valid (and changes)."""
    line = 6 + 12 * version + 2  # the first body line of step `version`
    text = source.split("\n")[line]
    assert text.startswith("        self.value_"), text
    position = types.Position(line=line, character=len(text.encode("utf-16-le")) // 2)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=position, end=position), text=" ")]))


async def test_push_while_typing(tmp_path):
    source = thousand_line_flow()
    assert 990 <= source.count("\n") <= 1010
    path = write(tmp_path, "big.py", source)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path, source)
        await wait_for_published(client, uri)
        for version in range(2, 2 + ROUNDS):
            count = len(client.published)
            edit(client, uri, version, source)
            published = await wait_for_published(client, uri, lambda p, v=version: p.version == v, after=count)
            assert "MF000" not in [d.code for d in published.diagnostics]
        versions = [p.version for p in client.published if p.uri == uri]
        assert versions == sorted(versions), f"an outdated version was published after a newer one: {versions}"


async def test_pull_while_typing(tmp_path):
    """Pulled with the previous result id, as VS Code pulls: a keystroke that leaves the diagnostics as they were is
    answered "unchanged" (the client keeps what it has, which a fresh pull confirms); one that changes them gets a
    full report with a new id."""
    source = thousand_line_flow()
    path = write(tmp_path, "big.py", source)
    async with session(tmp_path) as client:
        uri = open_document(client, path, source)
        first = await pull(client, uri)
        for version in range(2, 2 + ROUNDS):
            edit(client, uri, version, source)
            result = await pull(client, uri, first.result_id)
            assert result.kind == "unchanged" and result.result_id == first.result_id
        fresh = await pull(client, uri)
        assert fresh.kind == "full" and fresh.items == first.items and "MF000" not in [d.code for d in fresh.items]

        line = source.split("\n").index("        self.value_3_0 = 0 * 2  # é")
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2 + ROUNDS),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=8),
                                  end=types.Position(line=line, character=8)), text="print(self.input)  # ")]))
        changed = await pull(client, uri, first.result_id)
        assert changed.kind == "full" and changed.result_id != first.result_id
        assert [(d.code, d.range.start.line) for d in changed.items if d.code == "MF109"] == [("MF109", line)]


async def test_a_burst_of_keystrokes_is_published_once_for_the_newest_version(tmp_path):
    """Ten changes sent at typing speed, without waiting: the debounce coalesces them, and the diagnostics the
    editor gets are those of the last version, never of one it has already replaced."""
    source = thousand_line_flow()
    path = write(tmp_path, "big.py", source)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path, source)
        await wait_for_published(client, uri)
        count = len(client.published)
        last = 1 + 10
        for version in range(2, last + 1):
            edit(client, uri, version, source)
        await wait_for_published(client, uri, lambda p: p.version == last, after=count)
        burst = [p.version for p in client.published[count:] if p.uri == uri]
        assert burst[-1] == last and burst == sorted(burst), burst
        assert len(burst) <= 5, f"every keystroke was published: {burst}"


async def test_an_edit_below_a_form_feed_lands_where_the_editor_made_it(tmp_path):
    """A form feed (an Emacs page break) is no line break for LSP: a change below it is applied on the line the
    editor names (pygls's own documents put it one line up per form feed)."""
    source = ("from metaflow import FlowSpec, step\n\x0c\n\nclass PageFlow(FlowSpec):\n    @step\n    def start(self):\n"
              "        self.x = 1\n        self.next(self.end)\n\x0c\n    @step\n    def end(self):\n"
              "        print(self.x)\n\n\nif __name__ == \"__main__\":\n    PageFlow()\n")
    path = write(tmp_path, "pages.py", source)
    line = source.split("\n").index("        print(self.x)")
    async with session(tmp_path) as client:
        uri = open_document(client, path, source)
        assert "MF109" not in [d.code for d in (await pull(client, uri)).items]
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=8),
                                  end=types.Position(line=line, character=8)), text="print(self.input)  # ")]))
        report = await pull(client, uri)
        assert [(d.code, d.range.start.line) for d in report.items if d.code in ("MF000", "MF109")] == [("MF109", line)]
