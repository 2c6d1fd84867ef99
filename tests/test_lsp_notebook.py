"""The "Debug in notebook" lens and the `metaflow.debugNotebook` command through the real server (`python -m
metaflow_lsp`) and pytest-lsp's client with VS Code's capabilities; slow where a real local run is needed."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from pytest_lsp import ClientServerConfig
from test_lsp_code_lens import by_command, lenses
from test_lsp_session import SERVER, TIMEOUT, capabilities, open_document, session

FIXTURES = Path(__file__).parent / "fixtures" / "notebook"
DEBUG_NOTEBOOK = "metaflow.debugNotebook"


def execute(client, *arguments):
    return asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=DEBUG_NOTEBOOK, arguments=list(arguments))), TIMEOUT)


def copy_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(FIXTURES, folder)
    return folder


async def test_no_notebook_lens_before_a_run_and_the_command_says_why(tmp_path):
    folder = copy_fixture(tmp_path)
    async with session(tmp_path) as client:
        uri = open_document(client, folder / "flow.py")
        assert DEBUG_NOTEBOOK not in by_command(await lenses(client, uri))
        with pytest.raises(JsonRpcException, match="no local run of ScoreFlow yet"):
            await execute(client, uri, "score")
    assert not list(folder.glob("*.ipynb"))


async def test_the_command_is_advertised_to_every_client(tmp_path):
    client = await ClientServerConfig(server_command=SERVER).start()
    try:
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=tmp_path.as_uri())), TIMEOUT)
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await client.stop()
    assert DEBUG_NOTEBOOK in result.capabilities.execute_command_provider.commands


@pytest.mark.slow
async def test_lens_on_every_step_after_a_real_run_writes_the_notebook(tmp_path):
    folder = copy_fixture(tmp_path)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "METAFLOW_USER": "tester"}
    result = subprocess.run([sys.executable, "flow.py", "--no-pylint", "run", "--max-workers", "1"], cwd=folder,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    async with session(tmp_path) as client:
        uri = open_document(client, folder / "flow.py")
        found = by_command(await lenses(client, uri))[DEBUG_NOTEBOOK]
        assert [lens.command.title for lens in found] == ["Debug in notebook"] * 4
        assert [lens.command.arguments[1] for lens in found] == ["start", "score", "join", "end"]
        lines = (folder / "flow.py").read_text().splitlines()
        assert [lens.range.start.line for lens in found] == [  # each `def <step>`
            i for i, line in enumerate(lines) if line.startswith("    def ")]
        written = await execute(client, *found[1].command.arguments)
        assert written["path"] == str(folder / "debug_score.ipynb")
        assert written["uri"] == (folder / "debug_score.ipynb").as_uri()
        notebook = json.loads((folder / "debug_score.ipynb").read_text())
        assert notebook["nbformat"] == 4 and "common.score(input, scale)" in json.dumps(notebook)
        assert (await execute(client, *found[1].command.arguments))["path"] == str(folder / "debug_score_2.ipynb")

        # The editor's text, not yet saved: a step added since the run never ran in it.
        edited = (folder / "flow.py").read_text().replace("self.next(self.end)", "self.next(self.extra)").replace(
            "    @step\n    def end(self):", "    @step\n    def extra(self):\n        self.next(self.end)\n\n"
                                           "    @step\n    def end(self):")
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)]))
        with pytest.raises(JsonRpcException, match="step `extra` never ran in run ScoreFlow/"):
            await execute(client, uri, "extra")


async def test_untrusted_workspace_gets_no_notebook(tmp_path):
    folder = copy_fixture(tmp_path)
    client = await ClientServerConfig(server_command=SERVER).start()
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=tmp_path.as_uri(), initialization_options={"trusted": False},
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="w")])), TIMEOUT)
        uri = open_document(client, folder / "flow.py")
        with pytest.raises(JsonRpcException, match="untrusted"):
            await execute(client, uri, "score")
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await client.stop()
    assert not list(folder.glob("*.ipynb"))
