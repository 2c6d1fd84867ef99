"""Find references (textDocument/references) of an artifact, a Parameter or a step, honouring includeDeclaration.

Every read and write in the flow's steps (its bases' in other files included, and the subclasses in the project that
share that code), join accesses, the strings of `foreach=` / `condition=` and of `merge_artifacts(include=,
exclude=)`; for a step its `def`, each `self.next(self.<step>)` and `inputs.<step>`. Then the Client API reads of
the project's files for the flow's name (`client_api.py`). `all_sites` is what rename changes, too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..artifacts import Token
from ..files import read_source
from ..flow_refs import Site, family, real
from ..model import FlowClass, Module
from ..text import LineIndex
from .convert import encoding_of, to_range
from .definition import token_under

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer


def register(server: MetaflowLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    def references(ls: MetaflowLanguageServer, params: types.ReferenceParams) -> list[types.Location] | None:
        """textDocument/references: where the artifact, Parameter or step under the cursor is read or set."""
        found = token_under(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        sources = Sources(ls, params.text_document.uri)
        _flows, sites = all_sites(sources, found[1])
        if not params.context.include_declaration:
            sites = [site for site in sites if not site.declaration]
        encoding = encoding_of(ls)
        return [types.Location(uri=sources.uri_of(site.path), range=to_range(site.span, sources.lines(site.path),
                                                                             encoding)) for site in sites]


class Sources:
    """The text and model of each file one request touches: the editor's copy of an open document, else the file
    on disk (through `files.py` and the project's cache), each read at most once per request."""

    def __init__(self, ls: MetaflowLanguageServer, uri: str):
        self.ls, self.uri = ls, uri
        own = ls.path_of(uri)
        self.own = real(own) if own is not None else None
        self.project = ls.project_for(uri)
        self.resolver = self.project.resolver
        self._texts: dict[Path, str | None] = {}

    def uri_of(self, path: Path) -> str:
        return self.uri if path == self.own else path.as_uri()

    def is_open(self, path: Path) -> bool:
        return self.ls.open_document(self.uri_of(path)) is not None

    def text(self, path: Path) -> str | None:
        if path not in self._texts:
            document = self.ls.open_document(self.uri_of(path))
            if document is not None:
                self._texts[path] = document.source
            else:
                try:
                    self._texts[path] = read_source(path)
                except OSError:
                    self._texts[path] = None
        return self._texts[path]

    def lines(self, path: Path) -> LineIndex:
        return LineIndex(self.text(path) or "")

    def module(self, path: Path) -> Module | None:
        if path == self.own or self.is_open(path):
            module = self.ls.analysis(self.uri_of(path)).module
            return module if module.ok else None
        return self.project.module(path)


def all_sites(sources: Sources, token: Token) -> tuple[list[FlowClass], list[Site]]:
    """The flows sharing the token's name with its flow, and every site of the name in them and in the Client API
    reads of the project's files, in file and position order."""
    flows, sites = family(token.flow, token.kind, token.name, _candidates(sources, token.flow), sources)
    names = {flow.name for flow in flows}
    kind = "step" if token.kind == "step" else "artifact"
    scan = _scan(sources.project)
    paths = dict.fromkeys([*scan.files(), *([sources.own] if sources.own else [])])
    for path in paths:
        text = sources.text(path) if sources.is_open(path) else None
        for read in scan.facts(path, text).reads:
            if read.flow in names and read.kind == kind and read.name == token.name:
                sites.add(Site(path, read.span))
    # `self.x += 1` is a read and a write of one span: one site, a declaration.
    declared = {(site.path, site.span) for site in sites if site.declaration}
    unique = {Site(site.path, site.span, (site.path, site.span) in declared) for site in sites}
    return flows, sorted(unique, key=lambda s: (s.path != sources.own, str(s.path), s.span.line, s.span.col))


def _scan(project):
    """The project's Client API reads and extended bases (`project_scan.py`, imported on the first request: the
    server's start-up does not need it)."""
    from ..project_scan import scan_of

    return scan_of(project)


def _candidates(sources: Sources, flow: FlowClass) -> list[FlowClass]:
    """The flows that may share code with `flow`: those of its own file, and those of project files whose classes
    extend one of the classes of the lineage (followed down to subclasses of subclasses)."""
    own = sources.module(sources.own) if sources.own else None
    flows = list(own.flows) if own is not None else [flow]
    owners = _owners(flows)
    scan = _scan(sources.project)
    taken = {sources.own}
    grew = True
    while grew:
        grew = False
        for path in scan.files():
            if path in taken:
                continue
            text = sources.text(path) if sources.is_open(path) else None
            if not scan.facts(path, text).extended & owners:
                continue
            taken.add(path)
            module = sources.module(path)
            if module is not None:
                flows += module.flows
                owners |= _owners(module.flows)
                grew = True
    return flows


def _owners(flows: list[FlowClass]) -> set[str]:
    return {flow.name for flow in flows} | {step.owner for flow in flows for step in flow.steps.values()}
