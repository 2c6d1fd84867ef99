"""Editor settings: the `metaflowLsp` section, pulled with `workspace/configuration` once per workspace folder.

The rule settings of a file are the nearest pyproject's `[tool.metaflow-lsp]` (`config.load`) with the editor's values
applied over them (`config.apply`, camelCase keys). A few keys only concern the server itself (`SERVER_KEYS`); they
are read here and never reach `config.apply`; the extension's own keys (`CLIENT_KEYS`) are left alone. `workspace/didChangeConfiguration` means "pull again" (esbonio's way);
a client that cannot answer `workspace/configuration` may push the section in that notification instead.

A wrong value never stops the server: the key keeps its default and the user sees one warning per distinct problem.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

from .. import config

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

log = logging.getLogger(__name__)

SECTION = "metaflowLsp"
EDITOR_ORIGIN = f"editor setting `{SECTION}`"
PULL_TIMEOUT = 5.0  # seconds a client may take to answer workspace/configuration
READY_TIMEOUT = 2.0  # seconds diagnostics wait for the first answer before using what they have


@dataclass(frozen=True)
class ServerOptions:
    """Settings of the server process itself (not of the rules)."""

    diagnostics_delay_ms: int = 5  # push debounce after a change; a newer change restarts it (and changes that
    # arrive while the rules run are coalesced anyway: only the newest version is checked)
    inlay_hints: bool = False  # after each step's `def`, the artifacts it reads from upstream (lsp/inlay_hints.py)


def _delay(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 5000:
        raise ValueError(f"`{key}` must be a number of milliseconds from 0 to 5000, not {value!r}")
    return int(value)


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"`{key}` must be true or false, not {value!r}")
    return value


SERVER_KEYS = {"diagnosticsDelay": ("diagnostics_delay_ms", _delay), "inlayHints": ("inlay_hints", _flag)}
# Keys of the same section that only the editor extension reads (which Python starts the server, which copy of the
# server it starts, how VS Code logs its messages): not unknown options, just not the server's business.
CLIENT_KEYS = frozenset({"interpreter", "importStrategy", "trace"})


def _camel(kebab: str) -> str:
    head, *rest = kebab.split("-")
    return head + "".join(part.capitalize() for part in rest)


# Every key of the section, in the editors' camelCase: the rule settings (`config`), the server's, the extension's.
# vscode-extension/package.json declares exactly these (tests/test_extension_settings.py).
RULE_KEYS = frozenset(_camel(key) for key in config._READERS)
KNOWN_KEYS = RULE_KEYS | SERVER_KEYS.keys() | CLIENT_KEYS


def workspace_trusted(initialization_options: Any) -> bool:
    """Whether the client trusts the workspace: `initializationOptions: {"trusted": false}` says it does not (the VS
    Code extension and the PyCharm plugin send it). Trusted only when the key is absent (clients without a notion of
    trust: the user opened the folder) or exactly `true`."""
    if not isinstance(initialization_options, dict) or "trusted" not in initialization_options:
        return True
    return initialization_options["trusted"] is True


def client_shows_graphs(initialization_options: Any) -> bool:
    """Whether the client draws flow graphs itself: `initializationOptions: {"graphView": true}` (the VS Code
    extension's webview). Only such a client is offered the "Show graph" lens; others would show a lens that does
    nothing, and get the graph from `metaflow.flowGraph` or `metaflow-lsp graph` instead."""
    return isinstance(initialization_options, dict) and initialization_options.get("graphView") is True


class EditorSettings:
    """The `metaflowLsp` section per scope ("" = global, else a workspace folder URI), and the settings of a file."""

    def __init__(self, server: MetaflowLanguageServer):
        self._server = server
        self._scopes: dict[str, Any] = {}
        self._reported: set[str] = set()
        self._ready: asyncio.Event | None = None
        self._pulls = 0
        self.answered_late = False  # some document was checked before the first answer came
        self.options = ServerOptions()

    # -- pulling -------------------------------------------------------------------------------------------------

    @property
    def client_can_answer(self) -> bool:
        workspace = self._server.client_capabilities.workspace
        return bool(workspace and workspace.configuration)

    def _event(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    async def wait_ready(self) -> None:
        """Returns once the first pull has been answered (or has failed, or took too long)."""
        event = self._event()
        if event.is_set():
            return
        try:
            await asyncio.wait_for(event.wait(), READY_TIMEOUT)
        except asyncio.TimeoutError:
            self.answered_late = True
            log.warning("no answer to workspace/configuration yet; checking with the settings at hand")

    async def pull(self) -> None:
        """Asks the client for the section of every workspace folder (and the global one)."""
        if not self.client_can_answer:
            self._event().set()
            return
        self._pulls += 1
        pull = self._pulls
        scopes = [""] + [folder.uri for folder in self._server.workspace.folders.values()]
        items = [types.ConfigurationItem(section=SECTION, scope_uri=scope or None) for scope in scopes]
        try:
            answers = await asyncio.wait_for(
                self._server.workspace_configuration_async(types.ConfigurationParams(items=items)), PULL_TIMEOUT)
        except Exception as error:  # a client that fails to answer still gets diagnostics, with pyproject settings
            log.warning("workspace/configuration failed: %s", error)
            answers = None
        if pull != self._pulls:  # a newer pull is under way; its answer wins
            return
        if answers is not None:
            answers = list(answers) + [None] * (len(scopes) - len(answers))
            self._scopes = {scope: answer for scope, answer in zip(scopes, answers)}
            self._read_server_options()
        self._event().set()

    def push(self, settings: Any) -> None:
        """`didChangeConfiguration` of a client without `workspace/configuration`: its settings, as sent."""
        section = settings.get(SECTION) if isinstance(settings, dict) else None
        if section is not None:
            self._scopes = {"": section}
            self._read_server_options()
        self._event().set()

    # -- reading -------------------------------------------------------------------------------------------------

    def _section(self, uri: str | None) -> Any:
        """The section for the folder holding `uri` (the longest matching folder URI), else the global one."""
        if uri:
            plain = unquote(uri)
            folders = [scope for scope in self._scopes if scope and plain.startswith(unquote(scope).rstrip("/") + "/")]
            if folders:
                return self._scopes[max(folders, key=len)]
        return self._scopes.get("")

    def _split(self, section: Any) -> tuple[Any, dict[str, Any]]:
        """The rule settings of a section, and its server-only keys."""
        if not isinstance(section, dict):
            return section, {}
        rules = {key: value for key, value in section.items() if key not in SERVER_KEYS and key not in CLIENT_KEYS}
        server = {key: value for key, value in section.items() if key in SERVER_KEYS}
        return rules, server

    def _read_server_options(self) -> None:
        _, raw = self._split(self._section(None))
        options, errors = config.read_options(raw, SERVER_KEYS, EDITOR_ORIGIN)
        self.options = ServerOptions(**options)
        self.report(errors)

    def settings_for(self, uri: str | None, path: Path | None) -> config.Settings:
        """pyproject settings nearest `path`, overridden by the editor's section for `uri`'s folder."""
        settings, errors = config.load(path) if path is not None else (config.Settings(), [])
        section, _ = self._split(self._section(uri))
        if section is not None and section != {}:
            settings, editor_errors = config.apply(section, settings, EDITOR_ORIGIN)
            errors = errors + editor_errors
        self.report(errors)
        return settings

    def report(self, errors: list[str]) -> None:
        """One window/showMessage warning per distinct problem, for the whole session."""
        for error in errors:
            if error in self._reported:
                continue
            self._reported.add(error)
            log.warning("%s", error)
            self._server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=f"metaflow-lsp: {error}"))
