"""What a rule sees: the module's model, settings, and (for project rules) the project around the file."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .builder import ModuleResolver
from .config import Settings
from .graph import FlowGraph
from .model import FlowClass, Module
from .project import Project
from .reuse import NodeReuse
from .walk import flatten, parents_of

T = TypeVar("T")


@dataclass
class RuleContext:
    module: Module
    settings: Settings
    project: Project | None = None
    reuse: NodeReuse | None = None  # the language server's: what earlier versions computed from unchanged methods
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
        method stays unchanged (see `reuse`). `key` must name everything else the value depends on."""
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
        return self.derived(root, "nodes", lambda: flatten(root))

    def parents(self, root: ast.AST) -> dict[int, ast.AST]:
        """`id(node) -> parent` for the nodes under `root`."""
        return self.derived(root, "parents", lambda: parents_of(self.nodes(root)))

    @property
    def resolver(self) -> ModuleResolver | None:
        return self.project.resolver if self.project else None
