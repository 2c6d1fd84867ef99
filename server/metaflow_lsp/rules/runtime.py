"""MF107-MF112: what steps do with `self` that Metaflow only reports at run time, or never reports at all.

Every claim here was checked with real runs; see docs/dev/runtime-facts.md. The rules are deliberately conservative:
when the model cannot see the whole flow (an unreadable base class, a broken graph, a step that may set attributes
dynamically) they stay silent.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..graph import FlowGraph
from ..model import FLOW_API, FlowClass, Module, Step, is_self, is_self_attr, literal
from ..refactor.fix_table import declare_fix, fix_data, lazy
from ..text import Span
from .facts import (StepFacts, class_assignment, descendants, edges, facts_of, foreach_lists, is_test_module,
                    keyword_span, method_defs, predecessors, written_names)
from .registry import Hit, Reads, Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

# --------------------------------------------------------------------------------------------------------------------
# MF107
# --------------------------------------------------------------------------------------------------------------------

_DATA_VALUES = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.BinOp, ast.UnaryOp,
                ast.BoolOp, ast.Compare, ast.ListComp, ast.SetComp, ast.DictComp, ast.Subscript)
_DATA_CONSTRUCTORS = frozenset({"dict", "list", "set", "tuple", "frozenset", "int", "float", "str", "bool"})


def _is_data_value(value: ast.expr | None) -> bool:
    """True when a class-level value is certainly not a function, method, property or class (those stay
    writable)."""
    if isinstance(value, _DATA_VALUES):
        return True
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id in _DATA_CONSTRUCTORS)


@rule("MF107", "assign-to-parameter", Severity.ERROR,
      "Assignment to a Parameter, Config or public class attribute inside a step",
      silent="`_` attributes, class attributes holding functions; nested functions", reads=Reads.DATA)
def assign_to_parameter(context: RuleContext):
    module = context.module
    for flow, step in context.steps_in_file():
        facts = None
        for access in step.accesses:
            if access.kind not in ("write", "delete") or access.name in FLOW_API:
                continue
            name = access.name
            parameter = flow.parameters.get(name)
            if parameter is not None:
                what = f"a {parameter.kind}"
                if isinstance(parameter.option, str) and parameter.option != name:
                    what += f" (`--{parameter.option}`)"
            elif (name in flow.class_attributes and not name.startswith("_")
                  and name not in flow.methods and name not in flow.steps
                  and _is_data_value(class_assignment(module, flow, name))):
                what = "a class attribute of the flow"
            else:
                continue
            facts = facts or facts_of(context, step, flow)
            if id(access.node) in facts.nested:
                continue
            verb = "assigns" if access.kind == "write" else "deletes"
            yield Hit(
                access.span,
                f"Step `{step.name}` {verb} `self.{name}`, {what}: it is read-only in steps, so this task "
                f"fails. Use another name, e.g. `self.{name.lower()}_value`.",
                {"step": step.name, "name": name},
            )


# --------------------------------------------------------------------------------------------------------------------
# MF108
# --------------------------------------------------------------------------------------------------------------------

TOP = None  # "anything may be there": the analysis knows nothing and the rule stays silent


def merge_effect(call: ast.Call) -> tuple[set[str] | None, set[str]]:
    """(included names or None for all, excluded names) of `self.merge_artifacts(inputs, include=, exclude=)`.
    An include/exclude that is not a literal list means "anything"."""
    include: set[str] | None = None
    exclude: set[str] = set()
    for keyword in call.keywords:
        value = literal(keyword.value)
        if keyword.arg == "include":
            if isinstance(value, (list, tuple, set)) and all(isinstance(v, str) for v in value):
                include = set(value) if value else None
            else:
                return None, set()
        elif keyword.arg == "exclude":
            if isinstance(value, (list, tuple, set)) and all(isinstance(v, str) for v in value):
                exclude = set(value)
            else:
                return None, set()
        elif keyword.arg is None:
            return None, set()
    if len(call.args) >= 2:  # merge_artifacts(inputs, exclude, include) positionally
        return None, set()
    return include, exclude


def _transition_reads(step: Step) -> list[tuple[str, Span, str]]:
    """`foreach="x"` and `condition="x"` make Metaflow read self.x at the end of the step."""
    result = []
    for transition in step.transitions:
        for key in ("foreach", "condition"):
            value = literal(next((k.value for k in transition.call.keywords if k.arg == key), None))
            if isinstance(value, str) and value:
                result.append((value, keyword_span(transition.call, key) or transition.span, key))
    return result


def _effect(context: RuleContext, flow: FlowClass, step: Step) -> frozenset[str] | None:
    """What MF108 reads of a step for the steps after it: the artifacts it may leave set (what it writes, what a
    decorator writes, what it merges), or None when it may leave anything."""
    facts = facts_of(context, step, flow)
    merges = [merge_effect(call)[0] for call in facts.merges.values()]
    if facts.opaque or any(include is None for include in merges):
        return None
    written = {a.name for a in step.accesses if a.kind == "write"} | facts.decorator_writes
    return frozenset(written.union(*merges))


class _Available:
    """The artifacts that may exist at a point of a step: those of a mask over the flow's written names (`bits`),
    and those the step itself has added so far."""

    def __init__(self, mask: int, bits: dict[str, int]):
        self.mask, self.bits, self.added = mask, bits, set()

    def __contains__(self, name: str) -> bool:
        return name in self.added or bool(self.mask & self.bits.get(name, 0))

    def add(self, name: str) -> None:
        self.added.add(name)

    def __ior__(self, names: set[str]) -> _Available:
        self.added |= names
        return self


def _availability(context: RuleContext, flow: FlowClass) -> tuple[dict, dict, set[str], dict[str, int]] | None:
    """(the artifacts that may exist when each step starts, as a mask over `bits`, TOP for anything; the joins each
    step comes after; the reachable steps; one bit per written name) by a forward may-analysis over the graph; None
    without joins or when it does not settle. Masks are ints: a step's union costs one operation, however many
    artifacts the flow has."""
    graph = context.graph(flow)
    reachable = graph.reachable()
    joins = {name for name in reachable if graph[name].type == "join"}
    if not joins:
        return None
    preds = predecessors(flow)
    bits: dict[str, int] = {}
    effects: dict[str, int | None] = {}
    for name in reachable:
        effect = _effect(context, flow, flow.steps[name])
        mask = 0
        for artifact in effect or ():
            mask |= bits.setdefault(artifact, 1 << len(bits))
        effects[name] = None if effect is None else mask
    entry: dict[str, int | None] = {}
    out: dict[str, int | None] = dict.fromkeys(reachable, 0)
    last_joins: dict[str, set[str]] = {name: set() for name in reachable}
    order = forward_order(graph)
    changed = True
    rounds = 0
    while changed and rounds < 4 * len(reachable) + 4:
        changed = False
        rounds += 1
        for name in order:
            start_mask: int | None = 0
            if name in joins:
                joins_here = {name}
            elif name == graph.start_step:
                start_mask, joins_here = TOP, set()
            else:
                joins_here = set()
                for pred in preds[name]:
                    if pred not in reachable:
                        continue
                    joins_here |= last_joins[pred]
                    start_mask = TOP if out[pred] is TOP or start_mask is TOP else start_mask | out[pred]
            entry[name] = start_mask
            effect = effects[name]
            new_out = TOP if start_mask is TOP or effect is None else start_mask | effect
            if new_out != out[name] or joins_here != last_joins[name]:
                out[name], last_joins[name] = new_out, joins_here
                changed = True
    return None if changed else (entry, last_joins, reachable, bits)  # not settled: say nothing


@rule("MF108", "artifact-lost-at-join", Severity.ERROR,
      "An artifact read at or after a join that the join neither assigns nor merges",
      silent="flows it cannot see whole; dynamic attributes; guarded reads; `inputs.a.x`", reads=Reads.GRAPH,
      per_step=True, step_input=_effect)
def artifact_lost_at_join(context: RuleContext):
    seen: set[int] = set()
    kept = context.rule_values()  # the analysis of each flow: it depends on the graph and the steps' effects only
    for flow in context.sound_flows():
        if _methods_hidden(context, flow):
            continue
        if flow.name not in kept:
            kept[flow.name] = _availability(context, flow)
        if kept[flow.name] is None:
            continue
        entry, last_joins, reachable, bits = kept[flow.name]

        def readable(name: str) -> bool:
            return flow.is_artifact(name) and name not in flow.class_attributes

        for _flow, step in context.steps_in_file([flow], seen):
            name = step.name
            if name not in reachable or entry.get(name) is TOP:
                continue
            step_facts = facts_of(context, step, flow)
            if step_facts.opaque:
                continue
            available = _Available(entry[name], bits)
            merged_all = False
            excluded: set[str] = set()
            joins_text = " / ".join(f"`{j}`" for j in sorted(last_joins[name])) or "the join"
            for access in step.accesses:
                if access.name == "merge_artifacts" and id(access.node) in step_facts.merges:
                    include, exclude = merge_effect(step_facts.merges[id(access.node)])
                    if include is None:
                        merged_all, excluded = True, exclude
                    else:
                        available |= include
                    continue
                if access.kind == "write":
                    available.add(access.name)
                    continue
                if access.kind != "read" or not readable(access.name):
                    continue
                hit = _lost_read(access.name, access.span, step, available, merged_all, excluded, step_facts,
                                 joins_text, id(access.node), f"`self.{access.name}`")
                if hit:
                    available.add(access.name)  # one report per artifact and step is enough
                    yield hit
            for artifact, span, key in _transition_reads(step):
                if not readable(artifact):
                    continue
                hit = _lost_read(artifact, span, step, available, merged_all, excluded, step_facts, joins_text,
                                 None, f'`{key}="{artifact}"`')
                if hit:
                    yield hit


def forward_order(graph: FlowGraph) -> list[str]:
    """Reachable steps in reverse postorder from the start step: on a graph without loops every step comes after
    all its predecessors, so a forward data-flow analysis settles in one pass (plus one to see that it did)."""
    if graph.start_step is None:
        return []
    postorder: list[str] = []
    visited = {graph.start_step}
    stack = [(graph.start_step, iter(graph[graph.start_step].out_funcs))]
    while stack:
        name, children = stack[-1]
        child = next((c for c in children if c in graph and c not in visited), None)
        if child is None:
            postorder.append(name)
            stack.pop()
        else:
            visited.add(child)
            stack.append((child, iter(graph[child].out_funcs)))
    return postorder[::-1]


def _lost_read(artifact: str, span: Span, step: Step, available: _Available, merged_all: bool, excluded: set[str],
               facts: StepFacts, joins_text: str, node_id: int | None, what: str) -> Hit | None:
    if artifact in available or artifact in facts.guarded:
        return None
    if merged_all and artifact not in excluded:
        return None
    if node_id is not None and (node_id in facts.nested or artifact in facts.loop_writes.get(node_id, ())):
        return None
    if step.is_join:
        where = f"join step `{step.name}`"
        fix = ("Set it from `inputs`, or stop excluding it from `self.merge_artifacts`." if artifact in excluded
               else "Set it from `inputs` or with `self.merge_artifacts(inputs)` first.")
    else:
        where = f"step `{step.name}` (after {joins_text})"
        fix = "Set it or merge it in the join."
    return Hit(
        span,
        f"{what} in {where} is not set, so this task fails: a join carries nothing over. {fix}",
        {"artifact": artifact, "step": step.name, "joins": joins_text},
    )


def _methods_hidden(context: RuleContext, flow: FlowClass) -> bool:
    """True when a non-step method may set artifacts: `__init__` or any method whose body writes self.x or that
    the model cannot see (defined in another file). Kept with the graph: it reads the module outside the steps."""
    return context.graph_derived(flow, "methods-hidden", lambda: _any_method_hidden(context, flow))


def _any_method_hidden(context: RuleContext, flow: FlowClass) -> bool:
    defs = method_defs(context.module, flow)
    if set(flow.methods) - set(defs):
        return True
    for name, node in defs.items():
        decorators = {d.id if isinstance(d, ast.Name) else getattr(d, "attr", "") for d in node.decorator_list}
        if decorators & {"property", "cached_property", "staticmethod"} and name != "__init__":
            if not written_names(node, context):
                continue
        if name == "__init__" or name == "__getattr__" or written_names(node, context) or any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr"
                for n in context.nodes(node)):
            return True
    return False


# --------------------------------------------------------------------------------------------------------------------
# MF109
# --------------------------------------------------------------------------------------------------------------------

@rule("MF109", "input-outside-foreach", Severity.WARNING,
      "self.input / self.index in a step that does not run inside a foreach",
      silent="steps inside a foreach (up to its join) and `@parallel` children; broken graphs", reads=Reads.DATA)
def input_outside_foreach(context: RuleContext):
    seen: set[int] = set()
    for flow in context.sound_flows():
        graph = context.graph(flow)
        reachable = graph.reachable()
        # A foreach child and every step after it up to the foreach's join keep the foreach stack, so they see the
        # item (is_inside_foreach); @parallel children too.
        inside = {name for node in graph for name in node.out_funcs if node.type == "foreach"}
        inside |= {node.name for node in graph if node.is_inside_foreach}
        for _flow, step in context.steps_in_file([flow], seen):
            if step.name in inside or step.name not in reachable:
                continue
            for access in step.accesses:
                if access.name not in ("input", "index") or access.kind != "read":
                    continue
                if step.is_join:
                    why = "a join does not run per foreach item. Read the items through `inputs` instead."
                else:
                    why = "it does not run inside a foreach. Pass the value as an artifact instead."
                yield Hit(
                    access.span,
                    f"`self.{access.name}` in step `{step.name}` is always None: {why}",
                    {"step": step.name, "name": access.name},
                )


# --------------------------------------------------------------------------------------------------------------------
# MF110
# --------------------------------------------------------------------------------------------------------------------

def _foreach_list_writes(context: RuleContext, flow: FlowClass, step: Step) -> tuple[bool, frozenset[str]]:
    """What MF110 reads of a step: whether it may set anything, and which foreach lists it sets."""
    facts = facts_of(context, step, flow)
    written = {a.name for a in step.accesses if a.kind == "write"} | facts.decorator_writes
    return facts.opaque, frozenset(written & foreach_lists(context, flow))


@rule("MF110", "foreach-on-unset-artifact", Severity.ERROR,
      "foreach=\"x\" where no step before the split (nor the split itself) sets self.x",
      silent="Parameters, Configs, class attributes; dynamic writes before the split", reads=Reads.GRAPH,
      step_input=_foreach_list_writes)
def foreach_on_unset_artifact(context: RuleContext):
    seen: set[int] = set()
    for flow in context.sound_flows():
        if _methods_hidden(context, flow):
            continue
        splits = [(step, transition) for _flow, step in context.steps_in_file([flow], seen)
                  for transition in step.transitions
                  if transition.kind == "foreach" and isinstance(transition.foreach, str)
                  and not _names_no_artifact(flow, transition.foreach)]
        if not splits:
            continue
        bits = {var: 1 << (index + 1) for index, var in enumerate(sorted({t.foreach for _step, t in splits}))}
        set_up_to = _set_up_to(flow, _writers(context, flow), bits)
        for step, transition in splits:
            var = transition.foreach
            if set_up_to[step.name] & (_OPAQUE_BIT | bits[var]):
                continue
            yield Hit(
                keyword_span(transition.call, "foreach") or transition.span,
                f'`foreach="{var}"` in step `{step.name}`, but no step up to here sets `self.{var}`: the split '
                f"fails at run time. Assign `self.{var}` before `self.next()`.",
                {"step": step.name, "foreach": var},
            )


def _names_no_artifact(flow: FlowClass, var: str) -> bool:
    """A Parameter, class attribute, method, step or FlowSpec API name: set without any step writing it."""
    return (var in flow.parameters or var in flow.class_attributes or var in flow.methods or var in flow.steps
            or var in FLOW_API)


_OPAQUE_BIT = 1  # in `_set_up_to`'s masks: an opaque step, which may set any artifact


def _set_up_to(flow: FlowClass, writers: dict[str, set[str]], bits: dict[str, int]) -> dict[str, int]:
    """For each step, the mask of the artifacts of `bits` (one bit each, above `_OPAQUE_BIT`) that the step itself
    or a step before it, along any transition, may set, with `_OPAQUE_BIT` when one of those may set anything. One
    forward pass with a worklist (a step is visited again only when its mask grows), not a walk back from every
    split: linear in the flow for a fixed number of fan-outs."""
    own = dict.fromkeys(flow.steps, 0)
    for name in writers.get("", ()):
        own[name] |= _OPAQUE_BIT
    for var, bit in bits.items():
        for name in writers.get(var, ()):
            own[name] |= bit
    successors = edges(flow)
    mask = dict(own)
    work = list(flow.steps)
    while work:
        name = work.pop()
        for target in successors[name]:
            grown = mask[target] | mask[name]
            if grown != mask[target]:
                mask[target] = grown
                work.append(target)
    return mask


def _writers(context: RuleContext, flow: FlowClass) -> dict[str, set[str]]:
    """Each artifact with the steps that may set it (a write, or a decorator's); under "" the opaque steps, which
    may set anything."""
    writers: dict[str, set[str]] = {"": set()}
    for name, step in flow.steps.items():
        facts = facts_of(context, step, flow)
        if facts.opaque:
            writers[""].add(name)
        for var in facts.decorator_writes:
            writers.setdefault(var, set()).add(name)
        for access in step.accesses:
            if access.kind == "write":
                writers.setdefault(access.name, set()).add(name)
    return writers


# --------------------------------------------------------------------------------------------------------------------
# MF111
# --------------------------------------------------------------------------------------------------------------------

def _local_names(step: Step, context: RuleContext) -> tuple[set[str], set[str]]:
    """(names bound by a nested def in the step, other names bound in the step)."""
    local_defs: set[str] = set()
    local_other: set[str] = {a.arg for a in step.node.args.args}
    for node in context.nodes(step.node):
        if node is step.node:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            local_defs.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            local_other.add(node.id)
        elif isinstance(node, ast.ClassDef):
            local_other.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            local_other.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            local_other.update(node.names)
    return local_defs, local_other


def _function_source(value: ast.expr, step: Step, flow: FlowClass, module: Module, context: RuleContext) -> str | None:
    """What makes a stored value a function Metaflow does not persist, or None when it is (or may be) data."""
    if isinstance(value, ast.Lambda):
        return "a lambda"
    if not isinstance(value, (ast.Name, ast.Attribute)):
        return None
    local_defs, local_other = context.derived(step.node, "locals", lambda: _local_names(step, context))
    if isinstance(value, ast.Name):
        name = value.id
        if name in local_other:
            return None
        if name in local_defs:
            return f"the function `{name}` defined in the step"
        if name in module.constants or name in module.classes:
            return None
        if name in module.functions:
            return f"the function `{name}`"
        imported = module.imported(name)
        if imported is not None and imported.name and _imported_function(imported, module, context):
            return f"the function `{name}` (from `{'.' * imported.level}{imported.module}`)"
        return None
    if isinstance(value, ast.Attribute):
        if is_self(value.value):
            method = method_defs(module, flow).get(value.attr)
            if method is None or value.attr in flow.parameters or value.attr in flow.class_attributes:
                return None
            decorators = [d for d in method.decorator_list]
            if any(not (isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")) for d in decorators):
                return None  # a property or something else we cannot judge
            return f"the method `self.{value.attr}`"
        if isinstance(value.value, ast.Name):
            owner = value.value.id
            if owner in local_other:
                return None
            if owner in module.classes and owner not in module.constants:
                for statement in module.classes[owner].node.body:
                    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                            statement.name == value.attr:
                        if any(not (isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod"))
                               for d in statement.decorator_list):
                            return None
                        return f"the method `{owner}.{value.attr}`"
                return None
            imported = module.imported(owner)
            if imported is not None and imported.name is None and context.resolver is not None:
                other = context.imported_module(imported.module, imported.level)
                if other is not None and other.ok and value.attr in other.functions \
                        and value.attr not in other.constants:
                    return f"the function `{owner}.{value.attr}`"
    return None


def _imported_function(imported, module: Module, context: RuleContext) -> bool:
    """True when `from x import f` names a function defined in a project file (an installed package's names may
    be ufuncs, builtins or classes, which Metaflow does persist)."""
    other = context.imported_module(imported.module, imported.level)
    return (other is not None and other.ok and imported.name in other.functions
            and imported.name not in other.constants and imported.name not in other.classes)


def _self_stores(context: RuleContext, step: Step) -> list[tuple[ast.Attribute, ast.expr | None]]:
    """Every `self.x` an assignment of the step stores to, with the assigned value when it goes to `self.x` whole
    (None inside an unpacking like `self.a, self.b = ...`)."""
    stores = []
    for node in context.nodes(step.node):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            for sub in ast.walk(target):
                if is_self_attr(sub) and isinstance(sub.ctx, ast.Store):
                    stores.append((sub, value if target is sub else None))
    return stores


def _stored_functions(context: RuleContext, flow: FlowClass, step: Step) -> tuple:
    """What MF111 reads of a step beyond its accesses: each value it stores on `self`, as the rule judges it."""
    module = context.module
    return tuple((Span.of(sub), _function_source(value, step, flow, module, context) if value is not None else None)
                 for sub, value in context.derived(step.node, "self-stores", lambda: _self_stores(context, step)))


@rule("MF111", "function-artifact", Severity.ERROR,
      "A function or lambda stored on self and read in a later step (Metaflow does not persist functions)",
      silent="functions Metaflow pickles (builtins, installed packages, partials, classes)", reads=Reads.DATA,
      step_input=_stored_functions, names_lines=True)  # "which step `x` (line 12) set"
def function_artifact(context: RuleContext):
    module = context.module
    for flow in context.complete_flows():
        stored: dict[str, tuple[str, str, Span]] = {}  # artifact -> (step, description, span of the write)
        other_values: set[str] = set()
        for step in flow.steps.values():
            assigned: set[str] = set()
            for sub, value in context.derived(step.node, "self-stores", lambda: _self_stores(context, step)):
                assigned.add(sub.attr)
                source = _function_source(value, step, flow, module, context) if value is not None else None
                if source is None:
                    other_values.add(sub.attr)
                elif sub.attr not in stored:
                    stored[sub.attr] = (step.name, source, Span.of(sub))
            # every other way to write (augmented assignment, for/with targets, del) stores data or removes it
            other_values |= {a.name for a in step.accesses if a.kind in ("write", "delete")} - assigned
        if not stored:
            continue
        if any(facts_of(context, step, flow).opaque for step in flow.steps.values()):
            continue
        for artifact in list(stored):
            if artifact in other_values or artifact in flow.parameters or artifact in flow.class_attributes \
                    or artifact in flow.methods or artifact in FLOW_API:
                del stored[artifact]
        if not stored:
            continue
        for artifact, (writer, source, write_span) in stored.items():
            later = descendants(flow, writer) - {writer}
            for name in later:
                step = flow.steps[name]
                if not context.defined_here(step):
                    continue
                facts = facts_of(context, step, flow)
                if artifact in facts.guarded:
                    continue
                for access in step.accesses:
                    if access.name != artifact:
                        continue
                    if access.kind != "read":
                        break  # set again in this step before any read
                    if id(access.node) in facts.nested:
                        continue
                    yield Hit(
                        access.span,
                        f"Step `{name}` reads `self.{artifact}`, which step `{writer}` (line {write_span.line + 1}) set "
                        f"to {source}: Metaflow does not persist functions. Call it directly.",
                        {"artifact": artifact, "step": name, "writer": writer, "line": write_span.line},
                    )
                    break


# --------------------------------------------------------------------------------------------------------------------
# MF112
# --------------------------------------------------------------------------------------------------------------------

BASE_NAME_SUFFIXES = ("Base", "Mixin", "Mixins", "Abstract", "Template")
BASE_NAME_PREFIXES = ("Base", "Abstract")


def _looks_like_base(name: str) -> bool:
    return name.endswith(BASE_NAME_SUFFIXES) or any(
        name.startswith(p) and len(name) > len(p) and name[len(p)].isupper() for p in BASE_NAME_PREFIXES)


@rule("MF112", "missing-main-guard", Severity.WARNING,
      "A flow file that never calls its flow class (no `if __name__ == \"__main__\": Flow()`)",
      silent="classes called or passed anywhere in the file, bases, test files")
def missing_main_guard(context: RuleContext):
    module = context.module
    if module.tree is None:
        return
    path_name = module.path.name if module.path else ""
    if is_test_module(module.path):
        return  # flows in tests are imported and run by the test code
    used_as_base = {base.rsplit(".", 1)[-1] for info in module.classes.values() for base in info.bases}
    candidates = [flow for flow in module.flows if flow.name not in module.main_calls
                  and flow.name not in used_as_base and not _looks_like_base(flow.name)]
    if not candidates:
        return  # the usual file: its flow is called in the guard
    called: set[str] = set(module.main_calls)
    for node in context.nodes(module.tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                called.add(func.id)
            elif isinstance(func, ast.Attribute):
                called.add(func.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in module.classes:
            # passed around (`run(TrainFlow)`, `FLOWS = [TrainFlow]`): somebody else may call it
            if not _in_class_bases(node, module):
                called.add(node.id)
    for flow in candidates:
        if flow.name in called or context.is_base_flow(flow):
            continue  # called elsewhere in the file, or a base that a flow file of the project extends
        graph = context.graph(flow)
        if graph.start_step is None or graph.end_step is None or graph.start_step == graph.end_step:
            continue  # not a complete flow (or a one-step oddity): a base or a work in progress
        if module.main_guard is not None:
            message = (f"`{flow.name}` is never run: the `__main__` block does not call `{flow.name}()`, so "
                       f"`python {path_name or 'flow.py'} run` runs something else. Call it there.")
        else:
            message = (f"`{flow.name}` is never run: the file has no `if __name__ == \"__main__\": {flow.name}()`, so "
                       f"`python {path_name or 'flow.py'} run` does nothing. Add the guard.")
        yield Hit(flow.span, message, {"flow": flow.name, "has_guard": module.main_guard is not None})


@fix_data
class MainGuardData:
    flow: str | None = None


# Without the guard the file runs nothing; the guard adds exactly that: safe.
declare_fix("MF112", MainGuardData, safe=True, apply=lazy("fixes", "main_guard_plan"),
            title=lambda data, context: f'Add `if __name__ == "__main__":` that runs '
                                        f'{f"{data.flow}()" if data.flow else "the flow"}')


def _in_class_bases(name: ast.Name, module: Module) -> bool:
    return any(any(base is name for base in info.node.bases) for info in module.classes.values())
