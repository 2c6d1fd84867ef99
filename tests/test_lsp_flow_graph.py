"""The flow graph server command end to end: the real server (`python -m metaflow_lsp`) and pytest-lsp's client with
VS Code's capabilities, as the graph view and Neovim users call it."""

from __future__ import annotations

import asyncio

from lsprotocol import types

from pytest_lsp import ClientServerConfig
from test_lsp_session import SERVER, TIMEOUT, capabilities, open_document, replace_all, session, stop, write

FLOW = '''
from metaflow import FlowSpec, retry, step


class GraphFlow(FlowSpec):
    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")

    @retry(times=9)
    @step
    def work(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    GraphFlow()
'''


async def flow_graph(client, *arguments):
    return await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="metaflow.flowGraph", arguments=list(arguments))), TIMEOUT)


async def test_flow_graph_of_the_open_document_with_its_diagnostics(tmp_path):
    path = write(tmp_path, "flows/graph_flow.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        [flow] = (await flow_graph(client, uri))["flows"]
    assert flow["name"] == "GraphFlow" and flow["file"] == str(path) and flow["missing"] == []
    steps = {step["name"]: step for step in flow["steps"]}
    assert list(steps) == ["start", "work", "join", "end"]
    assert steps["start"] == {
        "name": "start", "type": "foreach", "line": 6, "decorators": [], "next": ["work"], "foreach": "items",
        "switch": False, "cases": None, "parallel_foreach": False, "file": str(path), "diagnostics": []}
    assert steps["work"]["decorators"] == ["retry"] and steps["work"]["type"] == "linear"
    [retry] = steps["work"]["diagnostics"]
    assert retry["code"] == "MF103" and retry["severity"] == "error" and retry["line"] == 10
    assert (steps["join"]["type"], steps["join"]["next"]) == ("join", ["end"])
    assert (steps["end"]["type"], steps["end"]["next"]) == ("end", [])


async def test_flow_graph_follows_unsaved_edits_and_keeps_unknown_targets(tmp_path):
    path = write(tmp_path, "flows/graph_flow.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        await flow_graph(client, uri)
        edited = FLOW.replace("self.next(self.end)", "self.next(self.report)")
        replace_all(client, uri, edited, 2, FLOW)
        [flow] = (await flow_graph(client, [uri]))["flows"]  # arguments nested in a list, as some clients send them
        steps = {step["name"]: step for step in flow["steps"]}
        assert steps["join"]["next"] == ["report"] and flow["missing"] == ["report"]
        assert [d["code"] for d in steps["join"]["diagnostics"]] == ["MF011"]
        with_step = edited.replace("    @step\n    def end", "    @step\n    def report(self):\n"
                                   "        self.next(self.end)\n\n    @step\n    def end")
        replace_all(client, uri, with_step, 3, edited)
        [flow] = (await flow_graph(client, uri))["flows"]
        assert [step["name"] for step in flow["steps"]] == ["start", "work", "join", "report", "end"]
        assert flow["missing"] == []


async def test_flow_graph_of_text_that_does_not_parse_or_a_bad_argument(tmp_path):
    path = write(tmp_path, "flows/graph_flow.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path, text=FLOW + "\n    def broken(:\n")
        assert await flow_graph(client, uri) == {"flows": []}
        assert await flow_graph(client) is None
        assert await flow_graph(client, 42) is None


async def test_flow_graph_is_advertised_and_answered_in_an_untrusted_workspace(tmp_path):
    """It only reads: Neovim users call it by name, and an untrusted workspace still sees its graph."""
    path = write(tmp_path, "flows/graph_flow.py", FLOW)
    client = await ClientServerConfig(server_command=SERVER).start()
    try:
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=tmp_path.as_uri(), initialization_options={"trusted": False},
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="w")])), TIMEOUT)
        assert "metaflow.flowGraph" in result.capabilities.execute_command_provider.commands
        [flow] = (await flow_graph(client, open_document(client, path)))["flows"]
        assert [step["name"] for step in flow["steps"]] == ["start", "work", "join", "end"]
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)
