"""Launcher code lenses and commands end to end: the real server (`python -m metaflow_lsp`) and pytest-lsp's client
with VS Code's capabilities."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from lsprotocol import types

from metaflow_lsp.launch.runspec import IDE_TAG, RunSpec
from pytest_lsp import ClientServerConfig
from test_lsp_session import SERVER, TIMEOUT, capabilities, open_document, session, stop, write

FLOW = '''
from metaflow import FlowSpec, Parameter, step


class LensFlow(FlowSpec):
    quick = Parameter("smoke", type=bool, default=False)

    @step
    def start(self):
        self.rows = 2 if self.quick else 100
        self.next(self.end)

    @step
    def end(self):
        print("rows", self.rows)


if __name__ == "__main__":
    LensFlow()
'''

NO_TEST_MODE = '''
from metaflow import FlowSpec, step


class PlainFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


async def lenses(client, uri: str) -> list[types.CodeLens]:
    return await asyncio.wait_for(client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))), TIMEOUT) or []


def by_command(found: list[types.CodeLens]) -> dict[str, list[types.CodeLens]]:
    grouped: dict[str, list[types.CodeLens]] = {}
    for lens in found:
        grouped.setdefault(lens.command.command, []).append(lens)
    return grouped


async def test_run_and_debug_lenses_above_every_flow(tmp_path):
    path = write(tmp_path, "flows/lens_flow.py", FLOW)
    plain = write(tmp_path, "flows/plain.py", NO_TEST_MODE)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        found = by_command(await lenses(client, uri))
        assert set(found) == {"metaflow.runTestMode", "metaflow.debugForeach"}  # no run yet: no resume/spin
        [run], [debug] = found["metaflow.runTestMode"], found["metaflow.debugForeach"]
        assert run.command.title == "Run in test mode" and debug.command.title == "Debug (foreach, one worker)"
        assert run.range.start == types.Position(line=3, character=6)  # the class name
        spec = RunSpec.from_json(run.command.arguments[0])
        assert spec.script == str(path.resolve()) and spec.cwd == str(path.parent.resolve())
        assert list(spec.args) == ["--no-pylint", "run", "--smoke", "1", "--max-workers", "1", "--tag", IDE_TAG]
        debug_spec = debug.command.arguments[0]
        assert debug_spec["debug"] is True and debug_spec["debugger"]["subProcess"] is True
        assert debug_spec["args"] == list(spec.args)

        plain_uri = open_document(client, plain)
        [plain_run] = by_command(await lenses(client, plain_uri))["metaflow.runTestMode"]
        assert plain_run.command.title == "Run (1 worker) — no test-mode Parameter"
        assert plain_run.command.arguments[0]["args"] == ["--no-pylint", "run", "--max-workers", "1", "--tag", IDE_TAG]

        # The lenses follow the editor's unsaved text.
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=plain_uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=path.read_text())]))
        [changed] = by_command(await lenses(client, plain_uri))["metaflow.runTestMode"]
        assert changed.command.title == "Run in test mode"


async def test_launch_commands_are_not_advertised_but_the_server_commands_are(tmp_path):
    write(tmp_path, "flows/lens_flow.py", FLOW)
    client = await ClientServerConfig(server_command=SERVER).start()
    try:
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=tmp_path.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="w")])), TIMEOUT)
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await client.stop()
    assert result.capabilities.code_lens_provider is not None
    commands = result.capabilities.execute_command_provider.commands
    assert {"metaflow.runSpec", "metaflow.writeRunConfigurations"} <= set(commands)
    # Executed by the editor (or routed to IDE actions by LSP4IJ): never server commands.
    assert not {"metaflow.runTestMode", "metaflow.debugForeach", "metaflow.resume", "metaflow.spin"} & set(commands)


async def test_run_spec_command_for_clients_without_code_lenses(tmp_path):
    path = write(tmp_path, "flows/lens_flow.py", FLOW)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        spec = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.runSpec", arguments=[uri])), TIMEOUT)
        assert spec["title"] == "Run in test mode" and spec["testOption"] == "--smoke"
        debug = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.runSpec", arguments=[uri, "LensFlow", "debugForeach"])), TIMEOUT)
        assert debug["debug"] is True and debug["args"] == spec["args"]
        missing = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.runSpec", arguments=[uri, "NoSuchFlow"])), TIMEOUT)
        assert missing is None


async def test_write_run_configurations_command(tmp_path):
    write(tmp_path, "flows/lens_flow.py", FLOW)
    async with session(tmp_path) as client:
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.writeRunConfigurations")), TIMEOUT)
        [folder] = result["folders"]
        assert folder["configurations"] == ["LensFlow (test mode)", "LensFlow (foreach debug)"]
        assert folder["errors"] == []
        launch = json.loads((tmp_path / ".vscode" / "launch.json").read_text())
        assert launch["configurations"][0]["args"][2:4] == ["--smoke", "1"]
        assert (tmp_path / ".run" / "LensFlow (test mode).run.xml").is_file()
        again = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.writeRunConfigurations", arguments=[tmp_path.as_uri()])), TIMEOUT)
        assert again["folders"][0]["written"] == []


@pytest.mark.slow
async def test_resume_and_spin_lenses_after_a_real_local_run(tmp_path):
    path = write(tmp_path, "flows/lens_flow.py", FLOW)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "METAFLOW_USER": "tester"}
    async with session(tmp_path) as client:
        refreshed = asyncio.Event()

        @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def code_lens_refresh(ls, params) -> None:
            refreshed.set()

        uri = open_document(client, path)
        [run_lens] = by_command(await lenses(client, uri))["metaflow.runTestMode"]
        spec = RunSpec.from_json(run_lens.command.arguments[0])
        # The editor's part: execute the RunSpec.
        result = subprocess.run(spec.command(sys.executable), cwd=spec.cwd, env=spec.environment(env),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0 and "Done!" in result.stderr + result.stdout, result.stderr[-2000:]
        run_id = (Path(spec.cwd) / ".metaflow" / "LensFlow" / "latest_run").read_text().strip()

        # The spin probe ran in the background after the first request; its answer asked the client to refresh.
        await asyncio.wait_for(refreshed.wait(), TIMEOUT)
        found = by_command(await lenses(client, uri))
        resumes = found["metaflow.resume"]
        assert [lens.range.start.line for lens in resumes] == [7, 12]  # `def start`, `def end`
        assert all(lens.command.title == "Resume from here" for lens in resumes)
        resume = RunSpec.from_json(resumes[1].command.arguments[0])
        assert list(resume.args) == ["--no-pylint", "resume", "end", "--origin-run-id", run_id, "--max-workers",
                                     "1", "--tag", IDE_TAG]
        spins = found["metaflow.spin"]
        assert [lens.command.title for lens in spins] == ["Spin this step"] * 2
        spin = RunSpec.from_json(spins[1].command.arguments[0])
        assert spin.args[-2] == "spin" and spin.args[-1].startswith(f"LensFlow/{run_id}/end/")

        # Both run: resume from `end` with the explicit origin, and spin of `end`.
        for follow_up in (resume, spin):
            result = subprocess.run(follow_up.command(sys.executable), cwd=follow_up.cwd,
                                    env=follow_up.environment(env), capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, (follow_up.args, result.stderr[-2000:])

        # After spin rewrote latest_run, the resume lens still names the last real run... or the resume's run,
        # which is newer: never the spin's.
        after = by_command(await lenses(client, uri))["metaflow.resume"][0].command.arguments[0]["args"]
        origin = after[after.index("--origin-run-id") + 1]
        spin_run = (Path(spec.cwd) / ".metaflow" / "LensFlow" / "latest_run").read_text().strip()
        assert origin != spin_run and (Path(spec.cwd) / ".metaflow" / "LensFlow" / origin / "_meta").is_dir()


async def test_test_mode_names_come_from_the_project_settings(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.metaflow-lsp]\ntest-mode-parameters = ["ci_mode"]\n')
    path = write(tmp_path, "flows/lens_flow.py", FLOW.replace('quick = Parameter("smoke"', 'quick = Parameter("ci_mode"'))
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        [run] = by_command(await lenses(client, uri))["metaflow.runTestMode"]
        assert run.command.arguments[0]["args"][2:4] == ["--ci_mode", "1"]
        result = await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="metaflow.writeRunConfigurations")), TIMEOUT)
        assert result["folders"][0]["errors"] == []
        launch = json.loads((tmp_path / ".vscode" / "launch.json").read_text())
        assert launch["configurations"][0]["args"][2:4] == ["--ci_mode", "1"]


UNICODE_FLOW = '''
from metaflow import FlowSpec, step


class ÜberFlow(FlowSpec):  # a name with a character that takes 2 UTF-8 bytes and 1 UTF-16 unit
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ÜberFlow()
'''


@pytest.mark.parametrize("offered, width", [(None, 14), (["utf-8"], 15), (["utf-32", "utf-16"], 14)])
async def test_lens_ranges_count_in_the_negotiated_position_encoding(tmp_path, offered, width):
    """`class ÜberFlow` ends at column 14 in UTF-16 and UTF-32, 15 in UTF-8: the lens range follows the encoding the
    server picked from the client's `general.positionEncodings` (UTF-16 when none is offered)."""
    import attrs

    path = write(tmp_path, "flows/uber.py", UNICODE_FLOW)
    caps = capabilities()
    if offered is not None:
        caps = attrs.evolve(caps, general=attrs.evolve(caps.general or types.GeneralClientCapabilities(),
                                                       position_encodings=offered))
    async with session(tmp_path, caps=caps) as client:
        uri = open_document(client, path)
        [run] = by_command(await lenses(client, uri))["metaflow.runTestMode"]
        assert run.range.start == types.Position(line=3, character=6)
        assert run.range.end == types.Position(line=3, character=width)


@asynccontextmanager
async def graph_view_session(root: Path, options: dict):
    """A started server whose client sent `options` as its initializationOptions (the VS Code extension sends
    `{"trusted": ..., "graphView": true}`)."""
    client = await ClientServerConfig(server_command=SERVER).start()
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=root.as_uri(), initialization_options=options,
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)])), TIMEOUT)
        yield client
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)


TWO_FLOWS = FLOW.replace('if __name__ == "__main__":', NO_TEST_MODE.split("\n", 3)[3] + '\n\nif __name__ == "__main__":')


async def test_show_graph_lens_above_every_flow_for_a_client_that_draws_graphs(tmp_path):
    path = write(tmp_path, "flows/two_flows.py", TWO_FLOWS)
    async with graph_view_session(tmp_path, {"trusted": True, "graphView": True}) as client:
        uri = open_document(client, path)
        found = by_command(await lenses(client, uri))
        graphs = found["metaflow.showFlowGraph"]
        assert [(lens.command.title, list(lens.command.arguments), lens.range.start.line) for lens in graphs] == [
            ("Show graph", [uri, "LensFlow"], 3), ("Show graph", [uri, "PlainFlow"], 17)]  # the `class` lines
        assert len(found["metaflow.runTestMode"]) == 2  # the launch lenses are still there


async def test_no_lens_at_all_in_an_untrusted_workspace(tmp_path):
    """No lens at all, as before: VS Code drew none in Restricted Mode even when "Show graph" was offered (seen in the
    e2e test); the graph stays one click away there, in the palette and the editor's title bar."""
    path = write(tmp_path, "flows/lens_flow.py", FLOW)
    async with graph_view_session(tmp_path, {"trusted": False, "graphView": True}) as client:
        assert await lenses(client, open_document(client, path)) == []


async def test_no_show_graph_lens_for_a_client_without_the_view(tmp_path):
    """Neovim, Emacs, PyCharm: a "Show graph" lens would do nothing there."""
    path = write(tmp_path, "flows/lens_flow.py", FLOW)
    async with graph_view_session(tmp_path, {"trusted": True}) as client:
        found = by_command(await lenses(client, open_document(client, path)))
    assert "metaflow.showFlowGraph" not in found and "metaflow.runTestMode" in found


def test_view_commands_are_contributed_by_the_vscode_extension():
    """commands.json's viewCommands are the extension's commands (in the palette: they work on the active editor)."""
    from metaflow_lsp.lsp import code_lens

    root = Path(__file__).resolve().parent.parent
    listed = json.loads((root / "server" / "metaflow_lsp" / "commands.json").read_text())["viewCommands"]
    manifest = json.loads((root / "vscode-extension" / "package.json").read_text())
    contributed = {c["command"]: c for c in manifest["contributes"]["commands"]}
    assert [entry["id"] for entry in listed] == [code_lens.SHOW_FLOW_GRAPH] == ["metaflow.showFlowGraph"]
    for entry in listed:
        assert f'{contributed[entry["id"]]["category"]}: {contributed[entry["id"]]["title"]}' == entry["text"]
    hidden = {item["command"] for item in manifest["contributes"]["menus"]["commandPalette"] if item.get("when") == "false"}
    assert not hidden & {entry["id"] for entry in listed}
