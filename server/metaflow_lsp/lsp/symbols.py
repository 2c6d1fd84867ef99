"""The outline (textDocument/documentSymbol): each flow class of the document with its Parameters and steps as
children, so the outline and breadcrumbs show the flow. From the analysis of the document's version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..model import FlowClass, Module
from ..text import LineIndex, Span
from .convert import encoding_of, to_range

if TYPE_CHECKING:
    from .server import MetaflowLanguageServer


def register(server: MetaflowLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: MetaflowLanguageServer,
                        params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | None:
        """textDocument/documentSymbol: the flows of the document, their Parameters and steps."""
        result = ls.analysis(params.text_document.uri)
        if not result.module.ok:
            return None
        return flow_symbols(result.module, result.lines, encoding_of(ls))


def flow_symbols(module: Module, lines: LineIndex, encoding: str) -> list[types.DocumentSymbol]:
    return [_flow_symbol(flow, lines, encoding) for flow in module.flows if flow.path == module.path]


def _flow_symbol(flow: FlowClass, lines: LineIndex, encoding: str) -> types.DocumentSymbol:
    children = []
    for parameter in flow.parameters.values():
        if parameter.owner != flow.name:
            continue  # declared in a base class: outside this class's range
        whole = Span(parameter.span.line, parameter.span.col, *_end(parameter.call))
        children.append(types.DocumentSymbol(
            name=parameter.attr, detail=parameter.kind, kind=types.SymbolKind.Property,
            range=to_range(whole, lines, encoding), selection_range=to_range(parameter.span, lines, encoding)))
    for step in flow.own_steps:
        if step.path != flow.path:
            continue
        children.append(types.DocumentSymbol(
            name=step.name, detail="join step" if step.is_join else "step", kind=types.SymbolKind.Method,
            range=to_range(_with_decorators(step.node), lines, encoding), selection_range=to_range(step.span, lines, encoding)))
    children.sort(key=lambda symbol: (symbol.range.start.line, symbol.range.start.character))
    return types.DocumentSymbol(
        name=flow.name, detail="flow", kind=types.SymbolKind.Class,
        range=to_range(_with_decorators(flow.node), lines, encoding),
        selection_range=to_range(flow.span, lines, encoding), children=children)


def _end(node) -> tuple[int, int]:
    return (node.end_lineno or node.lineno) - 1, node.end_col_offset or 0


def _with_decorators(node) -> Span:
    """A def's or class's span from its first decorator's `@` (ast starts it at the keyword)."""
    span = Span.of(node)
    if not node.decorator_list:
        return span
    first = node.decorator_list[0]
    return Span(first.lineno - 1, max(first.col_offset - 1, 0), span.end_line, span.end_col)
