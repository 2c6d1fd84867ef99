"""The step graph of a file's flows as plain data: what `metaflow-lsp graph --format json` prints and what the server
command `metaflow.flowGraph` returns (docs/flow-graph.md has the shape).

Each step carries Metaflow's node type (`graph.FlowGraph`, computed as `metaflow.graph.DAGNode` and
`FlowGraph._identify_start_end` compute it), its out_funcs in order, the literal foreach artifact and the
diagnostics the editor shows inside it. A broken flow still gives its graph: a transition to a step that does not
exist stays in `next` (and the flow lists it under `missing`); a step without a valid transition has type null.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .builder import ModuleResolver, resolve_import
from .engine import Finding
from .graph import FlowGraph
from .model import FlowClass, Module, Step


def graph_json(module: Module, findings: Iterable[Finding] = (), resolver: ModuleResolver | None = None) -> dict:
    """`{"flows": [...]}` for every flow the file defines or runs (see `flows_of`)."""
    findings = list(findings)
    return {"flows": [flow_json(flow, findings, module.path) for flow in flows_of(module, resolver)]}


def flows_of(module: Module, resolver: ModuleResolver | None = None) -> list[FlowClass]:
    """The flow classes the file defines, then those its `__main__` block runs after importing them from a project
    module (`from flows.base import TrainFlow` ... `TrainFlow()`)."""
    flows = list(module.flows)
    defined = {flow.name for flow in flows} | set(module.classes)
    for name in sorted(module.main_calls - defined):
        imported = module.imported(name)
        if imported is None or imported.name is None:
            continue
        source_module = resolve_import(resolver, imported.module, imported.level, module.path)
        flow = next((f for f in source_module.flows if f.name == imported.name), None) if source_module else None
        if flow is not None:
            flows.append(flow)
    return flows


def flow_json(flow: FlowClass, findings: Iterable[Finding] = (), findings_path: Path | None = None) -> dict:
    """One flow; `findings` are those of the file `findings_path`, given to the steps defined there."""
    graph = FlowGraph(flow)
    findings = list(findings)
    steps = [_step_json(step, graph, findings if step.path == findings_path else []) for step in flow.steps.values()]
    missing = sorted({target for step in steps for target in step["next"] if target not in flow.steps})
    return {"name": flow.name, "file": _path_text(flow.path), "steps": steps, "missing": missing}


def _step_json(step: Step, graph: FlowGraph, findings: list[Finding]) -> dict:
    node = graph[step.name]
    return {
        "name": step.name,
        "type": node.type,
        "line": step.node.lineno,
        # As written (`retry`, `mf.retry`), without @step itself, as Metaflow's DAGNode.decorators.
        "decorators": [decorator.qualified for index, decorator in enumerate(step.decorators)
                       if index != step.step_decorator_index and decorator.qualified],
        "next": list(node.out_funcs),
        "foreach": _foreach_artifact(step),
        "switch": node.type == "split-switch",
        # Extras of this implementation, for labels: the case of each `next` entry of a switch, and whether the
        # transition is `num_parallel=` (Metaflow's `parallel_foreach`).
        "cases": [_case_text(case) for case in node.switch_cases] if node.type == "split-switch" else None,
        "parallel_foreach": node.parallel_foreach,
        "file": _path_text(step.path),
        "diagnostics": [_diagnostic_json(finding) for finding in findings if _inside(finding, step)],
    }


def _foreach_artifact(step: Step) -> str | None:
    """The `foreach="name"` of the step's transition; None for any other transition or a computed name (Metaflow's
    `foreach_param` is then no artifact name either)."""
    tail = step.tail
    if tail is None or tail.kind != "foreach":
        return None
    return tail.foreach if isinstance(tail.foreach, str) else None


def _case_text(case: object) -> str:
    return case if isinstance(case, str) else repr(case)


def _inside(finding: Finding, step: Step) -> bool:
    """Whether a finding of the step's file lies on the step: from its first decorator to the end of its body."""
    node = step.node
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first <= finding.span.line + 1 <= (node.end_lineno or node.lineno)


def _diagnostic_json(finding: Finding) -> dict:
    return {"code": finding.code, "severity": finding.severity.label, "message": finding.message,
            "line": finding.span.line + 1}


def _path_text(path: Path | None) -> str | None:
    return str(path) if path is not None else None
