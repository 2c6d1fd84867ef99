"""Inlay hints through the real server: off by default; with `inlayHints` on, after each step's `def` line the
artifacts it reads from upstream, only for the requested range, at UTF-16 columns; switching the setting on asks
the client to refresh its hints."""

from __future__ import annotations

import asyncio
import time

import attrs
from lsprotocol import types

from test_lsp_artifacts import FLOW
from test_lsp_session import TIMEOUT, capabilities, open_document, session, write

# A comment with non-ASCII text after one `def`: the hint goes after it, in UTF-16 code units.
TEXT = FLOW.replace("def end(self):", "def end(self):  # fin 🦤").lstrip("\n")
LINES = TEXT.split("\n")
WHOLE = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(LINES), character=0))


def def_line(step: str) -> int:
    return next(i for i, line in enumerate(LINES) if line.strip().startswith(f"def {step}("))


async def hints(client, uri: str, where: types.Range = WHOLE) -> dict[int, tuple[str, int, str]]:
    found = await asyncio.wait_for(client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=where)), TIMEOUT)
    by_line = {hint.position.line: (hint.label, hint.position.character, hint.tooltip.value) for hint in found or []}
    assert len(by_line) == len(found or []), found  # one hint a line
    return by_line


async def test_off_by_default(tmp_path):
    path = write(tmp_path, "train_flow.py", TEXT)
    async with session(tmp_path) as client:
        assert await hints(client, open_document(client, path)) == {}


async def test_the_artifacts_each_step_reads_from_upstream(tmp_path):
    path = write(tmp_path, "train_flow.py", TEXT)
    async with session(tmp_path, settings={"inlayHints": True}) as client:
        found = await hints(client, open_document(client, path))
    labels = {line: label for line, (label, _, _) in found.items()}
    assert labels == {
        def_line("join"): "← model",  # `inp.model`, `inputs.train.model`
        def_line("split"): "← rows",  # foreach="rows"
        def_line("fan"): "← rows",  # `self.alpha` is a Parameter, not an artifact
        def_line("end"): "← note, model",
    }
    assert found[def_line("join")][2] == "Reads from upstream steps:\n\n- `model` from `train`, `baseline`"
    end = LINES[def_line("end")]
    assert found[def_line("end")][1] == len(end.encode("utf-16-le")) // 2  # after `# fin 🦤` (🦤: two units)
    assert found[def_line("fan")][1] == len("    def fan(self):")


async def test_only_the_requested_range_and_not_what_the_step_set_itself(tmp_path):
    text = TEXT.replace('        label = "ñandú', '        self.rows = [4]\n        label = "ñandú')
    path = write(tmp_path, "train_flow.py", text)
    async with session(tmp_path, settings={"inlayHints": True}) as client:
        uri = open_document(client, path)
        lines = text.split("\n")
        split = next(i for i, line in enumerate(lines) if "def split(" in line)
        fan = next(i for i, line in enumerate(lines) if "def fan(" in line)
        assert await hints(client, uri, types.Range(start=types.Position(line=fan, character=0),
                                                    end=types.Position(line=fan + 3, character=0))) == {}
        found = await hints(client, uri, types.Range(start=types.Position(line=split, character=0),
                                                     end=types.Position(line=fan + 3, character=0)))
        assert {line: label for line, (label, _, _) in found.items()} == {split: "← rows"}


async def test_turning_the_setting_on_asks_the_client_to_refresh(tmp_path):
    path = write(tmp_path, "train_flow.py", TEXT)
    caps = capabilities()
    caps = attrs.evolve(caps, workspace=attrs.evolve(
        caps.workspace, inlay_hint=types.InlayHintWorkspaceClientCapabilities(refresh_support=True)))
    async with session(tmp_path, caps=caps, settings={}) as client:
        refreshed = []
        client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)(lambda ls, params: refreshed.append(params))
        uri = open_document(client, path)
        assert await hints(client, uri) == {}
        client.set_configuration({"inlayHints": True}, section="metaflowLsp")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        deadline = time.monotonic() + TIMEOUT
        while not refreshed and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert refreshed
        assert (await hints(client, uri))[def_line("end")][0] == "← note, model"


async def test_a_wrong_value_warns_and_keeps_the_hints_off(tmp_path):
    path = write(tmp_path, "train_flow.py", TEXT)
    async with session(tmp_path, settings={"inlayHints": "yes"}) as client:
        assert await hints(client, open_document(client, path)) == {}
        deadline = time.monotonic() + TIMEOUT
        while not client.messages and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    assert [m.message for m in client.messages] == [
        "metaflow-lsp: editor setting `metaflowLsp`: `inlayHints` must be true or false, not 'yes'; using the default"]


async def test_a_base_step_shared_by_two_flows_has_one_hint(tmp_path):
    text = '''
from metaflow import FlowSpec, step


class Base(FlowSpec):
    @step
    def start(self):
        self.rows = [1, 2]
        self.next(self.end)

    @step
    def end(self):
        print(self.rows)


class FirstFlow(Base):
    pass


class SecondFlow(Base):
    pass
'''.lstrip("\n")
    path = write(tmp_path, "flows.py", text)
    async with session(tmp_path, settings={"inlayHints": True}) as client:
        found = await hints(client, open_document(client, path))
    assert {line: label for line, (label, _, _) in found.items()} == {10: "← rows"}
