"""Artifact intelligence through the real server: hover, go to definition and the outline on flows with branches,
a join, a foreach and non-ASCII text before the names (UTF-16 columns)."""

from __future__ import annotations

import asyncio

import attrs
import pytest
from lsprotocol import types

from test_lsp_session import TIMEOUT, capabilities, open_document, session, write

FLOW = '''
from metaflow import FlowSpec, Parameter, step


class TrainFlow(FlowSpec):
    alpha = Parameter("learning-rate", type=float, default=0.5, help="Step size of the optimiser")

    @step
    def start(self):
        self.rows = [1, 2, 3]
        if self.alpha > 0.1:
            self.note = "big"
        self.next(self.train, self.baseline)

    @step
    def train(self):
        self.model = "fit"
        self.next(self.join)

    @step
    def baseline(self):
        self.model = "mean"
        self.next(self.join)

    @step
    def join(self, inputs):
        self.best = [inp.model for inp in inputs]
        self.pick = inputs.train.model
        self.merge_artifacts(inputs, exclude=["model"])
        self.next(self.split)

    @step
    def split(self):
        self.next(self.fan, foreach="rows")

    @step
    def fan(self):
        label = "ñandú 🦤"; self.score = self.alpha * len(self.rows)
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        print("résumé 🦤", self.note, self.model)
'''


def position(text: str, line_text: str, needle: str, occurrence: int = 0) -> types.Position:
    """The UTF-16 position of the `occurrence`-th `needle` on the first line containing `line_text`."""
    lines = text.split("\n")
    number = next(i for i, line in enumerate(lines) if line_text in line)
    line = lines[number]
    index = -1
    for _ in range(occurrence + 1):
        index = line.index(needle, index + 1)
    return types.Position(line=number, character=len(line[:index].encode("utf-16-le")) // 2)


def span_of(text: str, line_text: str, needle: str, occurrence: int = 0) -> types.Range:
    start = position(text, line_text, needle, occurrence)
    width = len(needle.encode("utf-16-le")) // 2
    return types.Range(start=start, end=types.Position(line=start.line, character=start.character + width))


def text_of(path) -> str:
    return path.read_text(encoding="utf-8")


async def hover(client, uri, at: types.Position) -> types.Hover | None:
    return await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=at)), TIMEOUT)


async def definition(client, uri, at: types.Position):
    return await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=at)), TIMEOUT)


async def test_hover_names_the_assigning_steps_and_whether_the_artifact_is_set_here(tmp_path):
    path = write(tmp_path, "train_flow.py", FLOW)
    text = text_of(path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        # `self.rows` after non-ASCII text: the hover's range is the name, in UTF-16 units.
        found = await hover(client, uri, position(text, "ñandú", "rows", 0))
        assert found.range == span_of(text, "ñandú", "rows")
        rows_line = position(text, "self.rows = [1", "rows").line + 1
        assert found.contents.value == (
            "**Artifact** `rows` of `TrainFlow`\n\n"
            f"Assigned in `start` ([line {rows_line}]({uri}#L{rows_line})).\n\n"
            "Set on every path from `start` here.")

        note = await hover(client, uri, position(text, "résumé", "note"))
        assert note.range == span_of(text, "résumé", "note")
        assert "May be unset here: not set on every path from `start`." in note.contents.value

        # `model` is set in both branches but excluded from the merge: the join drops it (MF108).
        model = await hover(client, uri, position(text, "résumé", "model"))
        train_line = position(text, 'self.model = "fit"', "model").line + 1
        baseline_line = position(text, 'self.model = "mean"', "model").line + 1
        value = model.contents.value
        assert (f"Assigned in `train` ([line {train_line}]({uri}#L{train_line})), "
                f"`baseline` ([line {baseline_line}]({uri}#L{baseline_line})).") in value
        assert "May be unset here" in value
        assert "MF108: `self.model` in step `end`" in value


async def test_hover_in_a_join_and_on_the_foreach_string(tmp_path):
    path = write(tmp_path, "train_flow.py", FLOW)
    text = text_of(path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        branch = await hover(client, uri, position(text, "inputs.train.model", "model"))
        assert branch.range == span_of(text, "inputs.train.model", "model")
        assert "Set on every path from `start` after `train`." in branch.contents.value

        loop = await hover(client, uri, position(text, "inp.model", "model"))
        assert loop.range == span_of(text, "inp.model", "model")
        assert "Assigned in `train`" in loop.contents.value

        foreach = await hover(client, uri, position(text, 'foreach="rows"', "rows"))
        assert foreach.range == span_of(text, 'foreach="rows"', "rows")
        assert "Assigned in `start`" in foreach.contents.value
        # The join starts with nothing, but `merge_artifacts` brings `rows` back from both branches.
        assert "Set on every path from `start` here." in foreach.contents.value


async def test_hover_on_a_parameter_and_nothing_for_unknown_names(tmp_path):
    path = write(tmp_path, "train_flow.py", FLOW + "\n\nclass Other(FlowSpec):\n    @step\n    def start(self):\n"
                 "        print(self.never)\n        self.next(self.end)\n\n    @step\n    def end(self):\n"
                 "        pass\n")
    text = text_of(path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        found = await hover(client, uri, position(text, "ñandú", "alpha"))
        assert found.range == span_of(text, "ñandú", "alpha")
        assert found.contents.value == (
            "**Parameter** `--learning-rate` of `TrainFlow`: `self.alpha`\n\n"
            "type: `float` · default: `0.5`\n\nStep size of the optimiser")
        assert await hover(client, uri, position(text, "self.never", "never")) is None
        assert await hover(client, uri, position(text, "label =", "label")) is None


async def test_definition_of_artifacts_parameters_and_steps(tmp_path):
    path = write(tmp_path, "train_flow.py", FLOW)
    text = text_of(path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)

        def location(line_text: str, needle: str) -> types.Location:
            return types.Location(uri=uri, range=span_of(text, line_text, needle))

        # Both branches can run before `end`; `rows` is read after non-ASCII text.
        model = await definition(client, uri, position(text, "résumé", "model"))
        assert model == [location('self.model = "fit"', "model"), location('self.model = "mean"', "model")]
        assert await definition(client, uri, position(text, "ñandú", "rows")) == [
            location("self.rows = [1", "rows")]
        # `inputs.train.model`: only what `train` (and the steps before it) set.
        assert await definition(client, uri, position(text, "inputs.train.model", "model")) == [
            location('self.model = "fit"', "model")]
        assert await definition(client, uri, position(text, 'foreach="rows"', "rows")) == [
            location("self.rows = [1", "rows")]
        # A Parameter: its declaration; a step in `self.next`: its def.
        assert await definition(client, uri, position(text, "ñandú", "alpha")) == [
            location("alpha = Parameter", "alpha")]
        assert await definition(client, uri, position(text, "self.next(self.train", "train")) == [
            location("def train", "train")]
        # A write: that write (nothing runs before `train` that sets `model`).
        assert await definition(client, uri, position(text, 'self.model = "fit"', "model")) == [
            location('self.model = "fit"', "model")]
        assert await definition(client, uri, position(text, "label =", "label")) is None


async def test_definition_in_a_base_class_of_another_file(tmp_path):
    write(tmp_path, "base.py", '''
        from metaflow import FlowSpec, step


        class BaseFlow(FlowSpec):
            @step
            def start(self):
                self.café = "ö"; self.seed = 7
                self.next(self.end)
    ''')
    path = write(tmp_path, "child.py", '''
        from metaflow import step

        from base import BaseFlow


        class ChildFlow(BaseFlow):
            @step
            def end(self):
                print("ö", self.seed)
    ''')
    text = text_of(path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        base = tmp_path / "base.py"
        base_text = text_of(base)
        found = await definition(client, uri, position(text, '"ö", self.seed', "seed"))
        assert found == [types.Location(uri=base.as_uri(), range=span_of(base_text, "self.seed = 7", "seed"))]


async def test_outline_shows_the_flow_with_its_parameters_and_steps(tmp_path):
    path = write(tmp_path, "train_flow.py", FLOW)
    text = text_of(path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        symbols = await asyncio.wait_for(client.text_document_document_symbol_async(types.DocumentSymbolParams(
            text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
        (flow,) = symbols
        assert (flow.name, flow.kind, flow.selection_range) == (
            "TrainFlow", types.SymbolKind.Class, span_of(text, "class TrainFlow", "TrainFlow"))
        assert [(child.name, child.kind) for child in flow.children] == [
            ("alpha", types.SymbolKind.Property)] + [
            (name, types.SymbolKind.Method) for name in ("start", "train", "baseline", "join", "split", "fan", "gather", "end")]
        join = next(child for child in flow.children if child.name == "join")
        assert join.selection_range == span_of(text, "def join", "join")
        assert join.detail == "join step"
        decorator = position(text, "def join", "def")
        assert (join.range.start.line, join.range.start.character) == (decorator.line - 1, decorator.character)


@pytest.mark.parametrize("offered", [["utf-8"], ["utf-32"]])
async def test_positions_count_in_the_negotiated_position_encoding(tmp_path, offered):
    """`self.rows` after "ñandú 🦤" on the line: the client's position and the answer's range are both counted in
    the encoding the server picked (bytes for UTF-8, code points for UTF-32)."""
    path = write(tmp_path, "train_flow.py", FLOW)
    text = text_of(path)
    caps = capabilities()
    caps = attrs.evolve(caps, general=attrs.evolve(caps.general or types.GeneralClientCapabilities(),
                                                   position_encodings=offered))
    line = next(line for line in text.split("\n") if "ñandú" in line)
    number = text.split("\n").index(line)
    prefix = line[: line.index("rows")]
    start = len(prefix.encode()) if offered == ["utf-8"] else len(prefix)
    expected = types.Range(start=types.Position(line=number, character=start),
                           end=types.Position(line=number, character=start + 4))
    async with session(tmp_path, caps=caps) as client:
        uri = open_document(client, path)
        found = await hover(client, uri, types.Position(line=number, character=start + 2))
        assert found.range == expected
        rows_line = next(i for i, line in enumerate(text.split("\n")) if "self.rows = [1" in line)
        assert await definition(client, uri, types.Position(line=number, character=start + 2)) == [types.Location(
            uri=uri, range=types.Range(start=types.Position(line=rows_line, character=13),
                                       end=types.Position(line=rows_line, character=17)))]


async def test_an_artifact_deleted_on_the_way_may_be_unset(tmp_path):
    path = write(tmp_path, "cleanup_flow.py", '''
        from metaflow import FlowSpec, step


        class CleanupFlow(FlowSpec):
            @step
            def start(self):
                self.big = [0] * 10
                self.small = 1
                self.next(self.trim)

            @step
            def trim(self):
                if self.small:
                    del self.big
                self.next(self.end)

            @step
            def end(self):
                print(self.big, self.small)
    ''')
    text = text_of(path)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        big = await hover(client, uri, position(text, "print(self.big", "big"))
        small = await hover(client, uri, position(text, "print(self.big", "small"))
        assert "May be unset here" in big.contents.value
        assert "Set on every path from `start` here." in small.contents.value
