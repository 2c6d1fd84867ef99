"""What the project index keeps of each flow file: its module-level functions (MF401 compares them across files),
the classes of other files that its classes extend (which makes a class elsewhere an intermediate base), and its
flows, steps and Parameters with their positions (`workspace/symbol`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .model import Module
from .text import Span


@dataclass(frozen=True, slots=True)
class TopLevelFunction:
    """A module-level function of a flow file, as the project index keeps it."""

    path: Path
    name: str
    span: Span  # the name after `def`
    fingerprint: str  # `function_fingerprint`: equal for the same signature and body, wherever they stand


@dataclass(frozen=True, slots=True)
class FlowSymbol:
    """A flow, one of its steps or one of its Parameters, where the file defines it."""

    path: Path
    name: str
    kind: Literal["flow", "step", "parameter"]
    container: str | None  # the flow of a step or Parameter
    span: Span  # the name
    line_text: str  # the text of the name's line: its columns in any position encoding without the file


@dataclass(frozen=True, slots=True)
class IndexedFlowFile:
    """What the project index keeps of one flow file."""

    functions: tuple[TopLevelFunction, ...]
    # Classes of other files that its classes extend: `Base` for `common.Base` and for `from common import Base as B`.
    imported_bases: frozenset[str]
    symbols: tuple[FlowSymbol, ...] = ()


NOT_A_FLOW_FILE = IndexedFlowFile((), frozenset())


def imported_base_names(module: Module) -> frozenset[str]:
    """The names of the classes that `module`'s classes extend and that it does not define itself."""
    names = set()
    for info in module.classes.values():
        for base in info.bases:
            if "." in base:
                names.add(base.rsplit(".", 1)[-1])
            elif base and base not in module.classes:
                imported = module.imported(base)
                names.add(imported.name if imported is not None and imported.name else base)
    return frozenset(names)


def function_fingerprint(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The signature and body of a function without positions and without its docstring; "" for a body that does
    nothing (`pass`, `...`), which is no helper worth sharing."""
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in body):
        return ""
    kind = "async " if isinstance(node, ast.AsyncFunctionDef) else ""
    return kind + ast.dump(node.args, include_attributes=False) + "\n" + "\n".join(
        ast.dump(statement, include_attributes=False) for statement in body)


def index_flow_file(module: Module) -> IndexedFlowFile:
    """The index entry of a parsed file; `NOT_A_FLOW_FILE` when it does not parse or defines no flow."""
    if not module.ok or not module.flows or module.path is None:
        return NOT_A_FLOW_FILE
    return IndexedFlowFile(
        tuple(TopLevelFunction(module.path, info.name, info.span, function_fingerprint(info.node))
              for info in module.functions.values()),
        imported_base_names(module),
        flow_symbols(module))


def flow_symbols(module: Module) -> tuple[FlowSymbol, ...]:
    """The flows the file defines, with the steps and Parameters each defines itself (not those of a base)."""
    if module.path is None:
        return ()
    found: list[FlowSymbol] = []

    def add(name, kind, container, span):
        found.append(FlowSymbol(module.path, name, kind, container, span, module.lines.line(span.line)))

    for flow in module.flows:
        if flow.path != module.path:
            continue
        add(flow.name, "flow", None, flow.span)
        for parameter in flow.parameters.values():
            if parameter.owner == flow.name:
                add(parameter.attr, "parameter", flow.name, parameter.span)
        for step in flow.own_steps:
            if step.path == module.path:
                add(step.name, "step", flow.name, step.span)
    return tuple(found)
