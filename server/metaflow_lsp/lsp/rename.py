"""Rename (textDocument/prepareRename, textDocument/rename) of an artifact, a Parameter or a step: one WorkspaceEdit
changing every site `references.all_sites` finds, the Client API reads of other files included.

A Parameter rename changes the attribute (`self.alpha`, `alpha = Parameter(...)`), never the option string: that is
the flow's public command-line flag, and prepareRename on it is refused. Refusals (`rename_names.py`) are sent as a
RequestFailed error whose message VS Code and Neovim show to the user.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ..artifacts import Token, string_span
from ..flow_refs import Site
from ..model import FLOW_API, FlowClass, Module, is_self_attr
from ..refactor.plan import FileChange, FixError, FixPlan
from ..rename_names import refuse_name, refuse_token
from ..text import Span, split_lines
from .code_actions import Client
from .convert import byte_column, encoding_of, to_range
from .definition import token_under
from .references import Sources, all_sites
from .workspace_edits import workspace_edit

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer


class RenameRefused(JsonRpcException):
    """A rename that cannot be made; the message says why (clients show it)."""

    CODE = types.LSPErrorCodes.RequestFailed

    def __init__(self, reason: str):
        super().__init__(message=f"Cannot rename: {reason}.")


def register(server: MetaflowLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: MetaflowLanguageServer,
                       params: types.PrepareRenameParams) -> types.PrepareRenamePlaceholder | None:
        """textDocument/prepareRename: the name under the cursor and its range, or why it cannot be renamed."""
        found = _renameable(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        token = found[0]
        result = ls.analysis(params.text_document.uri)
        return types.PrepareRenamePlaceholder(range=to_range(token.span, result.lines, encoding_of(ls)),
                                              placeholder=token.name)

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    def rename(ls: MetaflowLanguageServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
        """textDocument/rename: every site of the name, in every file, as one WorkspaceEdit."""
        uri = params.text_document.uri
        found = _renameable(ls, uri, params.position)
        if found is None or params.new_name == found[0].name:
            return None
        token, sources, flows, sites = found
        reason = refuse_name(token, params.new_name, flows, sources)
        if reason:
            raise RenameRefused(reason)
        plan = _plan(sources, sites, token.name, params.new_name)
        try:
            return workspace_edit(ls, plan, uri, document_changes=Client(ls.client_capabilities).document_changes,
                                  creates_files=False)
        except FixError as error:
            raise RenameRefused(str(error)) from None


def _renameable(ls: MetaflowLanguageServer, uri: str, position: types.Position
                ) -> tuple[Token, Sources, list[FlowClass], list[Site]] | None:
    """The token under the cursor, with the flows sharing its name and its sites, when it can be renamed; None
    when there is nothing to rename; RenameRefused with the reason when it cannot be."""
    result = ls.analysis(uri)
    if not result.module.ok:
        return None
    col = byte_column(result.lines, position, encoding_of(ls))
    refusal = _fixed_name(result.module, position.line, col)
    if refusal:
        raise RenameRefused(refusal)
    found = token_under(ls, uri, position)
    if found is None:
        return None
    token = found[1]
    sources = Sources(ls, uri)
    flows, sites = all_sites(sources, token)
    reason = refuse_token(token, flows)
    if reason:
        raise RenameRefused(reason)
    return token, sources, flows, sites


def _fixed_name(module: Module, line: int, col: int) -> str | None:
    """A name at the position that is not the project's to rename: a Parameter's option string (the flow's public
    command-line flag) or a FlowSpec member (`self.next`, `self.input`)."""
    for flow in module.flows:
        for parameter in flow.parameters.values():
            call = parameter.call
            option = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
            span = string_span(option) if option is not None else None
            if span is not None and _contains(span, line, col):
                return (f"`--{parameter.option}` is the command-line option of {parameter.kind} `{parameter.attr}`, "
                        "which users and scripts pass; rename the attribute instead")
        for step in flow.steps.values():
            for access in step.accesses:
                span = Span(access.span.end_line, access.span.end_col - len(access.name.encode()),
                            access.span.end_line, access.span.end_col)
                if access.name in FLOW_API and is_self_attr(access.node) and _contains(span, line, col) \
                        and step.path == module.path:
                    return f"`self.{access.name}` is Metaflow's own"
    return None


def _contains(span: Span, line: int, col: int) -> bool:
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


def _plan(sources: Sources, sites: list[Site], old: str, new: str) -> FixPlan:
    """The new text of every file with a site; refused when a file's text no longer has the name where its model
    says (an editor copy and the disk disagree: saving first makes them one)."""
    by_path: dict[Path, list[Site]] = defaultdict(list)
    for site in sites:
        by_path[site.path].append(site)
    plan = FixPlan(title=f"Rename {old} to {new}")
    for path, path_sites in by_path.items():
        text = sources.text(path)
        if text is None:
            raise RenameRefused(f"{path.name} cannot be read")
        lines = split_lines(text, keepends=True)
        for site in sorted(path_sites, key=lambda s: (s.span.line, s.span.col), reverse=True):
            line = lines[site.span.line].encode() if site.span.line < len(lines) else b""
            if line[site.span.col:site.span.end_col] != old.encode():
                raise RenameRefused(f"{path.name} has changed since it was read; save it and try again")
            lines[site.span.line] = (line[:site.span.col] + new.encode() + line[site.span.end_col:]).decode()
        own = sources.ls.path_of(sources.uri) if path == sources.own else path
        plan.changes.append(FileChange(own or path, text, "".join(lines)))
    return plan
