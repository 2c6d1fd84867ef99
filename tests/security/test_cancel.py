"""Edits computed with libcst (code action resolve) run off the server's event loop: the server answers other
requests meanwhile, `$/cancelRequest` is answered at once, and a file too large to edit quickly is refused with the
reason instead of freezing the editor for seconds (a 50,000-line flow took 11-14 s)."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from .hostile import ANSWER_WITHIN, SIMPLE_FLOW, long_flow, served, still_answers
from metaflow_lsp.lsp.code_actions import MAX_EDIT_CHARS
from test_lsp_session import open_document, replace_all


async def _actions(client, uri: str, source: str, line_text: str) -> list[types.CodeAction]:
    line = source.split("\n").index(line_text)
    where = types.Range(start=types.Position(line=line, character=8), end=types.Position(line=line, character=8))
    return await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=where,
        context=types.CodeActionContext(diagnostics=[]))), ANSWER_WITHIN) or []


def _extract(actions) -> types.CodeAction:
    return next(a for a in actions if a.kind == types.CodeActionKind.RefactorExtract)


async def test_extract_leaves_the_server_answering_and_can_be_cancelled(tmp_path):
    source = long_flow(MAX_EDIT_CHARS - 5_000)  # as large as an Extract may be: about a second of libcst
    flow, other = tmp_path / "flow.py", tmp_path / "other.py"
    flow.write_text(source)
    other.write_text(SIMPLE_FLOW)
    async with served(tmp_path) as client:
        uri = open_document(client, flow)
        extract = _extract(await _actions(client, uri, source, "    def step_1(self):"))
        assert extract.disabled is None

        first = await asyncio.wait_for(client.code_action_resolve_async(extract), ANSWER_WITHIN)
        assert first.edit is not None and first.edit.document_changes

        # While an Extract is computed, a request sent after it is answered before it.
        resolving = asyncio.ensure_future(client.code_action_resolve_async(extract))
        finished = {}
        resolving.add_done_callback(lambda _: finished.setdefault("extract", time.monotonic()))
        await asyncio.sleep(0.2)
        await still_answers(client, other.as_uri())
        finished["pull"] = time.monotonic()
        resolved = await asyncio.wait_for(resolving, ANSWER_WITHIN)
        assert finished["pull"] < finished["extract"] - 0.1, finished
        assert resolved.edit == first.edit

        # A cancelled Extract is answered as cancelled at once, not seconds later with its edit.
        pending = asyncio.ensure_future(
            client.protocol.send_request_async(types.CODE_ACTION_RESOLVE, extract, msg_id="extract-2"))
        await asyncio.sleep(0.2)  # sent, and being computed
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="extract-2"))
        cancelled_at = time.monotonic()
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(pending, ANSWER_WITHIN)
        assert time.monotonic() - cancelled_at < 1.0  # the edit itself takes over a second
        await still_answers(client, uri)


async def test_file_too_large_to_edit_is_refused_with_the_reason(tmp_path):
    source = long_flow(MAX_EDIT_CHARS + 1).replace("    @step\n    def step_0", "    @retry(times=9)\n    @step\n"
                                                    "    def step_0").replace("import FlowSpec, step",
                                                                             "import FlowSpec, retry, step")
    flow = tmp_path / "flow.py"
    flow.write_text(source)
    reason = (f"The file has {len(source):,} characters; metaflow-lsp edits files of up to {MAX_EDIT_CHARS:,} "
              "(larger ones would hold the editor up).")
    async with served(tmp_path) as client:
        uri = open_document(client, flow)
        extract = _extract(await _actions(client, uri, source, "    def step_1(self):"))
        assert extract.disabled is not None and extract.disabled.reason == reason
        retry = next(a for a in await _actions(client, uri, source, "    @retry(times=9)") if "MF103" in str(a.data))
        started = time.monotonic()
        result = await asyncio.wait_for(client.code_action_resolve_async(retry), ANSWER_WITHIN)
        assert time.monotonic() - started < 3 and result.edit is None
        for _ in range(50):
            if client.messages:
                break
            await asyncio.sleep(0.05)
        assert [m.message for m in client.messages] == [f"{retry.title}: {reason}"]
        await still_answers(client, uri)


async def test_edit_computed_while_the_user_typed_is_refused_not_applied(tmp_path):
    source = long_flow(MAX_EDIT_CHARS - 5_000)
    flow = tmp_path / "flow.py"
    flow.write_text(source)
    async with served(tmp_path) as client:
        uri = open_document(client, flow)
        extract = _extract(await _actions(client, uri, source, "    def step_1(self):"))
        await asyncio.wait_for(client.code_action_resolve_async(extract), ANSWER_WITHIN)  # libcst imported
        resolving = asyncio.ensure_future(client.code_action_resolve_async(extract))
        await asyncio.sleep(0.2)  # being computed from the text as it was
        typed = source.replace("        self.total = 0\n", "        self.total = 0  # typed meanwhile\n", 1)
        replace_all(client, uri, typed, 2, source)
        resolved = await asyncio.wait_for(resolving, ANSWER_WITHIN)
        assert resolved.edit is None  # edits from the old text would undo what was typed
        for _ in range(50):
            if client.messages:
                break
            await asyncio.sleep(0.05)
        assert [m.message for m in client.messages] == [
            f"{extract.title}: flow.py changed while the edit was being made; try again"]
