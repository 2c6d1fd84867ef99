"""What the editor features (hover, go to definition, outline) ask about a flow's artifacts, from the static model
alone: which steps assign an artifact, which steps can run before a step, whether an artifact is set on every path
from `start` to a step, and which name stands under the cursor.

Only `ast` and the model: this answers requests on the keystroke path from the analysis the server already keeps
for the document's version. The graph walks are those of the MF1xx rules (`rules/facts.py`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

from .graph import FlowGraph
from .model import FlowClass, Module, Parameter, SelfAccess, Step, Transition, literal
from .rules.facts import ancestors, predecessors
from .rules.runtime import forward_order, merge_effect
from .text import Span

TokenKind = Literal["artifact", "parameter", "step"]


@dataclass(frozen=True, slots=True)
class Token:
    """The name under the cursor: `self.<name>` in a step, `inp.<name>` / `inputs.<step>.<name>` in a join, the string
    of `foreach="<name>"`, a step in `self.next(self.<step>)`, or a Parameter's attribute in the class body."""

    kind: TokenKind
    name: str
    span: Span  # the name itself (inside the quotes for a string)
    flow: FlowClass
    step: Step | None  # the step the token stands in (None in the class body)
    write: bool = False
    branch: str | None = None  # `inputs.<branch>.<name>`: the step whose output is read


@dataclass(frozen=True, slots=True)
class Assignment:
    step: Step
    access: SelfAccess

    @property
    def span(self) -> Span:
        return name_span(self.access.node)


def name_span(node: ast.Attribute) -> Span:
    """The span of the attribute name of `x.<name>` (the part after the dot)."""
    end_line = (node.end_lineno or node.lineno) - 1
    end_col = node.end_col_offset or 0
    return Span(end_line, end_col - len(node.attr.encode()), end_line, end_col)


class FlowArtifacts:
    """The artifact facts of one flow, computed once per request from the model (linear in the flow's size)."""

    def __init__(self, flow: FlowClass):
        self.flow = flow
        self.graph = FlowGraph(flow)
        self._predecessors = predecessors(flow)
        self._out: dict[str, set[str]] = {}
        self._entry = self._set_on_entry()

    def assignments(self, name: str) -> list[Assignment]:
        """Every `self.<name> = ...` of the flow, in step order."""
        return [a for a in self.all_assignments() if a.access.name == name]

    def all_assignments(self) -> list[Assignment]:
        """Every artifact assignment of the flow, in step order."""
        return [Assignment(step, access) for step in self.flow.steps.values()
                for access in self.flow.artifact_writes(step)]

    def runs_before(self, step_name: str) -> set[str]:
        """The steps that can run before `step_name` (along every `self.next`, not only the last)."""
        return ancestors(self.flow, step_name)

    def assigned_before(self, name: str, step_name: str) -> list[Assignment]:
        before = self.runs_before(step_name)
        return [a for a in self.assignments(name) if a.step.name in before]

    def set_on_every_path(self, name: str, step: Step, at: Span | None = None) -> bool | None:
        """Whether `self.<name>` is set whenever `step` reaches `at` (its start when None), by the writes the model
        sees; None when the model cannot tell (a base class it could not read, a graph it could not follow)."""
        if self._entry is None or step.name not in self._entry:
            return None
        if name in self._entry[step.name]:
            return True
        return at is not None and any(
            a.name == name and not a.conditional and (a.span.end_line, a.span.end_col) <= (at.line, at.col)
            for a in step.writes())

    def set_after(self, name: str, step_name: str) -> bool | None:
        """Whether `step_name` always leaves `self.<name>` set (what `inputs.<step_name>.<name>` reads)."""
        if self._entry is None or step_name not in self._entry:
            return None
        return name in self._out[step_name]

    def _set_on_entry(self) -> dict[str, set[str]] | None:
        """A forward must-analysis: the artifacts set on every path from start when each step begins. A join starts
        with nothing (Metaflow carries nothing over) unless it merges; unconditional writes add, any `del` removes."""
        if not self.flow.complete or not self.graph.traversal_complete or self.graph.start_step is None:
            return None
        reachable = self.graph.reachable()
        order = [name for name in forward_order(self.graph) if name in reachable]
        universe = {a.name for step in self.flow.steps.values() for a in step.writes()}
        entry: dict[str, set[str]] = {}
        out: dict[str, set[str]] = {name: set(universe) for name in order}
        for _ in range(len(order) + 2):  # loops (a recursive switch) settle in a few rounds
            changed = False
            for name in order:
                step = self.flow.steps[name]
                preds = [p for p in self._predecessors[name] if p in out]
                if name == self.graph.start_step or not preds:
                    start: set[str] = set()
                elif step.is_join:
                    start = set()
                else:
                    start = set.intersection(*(out[p] for p in preds))
                entry[name] = start
                deleted = {a.name for a in step.accesses if a.kind == "delete"}  # `del self.x`, even if guarded
                new_out = (start | {a.name for a in step.writes() if not a.conditional}) - deleted
                if step.is_join:
                    new_out |= self._merged(step, preds, out)
                if new_out != out[name]:
                    out[name] = new_out
                    changed = True
            if not changed:
                self._out = out
                return entry
        return None

    def _merged(self, step: Step, preds: list[str], out: dict[str, set[str]]) -> set[str]:
        """What an unconditional `self.merge_artifacts(inputs, ...)` in a join surely sets: what every branch sets."""
        merges = {id(a.node) for a in step.accesses if a.name == "merge_artifacts" and a.called and not a.conditional}
        if not merges or not preds:
            return set()
        common = set.intersection(*(out[p] for p in preds))
        merged: set[str] = set()
        for node in ast.walk(step.node):
            if isinstance(node, ast.Call) and id(node.func) in merges:
                include, exclude = merge_effect(node)
                merged |= {n for n in common if (include is None or n in include) and n not in exclude}
        return merged


def parameter_facts(parameter: Parameter) -> dict[str, str]:
    """A Parameter's / Config's kind, option, type, default and help as written (source text for computed values)."""
    facts = {"kind": parameter.kind}
    if isinstance(parameter.option, str):
        facts["option"] = parameter.option
    for key in ("type", "default", "help"):
        value = next((k.value for k in parameter.call.keywords if k.arg == key), None)
        if value is None:
            continue
        constant = literal(value)
        facts[key] = constant if key == "help" and isinstance(constant, str) else ast.unparse(value)
    return facts


# -- the token under a position ----------------------------------------------------------------------------------


def token_at(module: Module, line: int, col: int) -> Token | None:
    """The artifact, Parameter or step name at (0-based line, UTF-8 byte column) of the module's own text."""
    for flow in _flows_at(module, line):
        for step in flow.steps.values():
            if step.path != module.path or not _contains(Span.of(step.node), line, col):
                continue
            return _token_in_step(flow, step, line, col)
        for parameter in flow.parameters.values():
            if parameter.owner == flow.name and _contains(parameter.span, line, col):
                return Token("parameter", parameter.attr, parameter.span, flow, None)
    return None


def _flows_at(module: Module, line: int) -> list[FlowClass]:
    """The flows whose class statement holds `line` (a step of a base class in the same file is found in the base)."""
    return [flow for flow in module.flows if flow.node.lineno - 1 <= line <= (flow.node.end_lineno or 0) - 1]


def _contains(span: Span, line: int, col: int) -> bool:
    return (span.line, span.col) <= (line, col) <= (span.end_line, span.end_col)


def _token_in_step(flow: FlowClass, step: Step, line: int, col: int) -> Token | None:
    for transition in step.transitions:
        for name, span in transition.targets:
            if _contains(span, line, col) and name in flow.steps:
                return Token("step", name, _tail_span(span, name), flow, step)
        foreach = foreach_literal(transition)
        if foreach is not None and _contains(Span.of(foreach), line, col):
            span = Span.of(foreach)
            inner = Span(span.line, span.col + 1, span.end_line, span.end_col - 1)  # inside the quotes
            return Token("artifact", foreach.value, inner, flow, step)
    for access in step.accesses:
        span = name_span(access.node)
        if not _contains(span, line, col) or access.called:
            continue
        if access.name in flow.parameters:
            return Token("parameter", access.name, span, flow, step)
        if flow.is_artifact(access.name):
            return Token("artifact", access.name, span, flow, step, write=access.kind == "write")
        return None
    if step.is_join:
        return _join_input_token(flow, step, line, col)
    return None


def _tail_span(span: Span, name: str) -> Span:
    """`self.<name>` -> the span of `<name>`."""
    return Span(span.end_line, span.end_col - len(name.encode()), span.end_line, span.end_col)


def _join_input_token(flow: FlowClass, step: Step, line: int, col: int) -> Token | None:
    """`inputs.<branch>.<name>` and `inp.<name>` for `for inp in inputs:` in a join step."""
    for node, branch in join_input_reads(flow, step):
        span = name_span(node)
        if _contains(span, line, col):
            return Token("artifact", node.attr, span, flow, step, branch=branch)
    return None


def foreach_literal(transition: Transition) -> ast.Constant | None:
    """The string of `foreach="<name>"` in a `self.next(...)` call; None for no foreach or a computed name."""
    foreach = next((k.value for k in transition.call.keywords if k.arg == "foreach"), None)
    return foreach if isinstance(foreach, ast.Constant) and isinstance(foreach.value, str) else None


def join_input_reads(flow: FlowClass, step: Step) -> list[tuple[ast.Attribute, str | None]]:
    """The artifact accesses through a join step's inputs, in `ast.walk` order, each with the branch it names:
    `inputs.<branch>.<name>`, and `inp.<name>` (branch None) for `for inp in inputs:`, also in a comprehension."""
    inputs = step.node.args.args[1].arg
    loop_names = {node.target.id for node in ast.walk(step.node)
                  if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name)
                  and isinstance(node.iter, ast.Name) and node.iter.id == inputs}
    found: list[tuple[ast.Attribute, str | None]] = []
    for node in ast.walk(step.node):
        if not isinstance(node, ast.Attribute) or not flow.is_artifact(node.attr):
            continue
        value = node.value
        if isinstance(value, ast.Name) and value.id in loop_names:
            found.append((node, None))
        elif (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == inputs
              and value.attr in flow.steps):
            found.append((node, value.attr))
    return found
