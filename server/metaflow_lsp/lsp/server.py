"""The language server (pygls 2, stdio): `metaflow-lsp serve` / `python -m metaflow_lsp`.

`MetaflowLanguageServer` holds what every feature shares: the settings of a file, its project, and the analysis of
a document's current version (rules run once per version, whoever asks). The features themselves live in their own
modules and are wired here by their `register(server)` functions.

Start-up stays fast: nothing here imports metaflow or libcst; features that need them import them when used.
"""

from __future__ import annotations

import gc
import itertools
import logging
import sys
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from .. import __version__
from ..builder import parse_module
from ..config import Settings
from ..engine import STRICT, CheckResult, check_source
from ..project import Project, find_root, read_source
from ..reuse import NodeReuse
from ..text import LineIndex
from . import (code_actions, code_lens, completion, definition, diagnostics, documents, flow_graph, hover, inlay_hints,
               notebook, references, rename, symbols, workspace_symbols)
from .diagnostics import same_diagnostics
from .early_initialize import AnsweredOnce, Handoff, ReplayingReader
from .settings import SECTION, EditorSettings, client_shows_graphs, workspace_trusted

log = logging.getLogger(__name__)

# Above this many characters a file is not checked (a flow is never this big; a generated file may be).
MAX_SOURCE_CHARS = 1_000_000
_CLOSED_CACHE_LIMIT = 4096
WATCHED_FILES = ("**/*.py", "**/pyproject.toml", "**/.gitignore")


class MetaflowLanguageServer(LanguageServer):
    """pygls server with the shared state of metaflow-lsp's features."""

    def __init__(self) -> None:
        super().__init__("metaflow-lsp", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.editor_settings = EditorSettings(self)
        self.diagnostics: diagnostics.Diagnostics | None = None  # set by diagnostics.register
        self.inlay_hints: inlay_hints.Refresher | None = None  # set by inlay_hints.register
        self._projects: dict[Path, Project] = {}
        self._roots: dict[Path, Path] = {}  # folder -> project root
        self._analyses: dict[str, tuple[tuple, CheckResult]] = {}
        self._diagnostics_ids: dict[str, int] = {}  # per open document: changes when its diagnostics do
        self._next_diagnostics_id = itertools.count(1)
        self._reuse: dict[str, NodeReuse] = {}  # per open document: what its unchanged methods already gave
        self._generation = 0  # bumped when settings or files on disk change: every cached analysis is then stale
        # False when the client said the workspace is untrusted: nothing is then offered that runs or writes
        # (launch lenses, run specs, run configurations); diagnostics and fixes work as usual.
        self.trusted = True
        self.shows_graphs = False  # the client draws flow graphs (initializationOptions.graphView): a lens opens one

    # -- documents -----------------------------------------------------------------------------------------------

    @staticmethod
    def path_of(uri: str) -> Path | None:
        """The file a `file:` URI names; None for other schemes (untitled documents...)."""
        try:
            path = to_fs_path(uri)
        except Exception:
            return None
        return Path(path) if path and uri.startswith("file:") else None

    def open_document(self, uri: str) -> TextDocument | None:
        """The editor's copy of a document, None when it is not open."""
        return self.workspace.text_documents.get(unquote(uri))

    def _snapshot_key(self, uri: str) -> tuple:
        """What identifies the text of `uri` now: the editor's version, else the file's mtime and size on disk."""
        document = self.open_document(uri)
        if document is not None:
            return ("open", document.version)
        path = self.path_of(uri)
        try:
            stat = path.stat() if path is not None else None
        except OSError:
            stat = None
        return ("disk", stat.st_mtime_ns, stat.st_size) if stat else ("missing",)

    def _source(self, uri: str) -> str:
        document = self.open_document(uri)
        if document is not None:
            return document.source
        path = self.path_of(uri)
        try:
            return read_source(path) if path is not None else ""
        except OSError:  # deleted since: nothing to report
            return ""

    def result_id(self, uri: str) -> str:
        """Identifies the diagnostics of `uri` as they are now: same id, same diagnostics. An open document's id
        changes only when its diagnostics do, so a keystroke that leaves them as they were gets an unchanged report
        (VS Code pulls with the previous id) instead of all of them again."""
        if self.open_document(uri) is not None:
            self.analysis(uri)
            return f"{self._generation}:open:{self._diagnostics_ids[uri]}"
        return ":".join(str(part) for part in (self._generation, *self._snapshot_key(uri)))

    # -- what features share -------------------------------------------------------------------------------------

    def settings_for(self, uri: str) -> Settings:
        """Rule settings of a document: its nearest pyproject's `[tool.metaflow-lsp]`, then the editor's section."""
        return self.editor_settings.settings_for(uri, self.path_of(uri))

    def project_for(self, uri: str) -> Project:
        """The project holding a document (cached per root); for an untitled document, the first workspace folder."""
        path = self.path_of(uri)
        return self.project_at(path.parent if path is not None else self._fallback_directory())

    def project_at(self, directory: Path) -> Project:
        """The project holding a folder (cached per root)."""
        root = self._roots.get(directory)
        if root is None:
            root = self._roots[directory] = find_root(directory)
        project = self._projects.get(root)
        if project is None:
            project = self._projects[root] = Project(root)
        return project

    def _fallback_directory(self) -> Path:
        for folder in self.workspace.folders.values():
            path = self.path_of(folder.uri)
            if path is not None:
                return path
        root = self.workspace.root_path
        return Path(root) if root else Path.cwd()

    def analysis(self, uri: str) -> CheckResult:
        """The findings of the document's current version (the editor's copy when open, else the file on disk).
        Computed once per version and settings: diagnostics, code actions and code lenses share it."""
        key = (self._generation, self._snapshot_key(uri))
        cached = self._analyses.get(uri)
        if cached is not None and cached[0] == key:
            return cached[1]
        result = self._check(uri, self._source(uri))
        if key[1][0] != "open" and len(self._analyses) > _CLOSED_CACHE_LIMIT:
            self._forget_closed()
        if key[1][0] == "open" and (cached is None or cached[0][0] != key[0]
                                    or not same_diagnostics(cached[1], result, MAX_SOURCE_CHARS)):
            self._diagnostics_ids[uri] = next(self._next_diagnostics_id)
        self._analyses[uri] = (key, result)
        return result

    def _check(self, uri: str, source: str) -> CheckResult:
        path = self.path_of(uri)
        if len(source) > MAX_SOURCE_CHARS:
            return CheckResult(parse_module("", path, None), [], LineIndex(source))
        settings = self.settings_for(uri)
        project = self.project_for(uri)
        try:
            return check_source(source, path, settings, project, self.node_reuse(uri))
        except Exception:  # the engine never raises by design; if it does, the editor keeps working
            if STRICT:
                raise
            log.exception("checking %s failed", uri)
            return CheckResult(parse_module("", path, None), [], LineIndex(source))

    def node_reuse(self, uri: str) -> NodeReuse | None:
        """What the unchanged methods of an open document already gave (None for a document that is not open)."""
        return self._reuse.setdefault(uri, NodeReuse()) if self.open_document(uri) is not None else None

    def forget(self, uri: str) -> None:
        """Drops what is cached for a document (it was closed)."""
        self._analyses.pop(uri, None)
        self._reuse.pop(uri, None)
        self._diagnostics_ids.pop(uri, None)

    def _forget_closed(self) -> None:
        for uri in [uri for uri, (key, _) in self._analyses.items() if key[1][0] != "open"]:
            del self._analyses[uri]

    def invalidate(self) -> None:
        """Settings or files on disk changed: every analysis is stale. Diagnostics are brought up to date."""
        self._generation += 1
        self._roots.clear()
        if self.diagnostics is not None:
            self.diagnostics.refresh()
        if self.inlay_hints is not None:
            self.inlay_hints.refresh()

    def files_changed(self, paths: list[Path | None]) -> None:
        """Files changed on disk: the project caches built from them are dropped (git answers for a .gitignore, the
        flow-function index of MF401 for a Python file), then every analysis is stale."""
        for path in paths:
            if path is None:
                continue
            for project in self._projects.values():
                if path.name == ".gitignore":
                    project.forget_git_answers()
                elif path.suffix == ".py":
                    project.forget_files(path)
        self.invalidate()

    def workspace_roots(self) -> list[Path]:
        """The folders of the workspace (the root path for clients without folders)."""
        roots = [self.path_of(folder.uri) for folder in self.workspace.folders.values()]
        roots = [root for root in roots if root is not None]
        if not roots and self.workspace.root_path:
            roots = [Path(self.workspace.root_path)]
        return roots


def create_server() -> MetaflowLanguageServer:
    server = MetaflowLanguageServer()
    _register_lifecycle(server)
    diagnostics.register(server)
    for feature in (code_actions, code_lens, hover, definition, references, rename, symbols, completion,
                    workspace_symbols, inlay_hints, flow_graph, notebook):
        try:
            feature.register(server)
        except Exception:  # a broken feature must not take diagnostics down with it
            if STRICT:
                raise
            log.exception("could not register %s", feature.__name__)
    return server


def _register_lifecycle(server: MetaflowLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: MetaflowLanguageServer, params: types.InitializeParams) -> None:
        """Reads the client's word on workspace trust (`initializationOptions.trusted`) and whether it draws graphs;
        keeps documents as LSP defines their lines (`documents`)."""
        documents.use_lsp_lines(ls.workspace)
        ls.trusted = workspace_trusted(params.initialization_options)
        ls.shows_graphs = client_shows_graphs(params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: MetaflowLanguageServer, params: types.InitializedParams) -> None:
        """Pulls the editor settings and asks to be told when they change."""
        await ls.editor_settings.pull()
        if ls.editor_settings.answered_late:  # documents were checked without the editor's settings
            ls.invalidate()
        await _register_for_changes(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: MetaflowLanguageServer, params: types.DidChangeConfigurationParams):
        """workspace/didChangeConfiguration: pull the settings again, then check every document again."""
        if ls.editor_settings.client_can_answer:
            await ls.editor_settings.pull()
        else:
            ls.editor_settings.push(params.settings)
        ls.invalidate()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: MetaflowLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        """Files changed on disk: what other files import, settings, or what git ignores."""
        ls.files_changed([ls.path_of(change.uri) for change in params.changes])

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(ls: MetaflowLanguageServer, params: types.DidChangeWorkspaceFoldersParams):
        await ls.editor_settings.pull()
        ls.invalidate()


async def _register_for_changes(ls: MetaflowLanguageServer) -> None:
    """Asks to be told about setting changes (VS Code sends didChangeConfiguration only for registered sections) and
    about files changed on disk outside the editor (a flow's base class, pyproject.toml, .gitignore)."""
    workspace = ls.client_capabilities.workspace
    registrations = []
    if workspace and workspace.did_change_configuration and workspace.did_change_configuration.dynamic_registration:
        registrations.append(types.Registration(
            id="metaflow-lsp.configuration", method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
            register_options=types.DidChangeConfigurationRegistrationOptions(section=SECTION)))
    if workspace and workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration:
        registrations.append(types.Registration(
            id="metaflow-lsp.files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=[
                types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED_FILES])))
    if not registrations:
        return
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=registrations))
    except Exception as error:
        log.info("client did not take the registrations: %s", error)


def serve(handoff: Handoff | None = None) -> None:
    """Serves on stdio. `handoff`: what `early_initialize` read from stdin first (pygls reads it again, first) and
    whether it answered the initialize request in it already (pygls' own response to it is then dropped)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    server = create_server()
    _tune_garbage_collection()
    handoff = handoff or Handoff()
    stdin = ReplayingReader(handoff.consumed, sys.stdin.buffer)
    stdout = sys.stdout.buffer if handoff.answered_id is None else AnsweredOnce(sys.stdout.buffer, handoff)
    server.start_io(stdin, stdout)


def _tune_garbage_collection() -> None:
    """Every keystroke allocates a whole syntax tree, tens of thousands of objects. With CPython's default
    thresholds that starts a collection of the older generations every few keystrokes, each walking every cached
    tree: it tripled the p90 latency of the benchmark. Reference counting frees the trees anyway; the collector is
    only needed for cycles, so start-up objects are frozen out of it and it runs less often."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
