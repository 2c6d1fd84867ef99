"""What a rule sees: the module's model, settings, and (for project rules) the project around the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .builder import ModuleResolver
from .config import Settings
from .graph import FlowGraph
from .model import FlowClass, Module
from .project import Project


@dataclass
class RuleContext:
    module: Module
    settings: Settings
    project: Project | None = None
    _graphs: dict[str, FlowGraph] = field(default_factory=dict, repr=False)

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

    @property
    def resolver(self) -> ModuleResolver | None:
        return self.project.resolver if self.project else None
