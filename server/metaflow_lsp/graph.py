"""The step graph of one flow, computed the way Metaflow's `FlowGraph` computes it, but from the static model and
without ever raising: unknown targets, cycles and missing steps leave gaps that the rules report.

Like Metaflow, only the last statement of a step body counts as its transition (`Step.tail`). Which steps are parallel
(Metaflow's `parallel_step`, from the decorator classes' `IS_PARALLEL`) is a decorator fact, not a graph one: see
`rules.facts.is_parallel_step`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import FlowClass, Step

# Path-based traversal (as Metaflow does it) can explode on wide diamond-shaped graphs; past this many visits the
# graph is marked incomplete and structure checks stay silent instead of hanging the editor.
TRAVERSAL_BUDGET = 50_000


@dataclass(slots=True)
class Node:
    step: Step
    type: str | None  # start, linear, split, foreach, split-switch, join, end; None for an invalid tail
    out_funcs: list[str]
    has_tail_next: bool
    invalid_tail_next: bool
    parallel_foreach: bool  # self.next(..., num_parallel=...)
    condition: object = None
    switch_cases: dict = field(default_factory=dict)
    in_funcs: list[str] = field(default_factory=list)
    split_parents: list[str] = field(default_factory=list)
    split_branches: list[str] = field(default_factory=list)
    matching_join: str | None = None
    is_inside_foreach: bool = False

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def num_args(self) -> int:
        return self.step.num_args


def _node(step: Step) -> Node:
    tail = step.tail
    if tail is None:
        return Node(step, None, [], False, False, False)
    kind = tail.kind
    keywords = [k.arg for k in tail.call.keywords]
    node = Node(step, None, tail.target_names, True, kind == "invalid", False)
    if kind == "switch":
        node.type, node.condition, node.switch_cases = "split-switch", tail.condition, tail.switch_cases
        node.out_funcs = list(tail.switch_cases.values())  # as Metaflow: a repeated case key keeps its last step
    elif kind in ("foreach", "parallel") or (kind == "invalid" and keywords in (["foreach"], ["num_parallel"])):
        # Metaflow types a foreach with several targets as a foreach too; it is only the transition that is invalid.
        node.type = "foreach"
        node.parallel_foreach = "num_parallel" in keywords
    elif kind == "split":
        node.type = "split"
    elif kind == "linear":
        node.type = "join" if step.num_args > 1 else "linear"
    return node


class FlowGraph:
    """`nodes` by step name, `start_step` / `end_step` (None when missing or ambiguous) and the traversal results."""

    def __init__(self, flow: FlowClass):
        self.flow = flow
        self.nodes: dict[str, Node] = {name: _node(step) for name, step in flow.steps.items()}
        self.start_step, self.end_step = self._identify_start_end()
        self.traversal_complete = self._traverse()
        self._postprocess()
        # Values rules compute from the graph's steps' headers and transitions alone (`RuleContext.graph_derived`):
        # kept with the graph while those stay as they are.
        self.derived: dict = {}
        self._reachable: frozenset[str] | None = None

    def adopt(self, flow: FlowClass) -> None:
        """Becomes the graph of `flow`, a later version of this graph's flow with the same steps and the same step
        headers and transitions (everything the graph is computed from): only the `Step` objects are new."""
        self.flow = flow
        for name, node in self.nodes.items():
            node.step = flow.steps[name]

    def __getitem__(self, name: str) -> Node:
        return self.nodes[name]

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __iter__(self):
        return iter(self.nodes.values())

    def annotated(self, which: str) -> list[str]:
        attribute = "is_start" if which == "start" else "is_end"
        return [name for name, node in self.nodes.items() if getattr(node.step, attribute)]

    def _identify_start_end(self) -> tuple[str | None, str | None]:
        def resolve(which: str) -> str | None:
            annotated = self.annotated(which)
            if len(annotated) == 1:
                return annotated[0]
            if not annotated:
                return which if which in self.nodes else None
            return None

        start, end = resolve("start"), resolve("end")
        if len(self.nodes) == 1:
            (only,) = self.nodes
            start = end = only
        if start and start == end:
            self.nodes[start].type = "end"
        else:
            if start and self.nodes[start].type in (None, "linear"):
                self.nodes[start].type = "start"
            if end:
                self.nodes[end].type = "end"
        return start, end

    def _traverse(self) -> bool:
        """Metaflow's path-based walk from the start step: in_funcs, split parents and branches, matching joins."""
        in_funcs: dict[str, set[str]] = {name: set() for name in self.nodes}
        budget = [TRAVERSAL_BUDGET]

        def visit(node: Node, seen: list[str], split_parents: list[str], split_branches: list[str]) -> None:
            budget[0] -= 1
            if budget[0] < 0:
                raise _OverBudget
            add_branch = False
            if node.type in ("split", "foreach"):
                node.split_parents, node.split_branches = split_parents, split_branches
                add_branch = True
                split_parents = split_parents + [node.name]
            elif node.type == "join":
                if split_parents:
                    self.nodes[split_parents[-1]].matching_join = node.name
                    node.split_parents, node.split_branches = split_parents, split_branches[:-1]
                    split_parents, split_branches = split_parents[:-1], split_branches[:-1]
            else:
                node.split_parents, node.split_branches = split_parents, split_branches
            for name in node.out_funcs:
                if name not in seen and name in self.nodes:
                    in_funcs[name].add(node.name)
                    visit(self.nodes[name], seen + [name], split_parents,
                          split_branches + ([name] if add_branch else []))

        complete = True
        if self.start_step is not None:
            try:
                visit(self.nodes[self.start_step], [], [], [])
            except (_OverBudget, RecursionError):
                complete = False
        for name, node in self.nodes.items():
            node.in_funcs = sorted(in_funcs[name])
        return complete

    def _postprocess(self) -> None:
        for node in self.nodes.values():
            foreaches = [p for p in node.split_parents if p in self.nodes and self.nodes[p].type == "foreach"]
            node.is_inside_foreach = any(self.nodes[f].matching_join != node.name for f in foreaches)

    def reachable(self) -> frozenset[str]:
        """Steps reachable from the start step along known transitions (computed once per graph)."""
        if self._reachable is None:
            self._reachable = self._walk_reachable()
        return self._reachable

    def _walk_reachable(self) -> frozenset[str]:
        if self.start_step is None:
            return frozenset()
        seen = {self.start_step}
        stack = [self.start_step]
        while stack:
            for name in self.nodes[stack.pop()].out_funcs:
                if name in self.nodes and name not in seen:
                    seen.add(name)
                    stack.append(name)
        return frozenset(seen)


class _OverBudget(Exception):
    pass
