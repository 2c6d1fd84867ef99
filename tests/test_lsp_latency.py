"""How long a keystroke takes to become diagnostics on a 1,000-line flow, pushed and pulled (target: p50 <= 50 ms).

What the server adds (debounce, JSON, conversion) is asserted against the engine's own time on the same text, measured
in this process: the rules' speed is the rules' business. The numbers are printed (`pytest -s`).
"""

from __future__ import annotations

import statistics
import time

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


def engine_p50(source: str, path) -> float:
    from metaflow_lsp.config import Settings
    from metaflow_lsp.engine import check_source
    from metaflow_lsp.project import Project

    project = Project(path.parent)
    samples = []
    for _ in range(7):
        started = time.perf_counter()
        check_source(source, path, Settings(), project)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def overhead(kind: str, samples: list[float], source: str, path) -> float:
    """The server's p50 minus the engine's: what the server itself adds."""
    p50 = statistics.median(samples)
    p90 = statistics.quantiles(samples, n=10)[-1]
    engine = engine_p50(source, path)
    print(f"\n{kind}: p50 {p50 * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms over {len(samples)} edits of 1,000 lines "
          f"(engine alone: {engine * 1000:.1f} ms)")
    return p50 - engine


async def test_push_latency(tmp_path):
    source = thousand_line_flow()
    assert 990 <= source.count("\n") <= 1010
    path = write(tmp_path, "big.py", source)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path, source)
        await wait_for_published(client, uri)
        samples = []
        for version in range(2, 2 + ROUNDS):
            count = len(client.published)
            started = time.perf_counter()
            edit(client, uri, version, source)
            published = await wait_for_published(client, uri, lambda p, v=version: p.version == v, after=count)
            samples.append(time.perf_counter() - started)
            assert "MF000" not in [d.code for d in published.diagnostics]
    assert overhead("push (didChange -> publishDiagnostics)", samples, source, path) < 0.035


async def test_pull_latency(tmp_path):
    source = thousand_line_flow()
    path = write(tmp_path, "big.py", source)
    async with session(tmp_path) as client:
        uri = open_document(client, path, source)
        previous = (await pull(client, uri)).result_id
        samples = []
        for version in range(2, 2 + ROUNDS):
            started = time.perf_counter()
            edit(client, uri, version, source)
            result = await pull(client, uri, previous)
            samples.append(time.perf_counter() - started)
            assert result.kind == "full" and "MF000" not in [d.code for d in result.items]
            previous = result.result_id
    assert overhead("pull (didChange + textDocument/diagnostic)", samples, source, path) < 0.025
