"""Settings in the server: pyproject `[tool.metaflow-lsp]`, editor settings pulled with workspace/configuration
(section `metaflowLsp`), didChangeConfiguration, and what happens to wrong values."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types

from metaflow_lsp.rules import RULES
from test_lsp_diagnostics import BROKEN, UNKNOWN_TARGET, of
from test_lsp_session import TIMEOUT, capabilities, codes, open_document, pull, session, wait_for_published, write


@pytest.fixture(autouse=True)
def _rules_exist():
    assert UNKNOWN_TARGET in RULES


async def wait_for_messages(client, count: int, settle: float = 0.3) -> list[types.ShowMessageParams]:
    """The showMessage notifications once `count` have arrived and nothing more came for `settle` seconds."""
    deadline = time.monotonic() + TIMEOUT
    while len(client.messages) < count and time.monotonic() < deadline:
        try:
            await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), 0.1)
        except asyncio.TimeoutError:
            pass
    await asyncio.sleep(settle)
    return list(client.messages)


async def test_editor_setting_ignores_a_code(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path, settings={"ignore": [UNKNOWN_TARGET]}) as client:
        report = await pull(client, open_document(client, path))
        assert of(UNKNOWN_TARGET, report.items) == []


async def test_editor_settings_override_pyproject(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.metaflow-lsp]\nignore = ["MF011"]\n')
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        assert of(UNKNOWN_TARGET, (await pull(client, uri)).items) == []
    async with session(tmp_path, settings={"ignore": [], "severity": {"MF011": "warning"}}) as client:
        [diagnostic] = of(UNKNOWN_TARGET, (await pull(client, open_document(client, path))).items)
        assert diagnostic.severity == types.DiagnosticSeverity.Warning


async def test_did_change_configuration_pulls_again_and_pushes_again(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path)
        first = await wait_for_published(client, uri)
        assert codes(of(UNKNOWN_TARGET, first.diagnostics)) == [UNKNOWN_TARGET]
        count = len(client.published)
        client.set_configuration({"ignore": [UNKNOWN_TARGET]}, section="metaflowLsp")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        again = await wait_for_published(client, uri, after=count)
        assert of(UNKNOWN_TARGET, again.diagnostics) == []
        assert again.version == 1


async def test_did_change_configuration_asks_a_pulling_client_to_refresh(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path) as client:
        uri = open_document(client, path)
        first = await pull(client, uri)
        client.set_configuration({"ignore": [UNKNOWN_TARGET]}, section="metaflowLsp")
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        deadline = time.monotonic() + TIMEOUT
        while client.diagnostic_refresh_count == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert client.diagnostic_refresh_count == 1
        report = await pull(client, uri, first.result_id)
        assert report.kind == "full" and of(UNKNOWN_TARGET, report.items) == []


async def test_invalid_editor_settings_warn_once_and_use_defaults(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    other = write(tmp_path, "other.py", BROKEN)
    # `interpreter` and `trace` are the extension's own keys: they must not be reported as unknown.
    settings = {"ignore": "not a code", "maxStepStatements": -3, "flavour": "vanilla",
                "interpreter": ["/usr/bin/python3"], "trace": {"server": "off"}}
    async with session(tmp_path, settings=settings) as client:
        uri = open_document(client, path)
        report = await pull(client, uri)
        assert codes(of(UNKNOWN_TARGET, report.items)) == [UNKNOWN_TARGET]  # defaults: nothing ignored
        await pull(client, open_document(client, other))
        await pull(client, uri, report.result_id)
        messages = await wait_for_messages(client, 3)
        assert len(messages) == 3, [m.message for m in messages]
        assert all(m.type == types.MessageType.Warning for m in messages)
        text = "\n".join(m.message for m in messages)
        assert "`ignore`" in text and "max-step-statements" in text and "`flavour`" in text
        # Telling it again (didChangeConfiguration, same values) does not repeat the warnings.
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await pull(client, uri)
        assert len(await wait_for_messages(client, 3)) == 3


async def test_invalid_pyproject_warns_once(tmp_path):
    write(tmp_path, "pyproject.toml", '[tool.metaflow-lsp]\nmax-step-statements = "many"\n')
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path, caps=capabilities(pull=False)) as client:
        uri = open_document(client, path)
        first = await wait_for_published(client, uri)
        assert codes(of(UNKNOWN_TARGET, first.diagnostics)) == [UNKNOWN_TARGET]
        messages = await wait_for_messages(client, 1)
        assert len(messages) == 1 and "pyproject.toml" in messages[0].message


async def test_server_option_diagnostics_delay(tmp_path):
    path = write(tmp_path, "hello.py", BROKEN)
    async with session(tmp_path, caps=capabilities(pull=False), settings={"diagnosticsDelay": "soon"}) as client:
        await wait_for_published(client, open_document(client, path))
        [message] = await wait_for_messages(client, 1)
        assert "diagnosticsDelay" in message.message


def test_sections_follow_the_workspace_folder(tmp_path):
    from metaflow_lsp.lsp.server import MetaflowLanguageServer

    server = MetaflowLanguageServer()
    store = server.editor_settings
    store._scopes = {"": {"ignore": ["MF2"]}, (tmp_path / "a").as_uri(): {"ignore": ["MF0"]}}
    inside = (tmp_path / "a" / "flow.py")
    assert store.settings_for(inside.as_uri(), inside).ignore == ("MF0",)
    outside = (tmp_path / "ab" / "flow.py")
    assert store.settings_for(outside.as_uri(), outside).ignore == ("MF2",)
    assert store.settings_for("untitled:1", None).ignore == ("MF2",)
