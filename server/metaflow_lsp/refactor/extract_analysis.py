"""What "Extract step body to common.py" would do to one step, decided from the stdlib `ast` alone.

`analyse` either returns an `ExtractPlan` (which statements move, which artifacts become parameters and return
values, which module-level names the body needs) or raises `ExtractError` with a reason a user can act on. It never
touches libcst, so `can_extract` can run it while the editor asks for code actions; `extract.py` turns a plan into
edits.

Exactness rules (the flow must compute the same artifacts after the edit):
- An artifact read on some path before the body assigns it is a parameter (`self.x` is evaluated at the call).
  The analysis is path-insensitive: a read it cannot prove follows a write counts as a read of the incoming value.
- An artifact assigned on every path that reaches the end of the body is a plain return value.
- An artifact assigned only on some paths, and not a parameter, starts as the `UNSET` sentinel of common.py and the
  step assigns it only when the function returned something else: the artifact is neither created nor changed on
  the other paths. An artifact assigned on some paths that is also a parameter comes back unchanged on the others,
  and assigning the same object again is invisible.
- A body with a `self.next` other than its final one, or a `return` that would skip the final one, moves only the
  statements before the first statement holding it, as a selection: the transition stays in the step.
- Module-level functions and constants of the flow file that the body uses move to common.py (with what they need)
  and are imported back into the flow file, so other uses keep working and common.py never imports the flow.
"""

from __future__ import annotations

import ast
import builtins
import copy
import keyword
import symtable
from dataclasses import dataclass, field

from ..artifacts import FlowArtifacts
from ..builder import read_imports
from ..model import FlowClass, Import, Module, Step
from ..text import Span

COMMON_MODULE = "common"
JOIN_INPUTS = "the join's inputs"  # the note of the join's `inputs` parameter
FLOWSPEC_METHODS = frozenset({"next", "merge_artifacts", "foreach_stack", "cmd"})
MODULE_DUNDERS = frozenset({"__file__", "__name__", "__spec__", "__loader__", "__package__", "__builtins__",
                            "__doc__", "__path__", "__cached__"})
BUILTIN_NAMES = frozenset(dir(builtins))
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


class ExtractError(Exception):
    """The step cannot be extracted; `message` says why, in words for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Param:
    name: str  # the parameter of the new function
    argument: str  # what the step passes: `self.data`, `self.input`, `inputs`
    artifact: str | None  # the attribute of self; None for `inputs` and names of the flow file passed on
    note: str = ""  # "Parameter", "Config", "from the flow file", ... for the docstring


@dataclass
class Written:
    artifact: str
    local: str
    maybe_unset: bool  # assigned on some paths only, and not passed in: goes through the UNSET sentinel
    step_local: bool = False  # a local variable of the step (Extract selection), not an artifact


@dataclass
class NeededImport:
    """One name the body needs from a top-level import of the flow file."""

    bound: str
    module: str
    name: str | None
    asname: str | None
    level: int
    position: tuple[int, int] = (0, 0)  # of the import statement in the flow file: copies keep the file's order

    def key(self) -> tuple:
        return (self.module, self.name, self.level, self.bound)


@dataclass
class ExtractPlan:
    flow: FlowClass
    step: Step
    keep_before: int  # statements of the step body kept before the call (docstring, merge_artifacts)
    moved_start: int  # index range [moved_start, moved_end) of the body that moves
    moved_end: int
    params: list[Param]
    written: list[Written]
    locals: dict[str, str]  # attribute of self -> its local name in the function
    common_attrs: set[str]  # `common.x` in the body: becomes plain `x` inside common.py
    common_alias: str | None  # how the flow binds the common module (`common`), if it does
    from_common: set[str]  # names the flow imports from common (`from common import f`)
    imports: list[NeededImport]
    moved_definitions: list[ast.stmt]  # top-level statements of the flow file that move (in file order)
    moved_names: list[str]  # the names they bind that the flow file must import back (still used there)
    body_names: set[str]  # every identifier of the body: new locals must not collide with them
    global_names: set[str]  # names the body (and moved code) looks up in the module namespace
    flow_param: str | None = None  # the body needs the flow itself: the function's parameter for it (`flow`)
    flow_reason: str | None = None  # why, for the docstring
    selection: bool = False  # only some statements of the body move (Extract selection)
    before_transition: int | None = None  # the step-level Extract moves only the part before this line's transition


def can_extract(module: Module, step_name: str, lines: tuple[int, int] | None = None) -> str | None:
    """None when `step_name` can be extracted, else the reason, for the user. Reads the ast model only, so the
    editor can ask while listing code actions without loading libcst.

    A few reasons depend on what common.py already holds (a name clash); `extract_step` reports those."""
    if module.path is not None and module.path.name == f"{COMMON_MODULE}.py":
        return f"This file is {COMMON_MODULE}.py itself."
    try:
        analyse(module, step_name, lines=lines)
    except ExtractError as error:
        return error.message
    return None


def find_step(module: Module, step_name: str, flow_name: str | None = None) -> tuple[FlowClass, Step]:
    if not module.ok or module.tree is None:
        raise ExtractError("The file has a syntax error; fix it before extracting a step.")
    flows = [f for f in module.flows if flow_name is None or f.name == flow_name]
    inherited = None
    for flow in flows:
        step = flow.steps.get(step_name)
        if step is None:
            continue
        if step.owner == flow.name:
            return flow, step
        inherited = inherited or (flow, step)
    if inherited is not None:
        raise ExtractError(f"Step `{step_name}` is defined in base class {inherited[1].owner}, not in "
                           f"{inherited[0].name}: extract it where it is defined.")
    raise ExtractError(f"There is no step named `{step_name}` in this file.")


def analyse(module: Module, step_name: str, flow_name: str | None = None,
            lines: tuple[int, int] | None = None) -> ExtractPlan:
    """The plan for the body of `step_name`, or with `lines` (first and last 0-based line of an editor selection)
    for the statements of the body those lines hold."""
    flow, step = find_step(module, step_name, flow_name)
    node = step.node
    if isinstance(node, ast.AsyncFunctionDef):
        raise ExtractError(f"Step `{step_name}` is `async def`; only plain steps can be extracted.")
    if step.decorator("catch") is not None:
        raise ExtractError(f"Step `{step_name}` has @catch: when its body fails, the artifacts it assigned before "
                           "the failure are kept, which a function call cannot reproduce.")
    body = node.body
    start = 1 if _is_docstring(body[0]) else 0
    end = len(body)
    if step.has_tail_next:
        end -= 1
    part: _Part | None = None
    before_transition: int | None = None
    if lines is not None:
        start, end = _selected(body, start, end, lines, step_name)
        for statement in body[start:end]:
            line = _early_exit_line(statement, step)
            if line is not None:
                raise ExtractError(f"The selection holds the conditional transition or `return` on line {line}; "
                                   "select statements before it.")
    else:
        if start < end and _is_merge(body[start]):
            start += 1
        stop = _transition_stop(step, start, end)
        if stop is not None:  # only the statements before it move (as a selection); the transition stays
            before_transition = _early_exit_line(body[stop], step)
            if stop == start:
                what = ("a conditional `self.next(...)`" if _early_exit_line(body[stop], step, True)
                        == before_transition else "an early `return`")
                raise ExtractError(f"The body has {what} (line {before_transition}) with nothing before it to "
                                   "extract: it skips the rest of the step, which a function call cannot do for "
                                   "it. Move the part after it into a helper yourself, or let every path reach the "
                                   "final `self.next`.")
            end = stop
        elif start < end and _is_merge(body[end - 1]):
            end -= 1
    keep_before = start
    moved = body[start:end]
    if not moved or all(isinstance(s, ast.Pass) for s in moved):
        raise ExtractError(f"Step `{step_name}` has no body to extract.")
    common_alias, from_common = common_bindings(module)
    if lines is not None or before_transition is not None:
        part = _Part.of(node, body[:start], moved, body[end:])
    if lines is None and _already_extracted(moved, common_alias, from_common):
        what = f"The part of step `{step_name}` before its transition" if before_transition else f"Step `{step_name}`"
        raise ExtractError(f"{what} already only calls a function of common.py.")
    # A `return` is the function's own when the call ends the step (no `self.next` or kept statement after it).
    scan = _BodyScan(flow, step_name, returns_allowed=part is None and end == len(body))
    for statement in moved:
        scan.statement(statement)
    if scan.closure_reads and scan.flow_reason is None:
        scan.flow_reason = _closure_reason(moved, scan)
    names = _scope_names(node)
    body_names = names.identifiers
    if scan.flow_reason is not None:
        plan = _flow_plan(module, flow, step, scan, names, moved, keep_before, start, end, common_alias,
                          from_common, part)
        plan.before_transition = before_transition
        return plan
    flow_state = _DefiniteWrites(scan.params_order)
    definite = flow_state.block(moved, frozenset())
    at = Span(moved[0].lineno - 1, moved[0].col_offset, moved[0].lineno - 1, moved[0].col_offset)
    unsure = _maybe_unset_at_start(flow, step, [a for a in flow_state.params if not _surely_read_first(moved, a)],
                                   at if part is not None else None)
    if unsure is not None:
        scan.flow_reason = (f"`self.{unsure}` may be unset when the step starts (it is not set on every path from "
                            "`start`), so the step could not pass it in")
        plan = _flow_plan(module, flow, step, scan, names, moved, keep_before, start, end, common_alias,
                          from_common, part)
        plan.before_transition = before_transition
        return plan
    # Locals: an artifact keeps its name unless the body already uses that name for something else.
    taken = set(body_names) | {"self", "inputs", COMMON_MODULE}
    locals_: dict[str, str] = {}
    for attribute in scan.attributes:
        others = taken | (set(scan.attributes) - {attribute})
        if attribute == "input":
            local = _fresh("item", others, ("foreach_item",))
        else:
            local = _fresh(attribute, others)
        locals_[attribute] = local
        taken.add(local)
    params: list[Param] = []
    if step.is_join:
        join_arg = node.args.args[1].arg
        if join_arg in scan.attributes or join_arg in ("self",):
            raise ExtractError(f"The join argument `{join_arg}` is also an artifact name; rename it first.")
        params.append(Param(join_arg, join_arg, None, JOIN_INPUTS))
    for attribute in flow_state.params:
        note = ""
        parameter = flow.parameters.get(attribute)
        if parameter is not None:
            note = parameter.kind
        elif attribute in flow.class_attributes:
            note = "class attribute"
        elif attribute in ("input", "index"):
            note = "foreach"
        params.append(Param(locals_[attribute], f"self.{attribute}", attribute, note))
    written = [Written(a, locals_[a], a not in definite and a not in flow_state.params) for a in scan.writes]
    plan = _complete_plan(module, flow, step, names, moved, keep_before, start, end, common_alias, from_common,
                          params, written, locals_, part=part)
    plan.before_transition = before_transition
    return plan


_SHORT_CIRCUIT = (ast.BoolOp, ast.IfExp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
                  ast.NamedExpr)


def _surely_read_first(moved: list[ast.stmt], attribute: str) -> bool:
    """Whether every run of the body that gets past its first statement mentioning `self.<attribute>` reads it there
    before anything assigns it: a simple statement at the top of the body, the read not under a short-circuit, a
    conditional expression, a comprehension or a lambda. Then a run that succeeds had the artifact when the step
    started, and passing `self.<attribute>` in is exact."""
    for statement in moved:
        mentions = [n for n in ast.walk(statement) if isinstance(n, ast.Attribute) and n.attr == attribute
                    and isinstance(n.value, ast.Name) and n.value.id == "self"]
        if not mentions:
            continue
        first_evaluated = {ast.If: "test", ast.While: "test", ast.For: "iter", ast.Match: "subject"}.get(type(statement))
        if first_evaluated is not None:  # a compound statement evaluates this part first, on every run
            head = getattr(statement, first_evaluated)
            mentions = [m for m in mentions if any(m is n for n in ast.walk(head))]
            if not mentions:
                return False
        elif not isinstance(statement, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign)):
            return False
        if isinstance(statement, ast.AugAssign) and mentions[0] is statement.target:
            return True  # `self.x += 1` reads x first
        guarded = {id(n) for node in ast.walk(statement) if isinstance(node, _SHORT_CIRCUIT) for n in ast.walk(node)}
        # The value is evaluated before the targets; a target's `self.x[i]` or `self.x.y` reads x unconditionally.
        return any(isinstance(m.ctx, ast.Load) and id(m) not in guarded for m in mentions)
    return False


def step_extract_title(step_name: str, before_transition: int | None) -> str:
    """The title of the step-level Extract (MF201's quick fix, the refactor action, the CLI's plan)."""
    if before_transition is not None:
        return (f"Extract the part of step `{step_name}` before its transition (line {before_transition}) to "
                f"{COMMON_MODULE}.py")
    return f"Extract body of step `{step_name}` to {COMMON_MODULE}.py"


def part_before_transition(step: Step) -> int | None:
    """The line of the conditional transition (or early `return`) that the step-level Extract of `step` stops
    before, moving only the statements before it; None when it moves the whole body. Cheap (ast only): the editor
    asks while listing actions, for their title."""
    body = step.node.body
    start = 1 if _is_docstring(body[0]) else 0
    end = len(body) - 1 if step.has_tail_next else len(body)
    if start < end and _is_merge(body[start]):
        start += 1
    stop = _transition_stop(step, start, end)
    return None if stop is None else _early_exit_line(body[stop], step)


def _transition_stop(step: Step, start: int, end: int) -> int | None:
    """The index of the first statement of `body[start:end]` holding a `self.next` other than the final one or a
    `return` that would skip one, or None. A `return` in a step with no `self.next` (or kept merge) after the
    call is the function's own (see `returns_allowed`), so it does not stop the Extract."""
    body = step.node.body
    stop = next((i for i in range(start, end) if _early_exit_line(body[i], step) is not None), None)
    if stop is None:
        return None
    if step.has_tail_next or _is_merge(body[end - 1]) or _early_exit_line(body[stop], step, True) is not None:
        return stop
    return None


def _early_exit_line(statement: ast.stmt, step: Step, transitions_only: bool = False) -> int | None:
    """The line of the first `return` of the step (not of a nested function) or `self.next(...)` other than the
    final one inside `statement`, or None; with `transitions_only`, of such a `self.next` only."""
    early = {id(t.call) for t in step.transitions if step.tail is None or t.call is not step.tail.call}
    stack: list[ast.AST] = [statement]
    found: list[int] = []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return) and not transitions_only or id(node) in early:
            found.append(node.lineno)
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))
    return min(found, default=None)


def _selected(body: list[ast.stmt], first: int, last: int, lines: tuple[int, int], step_name: str) -> tuple[int, int]:
    """The index range of the body statements (between the docstring and the final `self.next`) that the selected
    lines hold; a statement only partly selected is refused."""
    top, bottom = lines
    chosen = [i for i in range(first, last) if body[i].lineno - 1 <= bottom and (body[i].end_lineno or 0) - 1 >= top]
    if not chosen:
        raise ExtractError(f"Select whole statements of the body of `{step_name}` (not its docstring or its final "
                           "`self.next`).")
    for index in (chosen[0], chosen[-1]):
        statement = body[index]
        if statement.lineno - 1 < top or (statement.end_lineno or 0) - 1 > bottom:
            raise ExtractError(f"The selection holds part of the statement on line {statement.lineno}; select "
                               "whole statements.")
    return chosen[0], chosen[-1] + 1


@dataclass
class _Part:
    """What a selection of statements shares with the rest of its step through local variables."""

    passed: list[str]  # locals the selection reads that the step set before it: parameters
    returned: list[str]  # locals the selection sets that the statements after it read: return values
    used: set[str]  # every name the selection mentions

    @classmethod
    def of(cls, node: ast.FunctionDef, before: list[ast.stmt], moved: list[ast.stmt],
           after: list[ast.stmt]) -> "_Part":
        arguments = [a.arg for a in node.args.args[1:]]  # the join's inputs
        set_before = set(arguments) | {name for s in before for name in _bound_in(s)}
        loads = _loads(moved)
        set_here = {name for s in moved for name in _bound_in(s)}
        read_after = set(_loads(after))
        passed = [name for name in loads if name in set_before and name != "self"]
        surely_set = {name for s in moved for name in _surely_bound(s)}
        returned = []
        for name in sorted(set_here & read_after):
            if name not in surely_set and name not in set_before:
                raise ExtractError(f"The selection sets `{name}` on some paths only and the step reads it after the "
                                   "selection; select up to where it is read, or set it before the selection.")
            returned.append(name)
        passed += [name for name in returned if name in set_before and name not in passed]
        return cls(passed, returned, set(loads) | set_here)


def _bound_in(statement: ast.AST) -> list[str]:
    """Local names a statement of the step binds (the bodies of nested scopes excluded)."""
    names: list[str] = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.append(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            stack.extend(node.decorator_list)
            continue
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend(i.bound_name for i in read_imports(node) if i.name != "*")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.append(node.name)
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue  # a scope of their own
        stack.extend(ast.iter_child_nodes(node))
    return names


def _surely_bound(statement: ast.stmt) -> list[str]:
    """Names bound whenever the statement completes: plain assignments, imports, definitions, `with ... as`."""
    if isinstance(statement, ast.AnnAssign) and statement.value is None:
        return []
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom,
                              ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return _bound_in(statement)
    if isinstance(statement, ast.With):
        return [n for item in statement.items if item.optional_vars is not None
                for n in _bound_in(item.optional_vars)] + [n for s in statement.body for n in _surely_bound(s)]
    return []


def _loads(statements: list[ast.stmt]) -> list[str]:
    """Names read, in order of first read (nested scopes included: a closure reads the step's locals too)."""
    seen: dict[str, None] = {}
    for statement in statements:
        found = [n for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
        for node in sorted(found, key=lambda n: (n.lineno, n.col_offset)):
            seen.setdefault(node.id, None)
    return list(seen)


def _maybe_unset_at_start(flow: FlowClass, step: Step, read: list[str], at: Span | None = None) -> str | None:
    """The first artifact the body reads (before assigning it, on some path) that is not surely set when the step
    starts: passing `self.x` to the call would fail where the body, reading it only on some paths, did not. A join
    is left to its own reads: it starts with nothing but what it merges, as the body did."""
    if step.is_join:
        return None
    facts = None
    for attribute in read:
        if attribute in flow.parameters or attribute in flow.class_attributes or attribute in ("input", "index"):
            continue
        facts = facts or FlowArtifacts(flow)
        if facts.set_on_every_path(attribute, step, at) is not True:
            return attribute
    return None


def _flow_plan(module: Module, flow: FlowClass, step: Step, scan: "_BodyScan", names: "_Names",
               moved: list[ast.stmt], keep_before: int, start: int, end: int, common_alias: str | None,
               from_common: set[str], part: "_Part | None" = None) -> ExtractPlan:
    """The plan when the body needs the flow object itself: the function takes it as `flow` and the body moves with
    `self` written `flow`, so every artifact read and write happens on the flow, when and as it did."""
    if scan.private is not None:
        attribute, line = scan.private
        raise ExtractError(f"The body needs the flow itself ({scan.flow_reason}) and uses `self.{attribute}` (line "
                           f"{line}), a name Python mangles only inside the class; rename it without the leading "
                           "`__` first.")
    bound_self = sorted({n.lineno for statement in moved for n in ast.walk(statement)
                         if isinstance(n, ast.arg) and n.arg == "self"
                         or isinstance(n, ast.Name) and n.id == "self" and not isinstance(n.ctx, ast.Load)})
    if bound_self:
        raise ExtractError(f"The body needs the flow itself ({scan.flow_reason}) and binds another `self` on line "
                           f"{bound_self[0]}; rename that one first.")
    flow_param = _fresh("flow", names.identifiers | {"inputs", COMMON_MODULE})
    params = [Param(flow_param, "self", None, "the flow itself")]
    if step.is_join:
        join_arg = step.node.args.args[1].arg
        params.append(Param(join_arg, join_arg, None, JOIN_INPUTS))
    return _complete_plan(module, flow, step, names, moved, keep_before, start, end, common_alias, from_common,
                          params, [], {}, flow_param, scan.flow_reason, part)


def _complete_plan(module: Module, flow: FlowClass, step: Step, names: "_Names", moved: list[ast.stmt],
                   keep_before: int, start: int, end: int, common_alias: str | None, from_common: set[str],
                   params: list[Param], written: list[Written], locals_: dict[str, str],
                   flow_param: str | None = None, flow_reason: str | None = None,
                   part: "_Part | None" = None) -> ExtractPlan:
    """The plan, once what the step passes and gets back is known: the module-level names the body needs, and for
    a selection the step's local variables it reads (parameters) and sets for the statements after it (returned)."""
    node = step.node
    body_names = names.identifiers
    if part is not None:
        params = [p for p in params if p.note != JOIN_INPUTS or p.name in part.used]  # the join's inputs if used
        params.extend(Param(name, name, None, "a local of the step") for name in part.passed)
        written = written + [Written(name, name, False, step_local=True) for name in part.returned]
        names = _Names({n for n in names.globals if n in part.used}, names.identifiers)
    globals_needed = names.globals - {"self"}
    for dunder in sorted(globals_needed & MODULE_DUNDERS):
        raise ExtractError(f"The body uses `{dunder}`, which means something else in common.py.")
    if "super" in globals_needed or "__class__" in names.identifiers:
        raise ExtractError("The body calls `super()`, which only works inside the class.")
    common_attrs: set[str] = set()
    if common_alias is not None and common_alias in globals_needed:
        common_attrs = _common_attribute_uses(moved, common_alias)
        clash = sorted(common_attrs & (names.identifiers - {common_alias}))
        if clash:
            raise ExtractError(f"The body uses both `{common_alias}.{clash[0]}` and a name `{clash[0]}`; "
                               "rename one of them first.")
        globals_needed.discard(common_alias)
    resolver = _ModuleNames(module, flow, common_alias, from_common)
    imports, moved_definitions, also_global, passed = resolver.resolve(globals_needed)
    params.extend(Param(name, name, None, "from the flow file") for name in passed)
    moved_names = resolver.names_to_import_back(moved_definitions, node)
    return ExtractPlan(
        flow=flow, step=step, keep_before=keep_before, moved_start=start, moved_end=end, params=params,
        written=written, locals=locals_, common_attrs=common_attrs, common_alias=common_alias,
        from_common=from_common, imports=imports, moved_definitions=moved_definitions, moved_names=moved_names,
        body_names=body_names, global_names=globals_needed | also_global | common_attrs, flow_param=flow_param,
        flow_reason=flow_reason, selection=part is not None,
    )


def _closure_reason(moved: list[ast.stmt], scan: "_BodyScan") -> str | None:
    """Why the lambdas and nested functions that read artifacts cannot read the function's locals instead, or None.

    They can when they cannot outlive the step's call: each one is only called (a lambda given to a call,
    `sorted(key=lambda ...)`; a nested function whose name is only called). In common.py they then read the local
    for the artifact, which holds what `self.x` holds at every moment of the body. Otherwise (and when an artifact
    is assigned after a closure first reads it, which would pass it in eagerly) the body moves written against the
    flow, where they read `flow.x` when they run, as before."""
    early = sorted(scan.first_use_in_closure & set(scan.writes))
    if early:
        return (f"a lambda or nested function reads `self.{early[0]}` (line {scan.closure_reads[early[0]]}) before "
                "the body assigns it")
    parents: dict[int, ast.AST] = {}
    closures: list[ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef] = []
    calls: set[int] = set()  # id() of names and lambdas that are the function of a call
    for statement in moved:
        for node in ast.walk(statement):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
            if isinstance(node, ast.Call):
                calls.add(id(node.func))
            if isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    isinstance(n, ast.Name) and n.id == "self" for n in ast.walk(node)):
                closures.append(node)
    for closure in closures:
        if isinstance(closure, ast.Lambda):
            parent = parents.get(id(closure))
            if not (isinstance(parent, (ast.Call, ast.keyword)) and closure is not getattr(parent, "func", None)
                    or id(closure) in calls):
                return f"the lambda on line {closure.lineno} reads artifacts and is kept beyond a call"
            continue
        if closure.decorator_list:
            return f"the nested function `{closure.name}` (line {closure.lineno}) reads artifacts and is decorated"
        for statement in moved:
            for node in ast.walk(statement):
                if (isinstance(node, ast.Name) and node.id == closure.name and isinstance(node.ctx, ast.Load)
                        and id(node) not in calls):
                    return (f"the nested function `{closure.name}` reads artifacts and is used on line {node.lineno} "
                            "other than by calling it")
    return None


def _is_main_guard(statement: ast.stmt) -> bool:
    test = statement.test if isinstance(statement, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _is_merge(statement: ast.stmt) -> bool:
    value = statement.value if isinstance(statement, ast.Expr) else None
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr == "merge_artifacts" and isinstance(value.func.value, ast.Name)
            and value.func.value.id == "self")


def _fresh(name: str, taken: set[str], alternatives: tuple[str, ...] = ()) -> str:
    for candidate in (name, *alternatives):
        if candidate not in taken and not keyword.iskeyword(candidate):
            return candidate
    candidate = name + "_"
    while candidate in taken:
        candidate += "_"
    return candidate


def common_bindings(module: Module) -> tuple[str | None, set[str]]:
    """How the flow file binds common.py: the name of `import common [as c]` (None without one), and the names of
    `from common import f`."""
    alias = None
    from_common: set[str] = set()
    for imported in module.imports:
        if imported.module != COMMON_MODULE or imported.level != 0:
            continue
        if imported.name is None:
            alias = alias or imported.bound_name
        else:
            from_common.add(imported.bound_name)
    return alias, from_common


def _already_extracted(moved: list[ast.stmt], alias: str | None, from_common: set[str]) -> bool:
    first = moved[0]
    value = first.value if isinstance(first, (ast.Assign, ast.Expr)) else None
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    calls_common = ((isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                     and func.value.id == alias and alias is not None)
                    or (isinstance(func, ast.Name) and func.id in from_common))
    return calls_common and all(isinstance(s, ast.If) for s in moved[1:])


def _common_attribute_uses(moved: list[ast.stmt], alias: str) -> set[str]:
    attributes: set[str] = set()
    parents: dict[int, ast.AST] = {}
    for statement in moved:
        for parent in ast.walk(statement):
            for child in ast.iter_child_nodes(parent):
                parents[id(child)] = parent
    for statement in moved:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id == alias:
                parent = parents.get(id(node))
                if not (isinstance(parent, ast.Attribute) and parent.value is node
                        and isinstance(parent.ctx, ast.Load)):
                    raise ExtractError(f"The body uses the module `{alias}` (common.py) itself, not one of its "
                                       "names; common.py cannot import itself.")
                attributes.add(parent.attr)
    return attributes


class _BodyScan:
    """Every use of `self` in the moved statements: artifacts read and written, and anything that cannot move."""

    def __init__(self, flow: FlowClass, step_name: str, returns_allowed: bool = False):
        self.flow = flow
        self.step_name = step_name
        self.returns_allowed = returns_allowed
        self.attributes: list[str] = []  # in order of first use
        self.writes: list[str] = []  # in order of first write
        self.params_order: list[str] = []
        self.called: set[int] = set()  # id() of `self.x` attributes that are called: `self.x(...)`
        self.closure_reads: dict[str, int] = {}  # artifact read inside a lambda or nested function -> first line
        self.first_use_in_closure: set[str] = set()  # artifacts whose first use (in source order) is in a closure
        self.flow_reason: str | None = None  # why the body needs the flow object itself (see `_needs_flow`)
        self.private: tuple[str, int] | None = None  # a `self.__name` (mangled inside the class only) and its line

    def statement(self, statement: ast.stmt) -> None:
        self._walk(statement, nested=None, parent=None)

    def _walk(self, node: ast.AST, nested: str | None, parent: ast.AST | None) -> None:
        kind = type(node)
        if kind is ast.Return and nested is None and self.returns_allowed:
            self._needs_flow(f"the body returns early (line {node.lineno})")  # artifacts set so far stay set
        elif kind in (ast.Return, ast.Yield, ast.YieldFrom, ast.Await) and nested is None:
            what = {ast.Return: "an early `return`", ast.Yield: "`yield`", ast.YieldFrom: "`yield from`",
                    ast.Await: "`await`"}[kind]
            advice = ("it skips the rest of the step, which a function call cannot do for it. Move the part before "
                      "it into a helper yourself, or let every path reach the final `self.next`."
                      if kind is ast.Return else "the step would become a different kind of function. Move the "
                      "code around it into a helper yourself.")
            raise ExtractError(f"The body has {what} (line {node.lineno}): {advice}")
        if kind in (ast.Global, ast.Nonlocal) and nested is None:
            raise ExtractError(f"The body declares `global {', '.join(node.names)}` (line {node.lineno}); move "
                               "that state out of the step first.")
        if kind is ast.Call and isinstance(node.func, ast.Attribute):
            self.called.add(id(node.func))
        if kind is ast.Name and node.id == "self":
            self._self_use(node, nested, parent)
            return
        if kind in _SCOPES:
            label = {ast.Lambda: "a lambda", ast.ClassDef: "a nested class"}.get(kind, "a nested function")
            # Decorators, defaults and bases run in the step's own scope; the body is deferred.
            for child in ast.iter_child_nodes(node):
                inner = child in getattr(node, "body", []) if kind is not ast.Lambda else child is node.body
                self._walk(child, nested or (label if inner else None), node)
            return
        for child in ast.iter_child_nodes(node):
            self._walk(child, nested, node)

    def _needs_flow(self, why: str) -> None:
        """The body needs the flow object itself: it moves written against a `flow` parameter (first reason kept)."""
        if self.flow_reason is None:
            self.flow_reason = why

    def _self_use(self, node: ast.Name, nested: str | None, parent: ast.AST | None) -> None:
        line = node.lineno
        if not (isinstance(parent, ast.Attribute) and parent.value is node):
            self._needs_flow(f"the body uses `self` itself on line {line}")
            return
        attribute = parent.attr
        flow = self.flow
        context = type(parent.ctx)
        if context is ast.Store:
            if attribute in ("input", "index"):
                raise ExtractError(f"The body assigns `self.{attribute}` (line {line}), which Metaflow forbids.")
            if attribute in flow.parameters or attribute in flow.class_attributes:
                raise ExtractError(f"The body assigns `self.{attribute}` (line {line}), a Parameter or class "
                                   "attribute, which Metaflow forbids at run time.")
        if attribute.startswith("__") and not attribute.endswith("__") and self.private is None:
            self.private = (attribute, line)
        if nested == "a nested class":
            self._needs_flow(f"a nested class uses `self.{attribute}` (line {line})")
        elif nested is not None:
            if context is not ast.Load:
                self._needs_flow(f"{nested} assigns `self.{attribute}` (line {line})")
            self.closure_reads.setdefault(attribute, line)
        if attribute.startswith("__") and attribute.endswith("__"):
            self._needs_flow(f"the body uses `self.{attribute}` (line {line})")
        elif attribute == "merge_artifacts":
            self._needs_flow(f"`self.merge_artifacts(...)` on line {line} is in the middle of the body")
        elif attribute in flow.methods or attribute in FLOWSPEC_METHODS:
            self._needs_flow(f"the body calls the flow's method `self.{attribute}` (line {line})")
        elif attribute in flow.steps:
            self._needs_flow(f"the body uses the step `self.{attribute}` (line {line}) outside `self.next`")
        elif id(parent) in self.called and not flow.complete and attribute not in self.writes:
            self._needs_flow(f"the body calls `self.{attribute}()` (line {line}), which may be a method of a base "
                             "class this file does not show")
        if context is ast.Del:
            self._needs_flow(f"the body deletes `self.{attribute}` (line {line})")
        if context is ast.Store and attribute not in self.writes:
            self.writes.append(attribute)
        if attribute not in self.attributes:
            self.attributes.append(attribute)
            if nested is not None:
                self.first_use_in_closure.add(attribute)


class _DefiniteWrites:
    """Which artifacts are assigned on every path, and which are (possibly) read before any assignment."""

    def __init__(self, order: list[str]):
        self.params: list[str] = order

    def block(self, statements: list[ast.stmt], defined: frozenset[str]) -> frozenset[str]:
        for statement in statements:
            defined = self.statement(statement, defined)
        return defined

    def read(self, node: ast.AST | None, defined: frozenset[str], store_too: bool = False) -> None:
        """Records `self.x` loads under `node` (in source order) that no assignment before them defines."""
        if node is None:
            return
        found = [child for child in ast.walk(node)
                 if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name)
                 and child.value.id == "self" and (store_too or not isinstance(child.ctx, ast.Store))]
        found.sort(key=lambda a: (a.lineno, a.col_offset))
        for child in found:
            if child.attr not in defined and child.attr not in self.params:
                self.params.append(child.attr)

    def targets(self, node: ast.AST, defined: frozenset[str]) -> frozenset[str]:
        """Reads inside an assignment target (`self.x[i] = ...` reads x), then its writes."""
        written = set()
        for child in ast.walk(node):
            if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id == "self":
                if isinstance(child.ctx, ast.Store):
                    written.add(child.attr)
                elif child.attr not in defined and child.attr not in self.params:
                    self.params.append(child.attr)
        return defined | written

    def statement(self, node: ast.stmt, defined: frozenset[str]) -> frozenset[str]:
        if isinstance(node, ast.Assign):
            self.read(node.value, defined)
            for target in node.targets:
                defined = self.targets(target, defined)
            return defined
        if isinstance(node, ast.AugAssign):
            self.read(node.value, defined)
            self.read(node.target, defined, store_too=True)  # `self.x += 1` reads x first
            return self.targets(node.target, defined)
        if isinstance(node, ast.AnnAssign):
            self.read(node.value, defined)
            return self.targets(node.target, defined) if node.value is not None else defined
        if isinstance(node, ast.If):
            self.read(node.test, defined)
            return self.block(node.body, defined) & self.block(node.orelse, defined)
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.read(node.iter, defined)
            inner = self.targets(node.target, defined)
            self.block(node.body, inner)
            self.block(node.orelse, defined)
            return defined
        if isinstance(node, ast.While):
            self.read(node.test, defined)
            self.block(node.body, defined)
            self.block(node.orelse, defined)
            return defined
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.read(item.context_expr, defined)
                if item.optional_vars is not None:
                    defined = self.targets(item.optional_vars, defined)
            return self.block(node.body, defined)
        if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            after_body = self.block(node.orelse, self.block(node.body, defined))
            outcomes = [after_body]
            for handler in node.handlers:
                self.read(handler.type, defined)
                outcomes.append(self.block(handler.body, defined))
            result = frozenset.intersection(*outcomes)
            return result | self.block(node.finalbody, defined)
        if isinstance(node, ast.Match):
            self.read(node.subject, defined)
            for case in node.cases:
                self.read(case.guard, defined)
                self.block(case.body, defined)
            return defined
        self.read(node, defined)
        return defined


@dataclass
class _Names:
    globals: set[str] = field(default_factory=set)
    identifiers: set[str] = field(default_factory=set)


def _scope_names(node: ast.FunctionDef) -> _Names:
    """Names the method looks up globally (itself and nested scopes) and every identifier it uses, from symtable."""
    bare = copy.copy(node)
    bare.decorator_list = []
    table = symtable.symtable(ast.unparse(bare), "<step>", "exec")
    names = _Names()
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack.extend(child.get_children())
        for symbol in child.get_symbols():
            names.identifiers.add(symbol.get_name())
            if symbol.is_global() and symbol.is_referenced():
                names.globals.add(symbol.get_name())
    return names


class _ModuleNames:
    """Where each global name of the body comes from in the flow file, and what that means for common.py."""

    def __init__(self, module: Module, flow: FlowClass, common_alias: str | None, from_common: set[str]):
        self.module = module
        self.flow = flow
        self.common_alias = common_alias
        self.from_common = from_common
        self.imports: dict[str, Import] = {i.bound_name: i for i in module.imports}
        assert module.tree is not None
        self.bindings: dict[str, list[ast.stmt]] = {}
        self.star_import = False
        for statement in module.tree.body:
            for name in bound_names(statement):
                self.bindings.setdefault(name, []).append(statement)
            if isinstance(statement, ast.ImportFrom) and any(a.name == "*" for a in statement.names):
                self.star_import = True
        self.globals_declared: set[str] = set()
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Global):
                self.globals_declared.update(node.names)

    def resolve(self, names: set[str]) -> tuple[list[NeededImport], list[ast.stmt], set[str], list[str]]:
        """What each global name of the body needs: imports copied to common.py, definitions moved there, and the
        names that cannot move and are passed to the function instead (in name order)."""
        imports: dict[tuple, NeededImport] = {}
        moved: dict[int, ast.stmt] = {}
        also_global: set[str] = set()
        passed: list[str] = []
        for name in sorted(names):
            try:
                found_imports, found_moved, found_global = self._resolve_one(name)
            except ExtractError:
                if not self._passable(name):
                    raise
                passed.append(name)
                also_global.add(name)
                continue
            imports.update(found_imports)
            moved.update(found_moved)
            also_global |= found_global
        order = {id(s): i for i, s in enumerate(self.module.tree.body)}  # type: ignore[union-attr]
        moved_list = sorted(moved.values(), key=lambda s: order[id(s)])
        ordered = sorted(imports.values(), key=lambda n: (n.position, n.bound))
        return ordered, moved_list, also_global, passed

    def _passable(self, name: str) -> bool:
        """A name of the flow file the function can take as a parameter: bound only by top-level statements that all
        run before the `if __name__ == "__main__":` block starts the flow, and never rebound through `global`, so it
        holds its final value whenever a step runs."""
        statements = self.bindings.get(name)
        if not statements or name in self.globals_declared or name in self.from_common:
            return False
        assert self.module.tree is not None
        body = self.module.tree.body
        guard = next((i for i, s in enumerate(body) if _is_main_guard(s)), len(body))
        positions = {id(s): i for i, s in enumerate(body)}
        return all(positions[id(s)] < guard for s in statements)

    def _resolve_one(self, first: str) -> tuple[dict[tuple, NeededImport], dict[int, ast.stmt], set[str]]:
        imports: dict[tuple, NeededImport] = {}
        moved: dict[int, ast.stmt] = {}
        seen: set[str] = set()
        pending = [first]
        also_global: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            also_global.add(name)
            statements = self.bindings.get(name)
            if not statements:
                if name in BUILTIN_NAMES:
                    continue
                if self.star_import:
                    raise ExtractError(f"The body uses `{name}`, which may come from a `from ... import *`; import "
                                       "it by name first.")
                raise ExtractError(f"The body uses `{name}`, which the flow file never defines.")
            if len(statements) > 1 or name in self.globals_declared:
                raise ExtractError(f"The body uses `{name}`, which the flow file assigns more than once; moving it "
                                   "to common.py could change its value.")
            statement = statements[0]
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                if name in self.from_common:
                    original = self.imports[name].name
                    if original != name:
                        raise ExtractError(f"The body uses `{name}`, which the flow imports from common.py as "
                                           f"`{original} as {name}`; use its own name first.")
                    continue  # lives in common.py already
                if name == self.common_alias:
                    continue
                imported = self.imports[name]
                if imported.name == "*":
                    continue
                asname = None
                if imported.name is None:
                    alias = next(a for a in statement.names if (a.asname or a.name.split(".")[0]) == name)
                    asname = alias.asname
                    need = NeededImport(name, alias.name, None, asname, 0, (statement.lineno, statement.col_offset))
                else:
                    alias = next(a for a in statement.names if (a.asname or a.name) == name)
                    need = NeededImport(name, imported.module, alias.name, alias.asname, imported.level,
                                        (statement.lineno, statement.col_offset))
                imports[need.key()] = need
                continue
            if isinstance(statement, ast.ClassDef):
                flows = {f.name for f in self.module.flows}
                what = "the flow class" if name in flows else "the class"
                raise ExtractError(f"The body uses {what} `{name}` defined in the flow file; move it to a module of "
                                   "its own first (moving it would change how its objects are pickled).")
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Assign, ast.AnnAssign)):
                self._check_movable(name, statement)
                moved[id(statement)] = statement
                pending.extend(sorted(_definition_globals(statement) - seen))
                continue
            raise ExtractError(f"The body uses `{name}`, which the flow file binds in a `{type(statement).__name__}` "
                               "statement that cannot move to common.py.")
        return imports, moved, also_global

    def _check_movable(self, name: str, statement: ast.stmt) -> None:
        used = _definition_globals(statement)
        dunders = sorted(used & MODULE_DUNDERS)
        if dunders:
            raise ExtractError(f"The body uses `{name}`, which uses `{dunders[0]}`: in common.py that would name "
                               "another module.")
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            for other in bound_names(statement):
                if len(self.bindings.get(other, [])) > 1 or other in self.globals_declared:
                    raise ExtractError(f"`{other}` is assigned more than once in the flow file; it cannot move to "
                                       "common.py safely.")
        if name in self.globals_declared:
            raise ExtractError(f"`{name}` is changed through `global`; it cannot move to common.py safely.")

    def names_to_import_back(self, moved: list[ast.stmt], step_node: ast.AST) -> list[str]:
        """Names of moved definitions that the rest of the flow file still uses (outside them and the step)."""
        if not moved:
            return []
        skip = {id(s) for s in moved} | {id(step_node)}
        used: set[str] = set()
        stack: list[ast.AST] = [s for s in self.module.tree.body if id(s) not in skip]  # type: ignore[union-attr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                used.add(node.id)
            for child in ast.iter_child_nodes(node):
                if id(child) not in skip:
                    stack.append(child)
        names: list[str] = []
        for statement in moved:
            for name in bound_names(statement):
                if name in used and name not in names:
                    names.append(name)
        return names


def bound_names(statement: ast.stmt) -> list[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [i.bound_name for i in read_imports(statement) if i.name != "*"]
    targets: list[ast.AST] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    elif isinstance(statement, (ast.For, ast.AsyncFor)):
        targets = [statement.target]
    elif isinstance(statement, (ast.If, ast.With, ast.Try, ast.While)):
        names = []
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                names.append(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.extend(i.bound_name for i in read_imports(node))
        return names
    names = []
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.append(node.id)
    return names


def _definition_globals(statement: ast.stmt) -> set[str]:
    """Global names a module-level definition needs: for a function its body's globals plus its decorators and
    defaults; for a constant the names its value uses."""
    table = symtable.symtable(ast.unparse(statement), "<definition>", "exec")
    names: set[str] = set()
    stack = [table]
    while stack:
        current = stack.pop()
        stack.extend(current.get_children())
        for symbol in current.get_symbols():
            if current is table:
                if symbol.is_referenced() and not symbol.is_assigned() and not symbol.is_imported():
                    names.add(symbol.get_name())
            elif symbol.is_global() and symbol.is_referenced():
                names.add(symbol.get_name())
    bound = set(bound_names(statement))
    return names - bound


__all__ = ["ExtractError", "ExtractPlan", "analyse", "find_step", "bound_names", "part_before_transition",
           "step_extract_title", "COMMON_MODULE"]
