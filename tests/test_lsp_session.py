"""The language server as editors start it: `python -m metaflow_lsp` on stdio, driven by pytest-lsp's client.

Also holds `session`, the helper the other test_lsp_* files use to start the real server with a given client
(VS Code's capabilities, with or without pull diagnostics) and workspace.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities, make_test_lsp_client

SERVER = [sys.executable, "-m", "metaflow_lsp"]
TIMEOUT = 10.0  # seconds any single wait may take before the test fails


def capabilities(*, pull: bool = True, refresh: bool = True, progress: bool = True) -> types.ClientCapabilities:
    """VS Code's capabilities; `pull` adds textDocument.diagnostic (VS Code >= 1.74 declares it)."""
    caps = client_capabilities("visual_studio_code")
    if pull:
        text_document = attrs.evolve(caps.text_document, diagnostic=types.DiagnosticClientCapabilities(
            dynamic_registration=True, related_document_support=False))
        workspace = attrs.evolve(caps.workspace, diagnostics=types.DiagnosticWorkspaceClientCapabilities(
            refresh_support=refresh))
        caps = attrs.evolve(caps, text_document=text_document, workspace=workspace)
    if not progress:
        caps = attrs.evolve(caps, window=attrs.evolve(caps.window, work_done_progress=False))
    return caps


def _recording_client() -> LanguageClient:
    """pytest-lsp's test client that also keeps every publishDiagnostics and answers client/registerCapability."""
    client = make_test_lsp_client()
    client.published = []  # type: ignore[attr-defined]
    client.registrations = []  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(ls: LanguageClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    original = client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def publish(params: types.PublishDiagnosticsParams) -> None:
        client.published.append(params)  # type: ignore[attr-defined]
        original(params)

    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    return client


@asynccontextmanager
async def session(root: Path, *, caps: types.ClientCapabilities | None = None,
                  settings: dict[str, Any] | None = None) -> AsyncIterator[LanguageClient]:
    """A started and initialised server with `root` as its only workspace folder; `settings` is what the client
    answers to workspace/configuration for the `metaflowLsp` section."""
    client = await ClientServerConfig(server_command=SERVER, client_factory=_recording_client).start()
    if settings is not None:
        client.set_configuration(settings, section="metaflowLsp")
    try:
        await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=caps or capabilities(), root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)])), TIMEOUT)
        yield client
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        await stop(client)


async def stop(client: LanguageClient) -> None:
    """Stops the client; a server that did not exit after `exit` (or never got it: the test failed) is killed."""
    server = client._server
    if server is not None and server.returncode is None:
        try:
            await asyncio.wait_for(asyncio.shield(server.wait()), 2)
        except asyncio.TimeoutError:
            server.kill()
    await asyncio.wait_for(client.stop(), TIMEOUT)


# -- helpers the feature tests share -----------------------------------------------------------------------------


def write(root: Path, relative: str, source: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return path


def open_document(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=version,
        text=path.read_text(encoding="utf-8") if text is None else text)))
    return uri


def replace_all(client: LanguageClient, uri: str, text: str, version: int, old_text: str) -> None:
    """A didChange that replaces the whole document (an incremental change over the full old range)."""
    lines = old_text.split("\n")
    end = types.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=0), end=end), text=text)]))


async def pull(client: LanguageClient, uri: str, previous: str | None = None):
    return await asyncio.wait_for(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous)), TIMEOUT)


async def wait_for_published(client: LanguageClient, uri: str,
                             until: Callable[[types.PublishDiagnosticsParams], bool] = lambda p: True,
                             after: int = 0) -> types.PublishDiagnosticsParams:
    """The first publishDiagnostics for `uri` (from index `after` of everything published) that satisfies `until`."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        for params in client.published[after:]:  # type: ignore[attr-defined]
            if params.uri == uri and until(params):
                return params
        after = len(client.published)  # type: ignore[attr-defined]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no matching diagnostics for {uri}; got {client.published}")  # type: ignore
        try:
            await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), remaining)
        except asyncio.TimeoutError:
            pass


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


# -- tests ---------------------------------------------------------------------------------------------------------


async def test_initialize_imports_neither_metaflow_nor_libcst_and_advertises_diagnostics(tmp_path, capfd):
    """What keeps `initialize` quick: from start to exit the server imports neither metaflow nor libcst (`-X importtime`
    reports every import on stderr, which pytest-lsp forwards here). How quick: `benchmarks/bench.py`."""
    client = await ClientServerConfig(server_command=[sys.executable, "-X", "importtime", *SERVER[1:]],
                                      client_factory=_recording_client).start()
    try:
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), root_uri=tmp_path.as_uri())), TIMEOUT)
        await client.shutdown_session()
        await asyncio.wait_for(client._server.wait(), TIMEOUT)
        await asyncio.wait_for(client._stderr_forwarder, TIMEOUT)  # everything the server wrote, up to its exit
    finally:
        await stop(client)
    imported = {line.rsplit("|", 1)[-1].strip() for line in capfd.readouterr().err.splitlines()
                if line.startswith("import time:")}
    assert "metaflow_lsp.lsp.server" in imported
    assert {name for name in imported if name.split(".")[0] in ("metaflow", "libcst")} == set()
    provider = result.capabilities.diagnostic_provider
    assert provider.inter_file_dependencies and provider.workspace_diagnostics
    assert "metaflow.checkWorkspace" in result.capabilities.execute_command_provider.commands
    assert result.server_info.name == "metaflow-lsp"


def test_start_up_imports_neither_metaflow_nor_libcst():
    probe = ("import sys, metaflow_lsp.lsp.server as s; s.create_server(); "
             "print(sorted(m for m in ('metaflow', 'libcst') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


async def test_registers_for_configuration_and_file_changes(tmp_path):
    async with session(tmp_path) as client:
        deadline = time.monotonic() + TIMEOUT
        while not client.registrations and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        methods = [r.method for r in client.registrations]
        assert methods == [types.WORKSPACE_DID_CHANGE_CONFIGURATION, types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
        watchers = client.registrations[1].register_options["watchers"]
        assert {w["globPattern"] for w in watchers} >= {"**/*.py", "**/pyproject.toml"}
