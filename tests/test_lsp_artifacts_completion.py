"""Completion after `self.` in a step through the real server, on half-typed lines that do not parse."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from test_lsp_artifacts import FLOW
from test_lsp_session import TIMEOUT, open_document, session, write


def typed(line_text: str, typing: str) -> tuple[str, types.Position]:
    """FLOW with a new line `typing` inserted above the line holding `line_text`, and the position after it."""
    lines = FLOW.lstrip("\n").split("\n")
    number = next(i for i, line in enumerate(lines) if line_text in line)
    indent = lines[number][: len(lines[number]) - len(lines[number].lstrip())]
    lines.insert(number, indent + typing)
    text = "\n".join(lines)
    return text, types.Position(line=number, character=len((indent + typing).encode("utf-16-le")) // 2)


async def complete(tmp_path, text: str, at: types.Position) -> dict[str, str]:
    path = write(tmp_path, "train_flow.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path, text)
        found = await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at,
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.TriggerCharacter,
                                            trigger_character="."))), TIMEOUT)
    return {item.label: item.detail for item in found.items} if found else {}


async def test_artifacts_set_before_this_step_and_parameters_not_later_ones(tmp_path):
    text, at = typed('self.model = "fit"', "value = self.")  # does not parse
    assert await complete(tmp_path, text, at) == {
        "rows": "artifact", "note": "artifact (may be unset here)", "alpha": "Parameter",
        "next": "FlowSpec", "foreach_stack": "FlowSpec"}


async def test_after_a_join_and_inside_a_foreach(tmp_path):
    text, at = typed("print(\"résumé", "print('ñ', self.")
    found = await complete(tmp_path, text, at)
    assert found["model"] == found["note"] == "artifact (may be unset here)"
    assert found["best"] == "artifact (may be unset here)"  # the foreach's join `gather` drops it
    assert {"score", "rows", "pick", "alpha"} <= set(found)
    assert "input" not in found and "merge_artifacts" not in found

    text, at = typed("label = ", "item = self.")
    found = await complete(tmp_path, text, at)
    assert found["rows"] == "artifact" and found["input"] == found["index"] == "FlowSpec"
    assert "score" not in found  # assigned on the line below, not yet

    text, at = typed("self.next(self.end)", "self.")
    found = await complete(tmp_path, text, at)
    assert found["merge_artifacts"] == "FlowSpec" and "input" not in found


async def test_steps_inside_self_next(tmp_path):
    text, at = typed('self.model = "fit"', "self.next(self.")
    assert await complete(tmp_path, text, at) == {
        name: "step" for name in ("start", "baseline", "join", "split", "fan", "gather", "end")}
    # After a first target: still the steps.
    text, at = typed('self.model = "fit"', "self.next(self.join, self.")
    assert "baseline" in await complete(tmp_path, text, at)


async def test_nothing_outside_a_step_or_after_other_names(tmp_path):
    text, at = typed('self.model = "fit"', "value = other.")
    assert await complete(tmp_path, text, at) == {}
    text, at = typed("alpha = Parameter", "x = self.")
    assert await complete(tmp_path, text, at) == {}


async def test_inside_a_call_continued_from_the_line_above(tmp_path):
    # Cut at the cursor, this line no longer closes the bracket opened above: the document as it is answers.
    text, at = typed("label = ", "value = max(1,")
    lines = text.split("\n")
    lines.insert(at.line + 1, " " * 20 + "self.rows)")
    at = types.Position(line=at.line + 1, character=len(" " * 20 + "self."))
    found = await complete(tmp_path, "\n".join(lines), at)
    assert found["rows"] == "artifact" and found["input"] == "FlowSpec"


async def test_artifacts_come_first_then_parameters_then_flowspec_members(tmp_path):
    text, at = typed("label = ", "item = self.")  # in `fan`, a foreach child
    path = write(tmp_path, "train_flow.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path, text)
        found = await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at)), TIMEOUT)
    shown = [item.detail for item in sorted(found.items, key=lambda item: item.sort_text)]
    groups = ["artifact", "artifact (may be unset here)", "Parameter", "FlowSpec"]
    assert shown == sorted(shown, key=groups.index)
    assert set(shown) == set(groups)
