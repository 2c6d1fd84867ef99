"""Rule results that survive a keystroke: after an edit, only the rules whose inputs changed run again.

Typing changes one step body. Each rule declares what it reads (`Rule.reads`, a `Reads` level, and `Rule.step_input`
for what it reads of every step body). Against the previous version of the same document, `RuleReuse` finds the
steps whose nodes are new and the lowest level at which they changed (their `graph_shape`, `data_shape`):
- nothing the rule reads changed: its previous hits stand;
- a `per_step` rule: it runs on the changed steps only (`RuleContext.only_steps`) and keeps its previous hits
  elsewhere, with the values it kept (`RuleContext.rule_values`);
- otherwise the rule runs on the whole file.
The flow graphs are kept while the GRAPH level is unchanged, and the engine keeps the finding of each kept hit.
Levels are decided conservatively: any edit outside the steps of this file's flows (a parse of the whole text, an
edited helper method, a changed base or imported module in another file, other settings) changes everything.

An edit that added or removed lines in a step (`incremental.LineMove`) moved every later line: the shapes of the
previous version are compared after moving their positions the same way, and the hits kept are moved with them. A rule
whose messages or data name lines (`Rule.names_lines`), or with a hit on a replaced line, runs again.

The language server keeps the state in `NodeReuse.rule_state`, per document; the CLI checks each file once and has
none. `tests/test_rule_reuse.py` checks that after any sequence of edits the findings equal a fresh check.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from .context import RuleContext
from .graph import FlowGraph
from .incremental import LineMove
from .model import Decorator, FlowClass, Step, Transition
from .rules import Hit, Reads, Rule
from .rules.facts import facts_of
from .text import Span

StepKey = tuple[str, str]  # (flow, step)


@dataclass
class _Version:
    """What the next version is compared with."""

    full_parses: int  # `NodeReuse.full_parses` then: the same now means only methods of classes changed since
    parses: int  # `NodeReuse.parses` then
    line_shifts: int  # `NodeReuse.line_shifts` then: the same now means no edit since moved the later lines
    outline: tuple  # `_outline`: the flows as the MODULE level sees them
    methods: list[ast.AST]  # every method of every top-level class, in order
    steps: dict[StepKey, Step]
    hits: dict[str, list[Hit]] = field(default_factory=dict)  # by rule code, for the rules that can be kept
    # The shapes computed for this version's changed steps, by (id(node), level), with the node (so an id reused by
    # a later node never matches): the next version compares its steps with these.
    shapes: dict[tuple[int, Reads | str], tuple[ast.AST, Hashable]] = field(default_factory=dict)
    graphs: dict[str, FlowGraph] = field(default_factory=dict)  # by flow: those the rules asked for
    values: dict[str, dict] = field(default_factory=dict)  # by rule code: its `RuleContext.rule_values`
    findings: dict[int, tuple] = field(default_factory=dict)  # by id(hit): the engine's (hit, where, finding)


class RuleReuse:
    """One check of one version: `hits(code, rule)` gives each rule's hits, run again only when needed."""

    def __init__(self, context: RuleContext):
        reuse = context.reuse
        assert reuse is not None, "only the language server's checks keep rule results"
        self.context = context
        self._previous: _Version | None = reuse.rule_state
        self._current = _Version(reuse.full_parses, reuse.parses, reuse.line_shifts, _outline(context),
                                 _methods(context.module.tree),
                                 {(flow.name, name): step for flow in context.flows for name, step in flow.steps.items()})
        self._move = self._line_move(reuse.last_move)
        # (flow, key, step) of each step of this file whose node is new since the previous version
        self._changed_pairs: list[tuple[FlowClass, StepKey, Step]] = []
        self.changed: Reads | None = self._compare()  # the lowest level that changed; None: nothing did
        graph_unchanged = self.changed is None or self.changed > Reads.GRAPH
        self._current.graphs = context.keep_graphs(self._previous.graphs if graph_unchanged else {})
        reuse.rule_state = self._current
        self.findings_before = self._previous.findings if self._previous is not None else {}
        self.findings_now = self._current.findings

    # -- what changed --------------------------------------------------------------------------------------------

    def _line_move(self, last_move: LineMove | None) -> LineMove | None | bool:
        """How the lines moved since the previous version: None when they did not, False when that is not known
        (several versions parsed since, one of them moving lines: the moves are not composed)."""
        previous, current = self._previous, self._current
        if previous is None or previous.line_shifts == current.line_shifts:
            return None
        if current.parses - previous.parses != 1:
            return False
        return last_move

    def _compare(self) -> Reads | None:
        context, previous, current = self.context, self._previous, self._current
        if (previous is None or previous.full_parses != current.full_parses or previous.outline != current.outline
                or self._move is False or len(previous.methods) != len(current.methods)):
            return Reads.MODULE
        changed: list[tuple[FlowClass, Step, Step]] = []
        flows = {flow.name: flow for flow in context.flows}
        for key, step in current.steps.items():
            before = previous.steps[key]  # the same steps: the outline says so
            if before.node is not step.node:
                if not context.defined_here(step):
                    return Reads.MODULE  # a base or mixin of another file changed: anything may follow
                changed.append((flows[key[0]], before, step))
        new_nodes = {id(step.node) for _flow, _before, step in changed}
        if any(before is not now and id(now) not in new_nodes for before, now in zip(previous.methods, current.methods)):
            return Reads.MODULE  # a helper method changed, or a method of a class that is no flow
        if not changed:
            return None
        self._changed_pairs = [(flow, (flow.name, step.name), step) for flow, _before, step in changed]
        for level in (Reads.GRAPH, Reads.DATA):
            if any(self._moved(self._shape(flow, before, level, previous)) != self._shape(flow, step, level, current)
                   for flow, before, step in changed):
                return level
        return Reads.ALL

    def _moved(self, shape: Hashable) -> Hashable:
        """A shape of the previous version with its positions where the edit moved them."""
        return shape if self._move is None else _moved_spans(shape, self._move)  # type: ignore[arg-type]

    def _shape(self, flow: FlowClass, step: Step, what: Reads | Rule, version: _Version) -> Hashable:
        """A level's shape of a changed step (or of its previous version), or a rule's `step_input`: computed once,
        kept for the next version."""
        key = (id(step.node), what if isinstance(what, Reads) else what.code)
        known = version.shapes.get(key)
        if known is not None and known[0] is step.node:
            return known[1]
        compute = SHAPES[what] if isinstance(what, Reads) else what.step_input
        shape = compute(self.context, flow, step)
        version.shapes[key] = (step.node, shape)
        return shape

    def _same_inputs(self, rule: Rule) -> bool:
        """Whether every changed step gives `rule.step_input` what its previous version gave."""
        previous, current = self._previous, self._current
        assert previous is not None
        return all(self._moved(self._shape(flow, previous.steps[key], rule, previous))
                   == self._shape(flow, step, rule, current) for flow, key, step in self._changed_pairs)

    # -- the hits ------------------------------------------------------------------------------------------------

    def hits(self, code: str, rule: Rule) -> list[Hit]:
        previous = self._previous.hits.get(code) if self._previous is not None else None
        values = self._previous.values.get(code, {}) if self._previous is not None else {}
        changed = self.changed
        if (rule.reads == Reads.ALL or previous is None or (changed is not None and changed <= rule.reads)
                or (changed is not None and rule.step_input is not None and not self._same_inputs(rule))
                or (self._move is not None and rule.names_lines)):
            values = {}
            hits = self._run(rule, values)
        elif changed is not None and rule.per_step:
            hits = self._rerun_changed_steps(rule, previous, values)
        else:
            hits = self._moved_hits(previous)
            if hits is None:  # a hit on a replaced line
                values = {}
                hits = self._run(rule, values)
        self._current.hits[code], self._current.values[code] = hits, values
        return hits

    def _run(self, rule: Rule, values: dict) -> list[Hit]:
        self.context.kept = values
        try:
            return list(rule.check(self.context))
        finally:
            self.context.kept = None

    def _rerun_changed_steps(self, rule: Rule, previous: list[Hit], values: dict) -> list[Hit]:
        """The previous hits outside the changed steps' lines, and the rule's hits on those lines, run on those steps
        only: what a `per_step` rule reports elsewhere does not depend on their bodies."""
        assert self._previous is not None
        lines_before: set[int] = set()  # the changed steps' lines in the previous version, and now
        lines_now: set[int] = set()
        for _flow, key, step in self._changed_pairs:
            lines_before.update(range(*_line_range(self._previous.steps[key])))
            lines_now.update(range(*_line_range(step)))
        if self._move is None:  # the same lines: a hit on a line of either is the step's
            lines_before = lines_now = lines_before | lines_now
        kept = self._moved_hits([hit for hit in previous if hit.span.line not in lines_before])
        if kept is None:  # not expected: the replaced lines are those of the changed step
            values.clear()
            return self._run(rule, values)
        self.context.only_steps = [(flow, step) for flow, _key, step in self._changed_pairs]
        try:
            return kept + [hit for hit in self._run(rule, values) if hit.span.line in lines_now]
        finally:
            self.context.only_steps = None

    def _moved_hits(self, hits: list[Hit]) -> list[Hit] | None:
        """The previous version's hits where the edit moved them; None when one is on a replaced line."""
        move = self._move
        if move is None:
            return hits
        moved = []
        for hit in hits:
            span = move.span(hit.span)  # type: ignore[union-attr]
            if span is None:
                return None
            moved.append(hit if span is hit.span else dataclasses.replace(hit, span=span))
        return moved


def _methods(tree: ast.Module | None) -> list[ast.AST]:
    return [member for statement in (tree.body if tree is not None else ()) if isinstance(statement, ast.ClassDef)
            for member in statement.body if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _line_range(step: Step) -> tuple[int, int]:
    """The 0-based lines of a step, its decorators included, as a `range`'s bounds."""
    node = step.node
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    return first, (node.end_lineno or node.lineno)


# -- the levels -------------------------------------------------------------------------------------------------------

def _outline(context: RuleContext) -> tuple:
    """What a MODULE-level rule sees beyond the text outside the steps (which `reparse` vouches for): the settings,
    the project files this file imports (a new `Module` when one changed on disk), and the flows: their steps, where
    those come from, which flows are complete and which are bases."""
    imported = tuple(context.imported_module(i.module, i.level) for i in context.module.imports)
    return (context.settings, id(context.project), imported, tuple(
        (flow.name, flow.complete, tuple(flow.bases), context.is_base_flow(flow),
         tuple((name, step.owner, step.path) for name, step in flow.steps.items()))
        for flow in context.flows))


def _dump(node: ast.AST) -> tuple[str, tuple[Span, ...]]:
    """A node with its positions, as `Span`s (which `_moved_spans` can move)."""
    return ast.dump(node), tuple(Span.of(n) for n in ast.walk(node) if "lineno" in n._attributes)


_REPLACED = object()  # a position on a line the edit replaced: equal to no position of the new version


def _moved_spans(value: Hashable, move: LineMove) -> Hashable:
    """`value` (a shape: tuples and frozensets of spans and plain values) with each span moved as `move` moves its
    lines."""
    kind = type(value)
    if kind is Span:
        moved = move.span(value)  # type: ignore[arg-type]
        return _REPLACED if moved is None else moved
    if kind is tuple or kind is frozenset:
        return kind(_moved_spans(item, move) for item in value)  # type: ignore[attr-defined]
    return value


def _decorator_shape(decorator: Decorator) -> tuple:
    return decorator.qualified, decorator.span, decorator.called, _dump(decorator.node)


def _transition_shape(transition: Transition | None) -> tuple | None:
    if transition is None:
        return None
    return (transition.kind, transition.span, tuple(transition.targets), repr(transition.foreach),
            repr(transition.condition), repr(sorted(transition.switch_cases.items(), key=repr)),
            repr(transition.num_parallel), transition.conditional, _dump(transition.call))


def graph_shape(context: RuleContext, flow: FlowClass, step: Step) -> tuple:
    """What GRAPH-level rules may read of a step: its header and its `self.next(...)` calls, positions included."""
    node = step.node
    return (step.name, step.span, step.owner, step.path, type(node), _dump(node.args), Span.of(node),
            step.is_start, step.is_end, step.step_decorator_index,
            tuple(_decorator_shape(d) for d in step.decorators),
            tuple(_transition_shape(t) for t in step.transitions), _transition_shape(step.tail), step.has_tail_next)


def data_shape(context: RuleContext, flow: FlowClass, step: Step) -> tuple:
    """What DATA-level rules may read of a step beyond its graph shape: its `self.x` accesses and their facts (the
    node ids of `StepFacts` are those of accesses, so they are compared by the access's position)."""
    facts = facts_of(context, step, flow)
    spans = {id(access.node): access.span for access in step.accesses}
    return (tuple((a.name, a.kind, a.span, a.conditional, a.called) for a in step.accesses),
            frozenset(facts.decorator_writes), facts.opaque, frozenset(facts.guarded),
            frozenset(spans.get(node_id) for node_id in facts.nested),
            frozenset((spans.get(node_id), frozenset(names)) for node_id, names in facts.loop_writes.items()),
            frozenset((spans.get(node_id), _dump(call)) for node_id, call in facts.merges.items()))


SHAPES: dict[Reads, Callable[[RuleContext, FlowClass, Step], tuple]] = {Reads.GRAPH: graph_shape, Reads.DATA: data_shape}
