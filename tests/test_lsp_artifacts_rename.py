"""Rename of artifacts, Parameters and steps through the real server: prepareRename's range (UTF-16 after non-ASCII
text), one WorkspaceEdit over the flow, its base class's file, its subclasses and the Client API reads of other
files, applied as VS Code applies it; and each refusal with the message the editor shows."""

from __future__ import annotations

import asyncio

import attrs
import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from test_lsp_artifacts import position, span_of, text_of
from test_lsp_artifacts_references import BASE, CHILD, FLOW, REPORT
from test_lsp_code_actions import apply, apply_edits
from test_lsp_session import TIMEOUT, capabilities, open_document, session, write

REQUEST_FAILED = types.LSPErrorCodes.RequestFailed


async def prepare(client, uri, at: types.Position):
    return await asyncio.wait_for(client.text_document_prepare_rename_async(types.PrepareRenameParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=at)), TIMEOUT)


async def rename(client, uri, at: types.Position, new_name: str) -> types.WorkspaceEdit | None:
    return await asyncio.wait_for(client.text_document_rename_async(types.RenameParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=at, new_name=new_name)), TIMEOUT)


def replaced(text: str, *pairs: tuple[str, str]) -> str:
    """`text` with each old line fragment replaced once (each must be there, once)."""
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


async def test_rename_an_artifact_in_the_flow_and_in_the_client_api_reads(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW)
    report = write(tmp_path, "report.py", REPORT)
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow, version=3)
        at = position(text, "ñandú", "rows")
        assert await prepare(client, uri, at) == types.PrepareRenamePlaceholder(
            range=span_of(text, "ñandú", "rows"), placeholder="rows")
        edit = await rename(client, uri, at, "items")
        texts = apply(edit, {}, versions={uri: 3, report.as_uri(): None})  # the open document's version
    assert texts[uri] == replaced(
        text, ("self.rows = [1", "self.items = [1"), ('include=["rows"', 'include=["items"'),
        ('foreach="rows"', 'foreach="items"'), ("len(self.rows)", "len(self.items)"),
        ('"résumé 🦤", self.rows', '"résumé 🦤", self.items'))
    assert texts[report.as_uri()] == replaced(
        text_of(report), ('"ö", run.data.rows', '"ö", run.data.items'),
        ('"TrainFlow/7").data.rows', '"TrainFlow/7").data.items'),
        ('task["rows"]', 'task["items"]'))  # reads of another flow, or of a flow named by a variable, stay


async def test_rename_a_parameter_changes_the_attribute_never_the_option(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW)
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        edit = await rename(client, uri, position(text, "alpha = Parameter", "alpha"), "step_size")
        assert apply(edit, {})[uri] == replaced(
            text, ('alpha = Parameter("learning-rate"', 'step_size = Parameter("learning-rate"'),
            ("self.alpha *", "self.step_size *"))
        with pytest.raises(JsonRpcException) as refused:
            await prepare(client, uri, position(text, '"learning-rate"', "learning"))
        assert refused.value.code == REQUEST_FAILED
        assert refused.value.message == (
            "Cannot rename: `--learning-rate` is the command-line option of Parameter `alpha`, which users and scripts "
            "pass; rename the attribute instead.")


async def test_rename_a_step_changes_its_def_the_transitions_inputs_and_the_client_api(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW)
    report = write(tmp_path, "report.py", REPORT)
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        assert await prepare(client, uri, position(text, "def train(", "train")) == types.PrepareRenamePlaceholder(
            range=span_of(text, "def train(", "train"), placeholder="train")
        edit = await rename(client, uri, position(text, "def train(", "train"), "fit")
        texts = apply(edit, {})
    assert texts[uri] == replaced(text, ("self.next(self.train,", "self.next(self.fit,"), ("def train(", "def fit("),
                                  ("inputs.train.model", "inputs.fit.model"))  # `train_more` is another step
    assert texts[report.as_uri()] == replaced(text_of(report), ('run["train"]', 'run["fit"]'),
                                              ('"TrainFlow/7/train"', '"TrainFlow/7/fit"'))


async def test_rename_in_a_base_class_changes_its_subclasses_in_other_files(tmp_path):
    base = write(tmp_path, "base.py", BASE)
    child = write(tmp_path, "child.py", CHILD)
    lone = write(tmp_path, "lone.py", CHILD.replace("ChildFlow(BaseFlow)", "LoneFlow(FlowSpec)").replace(
        "from metaflow import step", "from metaflow import FlowSpec, step"))  # its own `seed`: not the base's
    report = write(tmp_path, "report.py", 'from metaflow import Flow\nprint(Flow("ChildFlow").latest_run.data.seed)\n')
    async with session(tmp_path) as client:
        uri = open_document(client, base)
        edit = await rename(client, uri, position(text_of(base), "self.seed = 7", "seed"), "séed")
        texts = apply(edit, {})
    assert set(texts) == {base.as_uri(), child.as_uri(), report.as_uri()}
    assert texts[base.as_uri()] == replaced(text_of(base), ("self.seed = 7", "self.séed = 7"))
    assert texts[child.as_uri()] == replaced(text_of(child), ('"ö", self.seed', '"ö", self.séed'))
    assert texts[report.as_uri()] == replaced(text_of(report), ("data.seed", "data.séed"))
    assert lone.exists()


REFUSALS = [
    ("ñandú", "rows", "input", "`input` is a member of Metaflow's FlowSpec"),
    ("ñandú", "rows", "merge_artifacts", "`merge_artifacts` is a member of Metaflow's FlowSpec"),
    ("ñandú", "rows", "2x", "`2x` is not a Python identifier"),
    ("ñandú", "rows", "class", "`class` is not a Python identifier"),
    ("ñandú", "rows", "ﬁle", "Python reads `ﬁle` as `file`"),
    ("ñandú", "rows", "__rows", "Metaflow does not keep attributes named `__…` between steps: `__rows`"),
    ("ñandú", "rows", "model", "`model` is already an artifact of `TrainFlow`"),
    ("ñandú", "rows", "alpha", "`alpha` is already a Parameter of `TrainFlow`"),
    ("ñandú", "rows", "train", "`train` is already a step of `TrainFlow`"),
    ("ñandú", "alpha", "_alpha",
     "Metaflow ignores class attributes starting with `_`: the Parameter `_alpha` would vanish"),
    ("ñandú", "alpha", "score", "`score` is already an artifact of `TrainFlow`"),
    ("def train(", "train", "Train", "Metaflow allows only lowercase ASCII letters, digits and `_` (not first) in a "
     "step name: `Train`"),
    ("def train(", "train", "cmd", "`cmd` is a reserved word of Metaflow and cannot name a step"),
    ("def train(", "train", "end", "`end` names the flow's end step to Metaflow"),
    ("def train(", "train", "baseline", "`baseline` is already a step of `TrainFlow`"),
    ("def train(", "train", "mode", "`mode` is already an artifact of `TrainFlow`"),
    ("self._cache = 1", "_cache", "cache", "`_cache` is a class attribute: Metaflow makes those not starting with `_` "
     "read-only constants, so `cache` would behave differently"),
]


async def test_renames_metaflow_or_python_would_not_take_are_refused(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW.replace(
        "    @step\n    def start(self):\n",
        "    _cache = None\n\n    @step\n    def start(self):\n        self._cache = 1\n"))
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        for line_text, needle, new_name, reason in REFUSALS:
            with pytest.raises(JsonRpcException) as refused:
                await rename(client, uri, position(text, line_text, needle), new_name)
            assert (refused.value.code, refused.value.message) == (REQUEST_FAILED, f"Cannot rename: {reason}."), \
                new_name


async def test_names_that_are_not_the_projects_to_rename_are_refused_at_prepare(tmp_path):
    flow = write(tmp_path, "train_flow.py", FLOW.replace(
        "        self.next(self.gather)", "        print(self.input)\n        self.next(self.gather)"))
    write(tmp_path, "packaged.py", '''
        from metaflow import step
        from shared_flows import PackagedBase


        class PackagedFlow(PackagedBase):
            @step
            def end(self):
                print(self.seed)
    ''')
    text = text_of(flow)
    async with session(tmp_path) as client:
        uri = open_document(client, flow)
        cases = [(uri, position(text, "def start", "start"), "Metaflow finds the `start` step by its name"),
                 (uri, position(text, "print(self.input)", "input"), "`self.input` is Metaflow's own")]
        packaged = tmp_path / "packaged.py"
        packaged_uri = open_document(client, packaged)
        cases.append((packaged_uri, position(text_of(packaged), "print(self.seed)", "seed"),
                      "`PackagedFlow` extends PackagedBase, which metaflow-lsp cannot read: code there may use "
                      "`seed` too"))
        for document, at, reason in cases:
            with pytest.raises(JsonRpcException) as refused:
                await prepare(client, document, at)
            assert (refused.value.code, refused.value.message) == (REQUEST_FAILED, f"Cannot rename: {reason}.")
        # Nothing of the flow's under the cursor: no rename, no error.
        assert await prepare(client, uri, position(text, "label =", "label")) is None


async def test_a_client_without_document_changes_gets_a_changes_map(tmp_path):
    """Neovim 0.7 declares no `documentChanges`: the same edit as a plain `changes` map of every file."""
    flow = write(tmp_path, "train_flow.py", FLOW)
    report = write(tmp_path, "report.py", REPORT)
    text = text_of(flow)
    caps = capabilities()
    caps = attrs.evolve(caps, workspace=attrs.evolve(caps.workspace, workspace_edit=attrs.evolve(
        caps.workspace.workspace_edit, document_changes=False)))
    async with session(tmp_path, caps=caps) as client:
        uri = open_document(client, flow)
        edit = await rename(client, uri, position(text, "inputs.train.model", "model"), "estimator")
    assert edit.document_changes is None and set(edit.changes) == {uri, report.as_uri()}
    assert apply_edits(text_of(report), edit.changes[report.as_uri()]) == replaced(
        text_of(report), ("task.data.model", "task.data.estimator"))
    assert apply_edits(text, edit.changes[uri]).count("estimator") == 4
