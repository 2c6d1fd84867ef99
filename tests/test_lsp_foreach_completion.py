"""Completion inside `foreach="` of `self.next(...)` through the real server: list-valued artifacts first, those of
unknown shape after, scalars left out; on half-typed lines that do not parse and with an auto-closed quote."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from test_lsp_session import TIMEOUT, open_document, session, write

FLOW = '''
from metaflow import FlowSpec, Parameter, step

from data import load


class ForeachFlow(FlowSpec):
    alpha = Parameter("alpha", default=0.5)

    @step
    def start(self):
        self.names = ["a", "b"]
        self.count = 3
        self.rows = load()
        self.title = "résumé"
        self.pairs, self.other = load()
        if self.alpha > 0.1:
            self.maybe = ("x", "y")
        self.next(self.middle)

    @step
    def middle(self):
        self.squares = [n * n for n in range(4)]
        self.ids = range(10)
        self.flag = not self.names
        CURSOR

    @step
    def fan(self):
        self.later = [1, 2]
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


async def complete(tmp_path, typing: str, trigger: str = '"', flow: str = FLOW) -> list[tuple[str, str]]:
    """The completion list at the end of `typing`, typed where CURSOR stands (the cursor is after the last quote
    when `typing` ends with an auto-closed `""` pair)."""
    text = flow.lstrip("\n")
    line = text.split("\n").index("        CURSOR")
    text = text.replace("CURSOR", typing)
    cursor = "        " + typing
    if cursor.endswith(('")', "')")):
        cursor = cursor[:-2]  # between the auto-closed quotes
    at = types.Position(line=line, character=len(cursor.encode("utf-16-le")) // 2)
    path = write(tmp_path, "foreach_flow.py", FLOW.replace("CURSOR", "self.next(self.fan)"))
    async with session(tmp_path) as client:
        uri = open_document(client, path, text)
        found = await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at,
            context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.TriggerCharacter,
                                            trigger_character=trigger))), TIMEOUT)
    if found is None:
        return []
    return [(item.label, item.detail) for item in sorted(found.items, key=lambda item: item.sort_text)]


EXPECTED = [
    ("ids", "list"), ("maybe", "list (may be unset here)"), ("names", "list"), ("squares", "list"),
    ("other", "artifact (not known to be a list)"), ("pairs", "artifact (not known to be a list)"),
    ("rows", "artifact (not known to be a list)"),
]


async def test_half_typed_foreach_lists_list_valued_artifacts_first(tmp_path):
    # `count`, `title` and `flag` hold a number, a string and a boolean; `later` is set after this step; `alpha`
    # is a Parameter.
    assert await complete(tmp_path, 'self.next(self.fan, foreach="') == EXPECTED


async def test_an_auto_closed_quote_a_started_name_and_single_quotes(tmp_path):
    assert await complete(tmp_path, 'self.next(self.fan, foreach="")') == EXPECTED  # parses: the analysis is used
    assert await complete(tmp_path, "self.next(self.fan, foreach='na", trigger="a") == EXPECTED
    assert await complete(tmp_path, "self.next(self.fan, foreach = '", trigger="'") == EXPECTED


async def test_a_mix_of_shapes_is_unknown(tmp_path):
    flow = FLOW.replace('self.squares = [n * n for n in range(4)]', 'self.names = "single"')
    found = dict(await complete(tmp_path, 'self.next(self.fan, foreach="', flow=flow))
    assert found["names"] == "artifact (not known to be a list)"  # a list in start, a string here


async def test_nothing_outside_the_foreach_argument_of_self_next(tmp_path):
    assert await complete(tmp_path, 'options = dict(foreach="') == []
    assert await complete(tmp_path, 'self.next(self.fan, condition="') == []
