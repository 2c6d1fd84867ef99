"""Go to definition (textDocument/definition) of an artifact, a Parameter or a step of a flow.

On `self.<name>` in a step (and `inp.<name>` / `inputs.<branch>.<name>` in a join, the string of `foreach="<name>"`):
the assignments `self.<name> = ...` in the steps that can run before this one, and those earlier in the same step.
On a Parameter: its declaration. On `self.<step>` in `self.next(...)`: the step's `def`. Nothing elsewhere.

From the analysis the server keeps for the document's version: no parse per request.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..artifacts import Assignment, FlowArtifacts, Token, token_at
from ..engine import CheckResult
from ..project import Project
from ..text import Span
from .convert import byte_column, encoding_of, to_range

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer


def register(server: MetaflowLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: MetaflowLanguageServer, params: types.DefinitionParams) -> list[types.Location] | None:
        """textDocument/definition: where the artifact, Parameter or step under the cursor is set or declared."""
        found = token_under(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        locator, token = found
        return definitions(token, locator) or None


def token_under(ls: MetaflowLanguageServer, uri: str, position: types.Position) -> tuple[Locator, Token] | None:
    """Where the document's names are, and the name under `position`; None when there is none (or no model)."""
    result = ls.analysis(uri)
    if not result.module.ok:
        return None
    encoding = encoding_of(ls)
    token = token_at(result.module, position.line, byte_column(result.lines, position, encoding))
    if token is None:
        return None
    return Locator(uri, result, encoding, ls.project_for(uri)), token


class Locator:
    """Spans of the model as LSP Locations: the document's own with its current text, those of another file the
    model read (a base class) with that file's model from the project cache (no read when it is unchanged)."""

    def __init__(self, uri: str, result: CheckResult, encoding: str, project: Project):
        self.uri, self.result, self.encoding, self.project = uri, result, encoding, project

    def location(self, path: Path | None, span: Span) -> types.Location | None:
        if path == self.result.module.path:
            return types.Location(uri=self.uri, range=to_range(span, self.result.lines, self.encoding))
        other = self.project.module(path) if path is not None else None
        if other is None:
            return None
        return types.Location(uri=path.as_uri(), range=to_range(span, other.lines, self.encoding))

    def parameter_path(self, token: Token) -> Path | None:
        """The file declaring a Parameter: the class that owns it, if the model read it."""
        owner = token.flow.parameters[token.name].owner
        if owner in self.result.module.classes:
            return self.result.module.path
        step = next((s for s in token.flow.steps.values() if s.owner == owner), None)
        return step.path if step is not None else None


def definitions(token: Token, locator: Locator) -> list[types.Location]:
    if token.kind == "step":
        step = token.flow.steps[token.name]
        found = [locator.location(step.path, step.span)]
    elif token.kind == "parameter":
        path = locator.parameter_path(token)
        found = [locator.location(path, token.flow.parameters[token.name].span)] if path else []
    else:
        found = [locator.location(a.step.path, a.span)
                 for a in visible_assignments(token, FlowArtifacts(token.flow))]
    return [location for location in found if location is not None]


def visible_assignments(token: Token, artifacts: FlowArtifacts) -> list[Assignment]:
    """The assignments of the token's artifact that can have run when it is read (the write itself for a write)."""
    if token.step is None:
        return []
    if token.branch is not None:  # inputs.<branch>.<name>: what the branch and the steps before it set
        steps = artifacts.runs_before(token.branch) | {token.branch}
        return [a for a in artifacts.assignments(token.name) if a.step.name in steps]
    before = artifacts.runs_before(token.step.name)
    here = (token.span.end_line, token.span.end_col)
    return [a for a in artifacts.assignments(token.name)
            if a.step.name in before or (a.step is token.step and (a.span.line, a.span.col) <= here)]
