"""Find references of artifacts, Parameters and steps through the real server: every step of the flow (branches, a
join, a foreach, a switch), the strings of `foreach=`, `condition=` and `merge_artifacts`, a base class in another
file, and the Client API reads of other files of the project. Ranges are exact, in UTF-16 units after non-ASCII
text on the same line."""

from __future__ import annotations

import asyncio
import subprocess

from lsprotocol import types

from test_lsp_artifacts import position, span_of, text_of
from test_lsp_session import TIMEOUT, open_document, session, write

FLOW = '''
from metaflow import FlowSpec, Parameter, step


class TrainFlow(FlowSpec):
    alpha = Parameter("learning-rate", type=float, default=0.5)

    @step
    def start(self):
        self.rows = [1, 2, 3]
        self.mode = "fast"
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
        self.merge_artifacts(inputs, include=["rows", "mode"])
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
        self.scores = [inp.score for inp in inputs]
        self.merge_artifacts(inputs, exclude=["score"])
        self.next(self.route)

    @step
    def route(self):
        self.next({"fast": self.end, "slow": self.train_more}, condition="mode")

    @step
    def train_more(self):
        self.next(self.end)

    @step
    def end(self):
        print("résumé 🦤", self.rows, self.mode, self.pick)
'''

REPORT = '''
from metaflow import Flow, Run, Step, namespace

namespace(None)
run = Flow("TrainFlow").latest_run
print("ö", run.data.rows, run["train"].task.data.model)
print("ö", Run("TrainFlow/7").data.rows, Step("TrainFlow/7/train").task["rows"].data)
for task in Flow("TrainFlow").latest_successful_run["fan"]:
    print(task.data.score)


def elsewhere(name):
    print(Flow(name).latest_run.data.rows, Flow("OtherFlow").latest_run.data.rows)
    run = Flow("OtherFlow").latest_run
    print(run.data.rows)
'''


async def references(client, uri, at: types.Position, declaration: bool = True) -> list[types.Location] | None:
    found = await asyncio.wait_for(client.text_document_references_async(types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=at,
        context=types.ReferenceContext(include_declaration=declaration))), TIMEOUT)
    return None if found is None else list(found)


def located(path, *places: tuple[str, str] | tuple[str, str, int]) -> list[types.Location]:
    """Locations in `path` of (line text, needle[, occurrence]) places."""
    text = text_of(path)
    return [types.Location(uri=path.as_uri(), range=span_of(text, *place)) for place in places]


async def test_references_of_an_artifact_in_every_step_the_strings_and_the_client_api_reads(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    flow = write(tmp_path, "train_flow.py", FLOW)
    report = write(tmp_path, "report.py", REPORT)
    write(tmp_path, ".gitignore", "old/\n")
    write(tmp_path, "old/report.py", REPORT)  # git ignores it: never searched
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        rows = located(flow, ("self.rows = [1", "rows"), ('include=["rows"', "rows"), ('foreach="rows"', "rows"),
                       ("ñandú", "rows"), ("résumé", "rows"))
        in_report = located(report, ('"ö", run.data.rows', "rows"), ("Run(", "rows"), ('task["rows"]', "rows", 1))
        # From a read after non-ASCII text, from the foreach string and from the merge_artifacts string: the same.
        for at in (position(text, "ñandú", "rows"), position(text, 'foreach="rows"', "rows"),
                   position(text, 'include=["rows"', "rows")):
            assert await references(client, uri, at) == rows + in_report
        # includeDeclaration false: the assignment is left out.
        assert await references(client, uri, position(text, "résumé", "rows"), declaration=False) == \
            rows[1:] + in_report

        # In the joins: `inp.model`, `inputs.train.model`, both branches' writes and the Client API's read.
        model = located(flow, ('self.model = "fit"', "model"), ('self.model = "mean"', "model"),
                        ("inp.model", "model"), ("inputs.train.model", "model"))
        assert await references(client, uri, position(text, "inputs.train.model", "model")) == \
            model + located(report, ("task.data.model", "model"))
        # The switch's condition string reads `self.mode`.
        assert await references(client, uri, position(text, 'condition="mode"', "mode")) == located(
            flow, ('self.mode = "fast"', "mode"), ('"mode"]', "mode"), ('condition="mode"', "mode"),
            ("résumé", "mode"))
        # `exclude=["score"]` and the foreach's join; the Client API's read of a task of `fan`.
        assert await references(client, uri, position(text, 'exclude=["score"]', "score")) == located(
            flow, ("ñandú", "score"), ("inp.score", "score", 1), ('exclude=["score"]', "score")) + located(
            report, ("task.data.score", "score"))


async def test_references_of_a_parameter_and_of_a_step(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW)
    report = write(tmp_path, "report.py", REPORT)
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        alpha = located(flow, ("alpha = Parameter", "alpha"), ("ñandú", "alpha"))
        assert await references(client, uri, position(text, "ñandú", "alpha")) == alpha
        assert await references(client, uri, position(text, "alpha = Parameter", "alpha"), False) == alpha[1:]

        # A step: its def, every self.next naming it, `inputs.train`, and the Client API's `run["train"]` and
        # `Step("TrainFlow/7/train")`; never `train_more`.
        train = located(flow, ("self.next(self.train", "train"), ("def train(", "train"),
                        ("inputs.train.model", "train"))
        in_report = located(report, ('run["train"]', "train"), ("Step(", "train"))
        for at in (position(text, "def train(", "train"), position(text, "self.next(self.train", "train")):
            assert await references(client, uri, at) == train + in_report
        assert await references(client, uri, position(text, "def train(", "train"), False) == \
            [train[0], train[2]] + in_report
        # A switch's targets are steps too.
        assert await references(client, uri, position(text, '"slow": self.train_more', "train_more")) == located(
            flow, ('"slow": self.train_more', "train_more"), ("def train_more", "train_more"))
        assert await references(client, uri, position(text, "label =", "label")) is None


BASE = '''
from metaflow import FlowSpec, step


class BaseFlow(FlowSpec):
    @step
    def start(self):
        self.café = "ö"; self.seed = 7
        self.next(self.end)
'''

CHILD = '''
from metaflow import step

from base import BaseFlow


class ChildFlow(BaseFlow):
    @step
    def end(self):
        print("ö", self.seed)
'''


async def test_references_through_a_base_class_in_another_file(tmp_path):
    base = write(tmp_path, "base.py", BASE)
    child = write(tmp_path, "child.py", CHILD)
    write(tmp_path, "other_child.py", CHILD.replace("ChildFlow", "OtherChildFlow"))
    report = write(tmp_path, "report.py", 'from metaflow import Flow\nprint(Flow("ChildFlow").latest_run.data.seed)\n')
    async with session(tmp_path) as client:
        other_child = tmp_path / "other_child.py"
        # From the subclass: the base's write, and the other subclass reading the same base's artifact.
        expected = (located(child, ('"ö", self.seed', "seed")) + located(base, ("self.seed = 7", "seed"))
                    + located(other_child, ('"ö", self.seed', "seed")) + located(report, ("data.seed", "seed")))
        uri = open_document(client, child)
        assert await references(client, uri, position(text_of(child), '"ö", self.seed', "seed")) == expected
        # From the base class's file: the subclasses in the project are found.
        base_uri = open_document(client, base)
        found = await references(client, base_uri, position(text_of(base), "self.seed = 7", "seed"))
        assert found == [expected[1], expected[0], expected[2], expected[3]]


async def test_hover_and_definition_on_the_strings_of_merge_artifacts_and_condition(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW)
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        at = position(text, 'exclude=["score"]', "score")
        found = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=at)), TIMEOUT)
        assert found.range == span_of(text, 'exclude=["score"]', "score")
        assert found.contents.value.startswith("**Artifact** `score` of `TrainFlow`\n\nAssigned in `fan`")
        for line_text, needle, assigned in (('exclude=["score"]', "score", ("ñandú", "score")),
                                            ('condition="mode"', "mode", ('self.mode = "fast"', "mode"))):
            assert await asyncio.wait_for(client.text_document_definition_async(types.DefinitionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, line_text, needle))),
                TIMEOUT) == located(flow, assigned)


async def test_the_editors_copy_of_another_file_is_searched_and_reads_it_cannot_attribute_are_not(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW)
    report = write(tmp_path, "report.py", REPORT)
    write(tmp_path, "own_flow_class.py", '''
        class Flow:  # not Metaflow's
            def __init__(self, name):
                self.latest_run = None


        print(Flow("TrainFlow").latest_run.data.rows)
    ''')
    write(tmp_path, "rebound.py", '''
        from metaflow import Flow

        run = Flow("TrainFlow").latest_run
        run = Flow("OtherFlow").latest_run  # `run` is not one flow's run
        print(run.data.rows)
    ''')
    text = text_of(flow)
    edited = text_of(report) + 'print(Flow("TrainFlow")["9"]["end"].task.data.rows)\n'
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        open_document(client, report, edited)  # unsaved: the editor's text is what is searched
        found = await references(client, uri, position(text, "ñandú", "rows"))
        lines = edited.split("\n")
        last = len(lines) - 2
        in_editor = types.Location(uri=report.as_uri(), range=types.Range(
            start=types.Position(line=last, character=lines[last].index("rows")),
            end=types.Position(line=last, character=lines[last].index("rows") + 4)))
        assert [location.uri for location in found if location.uri != uri] == [report.as_uri()] * 4
        assert found[-1] == in_editor
