"""MF001-MF020: the checks of Metaflow's own lint (`metaflow/lint.py`), statically and all at once.

One code per check of Metaflow's `linter`. Metaflow stops at the first failure and some of its checks crash on a
broken graph (unknown targets, loops); these report every problem and never raise. A diagnostic sits where Metaflow
points: the step's `def` name (Metaflow's `func_lineno`) or its last `self.next(...)` (`tail_next_lineno`).

Two kinds of checks:
- per step (names, arguments, a missing or malformed `self.next`): they run on every step defined in this file,
  also when a base class could not be read;
- whole flow (start/end, unknown targets, loops, orphans, split/join balance, parallel and switch wiring): they
  need every step of the flow, so they stay silent when `flow.complete` is False, and on an intermediate base class
  (`RuleContext.is_base_flow`: extended here or by another flow file, a partial graph by design).

Which steps are parallel is a decorator fact (`facts.is_parallel_step`): with a decorator the model does not know,
the parallel checks (MF017-MF019) stay silent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..graph import FlowGraph, Node
from ..model import FlowClass, Module
from ..text import Span
from .facts import is_parallel_step
from .registry import Check, Hit, Reads, Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

RESERVED = frozenset({"name", "next", "input", "index", "cmd"})
INVALID_NAME = re.compile(r"[^a-z0-9_]")
# Balance traversal visits per flow (one per (step, open splits) pair); past it the check stays silent.
BALANCE_BUDGET = 20_000


@dataclass
class Scope:
    """One flow as the graph rules see it."""

    flow: FlowClass
    module: Module
    graph: FlowGraph
    whole: bool  # the whole-flow checks may run
    base: bool  # an intermediate base class (`RuleContext.is_base_flow`): its subclasses complete the graph
    context: RuleContext  # for the modules of steps defined in other files

    def local_nodes(self) -> Iterator[Node]:
        """The steps reported in this file (`RuleContext.defined_here`)."""
        return (node for node in self.graph if self.context.defined_here(node.step))

    def parallel(self, node: Node) -> bool | None:
        """Whether Metaflow sees the step as parallel; None when the model cannot tell."""
        step = node.step
        module = self.module if step.path == self.module.path else None
        project = self.context.project
        if module is None and project is not None and step.path is not None:
            module = project.module(step.path)  # cached by modification time
        return is_parallel_step(step, module)

    @property
    def partial(self) -> bool:
        """Steps may be missing from the graph: a base class could not be read, or this is a base class."""
        return self.base or not self.flow.complete

    def at_def(self, node: Node, message: str, **data) -> Hit | None:
        return Hit(node.step.span, message, data or None) if self.context.defined_here(node.step) else None

    def at_next(self, node: Node, message: str, **data) -> Hit | None:
        tail = node.step.tail
        if tail is None:
            return self.at_def(node, message, **data)
        return Hit(tail.span, message, data or None) if self.context.defined_here(node.step) else None


def _has_ends(graph: FlowGraph) -> bool:
    """A start or an end step, or a single step (which is both): not a library of steps for flows elsewhere."""
    return bool(graph.annotated("start") or graph.annotated("end") or "start" in graph or "end" in graph
                or len(graph.nodes) == 1)


def scopes(context: RuleContext) -> Iterator[Scope]:
    module = context.module
    for flow in context.flows:
        graph = context.graph(flow)
        base = context.is_base_flow(flow)
        whole = flow.complete and not base and (flow.name in module.main_calls or _has_ends(graph))
        yield Scope(flow, module, graph, whole, base, context)


def each_flow(whole_flow: bool) -> Callable[[Callable[[Scope], Iterable[Hit | None]]], Check]:
    """Turns a graph check `check(scope) -> hits` into a rule run over every flow of the module (only the flows whose
    whole graph is known when `whole_flow`); a step shared by several flows (a mixin) gets its diagnostic once.
    Written under `@rule(...)`."""

    def adapt(check: Callable[[Scope], Iterable[Hit | None]]) -> Check:
        @functools.wraps(check)
        def run(context: RuleContext) -> Iterator[Hit]:
            seen = set()
            for scope in scopes(context):
                if whole_flow and not scope.whole:
                    continue
                for hit in check(scope):
                    if hit is not None and hit.span not in seen:
                        seen.add(hit.span)
                        yield hit

        return run

    return adapt


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


# ---- per step ------------------------------------------------------------------------------------------------------


@rule("MF001", "reserved-step-name", Severity.ERROR, "A step is named name, next, input, index or cmd",
      silent="steps defined in another file; artifacts or methods with those names", reads=Reads.GRAPH)
@each_flow(whole_flow=False)
def reserved_step_name(scope: Scope):
    for node in scope.local_nodes():
        if node.name in RESERVED:
            yield scope.at_def(node, f"Step `{node.name}` uses a name Metaflow reserves: rename the step and the "
                                     f"`self.next(...)` calls that lead to it.", step=node.name)


@rule("MF007", "invalid-step-name", Severity.ERROR,
      "A step name has characters other than a-z, 0-9 and _ or starts with _",
      silent="steps defined in another file; methods that are not steps", reads=Reads.GRAPH)
@each_flow(whole_flow=False)
def invalid_step_name(scope: Scope):
    for node in scope.local_nodes():
        if INVALID_NAME.search(node.name) or node.name.startswith("_"):
            suggestion = re.sub(r"[^a-z0-9_]", "_", node.name.lower()).lstrip("_") or "step"
            yield scope.at_def(node, f"Step `{node.name}` has an invalid name: use lowercase letters, digits and `_`, "
                                     f"not starting with `_` (e.g. `{suggestion}`).",
                               step=node.name, suggestion=suggestion)


@rule("MF008", "step-arguments", Severity.ERROR,
      "A step takes the wrong arguments (too many, a join that splits, no self)",
      silent="steps defined in another file; a join by its transition in a partial graph", reads=Reads.GRAPH)
@each_flow(whole_flow=False)
def step_arguments(scope: Scope):
    for node in scope.local_nodes():
        name, args = node.name, node.num_args
        if args > 2:
            message = f"Step `{name}` takes {args} arguments: a step takes only `self`, a join step `self, inputs`."
        elif args == 0:
            message = f"Step `{name}` has no `self` argument: write `def {name}(self):`."
        elif args == 2 and node.type != "join":
            tail = node.step.tail
            if scope.partial and tail is not None and tail.kind == "linear":
                continue  # a join by its transition; start/end may be other steps, not in this graph
            if node.type in ("split", "foreach", "split-switch"):
                message = (f"Step `{name}` is both a join (it takes `inputs`) and a split: do the split in a "
                           f"separate step after the join.")
            elif node.type == "end":
                message = f"The end step `{name}` takes `inputs` like a join: add a join step before it."
            else:
                message = (f"Step `{name}` takes `inputs` like a join but does not end with one "
                           f"`self.next(self.<step>)`, as a join must.")
        else:
            continue
        yield scope.at_def(node, message, step=name, args=args)


@rule("MF009", "missing-next", Severity.ERROR, "A step other than the end step does not end with self.next(...)",
      silent="abstract steps of a base class; a possible end step when a base is unread", reads=Reads.GRAPH)
@each_flow(whole_flow=False)
def missing_next(scope: Scope):
    flow = scope.flow
    for node in scope.local_nodes():
        if node.type == "end" or node.has_tail_next:
            continue
        if scope.base:
            continue  # an abstract step of a base class (`raise NotImplementedError`) that its subclasses override
        if not flow.complete and (len(flow.steps) == 1 or node.name == "end" or node.step.is_end):
            continue  # with steps from an unread base, this one may be the end step
        hint = ""
        if any(t for t in node.step.transitions):
            hint = " (Metaflow reads only the last statement, not an earlier `self.next`)"
        yield scope.at_def(node, f"Step `{node.name}` does not end with `self.next(...)`: add one as its last "
                                 f"statement{hint}.", step=node.name)


def _invalid_reason(node: Node) -> str:
    call = node.step.tail.call  # type: ignore[union-attr]
    keywords = [k.arg for k in call.keywords]
    if not call.args:
        return "it names no step"
    if any(k is None for k in keywords):
        return "it passes `**` keyword arguments"
    if "condition" in keywords:
        return "a switch needs one dict of literal keys to `self.<step>` and `condition=` naming an artifact"
    if len(call.args) == 1 and call.args[0].__class__.__name__ == "Dict":
        return "a dict of steps needs `condition=` to be a switch"
    if not node.out_funcs and call.args:
        return "its steps must be written `self.<step>`"
    if "foreach" in keywords and "num_parallel" in keywords:
        return "`foreach=` and `num_parallel=` cannot be combined"
    if ("foreach" in keywords or "num_parallel" in keywords) and len(node.out_funcs) > 1:
        return f"a `{'foreach' if 'foreach' in keywords else 'num_parallel'}=` transition goes to exactly one step"
    unknown = [k for k in keywords if k not in ("foreach", "num_parallel")]
    if unknown:
        return f"`self.next()` takes no keyword {', '.join(f'`{k}`' for k in unknown)}"
    return "it matches none of the supported forms"


@rule("MF010", "invalid-transition", Severity.ERROR,
      "A step's self.next(...) is not one of the forms Metaflow supports",
      silent="steps defined in another file; a `self.next` that is not the last statement", reads=Reads.GRAPH)
@each_flow(whole_flow=False)
def invalid_transition(scope: Scope):
    for node in scope.local_nodes():
        if node.type != "end" and node.has_tail_next and node.invalid_tail_next:
            yield scope.at_next(node, f"Step `{node.name}` has an invalid `self.next(...)`: {_invalid_reason(node)}.",
                                step=node.name)


@rule("MF015", "invalid-switch", Severity.ERROR, "A switch self.next({...}, condition=...) has fewer than two cases",
      silent="steps defined in another file", reads=Reads.GRAPH)
@each_flow(whole_flow=False)
def invalid_switch(scope: Scope):
    for node in scope.local_nodes():
        if node.type != "split-switch":
            continue
        if len(node.out_funcs) < 2:
            only = node.out_funcs[0] if node.out_funcs else "x"
            yield scope.at_def(node, f"Switch `{node.name}` has {len(node.out_funcs)} case: a switch needs at least "
                                     f"two. For a single path use `self.next(self.{only})`.", step=node.name)


# ---- whole flow: start and end ------------------------------------------------------------------------------------


def _missing_terminal(scope: Scope, which: str) -> Iterator[Hit | None]:
    graph = scope.graph
    if (graph.start_step if which == "start" else graph.end_step) is not None:
        return
    annotated = graph.annotated(which)
    if len(annotated) > 1:
        message = (f"Steps {_names(sorted(annotated))} are all annotated `@step({which}=True)`: a flow has one "
                   f"{which} step.")
        for name in annotated:
            yield scope.at_def(graph[name], message, steps=sorted(annotated))
    else:
        yield Hit(scope.flow.span, f"Flow `{scope.flow.name}` has no {which} step: name a step `{which}` or "
                                   f"annotate one with `@step({which}=True)`.")


@rule("MF002", "missing-start-step", Severity.ERROR, "The flow has no start step, or several @step(start=True)",
      silent="flows with an unreadable base; intermediate base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def missing_start_step(scope: Scope):
    yield from _missing_terminal(scope, "start")


@rule("MF003", "missing-end-step", Severity.ERROR, "The flow has no end step, or several @step(end=True)",
      silent="flows with an unreadable base; intermediate base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def missing_end_step(scope: Scope):
    yield from _missing_terminal(scope, "end")


@rule("MF004", "ambiguous-start-or-end", Severity.ERROR,
      "A step is annotated start/end while another step is named start/end",
      silent="flows with an unreadable base; intermediate base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def ambiguous_start_or_end(scope: Scope):
    graph = scope.graph
    for which, chosen in (("start", graph.start_step), ("end", graph.end_step)):
        if chosen is not None and chosen != which and which in graph:
            message = (f"Ambiguous {which} step: `{chosen}` is annotated `@step({which}=True)` and a step is named "
                       f"`{which}`: rename one or remove the annotation.")
            yield scope.at_def(graph[chosen], message, step=chosen) or scope.at_def(graph[which], message, step=chosen)


@rule("MF005", "start-or-end-degree", Severity.ERROR,
      "The start step has incoming transitions or the end step outgoing ones",
      silent="flows with an unreadable base; intermediate base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def start_or_end_degree(scope: Scope):
    graph = scope.graph
    if graph.start_step is None or graph.end_step is None:
        return
    start, end = graph[graph.start_step], graph[graph.end_step]
    if start.in_funcs and graph.traversal_complete:
        yield scope.at_def(start, f"The start step `{start.name}` is reached again from {_names(start.in_funcs)}: "
                                  f"nothing may lead back to the start step.", step=start.name)
    if end.out_funcs:
        yield scope.at_def(end, f"The end step `{end.name}` transitions to {_names(end.out_funcs)}: the end step "
                                f"must not call `self.next(...)`.", step=end.name)


@rule("MF006", "end-step-not-terminal", Severity.ERROR, "The end step calls self.next(...) or is a join step",
      silent="flows with an unreadable base; intermediate base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def end_step_not_terminal(scope: Scope):
    graph = scope.graph
    if graph.end_step is None:
        return
    node = graph[graph.end_step]
    if node.has_tail_next or node.invalid_tail_next:
        yield scope.at_next(node, f"The end step `{node.name}` must not call `self.next(...)`: remove it.",
                            step=node.name)
    if node.num_args > 1:
        yield scope.at_def(node, f"The end step `{node.name}` must not be a join (it takes `inputs`): add a join "
                                 f"step before it.", step=node.name)


# ---- whole flow: structure ----------------------------------------------------------------------------------------


def _known(graph: FlowGraph, names: Iterable[str]) -> list[str]:
    return [n for n in names if n in graph]


@rule("MF011", "unknown-transition-target", Severity.ERROR, "self.next(...) names a step the flow does not have",
      silent="unreadable bases, intermediate base classes, steps defined in another file", reads=Reads.GRAPH,
      names_lines=True)  # the line of the `self.next`, for the fix
@each_flow(whole_flow=True)
def unknown_transition_target(scope: Scope):
    graph = scope.graph
    for node in scope.local_nodes():
        tail = node.step.tail
        if tail is None:
            continue
        for target, span in tail.targets:
            if target in graph or target not in node.out_funcs:
                continue
            import difflib  # here: only a typo needs it, and every `check` imports this module

            close = difflib.get_close_matches(target, list(graph.nodes), n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            yield Hit(span, f"Step `{node.name}` transitions to `{target}`, which is not a step of "
                            f"`{scope.flow.name}`.{hint}",
                      {"step": node.name, "target": target, "suggestion": close[0] if close else None,
                       "next_line": tail.span.line + 1})


def _edges(graph: FlowGraph, node: Node) -> list[str]:
    """Known successors, without a switch's loop back to itself (allowed)."""
    return [n for n in node.out_funcs if n in graph and not (node.type == "split-switch" and n == node.name)]


def _cycles(scope: Scope) -> dict[str, list[str]]:
    """`cyclic_steps` of the scope's flow, once per check run: MF012 and MF014 both ask."""
    return scope.context.memo(("cyclic-steps", id(scope.flow)), lambda: cyclic_steps(scope.graph))


def cyclic_steps(graph: FlowGraph) -> dict[str, list[str]]:
    """Each step with a transition inside a loop, mapped to one loop through it (`[a, b, a]`)."""
    # Tarjan's strongly connected components, iteratively (flows can be long chains).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for root in graph.nodes:
        if root in index:
            continue
        work = [(root, iter(_edges(graph, graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            name, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(_edges(graph, graph[child]))))
                elif child in on_stack:
                    low[name] = min(low[name], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[name])
            if low[name] == index[name]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == name:
                        break
                components.append(component)
    loops: dict[str, list[str]] = {}
    for component in components:
        for name in component:
            successors = [n for n in _edges(graph, graph[name]) if n in component]
            if not successors:
                continue
            loops[name] = _loop_through(graph, name, successors[0], component)
    return loops


def _loop_through(graph: FlowGraph, name: str, first: str, component: set[str]) -> list[str]:
    """A shortest loop name -> first -> ... -> name inside one component."""
    previous: dict[str, str | None] = {first: None}
    queue = [first]
    while queue and name not in previous:
        current = queue.pop(0)
        for n in _edges(graph, graph[current]):
            if n in component and n not in previous:
                previous[n] = current
                queue.append(n)
    path = []
    current: str | None = name if name in previous else first
    while current is not None:
        path.append(current)
        current = previous[current]
    return [name] + list(reversed(path))


@rule("MF012", "graph-cycle", Severity.ERROR, "The steps form a loop (only a switch may loop back to itself)",
      silent="flows with an unreadable base; intermediate base classes; a switch looping to itself", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def graph_cycle(scope: Scope):
    for name, loop in _cycles(scope).items():
        node = scope.graph[name]
        yield scope.at_next(node, f"Loop in the flow: {' -> '.join(f'`{n}`' for n in loop)}. A flow must be acyclic "
                                  f"(only a switch may go back to its own step).", step=name, loop=loop)


def _reachable_unknown(graph: FlowGraph) -> bool:
    return any(n not in graph for name in graph.reachable() for n in graph[name].out_funcs)


@rule("MF013", "unreachable-step", Severity.ERROR, "A step cannot be reached from the start step",
      silent="unreadable bases, base classes; flows where a reachable step names an unknown one", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def unreachable_step(scope: Scope):
    graph = scope.graph
    if graph.start_step is None or _reachable_unknown(graph):
        return  # a reachable step names an unknown target (MF011): reachability is not known yet
    reachable = graph.reachable()
    targeted = {t for node in graph for tr in node.step.transitions for t in tr.target_names if tr is not node.step.tail}
    for node in graph:
        if node.name in reachable:
            continue
        advice = f"lead to it with `self.next(self.{node.name})` or remove it"
        if node.name in targeted:
            advice = "a `self.next` names it, but not as the last statement of its step, the only one Metaflow reads"
        yield scope.at_def(node, f"Step `{node.name}` is unreachable from `{graph.start_step}`: {advice}.",
                           step=node.name)


def _meeting_step(graph: FlowGraph, split: str) -> str | None:
    """The first step (in definition order) that branches of `split` lead to from two different branches while it
    takes no `inputs`: the join its author meant to write."""
    for node in graph:
        if node.type not in ("linear", "start") or node.num_args != 1:
            continue
        branches = {graph[p].split_branches[-1] for p in node.in_funcs
                    if graph[p].split_parents and graph[p].split_parents[-1] == split and graph[p].split_branches}
        if len(branches) > 1:
            return node.name
    return None


@rule("MF014", "unbalanced-split-join", Severity.ERROR, "Splits and joins do not match",
      silent="unreadable bases, base classes; graphs with loops or unknown targets", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def unbalanced_split_join(scope: Scope):
    graph = scope.graph
    if (graph.start_step is None or graph.end_step is None or not graph.traversal_complete
            or any(n in graph.reachable() for n in _cycles(scope))):
        return  # a loop makes the balance undefined: MF012 says what to fix. Unknown targets are skipped below.
    problems: dict[str, str] = {}
    visited: set[tuple[str, tuple]] = set()
    budget = [BALANCE_BUDGET]

    def branch(name: str) -> str | None:
        branches = graph[name].split_branches
        return branches[-1] if branches else None

    def parents(name: str) -> tuple:
        node = graph[name]
        return tuple(node.split_parents[:-1]) if node.type == "join" else tuple(node.split_parents)

    def traverse(name: str, stack: tuple, path: frozenset) -> None:
        key = (name, stack)
        if key in visited or budget[0] <= 0:
            return
        visited.add(key)
        budget[0] -= 1
        node = graph[name]
        new_stack = stack
        if node.type in ("split", "foreach"):
            new_stack = stack + ((node.name, tuple(node.out_funcs)),)
        elif node.type == "end":
            if stack and name not in problems:
                split = stack[-1][0]
                meeting = _meeting_step(graph, split)  # a static split's join written without `inputs`
                if meeting is not None:
                    problems[name] = (f"The split at `{split}` is never joined: `{meeting}`, where its branches "
                                      f"meet, takes no `inputs` (write `def {meeting}(self, inputs):`).")
                else:
                    problems[name] = (f"The end step `{name}` is reached before the split at `{split}` is joined: "
                                      f"add a join step before `{name}`.")
        elif node.type == "join":
            if stack:
                split, roots = stack[-1]
                new_stack = stack[:-1]
                resolved = {branch(n) for n in node.in_funcs}
                if None in resolved:
                    pass  # a step outside any branch leads here (an empty foreach: MF016); Metaflow crashes on it
                elif resolved != set(roots) or len(resolved) != len(roots):
                    got = _names(sorted(b for b in resolved if b))
                    plural = "branch" if len(roots) == 1 else "branches"
                    unknown = [r for r in roots if r not in graph]
                    advice = (f"{_names(unknown)} is not a step (MF011)" if unknown
                              else "every branch must lead to the same join")
                    problems.setdefault(name, f"Join `{name}` is reached from {got or 'no branch'}, but the split at "
                                              f"`{split}` has the {plural} {_names(roots)}: {advice}.")
            else:
                problems.setdefault(name, f"Step `{name}` takes `inputs` like a join, but no split comes before it: "
                                          f"remove `inputs` or add the split.")
            if len({parents(n) for n in node.in_funcs}) > 1:
                problems.setdefault(name, f"Join `{name}` joins branches of different splits "
                                          f"({_names(node.in_funcs)}): give every split its own join.")
        for child in node.out_funcs:
            if child == name and node.type == "split-switch":
                continue
            if child in graph and child not in path:
                traverse(child, new_stack, path | {child})

    try:
        traverse(graph.start_step, (), frozenset({graph.start_step}))
    except RecursionError:
        return  # a chain of steps longer than Python's stack: stay silent rather than guess
    if budget[0] <= 0:
        return
    for name, message in problems.items():
        yield scope.at_def(graph[name], message, step=name)


@rule("MF016", "empty-foreach", Severity.ERROR, "A foreach goes straight into a join step",
      silent="flows with an unreadable base; intermediate base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def empty_foreach(scope: Scope):
    graph = scope.graph
    for node in scope.local_nodes():
        if node.type == "foreach":
            joins = [n for n in _known(graph, node.out_funcs) if graph[n].type == "join"]
            if joins:
                yield scope.at_def(node, f"Foreach `{node.name}` goes straight into the join `{joins[0]}`: add at "
                                         f"least one step between the split and the join.",
                                   step=node.name, join=joins[0])


@rule("MF017", "num-parallel-without-parallel-step", Severity.ERROR,
      "self.next(..., num_parallel=) goes to a step without @parallel",
      silent="steps with a decorator it does not know (an extension's may be parallel)", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def num_parallel_without_parallel_step(scope: Scope):
    graph = scope.graph
    for node in scope.local_nodes():
        if not node.parallel_foreach:
            continue
        targets = [graph[n] for n in _known(graph, node.out_funcs)]
        kinds = [scope.parallel(target) for target in targets]
        if None in kinds:
            continue  # a decorator the model does not know may be parallel (an extension's, a project's own)
        plain = [target.name for target, parallel in zip(targets, kinds) if not parallel]
        if plain:
            call = node.step.tail.call  # type: ignore[union-attr]
            keyword = next(k for k in call.keywords if k.arg == "num_parallel")
            yield Hit(Span.of(keyword), f"`num_parallel=` starts a gang of tasks, but {_names(plain)} has no "
                                        f"`@parallel` (nor another parallel decorator): add `@parallel` to it.",
                      {"step": node.name, "targets": plain})


@rule("MF018", "parallel-step-not-followed-by-join", Severity.ERROR, "A @parallel step is not followed by a join step",
      silent="steps with a decorator it does not know; unreadable bases, base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def parallel_step_not_followed_by_join(scope: Scope):
    graph = scope.graph
    for node in scope.local_nodes():
        if node.out_funcs and node.out_funcs[0] in graph and scope.parallel(node):
            after = graph[node.out_funcs[0]]
            if after.type != "join":
                yield scope.at_def(node, f"The parallel step `{node.name}` must be followed by a join step, but "
                                         f"`{after.name}` is not one: give `{after.name}` an `inputs` argument.",
                                   step=node.name, next=after.name)


@rule("MF019", "parallel-step-without-num-parallel", Severity.ERROR,
      "A @parallel step is reached without num_parallel=",
      silent="steps with a decorator it does not know; unreadable bases, base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def parallel_step_without_num_parallel(scope: Scope):
    graph = scope.graph
    callers_of: dict[str, list[str]] = {}  # in graph order, each caller once
    for other in graph:
        if not other.parallel_foreach:
            for target in dict.fromkeys(other.out_funcs):
                callers_of.setdefault(target, []).append(other.name)
    for node in scope.local_nodes():
        callers = callers_of.get(node.name, [])
        if callers and scope.parallel(node):
            yield scope.at_def(node, f"The parallel step `{node.name}` is reached from {_names(callers)} without "
                                     f"`num_parallel`: use `self.next(self.{node.name}, num_parallel=N)`.",
                               step=node.name, callers=callers)


@rule("MF020", "conditional-path-into-join", Severity.ERROR, "A switch transitions directly to a join step",
      silent="flows with an unreadable base; intermediate base classes", reads=Reads.GRAPH)
@each_flow(whole_flow=True)
def conditional_path_into_join(scope: Scope):
    graph = scope.graph
    for node in scope.local_nodes():
        if node.type != "join":
            continue
        switches = [p for p in node.in_funcs if p in graph and graph[p].type == "split-switch"]
        if switches:
            yield scope.at_def(node, f"The switch in {_names(switches)} goes straight to the join `{node.name}`: "
                                     f"put an ordinary step on that path before the join.", step=node.name,
                               switches=switches)
