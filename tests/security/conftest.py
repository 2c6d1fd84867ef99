"""The real server against hostile workspaces, started the way each editor starts it.

`LAUNCHES` names each way (read from vscode-extension/src/serverLaunch.ts and extension.ts, and from the PyCharm
plugin's ServerCommand + MetaflowServerConnectionProvider); `started(launch, workspace)` gives an initialised
pytest-lsp client. `markers` is a folder outside the workspace that hostile code writes into when it runs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, make_test_lsp_client

from test_lsp_session import TIMEOUT, capabilities, stop

from .hostile import codes
from .hostile import still_answers as answered

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "vscode-extension"
CONSOLE_SCRIPT = str(Path(sys.executable).with_name("metaflow-lsp"))
MODULE_COMMAND = [sys.executable, "-m", "metaflow_lsp"]


@dataclass(frozen=True)
class Launch:
    name: str
    command: list[str]
    cwd: str  # "workspace": the workspace folder itself; "pycharm-plugin": a folder standing for the plugin's own
    sends_trust: bool  # whether the client tells the server about workspace trust (initializationOptions)


LAUNCHES = [
    # VS Code: serverProcess(interpreter, context.extensionPath), initializationOptions(isTrusted).
    Launch("vscode", MODULE_COMMAND, str(EXTENSION), True),
    # PyCharm: ServerCommand.command(interpreter) in the plugin's installation folder, initializationOptions(trusted).
    Launch("pycharm", MODULE_COMMAND, "pycharm-plugin", True),
    # Other editors (Neovim's lspconfig, Eglot) start a command in the project root: the console script is safe there.
    Launch("console-script", [CONSOLE_SCRIPT, "serve"], "workspace", False),
]


@pytest.fixture
def markers(tmp_path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


def launch_cwd(launch: Launch, workspace: Path) -> Path:
    if launch.cwd == "workspace":
        return workspace
    if launch.cwd == "pycharm-plugin":
        plugin = workspace.parent / "idea-plugins" / "metaflow-lsp"
        (plugin / "lib").mkdir(parents=True, exist_ok=True)
        return plugin
    return Path(launch.cwd)


@asynccontextmanager
async def started(launch: Launch, workspace: Path, *, trusted: bool = True, client: LanguageClient | None = None,
                  options: Any = None) -> AsyncIterator[LanguageClient]:
    """The server started as `launch` starts it, initialised with `workspace` as its folder; `options` replaces the
    initializationOptions the editor would send."""
    client = client or make_test_lsp_client()
    await client.start_io(*launch.command, cwd=str(launch_cwd(launch, workspace)))
    if options is None:
        options = {"trusted": trusted} if launch.sends_trust else None
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=workspace.as_uri(), initialization_options=options,
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name=workspace.name)])), TIMEOUT)
        yield client
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)


async def still_answers(client: LanguageClient, flow: Path) -> list[str]:
    """The codes of a pulled diagnostic report for `flow`: a normal request, answered within seconds."""
    return codes(await answered(client, flow.as_uri()))
