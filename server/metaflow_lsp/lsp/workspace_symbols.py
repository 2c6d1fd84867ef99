"""Workspace symbols (workspace/symbol): the flows, steps and Parameters of every flow file in the workspace folders.

Files on disk come from the project index (`Project.flow_symbols`: the project's file walk, .gitignore respected,
each file read through `files.py` with its size cap and parsed once per modification); an open document's symbols
come from its current analysis, since the editor's text wins over the disk.

Matching is what the LSP asks of servers: relaxed and case-insensitive, the editor ranks and highlights the results
itself. A symbol matches when the query's characters appear in its name in order (in `Flow.step` when the query
has a dot), and the closer matches come first: the same name, then a prefix, then a substring, then a subsequence.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..flow_index import FlowSymbol, flow_symbols
from ..text import LineIndex
from .convert import column, encoding_of

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer

MAX_RESULTS = 500  # a query of one letter in a large monorepo: the editor shows the best ones anyway
KINDS = {"flow": types.SymbolKind.Class, "step": types.SymbolKind.Method, "parameter": types.SymbolKind.Property}


def register(server: MetaflowLanguageServer) -> None:
    @server.feature(types.WORKSPACE_SYMBOL)
    def workspace_symbol(ls: MetaflowLanguageServer,
                         params: types.WorkspaceSymbolParams) -> list[types.WorkspaceSymbol]:
        """workspace/symbol: the flows, steps and Parameters whose name matches the query."""
        query = params.query.strip().lower()
        ranked = []
        for uri, symbol in _workspace_symbols(ls):
            rank = match_rank(query, symbol)
            if rank is not None:
                ranked.append((rank, symbol.name.lower(), uri, symbol.span.line, symbol))
        ranked.sort(key=lambda entry: entry[:4])
        encoding = encoding_of(ls)
        return [_to_lsp(uri, symbol, encoding) for _, _, uri, _, symbol in ranked[:MAX_RESULTS]]


def match_rank(query: str, symbol: FlowSymbol) -> int | None:
    """0 for the same name, 1 for a prefix, 2 for a substring, 3 for the characters in order; None for no match.
    `query` is lower case. A query naming the flow too (`trainflow.tr`) is matched against `Flow.step`."""
    name = symbol.name.lower()
    if "." in query and symbol.container is not None:
        name = f"{symbol.container.lower()}.{name}"
    return _rank(query, name)


def _rank(query: str, name: str) -> int | None:
    if query == name:
        return 0
    if name.startswith(query):
        return 1
    if query in name:
        return 2
    remaining = iter(name)
    return 3 if all(char in remaining for char in query) else None


def _workspace_symbols(ls: MetaflowLanguageServer):
    """(uri, symbol) for every flow file under the workspace folders: open documents as the editor has them."""
    folders = [_real(folder) for folder in ls.workspace_roots()]
    done: set[Path] = set()  # files already given (open, or under an earlier folder holding this one)
    for document in list(ls.workspace.text_documents.values()):
        path = ls.path_of(document.uri)
        if path is None or path.suffix != ".py" or not _inside(_real(path), folders):
            continue
        done.add(_real(path))
        result = ls.analysis(document.uri)
        if result.module.ok:
            yield from ((document.uri, symbol) for symbol in flow_symbols(result.module))
    for folder in folders:
        given = set()
        for symbol in ls.project_at(folder).flow_symbols():
            if symbol.path not in done and symbol.path.is_relative_to(folder):
                given.add(symbol.path)
                yield symbol.path.as_uri(), symbol
        done |= given


def _real(path: Path) -> Path:
    """`path` with its links followed as far as they go: `Path.resolve` raises RuntimeError on a symlink loop (an
    editor may have a buffer open under one), `os.path.realpath` stops there."""
    return Path(os.path.realpath(path))


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)


def _to_lsp(uri: str, symbol: FlowSymbol, encoding: str) -> types.WorkspaceSymbol:
    line = LineIndex(symbol.line_text)
    span = symbol.span
    start = types.Position(line=span.line, character=column(line, 0, span.col, encoding))
    end = types.Position(line=span.line, character=column(line, 0, span.end_col, encoding))
    return types.WorkspaceSymbol(
        name=symbol.name, kind=KINDS[symbol.kind], container_name=symbol.container,
        location=types.Location(uri=uri, range=types.Range(start=start, end=end)))
