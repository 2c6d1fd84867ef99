"""Code actions: textDocument/codeAction lists them, codeAction/resolve computes their edits.

Listing is cheap: it reads the document's cached analysis (`server.analysis`), the fix table (`refactor.fix_table`,
declared next to the rules) and the ast-only "can this step be extracted" answer; no libcst, no file read. Each
action carries `data` = {uri, version, action, code, line, ...}; `codeAction/resolve` runs the libcst fix on the document's current
text (the editor's unsaved buffer, never the disk copy of an open file) and returns one WorkspaceEdit.

Offered:
- a quick fix per finding that has one in the fix table (disabled with the reason when the table says it cannot
  be made there, and the client shows disabled actions), and "Disable MFxxx for this line" for every finding;
- `source.fixAll.metaflow-lsp`: the table's safe fixes in one edit, when there is one to make;
- "Extract step body to common.py" (refactor.extract) on the step at the cursor, unless MF201's fix (the same
  extraction) is listed already; disabled with the reason when the step cannot be extracted;
- "Extract selected statements of step to common.py" (refactor.extract.function) when the selection lies in one
  step, disabled with the reason when those statements cannot be extracted.

Resolving runs libcst, which takes a second on a big file: it runs on a worker thread, one edit at a time, so the
server keeps answering meanwhile, and a `$/cancelRequest` answers at once (a queued edit is dropped; one already
running finishes unseen). Files above `MAX_EDIT_CHARS` are not edited at all (libcst's parser holds the interpreter
for long stretches whatever thread it runs on), and an edit whose files changed while it was computed is refused.

Clients differ (see docs on lsp clients): without resolve support the edit is computed while listing; without
code action literals each action is a `metaflow.applyFix` command that sends workspace/applyEdit; without
CreateFile support a fix that needs a new file (common.py, .gitignore) says so in a message instead of sending an
edit that would fail, except Extract: its action then carries the `metaflow.applyFix` command, and the server
creates the empty common.py itself just before sending the edit (`_create_empty_files`; Eglot 1.9); without
documentChanges the edit is a plain `changes` map (no versions), unless it creates a file: Neovim 0.7 applies
CreateFile in documentChanges although it declares only resourceOperations.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..engine import CheckResult, Finding
from ..refactor import fix_table
from ..refactor.plan import FixError, FixPlan
from ..refactor.versions import INSTALLED
from .command_arguments import command_arguments
from .convert import encoding_of
from .workspace_edits import workspace_edit

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

log = logging.getLogger(__name__)

APPLY_COMMAND = "metaflow.applyFix"
VERSION_WAIT = 3.0  # seconds the first list of an MF301 fix may wait for the interpreter's package list
EXTRACT_FUNCTION_KIND = f"{types.CodeActionKind.RefactorExtract.value}.function"  # Extract selected statements
KINDS = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorExtract, EXTRACT_FUNCTION_KIND,
         fix_table.FIX_ALL_KIND]
# Above this many characters (about 3,000 lines) a file is not edited with libcst: parsing it would take seconds
# during which its native parser holds the interpreter, freezing the server however the work is scheduled.
MAX_EDIT_CHARS = 100_000
_EDITS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metaflow-lsp-edit")  # one libcst job at a time


# -- what the client can do ----------------------------------------------------------------------------------------


class Client:
    def __init__(self, capabilities: types.ClientCapabilities | None):
        text_document = capabilities.text_document if capabilities else None
        code_action = text_document.code_action if text_document else None
        workspace = capabilities.workspace if capabilities else None
        edit = workspace.workspace_edit if workspace else None
        self.literals = bool(code_action and code_action.code_action_literal_support)
        resolve = code_action.resolve_support if code_action else None
        self.resolves_edit = bool(resolve and "edit" in (resolve.properties or []))
        self.shows_disabled = bool(code_action and code_action.disabled_support)
        self.document_changes = bool(edit and edit.document_changes)
        operations = (edit.resource_operations or []) if edit else []
        # Not tied to documentChanges: Neovim 0.7 declares only resourceOperations, and applies CreateFile entries.
        self.creates_files = types.ResourceOperationKind.Create in operations


def _client(ls: MetaflowLanguageServer) -> Client:
    return Client(ls.client_capabilities)


# -- listing -------------------------------------------------------------------------------------------------------


def _wanted(kind: str, only: list[str] | None) -> bool:
    """LSP kind filtering: `only=["source"]` takes `source.fixAll.metaflow-lsp`."""
    if not only:
        return True
    return any(kind == wanted or kind.startswith(f"{wanted}.") for wanted in only)


def _overlaps(finding: Finding, start: int, end: int) -> bool:
    return finding.span.line <= end and finding.span.end_line >= start


def _diagnostic_for(finding: Finding, given: list[types.Diagnostic], make) -> types.Diagnostic:
    """The client's own diagnostic for a finding when it sent one (so the editor links them), else ours."""
    for diagnostic in given:
        if diagnostic.code == finding.code and diagnostic.range.start.line == finding.span.line:
            return diagnostic
    return make(finding)


async def list_actions(ls: MetaflowLanguageServer, params: types.CodeActionParams) -> list:
    uri = params.text_document.uri
    document = ls.open_document(uri)
    version = document.version if document is not None else None
    result = ls.analysis(uri)
    only = params.context.only
    client = _client(ls)
    first, last = params.range.start.line, params.range.end.line
    base = {"uri": uri, "version": version}
    actions: list[types.CodeAction] = []

    def diagnostic(finding: Finding) -> types.Diagnostic:
        from .diagnostics import to_diagnostic

        return to_diagnostic(finding, result.lines, ls.settings_for(uri), encoding_of(ls))

    at_cursor = [f for f in result.findings if _overlaps(f, first, last) and f.code != "MF000"]
    if _wanted(types.CodeActionKind.QuickFix, only):
        for finding in at_cursor:
            linked = [_diagnostic_for(finding, params.context.diagnostics, diagnostic)]
            declared = fix_table.fix_for(finding.code)
            title = await _quick_fix_title(ls, uri, declared, finding) if declared else None
            if title is None:
                continue
            action = types.CodeAction(
                title=title, kind=types.CodeActionKind.QuickFix, diagnostics=linked, is_preferred=declared.safe or None,
                data={**base, "action": "fix", "code": finding.code, "line": finding.span.line})
            if declared.unavailable is not None:
                action = _disabled_when(action, _why_unavailable(result, declared, finding), client)
            if action is not None:
                actions.append(action)
        for finding in at_cursor:
            actions.append(types.CodeAction(
                title=fix_table.noqa_title(finding.code), kind=types.CodeActionKind.QuickFix,
                diagnostics=[_diagnostic_for(finding, params.context.diagnostics, diagnostic)],
                data={**base, "action": "noqa", "code": finding.code, "line": finding.span.line}))
    if _wanted(types.CodeActionKind.RefactorExtract, only):
        for line in sorted({first, last}):
            step = _step_at(result, line)
            action = _extract_action(result, step, base, client) if step is not None else None
            if action is not None and all(a.title != action.title for a in actions):  # not MF201's fix again
                actions.append(action)
    selected = _selected_lines(params.range)
    if selected is not None and _wanted(EXTRACT_FUNCTION_KIND, only):
        step = _step_at(result, first)
        if step is not None and _step_at(result, last) == step:
            action = _extract_selection_action(result, step, selected, base, client)
            if action is not None:
                actions.append(action)
    if _wanted(fix_table.FIX_ALL_KIND, only) and any(f.code in fix_table.safe_codes() for f in result.findings):
        actions.append(types.CodeAction(title=fix_table.FIX_ALL_TITLE, kind=fix_table.FIX_ALL_KIND,
                                        data={**base, "action": "fixAll"}))

    if not client.resolves_edit:  # no resolve: compute the edits now
        actions = [await _resolve(ls, action, quiet=True) if action.disabled is None else action
                   for action in actions]
        actions = [a for a in actions if a.edit is not None or a.command is not None or a.disabled is not None]
    if not client.literals:
        return [types.Command(title=a.title, command=APPLY_COMMAND, arguments=[{**a.data, "title": a.title}])
                for a in actions if a.disabled is None]
    return actions


async def _quick_fix_title(ls: MetaflowLanguageServer, uri: str, declared: fix_table.Fix,
                           finding: Finding) -> str | None:
    """The title the fix table gives the finding; a fix whose title names an installed version first asks the
    project's interpreter (one subprocess per interpreter, then cached)."""
    context = fix_table.FixContext(ls.path_of(uri))
    if declared.asks_interpreter:
        interpreter = _interpreter(ls, uri)
        installed = INSTALLED.peek(interpreter)
        if installed is None:  # first time for this interpreter: one subprocess, then cached
            installed = await asyncio.to_thread(INSTALLED.get, interpreter, VERSION_WAIT)
        context.installed_version = installed.version_of if installed else None
        context.interpreter_name = Path(interpreter).name
    return declared.title_of(finding, context)


def _interpreter(ls: MetaflowLanguageServer, uri: str) -> str:
    """The project's Python: the server's answer when it has one (`interpreter_for`), else this process's."""
    lookup = getattr(ls, "interpreter_for", None)
    if callable(lookup):
        try:
            found = lookup(uri)
        except Exception:
            found = None
        if found:
            return str(found)
    return sys.executable


def _step_at(result: CheckResult, line: int) -> str | None:
    """The own step of a flow in this file whose decorators, def line or body hold `line`."""
    for flow in result.module.flows:
        for step in flow.own_steps:
            if step.path is not None and result.module.path is not None and step.path != result.module.path:
                continue
            node = step.node
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            if first <= line <= (node.end_lineno or node.lineno) - 1:
                return step.name
    return None


def _extract_action(result: CheckResult, step: str, base: dict, client: Client) -> types.CodeAction | None:
    from ..refactor.extract_analysis import can_extract, part_before_transition, step_extract_title  # ast only

    found = next((s for flow in result.module.flows for s in flow.own_steps if s.name == step), None)
    before = part_before_transition(found) if found is not None else None
    action = types.CodeAction(title=step_extract_title(step, before),
                              kind=types.CodeActionKind.RefactorExtract,
                              data={**base, "action": "extract", "step": step, "code": "MF201"})
    return _disabled_when(action, _refusal(result, lambda: can_extract(result.module, step)), client)


def _selected_lines(selection: types.Range) -> tuple[int, int] | None:
    """The lines a non-empty selection covers (a selection ending at column 0 leaves that line out)."""
    if selection.start == selection.end:
        return None
    last = selection.end.line - 1 if selection.end.character == 0 else selection.end.line
    return (selection.start.line, max(last, selection.start.line))


def _extract_selection_action(result: CheckResult, step: str, lines: tuple[int, int], base: dict,
                              client: Client) -> types.CodeAction | None:
    from ..refactor.extract_analysis import can_extract  # ast only: no libcst while listing

    action = types.CodeAction(title=f"Extract selected statements of step `{step}` to common.py",
                              kind=EXTRACT_FUNCTION_KIND,
                              data={**base, "action": "extract", "step": step, "lines": list(lines), "code": "MF201"})
    return _disabled_when(action, _refusal(result, lambda: can_extract(result.module, step, lines)), client)


def _why_unavailable(result: CheckResult, declared: fix_table.Fix, finding: Finding) -> str | None:
    return _refusal(result, lambda: declared.unavailable(result.module, declared.data_of(finding)))


def _refusal(result: CheckResult, reason: Callable[[], str | None]) -> str | None:
    """Why an action cannot run on this document: too large to edit, or `reason()`."""
    try:
        return _too_large_to_edit(result.module.source) or reason()
    except Exception as error:  # a bug there must not hide the other actions
        log.exception("checking whether an action can run failed")
        return str(error) or "cannot make this change"


def _disabled_when(action: types.CodeAction, reason: str | None, client: Client) -> types.CodeAction | None:
    """`action`, disabled with `reason` when there is one (and left out for clients that show no disabled ones)."""
    if reason:
        if not client.shows_disabled:
            return None
        action.disabled = types.CodeActionDisabled(reason=reason)
        action.data = None
    return action


# -- resolving -----------------------------------------------------------------------------------------------------


def _too_large_to_edit(source: str) -> str | None:
    if len(source) <= MAX_EDIT_CHARS:
        return None
    return (f"The file has {len(source):,} characters; metaflow-lsp edits files of up to {MAX_EDIT_CHARS:,} "
            "(larger ones would hold the editor up).")


async def _resolve(ls: MetaflowLanguageServer, action: types.CodeAction, quiet: bool = False,
                   create_files: bool = False) -> types.CodeAction:
    """Fills in `action.edit`; on a fix that cannot be made, tells the user why (unless `quiet`: computing eagerly
    for a list, where such an action is simply not offered) and leaves the edit out. An Extract that needs a new
    common.py in a client that cannot create files gets the `metaflow.applyFix` command instead, which creates it
    (`create_files`: running that command)."""
    data = action.data if isinstance(action.data, dict) else None
    if not data or "uri" not in data:
        return action
    try:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(_EDITS, _import_libcst)  # the first import takes a second: not on the loop
        compute = plan_maker(ls, data)  # on the event loop: it reads the server's state
        plan = await loop.run_in_executor(_EDITS, compute)
        if data.get("action") == "fixAll" and plan.creates_files and not _client(ls).creates_files:
            # Fix all runs on save too: make the fixes that do not need a new file, and say what was left.
            skipped = [c.path.name for c in plan.changes if c.is_new]
            plan.changes = [c for c in plan.changes if not c.is_new]
            ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Info, message=f"metaflow-lsp: this editor cannot create files from a code "
                                                     f"action; create {', '.join(skipped)} yourself"))
            if not plan.changes:
                return action
        client = _client(ls)
        if plan.creates_files and not client.creates_files and data.get("code") == "MF201" \
                and ls.trusted:  # an Extract (the refactoring or MF201's fix); untrusted: the server writes nothing
            if not create_files:
                action.command = types.Command(title=action.title, command=APPLY_COMMAND,
                                               arguments=[{**data, "title": action.title}])
                return action
            new_files = [change.path for change in plan.changes if change.is_new]
            plan.changes = [dataclasses.replace(change, old="") if change.is_new else change  # edits of empty files
                            for change in plan.changes]
            # first: an edit refused leaves no file behind
            edit = workspace_edit(ls, plan, data["uri"], document_changes=client.document_changes,
                                  creates_files=False)
            _create_empty_files(ls, new_files, data["uri"])
            action.edit = edit
            return action
        # Neovim 0.7 applies CreateFile in documentChanges although it declares only resourceOperations.
        action.edit = workspace_edit(ls, plan, data["uri"],
                                     document_changes=client.document_changes or plan.creates_files,
                                     creates_files=client.creates_files)
    except FixError as error:
        if quiet:
            return action
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                       message=f"{action.title}: {error}"))
    except Exception:
        log.exception("computing %r failed", action.title)
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error,
                                                       message=f"{action.title} failed; see the server log"))
    return action


def _create_empty_files(ls: MetaflowLanguageServer, paths: list[Path], uri: str) -> None:
    """For a client that cannot create files from an edit: creates them empty, never over anything already there
    (whose content the edit did not expect) nor through a link out of the project. If the user then declines the
    edit, an empty file is all that is left."""
    from ..files import create_empty_inside

    root = ls.project_for(uri).root
    for path in paths:
        try:
            create_empty_inside(root, path)
        except FileExistsError:
            raise FixError(f"{path.name} appeared meanwhile; try again") from None
        except OSError as error:
            raise FixError(f"cannot create {path.name}: {error.strerror or error}") from None


def _reader(ls: MetaflowLanguageServer):
    """Another file's current text: the editor's buffer when it is open, else the disk; None when missing. Called on
    the edit thread: a dictionary lookup and a string read, and `workspace_edit` refuses the edit if the text it
    saw changed since."""
    def read(path: Path) -> str | None:
        document = ls.open_document(path.as_uri())
        return document.source if document is not None else fix_table.read_disk(path)

    return read


def _import_libcst() -> None:
    from ..refactor import extract, fixes  # noqa: F401


def plan_maker(ls: MetaflowLanguageServer, data: dict[str, Any]) -> Callable[[], FixPlan]:
    """What the action of `data` needs from the server, taken now (the document's current analysis, its settings and
    project), as a function computing the plan that can run on another thread."""
    from ..refactor import fixes
    from ..refactor.extract import extract_plan

    uri = data["uri"]
    result = ls.analysis(uri)  # the current text: the editor's copy when open
    source = result.module.source
    path = ls.path_of(uri)
    action = data.get("action")
    refusal = _too_large_to_edit(source) if action != "noqa" else None  # noqa: tokens only, no libcst
    if refusal:
        raise FixError(refusal)
    context = fix_table.FixContext(path, ls.settings_for(uri), ls.project_for(uri), _reader(ls),
                                   _version_lookup(ls, uri))
    if action == "fixAll":
        def fix_all() -> FixPlan:
            plan, _remaining = fixes.fix_all(source, context)
            if not plan.changes:
                raise FixError("nothing left to fix")
            return plan
        return fix_all
    if action == "extract":
        lines = tuple(data["lines"]) if data.get("lines") else None
        return lambda: extract_plan(source, path, data["step"], context.read, lines=lines)
    finding = _find_again(result, data)
    if action == "noqa":
        return lambda: fixes.noqa_plan(source, path, finding.span.line, finding.code)
    return lambda: fixes.fix_finding(source, finding, context, result.module)


def _find_again(result: CheckResult, data: dict[str, Any]) -> Finding:
    """The finding an action was listed for, in the current text: same code, the nearest line."""
    same = [f for f in result.findings if f.code == data.get("code")]
    if not same:
        raise FixError(f"{data.get('code')} is not reported any more")
    line = data.get("line", 0)
    return min(same, key=lambda f: abs(f.span.line - line))


def _version_lookup(ls: MetaflowLanguageServer, uri: str):
    interpreter = _interpreter(ls, uri)

    def version(package: str) -> str | None:
        installed = INSTALLED.get(interpreter)
        return installed.version_of(package) if installed else None

    return version


# -- wiring --------------------------------------------------------------------------------------------------------


def register(server: MetaflowLanguageServer) -> None:
    """Adds textDocument/codeAction, codeAction/resolve and the `metaflow.applyFix` command to `server`."""

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=True))
    async def code_action(ls: MetaflowLanguageServer, params: types.CodeActionParams):
        """textDocument/codeAction: the actions at a range, without their edits."""
        return await list_actions(ls, params) or None

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: MetaflowLanguageServer, action: types.CodeAction) -> types.CodeAction:
        """codeAction/resolve: the edit of one listed action, computed on the document's current text."""
        return await _resolve(ls, action)

    @server.command(APPLY_COMMAND)
    async def apply_fix(ls, *args):  # no annotations: pygls reads them to convert command arguments
        """For clients without code action literals: compute the action's edit and ask the client to apply it."""
        data = next(iter(command_arguments(args)), None)
        if not isinstance(data, dict):
            return None
        action = await _resolve(ls, types.CodeAction(title=data.get("title") or "metaflow-lsp fix", data=data),
                                create_files=True)
        if action.edit is not None:
            await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=action.edit, label=action.title))
        return None
