"""Diagnostics: pulled (`textDocument/diagnostic`, `workspace/diagnostic`) by clients that declare
`textDocument.diagnostic`, pushed (`textDocument/publishDiagnostics`) to the others.

Pull: a result id per document version (and settings generation); a client whose previous id still holds gets an
unchanged report. Push: a change (re)starts a short debounce; when it ends, the document's version must still be the
one that started it, so diagnostics of an outdated version are never published. The command
`metaflow.checkWorkspace` publishes the diagnostics of every Python file of the workspace, with work-done progress
when the client shows it.

Every diagnostic carries the rule code, a link to the rule's page, and the rule's `data` for quick fixes; ranges are
converted by `convert.to_range` to the negotiated position encoding (UTF-16 unless the client asked otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lsprotocol import types

from ..config import Settings
from ..docs import rule_url
from ..engine import CheckResult, Finding
from ..files import MAX_FILE_BYTES
from ..project import walk_python_files
from ..text import LineIndex
from .convert import UTF16, encoding_of, to_range

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

log = logging.getLogger(__name__)

SOURCE = "metaflow-lsp"
CHECK_WORKSPACE = "metaflow.checkWorkspace"
FILE_LIST_TTL = 30.0  # seconds the list of workspace files is reused (VS Code re-pulls the workspace every few s)


# -- conversion ----------------------------------------------------------------------------------------------------


def to_diagnostic(finding: Finding, lines: LineIndex, settings: Settings,
                  encoding: str = UTF16) -> types.Diagnostic:
    return types.Diagnostic(
        range=to_range(finding.span, lines, encoding),
        message=finding.message,
        severity=types.DiagnosticSeverity(int(finding.severity)),
        code=finding.code,
        code_description=types.CodeDescription(href=rule_url(finding.code, settings)),
        source=SOURCE,
        data=finding.data,
    )


@dataclass
class Converted:
    """A document's diagnostics as last sent, with what they were converted from: the next version converts only
    the findings that are new or moved (most keystrokes change one step, or nothing)."""

    result: CheckResult
    settings: Settings
    encoding: str
    items: list[types.Diagnostic]


def to_diagnostics(result: CheckResult, settings: Settings, max_chars: int, encoding: str = UTF16,
                   previous: Converted | None = None) -> list[types.Diagnostic]:
    known: dict[tuple, tuple[Finding, types.Diagnostic]] = {}
    if previous is not None and previous.settings == settings and previous.encoding == encoding:
        known = {(f.code, f.span, f.message): (f, item) for f, item in zip(previous.result.findings, previous.items)}
    items = []
    for finding in result.findings:
        found = known.get((finding.code, finding.span, finding.message))
        if found is not None and found[0] == finding and _same_lines(finding, previous.result.lines, result.lines):
            items.append(found[1])  # the same finding on the same text: its columns convert the same
        else:
            items.append(to_diagnostic(finding, result.lines, settings, encoding))
    if len(result.lines.text) > max_chars:
        items.append(not_checked(f"the file has {len(result.lines.text):,} characters; metaflow-lsp checks files "
                                 f"of up to {max_chars:,}"))
    return items


def _same_lines(finding: Finding, before: LineIndex, after: LineIndex) -> bool:
    span = finding.span
    return before.line(span.line) == after.line(span.line) and (
        span.end_line == span.line or before.line(span.end_line) == after.line(span.end_line))


def same_diagnostics(before: CheckResult, after: CheckResult, max_chars: int) -> bool:
    """Whether two versions of a document give the same diagnostics: the same findings on lines of the same text (a
    column converts to UTF-16 through its line), and the same answer to "too large to check"."""
    if before.findings != after.findings or (len(before.lines.text) > max_chars) != (len(after.lines.text) > max_chars):
        return False
    old, new = before.lines, after.lines
    return all(old.line(n) == new.line(n) for finding in after.findings for n in (finding.span.line,
                                                                                 finding.span.end_line))


def not_checked(reason: str) -> types.Diagnostic:
    """The one diagnostic of a file metaflow-lsp did not check, at its start."""
    start = types.Position(line=0, character=0)
    return types.Diagnostic(range=types.Range(start=start, end=start), severity=types.DiagnosticSeverity.Information,
                            source=SOURCE, message=f"Not checked: {reason}")


def _too_large_on_disk(path: Path | None) -> int | None:
    """The size of a file on disk larger than metaflow-lsp reads (it is not read: no analysis to show)."""
    try:
        size = path.stat().st_size if path is not None else 0
    except (OSError, ValueError):
        return None
    return size if size > MAX_FILE_BYTES else None


# -- the feature ---------------------------------------------------------------------------------------------------


class Diagnostics:
    def __init__(self, server: MetaflowLanguageServer):
        self.server = server
        self._pending: dict[str, asyncio.Task] = {}
        self._pushed_closed: set[str] = set()  # documents not open that checkWorkspace published for
        self._files: tuple[float, list[Path]] | None = None
        self._converted: dict[str, Converted] = {}  # per open document: its diagnostics as last converted

    # -- client capabilities ---------------------------------------------------------------------------------

    @property
    def client_pulls(self) -> bool:
        document = self.server.client_capabilities.text_document
        return bool(document and document.diagnostic is not None)

    @property
    def _client_refreshes(self) -> bool:
        workspace = self.server.client_capabilities.workspace
        return bool(workspace and workspace.diagnostics and workspace.diagnostics.refresh_support)

    @property
    def _client_shows_progress(self) -> bool:
        window = self.server.client_capabilities.window
        return bool(window and window.work_done_progress)

    def diagnostics_of(self, uri: str) -> list[types.Diagnostic]:
        from .server import MAX_SOURCE_CHARS

        if self.server.open_document(uri) is None:
            size = _too_large_on_disk(self.server.path_of(uri))
            if size is not None:
                return [not_checked(f"the file has {size:,} bytes; metaflow-lsp reads files of up to "
                                    f"{MAX_FILE_BYTES:,}")]
        result = self.server.analysis(uri)
        settings, encoding = self.server.settings_for(uri), encoding_of(self.server)
        previous = self._converted.get(uri)
        if previous is not None and previous.result is result and previous.settings == settings:
            return list(previous.items)
        items = to_diagnostics(result, settings, MAX_SOURCE_CHARS, encoding, previous)
        if self.server.open_document(uri) is not None:
            self._converted[uri] = Converted(result, settings, encoding, items)
        return items

    # -- push ------------------------------------------------------------------------------------------------

    def schedule(self, uri: str, delay: float | None = None) -> None:
        """Publishes the diagnostics of an open document after `delay` seconds (the configured debounce), unless a
        newer version arrives first: that one cancels this one and starts its own wait."""
        document = self.server.open_document(uri)
        if document is None:
            return
        if delay is None:
            delay = self.server.editor_settings.options.diagnostics_delay_ms / 1000
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        task = asyncio.get_running_loop().create_task(self._publish_later(uri, document.version, delay))
        self._pending[uri] = task
        task.add_done_callback(lambda done: self._pending.pop(uri, None) if self._pending.get(uri) is done else None)

    async def _publish_later(self, uri: str, version: int | None, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        await self.server.editor_settings.wait_ready()
        document = self.server.open_document(uri)
        if document is None or document.version != version:  # closed, or a newer version has its own task
            return
        self.publish(uri, self.diagnostics_of(uri), version)

    def publish(self, uri: str, items: list[types.Diagnostic], version: int | None = None) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=version))

    def opened(self, uri: str) -> None:
        if not self.client_pulls:
            self.schedule(uri, 0)
        elif uri in self._pushed_closed:  # from now on the client pulls this one: drop what checkWorkspace pushed
            self._pushed_closed.discard(uri)
            self.publish(uri, [])

    def changed(self, uri: str) -> None:
        if not self.client_pulls:
            self.schedule(uri)

    def closed(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._converted.pop(uri, None)
        self.server.forget(uri)
        if not self.client_pulls:
            self.publish(uri, [])

    def refresh(self) -> None:
        """After a settings or disk change: push again for every open document, or ask a pulling client to pull."""
        self._files = None
        if self.client_pulls:
            if self._client_refreshes:
                self.server.workspace_diagnostic_refresh(None)
            return
        for uri in list(self.server.workspace.text_documents):
            self.schedule(uri, 0)

    # -- pull ------------------------------------------------------------------------------------------------

    async def document_report(self, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        await self.server.editor_settings.wait_ready()
        uri = params.text_document.uri
        result_id = self.server.result_id(uri)
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        items = self.diagnostics_of(uri)
        return types.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)

    async def workspace_report(self, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        await self.server.editor_settings.wait_ready()
        previous = {unquote(p.uri): p.value for p in params.previous_result_ids}
        items: list[types.WorkspaceDocumentDiagnosticReport] = []
        for index, uri in enumerate(self.workspace_uris()):
            if index and index % 16 == 0:
                await asyncio.sleep(0)  # let keystrokes through on big workspaces
            document = self.server.open_document(uri)
            version = document.version if document is not None else None
            result_id = self.server.result_id(uri)
            if previous.get(unquote(uri)) == result_id:
                items.append(types.WorkspaceUnchangedDocumentDiagnosticReport(
                    uri=uri, result_id=result_id, version=version))
            else:
                items.append(types.WorkspaceFullDocumentDiagnosticReport(
                    uri=uri, items=self.diagnostics_of(uri), version=version, result_id=result_id))
        return types.WorkspaceDiagnosticReport(items=items)

    # -- the workspace ---------------------------------------------------------------------------------------

    def workspace_files(self, fresh: bool = False) -> list[Path]:
        """Every Python file of the workspace folders (git-ignored files and virtualenvs left out)."""
        now = time.monotonic()
        if fresh or self._files is None or now - self._files[0] > FILE_LIST_TTL:
            files = sorted(dict.fromkeys(walk_python_files(self.server.workspace_roots())))
            self._files = (now, files)
        return self._files[1]

    def workspace_uris(self, fresh: bool = False) -> list[str]:
        """URIs of the workspace files, spelled as the editor spells them when the file is open."""
        open_paths = {}
        for uri in self.server.workspace.text_documents:
            path = self.server.path_of(uri)
            if path is not None:
                open_paths[path] = uri
        return [open_paths.get(path) or path.as_uri() for path in self.workspace_files(fresh)]

    async def check_workspace(self) -> dict[str, int]:
        """metaflow.checkWorkspace: publishes the diagnostics of every Python file in the workspace."""
        await self.server.editor_settings.wait_ready()
        uris = self.workspace_uris(fresh=True)
        progress = await self._begin_progress(len(uris))
        problems = files_with_problems = 0
        step = max(1, len(uris) // 50)
        for index, uri in enumerate(uris):
            if progress and index % step == 0:
                self.server.work_done_progress.report(progress, types.WorkDoneProgressReport(
                    message=f"{index}/{len(uris)} files", percentage=index * 100 // max(len(uris), 1)))
            items = self.diagnostics_of(uri)
            problems += len(items)
            files_with_problems += bool(items)
            document = self.server.open_document(uri)
            if document is None:
                self.publish(uri, items)
                if self.client_pulls:
                    self._pushed_closed.add(uri)
            elif not self.client_pulls:
                self.publish(uri, items, document.version)
            await asyncio.sleep(0)
        summary = (f"{problems} problem{'s' if problems != 1 else ''} in {files_with_problems} of {len(uris)} "
                   f"file{'s' if len(uris) != 1 else ''}")
        if progress:
            self.server.work_done_progress.end(progress, types.WorkDoneProgressEnd(message=summary))
        return {"files": len(uris), "problems": problems, "filesWithProblems": files_with_problems}

    async def _begin_progress(self, total: int) -> str | None:
        if not self._client_shows_progress:
            return None
        token = f"metaflow-lsp/checkWorkspace/{uuid.uuid4()}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as error:
            log.info("no work-done progress: %s", error)
            return None
        self.server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title="Checking Metaflow flows", message=f"0/{total} files", percentage=0, cancellable=False))
        return token


def _drop_changes_to_unopened_documents(server: MetaflowLanguageServer) -> None:
    """pygls applies a didChange to its copy of the document before any handler runs; for a document never opened
    it has none, and the KeyError reached the user as "Error in server". Such a change has no text to apply to: it
    is dropped (with a note in the log) and the document stays unknown until it is opened."""
    apply_change = server.protocol.fm.builtin_features[types.TEXT_DOCUMENT_DID_CHANGE]

    def did_change(params: types.DidChangeTextDocumentParams):
        if server.open_document(params.text_document.uri) is None:
            log.warning("didChange for %s, which was never opened: ignored", params.text_document.uri)
            return
        yield from apply_change(params)

    server.protocol.fm.add_builtin_feature(types.TEXT_DOCUMENT_DID_CHANGE, did_change)


def register(server: MetaflowLanguageServer) -> None:
    feature = Diagnostics(server)
    server.diagnostics = feature
    _drop_changes_to_unopened_documents(server)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MetaflowLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        feature.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MetaflowLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        feature.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MetaflowLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        """Other files may import what was saved (base flows, common.py): everything is checked again."""
        ls.invalidate()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MetaflowLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        feature.closed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=True))
    async def document_diagnostic(ls: MetaflowLanguageServer, params: types.DocumentDiagnosticParams):
        """textDocument/diagnostic"""
        return await feature.document_report(params)

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(ls: MetaflowLanguageServer, params: types.WorkspaceDiagnosticParams):
        """workspace/diagnostic"""
        return await feature.workspace_report(params)

    @server.command(CHECK_WORKSPACE)
    async def check_workspace(ls, *args):  # no annotations: pygls would read them to convert `arguments: []`
        """Publishes diagnostics for every Python file of the workspace, open or not. Takes no arguments; what a
        client sends anyway (vscode-languageclient sends `[]`) is ignored."""
        return await feature.check_workspace()
