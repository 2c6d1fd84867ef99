"""An untrusted workspace (`initializationOptions: {"trusted": false}`, as the VS Code extension and the PyCharm plugin
send it): diagnostics as usual, but nothing that runs or writes: no launch lenses, no RunSpec, run configurations
refused with a message. The same workspace trusted gets all of them (the control).
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from .conftest import LAUNCHES, Launch, started, still_answers
from test_lsp_session import TIMEOUT, _recording_client, open_document, write

FLOW = '''
from metaflow import FlowSpec, Parameter, step


class TrustFlow(FlowSpec):
    test_mode = Parameter("test_mode", type=bool, default=False)

    @step
    def start(self):
        self.rows = 2 if self.test_mode else 100
        self.next(self.ned)

    @step
    def end(self):
        print(self.rows)


if __name__ == "__main__":
    TrustFlow()
'''
TELLING = [launch for launch in LAUNCHES if launch.sends_trust]


async def _message_containing(client, text: str) -> str:
    """The first window/showMessage holding `text`, waiting for it as long as any request may take."""
    async def arrived() -> str:
        while True:
            found = [m.message for m in client.messages if text in m.message]
            if found:
                return found[0]
            await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)

    return await asyncio.wait_for(arrived(), TIMEOUT)


async def _what_is_offered(launch: Launch, workspace, trusted) -> dict:
    flow = workspace / "trust_flow.py"
    async with started(launch, workspace, trusted=trusted, client=_recording_client()) as client:
        uri = open_document(client, flow)
        codes = await still_answers(client, flow)
        lenses = await asyncio.wait_for(client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT) or []
        spec = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.runSpec", arguments=[uri])), TIMEOUT)
        written = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.writeRunConfigurations", arguments=[])), 30)
        codes_after = await still_answers(client, flow)
        if not trusted:  # the refusal's showMessage
            await _message_containing(client, "untrusted workspace")
        return {"codes": codes, "codes_after": codes_after, "lenses": [lens.command.title for lens in lenses],
                "spec": spec, "written": written, "messages": [m.message for m in client.messages]}


@pytest.mark.parametrize("launch", TELLING, ids=lambda launch: launch.name)
async def test_untrusted_workspace_gets_diagnostics_and_nothing_that_runs(tmp_path, launch: Launch):
    workspace = tmp_path / "workspace"
    write(workspace, "trust_flow.py", FLOW)
    offered = await _what_is_offered(launch, workspace, trusted=False)
    assert "MF011" in offered["codes"] and "MF011" in offered["codes_after"]
    assert offered["lenses"] == [] and offered["spec"] is None
    assert offered["written"]["folders"] == [] and "untrusted" in offered["written"]["refused"]
    assert any("untrusted workspace" in message for message in offered["messages"]), offered["messages"]
    assert not (workspace / ".vscode").exists() and not (workspace / ".run").exists()


@pytest.mark.parametrize("launch", TELLING, ids=lambda launch: launch.name)
async def test_the_same_workspace_trusted_gets_the_launcher(tmp_path, launch: Launch):
    workspace = tmp_path / "workspace"
    write(workspace, "trust_flow.py", FLOW)
    offered = await _what_is_offered(launch, workspace, trusted=True)
    assert offered["lenses"] == ["Run in test mode", "Debug (foreach, one worker)"]
    assert offered["spec"]["flow"] == "TrustFlow"
    (folder,) = offered["written"]["folders"]
    assert folder["errors"] == [] and (workspace / ".vscode" / "launch.json").is_file()


@pytest.mark.parametrize("options", [{"trusted": "false"}, {"trusted": 0}, {"trusted": None}])
async def test_a_trust_value_that_is_not_true_means_untrusted(tmp_path, options):
    workspace = tmp_path / "workspace"
    flow = write(workspace, "trust_flow.py", FLOW)
    vscode = next(launch for launch in LAUNCHES if launch.name == "vscode")
    async with started(vscode, workspace, client=_recording_client(), options=options) as client:
        uri = open_document(client, flow)
        assert "MF011" in await still_answers(client, flow)
        lenses = await asyncio.wait_for(client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT)
        assert not lenses


@pytest.mark.parametrize("url", ["command:workbench.action.terminal.new", "file:///etc/passwd",
                                 "javascript:alert(1)", "vscode://ms-python.python/run"])
async def test_a_repository_cannot_point_rule_links_at_other_schemes(tmp_path, url):
    """`docs-url` in a repository's pyproject becomes every diagnostic's link, one click away: web pages only."""
    workspace = tmp_path / "workspace"
    flow = write(workspace, "trust_flow.py", FLOW)
    write(workspace, "pyproject.toml", f'[tool.metaflow-lsp]\ndocs-url = "{url}"\n')
    vscode = next(launch for launch in LAUNCHES if launch.name == "vscode")
    async with started(vscode, workspace, client=_recording_client()) as client:
        open_document(client, flow)
        report = await asyncio.wait_for(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=flow.as_uri()))), TIMEOUT)
        links = {d.code_description.href for d in report.items}
        assert links and all(link.startswith("file:") and link.endswith(".md") for link in links), links
        assert not any(link.startswith(url) for link in links)
        assert "http or https" in await _message_containing(client, "docs-url")


async def test_an_https_docs_url_is_used(tmp_path):
    workspace = tmp_path / "workspace"
    flow = write(workspace, "trust_flow.py", FLOW)
    write(workspace, "pyproject.toml", '[tool.metaflow-lsp]\ndocs-url = "https://docs.example.org/rules/"\n')
    vscode = next(launch for launch in LAUNCHES if launch.name == "vscode")
    async with started(vscode, workspace, client=_recording_client()) as client:
        open_document(client, flow)
        report = await asyncio.wait_for(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=flow.as_uri()))), TIMEOUT)
        assert "https://docs.example.org/rules/MF011" in {d.code_description.href for d in report.items}
