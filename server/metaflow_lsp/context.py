"""What a rule sees: the module's model, settings, and (for project rules) the project around the file, with the
questions every family asks (which steps this file reports, which flows are whole enough to judge, which decorators
are Metaflow's) answered once."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .builder import ModuleResolver, resolve_import
from .config import Settings
from .graph import FlowGraph
from .model import Decorator, FlowClass, Module, Step
from .project import Project
from .rules.facts import metaflow_name
from .walk import FLAT_NODES, flatten, parents_of

if TYPE_CHECKING:  # the CLI checks each file once, without one: it never imports `reuse`
    from .reuse import NodeReuse

T = TypeVar("T")


@dataclass
class RuleContext:
    module: Module
    settings: Settings
    project: Project | None = None
    reuse: NodeReuse | None = None  # the language server's: what earlier versions computed from unchanged methods
    # When set, `steps_in_file` yields only these (flow, step) pairs: a `per_step` rule re-run after an edit
    # (`rule_reuse`), in time proportional to the edit rather than to the flow.
    only_steps: list[tuple[FlowClass, Step]] | None = None
    # The running rule's values from the previous version, while its inputs are unchanged (`rule_values`).
    kept: dict[Any, Any] | None = None
    _graphs: dict[str, FlowGraph] = field(default_factory=dict, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> Path | None:
        return self.module.path

    @property
    def flows(self) -> list[FlowClass]:
        return self.module.flows

    def graph(self, flow: FlowClass) -> FlowGraph:
        """The step graph of a flow, computed once per check run and shared by all rules."""
        graph = self._graphs.get(flow.name)
        if graph is None or graph.flow is not flow:
            graph = self._graphs[flow.name] = FlowGraph(flow)
        return graph

    def rule_values(self) -> dict[Any, Any]:
        """Where the running rule keeps what it computed from its inputs alone (`Rule.reads`, `Rule.step_input`): the
        previous version's values while those are unchanged (a `per_step` rule re-run on the edited step), else an
        empty store. Asked once per run."""
        return self.kept if self.kept is not None else {}

    def graph_derived(self, flow: FlowClass, key: Any, compute: Callable[[], T]) -> T:
        """A value computed from the module outside the steps and the steps' names, headers and transitions alone
        (the MODULE and GRAPH levels of `Reads`): kept across keystrokes with the graph, which is kept only while
        those are unchanged (`keep_graphs`)."""
        store = self.graph(flow).derived
        try:
            return store[key]
        except KeyError:
            value = store[key] = compute()
            return value

    def keep_graphs(self, graphs: dict[str, FlowGraph]) -> dict[str, FlowGraph]:
        """Uses the graphs of the previous version, whose flows had the same graph shape (`rule_reuse`), and returns
        the graphs of this run (filled as rules ask), for the next version."""
        for flow in self.flows:
            graph = graphs.get(flow.name)
            if graph is not None:
                graph.adopt(flow)
                self._graphs[flow.name] = graph
        return self._graphs

    # -- the steps this file reports ------------------------------------------------------------------------------

    def defined_here(self, step: Step) -> bool:
        """Whether the step's `def` is in this file (the flow's own, or a base's or mixin's defined here): only those
        are reported here; a step from another file is reported when that file is checked."""
        path = self.module.path
        return step.path is path or step.path == path

    def steps_in_file(self, flows: Iterable[FlowClass] | None = None, seen: set[int] | None = None
                      ) -> Iterator[tuple[FlowClass, Step]]:
        """Each step defined in this file, once (a mixin's step shared by two flows is reported once), with the first
        of `flows` (default: every flow of the file) that has it. A rule that prepares each flow before its steps
        calls this per flow (`[flow]`) with one `seen` set for the whole run."""
        seen = set() if seen is None else seen
        if self.only_steps is not None:
            wanted = None if flows is None else {id(flow) for flow in flows}
            for flow, step in self.only_steps:
                if (wanted is None or id(flow) in wanted) and self.defined_here(step) and id(step.node) not in seen:
                    seen.add(id(step.node))
                    yield flow, step
            return
        for flow in self.flows if flows is None else flows:
            for step in flow.steps.values():
                if self.defined_here(step) and id(step.node) not in seen:
                    seen.add(id(step.node))
                    yield flow, step

    # -- the flows whole enough to judge ---------------------------------------------------------------------------

    def complete_flows(self) -> Iterator[FlowClass]:
        """Flows whose every base class was read: no step, Parameter or decorator the model cannot see."""
        return (flow for flow in self.flows if flow.complete)

    def runnable_flows(self) -> Iterator[FlowClass]:
        """Complete flows that are no intermediate base class (`is_base_flow`): rules about the whole flow."""
        return (flow for flow in self.complete_flows() if not self.is_base_flow(flow))

    def sound_flows(self) -> Iterator[FlowClass]:
        """Runnable flows whose graph is sound (`is_sound`): rules that follow the data along the graph."""
        return (flow for flow in self.runnable_flows() if self.is_sound(flow))

    def is_sound(self, flow: FlowClass) -> bool:
        """Start and end found, the walk finished, and every reachable step ends in a valid `self.next` to known
        steps (the end step in none); never for an intermediate base class, whose subclasses may override any
        step. Kept with the graph: it reads the steps' headers and transitions, and whether the flow is a base,
        which the graph is kept only while unchanged."""
        return self.graph_derived(flow, "sound", lambda: self._is_sound(flow))

    def _is_sound(self, flow: FlowClass) -> bool:
        if self.is_base_flow(flow):
            return False
        graph = self.graph(flow)
        if graph.start_step is None or graph.end_step is None or not graph.traversal_complete:
            return False
        for name in graph.reachable():
            node = graph[name]
            step = node.step
            if name != graph.end_step and (node.type is None or step.tail is None or step.tail.kind == "invalid"):
                return False
            if step.num_args > 1 and node.type != "join":
                return False
            for transition in step.transitions:
                if transition.kind == "invalid" or any(t not in flow.steps for t in transition.target_names):
                    return False
        return True

    def is_base_flow(self, flow: FlowClass) -> bool:
        """Whether `flow` is an intermediate base class, a partial graph by design, rather than a flow someone runs:
        rules that judge the whole flow (start and end, unknown targets, balance, test mode) stay silent on it.

        A class the file's `__main__` block calls is a flow. Otherwise it is a base when a class of this file or a
        flow file of the project extends it, and, when unsure, when the file runs nothing and the class's graph is
        open (no start or end step, or a transition to a step it does not define)."""
        return self.memo(("is-base-flow", id(flow)), lambda: self._is_base_flow(flow))

    def _is_base_flow(self, flow: FlowClass) -> bool:
        module = self.module
        if flow.name in module.main_calls:
            return False
        if any(flow.name in info.bases for info in module.classes.values() if info.name != flow.name):
            return True
        if module.main_guard is None:
            graph = self.graph(flow)
            if graph.start_step is None or graph.end_step is None or any(
                    target not in graph for node in graph for target in node.out_funcs):
                return True
        if self.project is not None and module.path is not None:
            return flow.name in self.project.flow_base_names(exclude=module.path)
        return False

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """A value computed once per check run and shared by every rule that asks with the same key."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def derived(self, node: ast.AST, key: Any, compute: Callable[[], T]) -> T:
        """A value computed from `node` (and `key`) alone: once per check run, and kept across versions while a
        method stays unchanged or only moves (see `reuse`). `key` must name everything else the value depends on,
        and the value must hold no position copied out of a node (a node, a name or a count; a line relative to the
        method's `def`), since the method may move."""
        store = self.reuse.derived(node) if self.reuse is not None else None
        if store is None:
            return self.memo((key, id(node)), compute)
        try:
            return store[key]
        except KeyError:
            value = store[key] = compute()
            return value

    def nodes(self, root: ast.AST) -> list[ast.AST]:
        """Every node under `root` (a step's def, a class, the module), flattened once: rules iterate this list
        instead of calling `ast.walk` again and again on the keystroke path."""
        return self.derived(root, FLAT_NODES, lambda: flatten(root))

    def parents(self, root: ast.AST) -> dict[int, ast.AST]:
        """`id(node) -> parent` for the nodes under `root`."""
        return self.derived(root, "parents", lambda: parents_of(self.nodes(root)))

    # -- Metaflow's decorators, imports ----------------------------------------------------------------------------

    def metaflow_name(self, decorator: Decorator) -> str | None:
        """The Metaflow name of a decorator of this file, through any alias (`@mf.retry`, `@r` after `from metaflow
        import retry as r`), or None when it is not (or may not be) Metaflow's. The answer depends on the
        decorator's dotted name and the module's imports only, so it is computed once per name and check run."""
        return self.memo(("metaflow-name", decorator.qualified), lambda: metaflow_name(decorator, self.module))

    def metaflow_decorator(self, step: Step, name: str) -> Decorator | None:
        """The first decorator of `step` that is Metaflow's `@name`, however it was imported."""
        return next((d for d in step.decorators if d.name and self.metaflow_name(d) == name), None)

    @property
    def resolver(self) -> ModuleResolver | None:
        return self.project.resolver if self.project else None

    def imported_module(self, module_name: str, level: int = 0) -> Module | None:
        """The project module an import of this file names, parsed through the project's cache, or None."""
        return resolve_import(self.resolver, module_name, level, self.module.path)
