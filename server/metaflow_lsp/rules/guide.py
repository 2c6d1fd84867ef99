"""MF2xx: "Metaflow Best Practices for ML", the guide.

Keep steps short and the code in common.py, keep `.metaflow` out of git, give every flow a test-mode Parameter that
shrinks its data and fan-outs, and fail fast in start (validate Parameters here; loading other flows' runs and not
installing packages at run time, MF208-MF209, are in `fail_fast.py`). Every rule stays silent where the model cannot see the whole picture: an unread base class,
`self` handed to a helper, a computed value.
"""

from __future__ import annotations

import ast
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING

from ..builder import PARAMETER_KINDS
from ..model import FlowClass, Module, Parameter, Step, dotted_name, is_self, is_self_attr
from ..refactor.fix_table import declare_fix, fix_data, lazy, quoted
from ..text import Span
from ..testmode import FlowTestMode, find_test_mode, is_bool_parameter
from ..walk import flatten
from .facts import foreach_lists, is_test_module
from .registry import Hit, Reads, Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

# -- shared helpers ------------------------------------------------------------------------------------------------

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _lineage_classes(module: Module, name: str) -> list[ast.ClassDef]:
    """The class `name` and its bases that are defined in this module (others are not visible here)."""
    found: list[ast.ClassDef] = []
    stack, seen = [name], set()
    while stack:
        current = stack.pop()
        info = module.classes.get(current)
        if info is None or current in seen:
            continue
        seen.add(current)
        found.append(info.node)
        stack.extend(base for base in info.bases if base in module.classes)
    return found


def method_nodes(module: Module, flow: FlowClass) -> list[FunctionNode] | None:
    """The non-step methods of a flow, or None when some of them live in a file the model did not read."""
    nodes: dict[str, FunctionNode] = {}
    for cls in _lineage_classes(module, flow.name):
        for statement in cls.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name not in flow.steps:
                nodes.setdefault(statement.name, statement)
    if not flow.methods <= set(nodes):
        return None
    return list(nodes.values())


def _scan_self(context: RuleContext, roots: list[ast.AST], methods: set[str] = frozenset()) -> tuple[set[str], bool]:
    """Names read as `self.<name>` (also `getattr(self, "name")` and a switch's `condition="name"`) in `roots`, and
    whether `self` escapes where reads cannot be followed: handed to a function, aliased, `getattr` with a computed
    name, or a call of one of the flow's own `methods`. Computed per function, and kept while it is unchanged."""
    reads: set[str] = set()
    opaque = False
    key = ("scan-self", frozenset(methods))
    for root in roots:
        root_reads, root_opaque = context.derived(root, key, lambda: _scan_self_in(context.nodes(root), methods))
        reads |= root_reads
        opaque |= root_opaque
    return reads, opaque


def _scan_self_in(flat: list[ast.AST], methods: set[str]) -> tuple[set[str], bool]:
    reads: set[str] = set()
    opaque = False
    receivers: set[int] = set()
    handled: set[int] = set()
    for node in flat:
        if is_self_attr(node):
            receivers.add(id(node.value))
            reads.add(node.attr)
            if node.attr in methods:
                opaque = True
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in ("getattr", "hasattr", "setattr", "delattr") and node.args and is_self(node.args[0]):
                handled.add(id(node.args[0]))
                key = node.args[1] if len(node.args) > 1 else None
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    reads.add(key.value)
                else:
                    opaque = True
            elif name == "isinstance" and node.args and is_self(node.args[0]):
                handled.add(id(node.args[0]))
            for keyword in node.keywords:
                if (keyword.arg == "condition" and isinstance(keyword.value, ast.Constant)
                        and isinstance(keyword.value.value, str)):
                    reads.add(keyword.value.value)
    for node in flat:
        if is_self(node) and isinstance(node.ctx, ast.Load) and id(node) not in receivers and id(node) not in handled:
            opaque = True
    return reads, opaque


def _step_is_start(context: RuleContext, flow: FlowClass, step: Step) -> bool:
    return context.graph(flow).start_step == step.name


def _test_mode(flow: FlowClass, settings) -> FlowTestMode:
    return find_test_mode(flow, settings.test_mode_parameters)


def _assignment_span(parameter: Parameter) -> Span:
    end_line = (parameter.call.end_lineno or parameter.call.lineno) - 1
    end_col = parameter.call.end_col_offset or parameter.call.col_offset
    return Span(parameter.span.line, parameter.span.col, end_line, end_col)


def _names(items: list[str], shown: int = 3) -> str:
    """`a`, `b` and `c`; beyond `shown` names, "and N more" (the finding's data lists them all)."""
    quoted = [f"`{item}`" for item in items]
    if len(quoted) > shown:
        return ", ".join(quoted[:shown]) + f" and {len(quoted) - shown} more"
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def shown(text: str, limit: int = 48) -> str:
    """Source text (a spec, a URL, an expression) in a message: in backticks, shortened in the middle so the message
    stays one line."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit // 2 - 1] + "…" + text[-(limit // 2):]
    return f"`{text}`"


# -- MF201 ---------------------------------------------------------------------------------------------------------


def count_statements(step: Step, nodes: list[ast.AST] | None = None) -> int:
    """Statements of a step body, nested ones counted, without its docstring and its trailing `self.next(...)`.
    `nodes`: the step's flattened nodes, when the caller has them already."""
    body = step.node.body
    left_out = 1  # the def itself
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        left_out += 1
    if step.has_tail_next and len(body) > left_out - 1:
        left_out += 1
    return sum(1 for node in (nodes or flatten(step.node)) if isinstance(node, ast.stmt)) - left_out


@rule("MF201", "step-too-long", Severity.WARNING, "A step body with more statements than max-step-statements",
      silent="docstring and final `self.next`; steps of other files", reads=Reads.MODULE, per_step=True,
      names_lines=True)  # the line Extract stops before
def step_too_long(context: RuleContext):
    limit = context.settings.max_step_statements
    for _flow, step in context.steps_in_file():
        count = context.derived(step.node, "statements", lambda: count_statements(step, context.nodes(step.node)))
        if count > limit:
            from ..refactor.extract_analysis import part_before_transition  # ast only

            data = {"statements": count, "limit": limit, "step": step.name}
            # a walk of the whole body: kept while the step's text is unchanged, like the count; as a line relative
            # to the `def`, since the step may move
            stop = context.derived(step.node, "extract-stop", lambda: _lines_after_def(part_before_transition(step), step))
            if stop is not None:  # Extract moves only the part before it: the fix's title says so
                data["transition"] = step.node.lineno - 1 + stop
            yield Hit(step.span,
                      f"Step `{step.name}` has {count} statements (limit {limit}): keep steps short and readable. "
                      f"Extract it to `common.py` as a function the step calls.", data)


def _lines_after_def(line: int | None, step: Step) -> int | None:
    return None if line is None else line - (step.node.lineno - 1)


@fix_data
class LongStepData:
    step: str | None = None
    transition: int | None = None  # the line of the conditional transition Extract stops before


def _extract_title(step: str, transition: int | None) -> str:
    from ..refactor.extract_analysis import step_extract_title

    return step_extract_title(step, transition)


def _extract_refusal(module: Module, data: LongStepData) -> str | None:
    from ..refactor.extract_analysis import can_extract  # ast only: cheap enough for the list

    return can_extract(module, data.step) if data.step else "cannot tell which step this is about"


# Extract step body moves the body to common.py, a refactoring the user should look at: unsafe.
declare_fix("MF201", LongStepData, safe=False, apply=lazy("extract", "extract_step_plan"),
            title=lambda data, context: _extract_title(data.step, data.transition) if data.step else None,
            unavailable=_extract_refusal)


# -- MF202 ---------------------------------------------------------------------------------------------------------


# Metaflow's bases for custom decorators and mutators (metaflow.user_decorators): code Metaflow runs around steps and
# flows, used where it is defined; never an artifact.
USER_DECORATOR_BASES = {"UserStepDecorator", "UserStepDecoratorBase", "StepMutator", "FlowMutator"}
USER_DECORATOR_FUNCTIONS = {"user_step_decorator"}


def _last_name(node: ast.expr) -> str:
    return (dotted_name(node.func if isinstance(node, ast.Call) else node) or "").rsplit(".", 1)[-1]


def _is_test_code(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    """What pytest collects or calls: test functions and classes, fixtures, marked functions, hooks."""
    if isinstance(node, ast.ClassDef):
        return node.name.startswith("Test")
    if node.name.startswith(("test", "pytest_")):
        return True
    return any(_last_name(d) == "fixture" or (dotted_name(d.func if isinstance(d, ast.Call) else d) or "")
               .startswith(("pytest.", "mark.")) for d in node.decorator_list)


def _declares_step_or_parameter(statement: ast.stmt) -> bool:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return any(_last_name(d) == "step" for d in statement.decorator_list)
    value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
    return isinstance(value, ast.Call) and _last_name(value) in PARAMETER_KINDS


def _decorator_code(module: Module, flows: list[FlowClass]) -> set[str]:
    """Classes and functions of this module that decorate or mutate steps and flows: subclasses of Metaflow's
    `UserStepDecorator` / `StepMutator` / `FlowMutator` (also through a class of this file), functions made with
    `@user_step_decorator`, and any function written as a decorator on a flow or on one of its steps."""
    found: set[str] = set()
    changed = True
    while changed:  # a mutator base of this file may come after its subclass's base
        changed = False
        for info in module.classes.values():
            if info.name not in found and any(b.rsplit(".", 1)[-1] in USER_DECORATOR_BASES or b in found
                                              for b in info.bases):
                found.add(info.name)
                changed = True
    for info in module.functions.values():
        if any(_last_name(d) in USER_DECORATOR_FUNCTIONS for d in info.node.decorator_list):
            found.add(info.name)
    for flow in flows:
        decorators = list(flow.node.decorator_list)
        decorators += [d for step in flow.steps.values() if step.path == module.path for d in step.node.decorator_list]
        for decorator in decorators:
            head = dotted_name(decorator.func if isinstance(decorator, ast.Call) else decorator)
            if head is not None and "." not in head:
                found.add(head)
    return found


def _names_in_test_steps(context: RuleContext, flow: FlowClass, step: Step) -> frozenset[str] | None:
    """What MF202 reads of a step's body: in a test module, the names it uses (its helpers are the flow's)."""
    if not is_test_module(context.module.path):
        return None
    return frozenset(node.id for node in context.nodes(step.node) if isinstance(node, ast.Name))


@rule("MF202", "helper-in-flow-file", Severity.INFORMATION, "A helper function or class defined in a flow file",
      silent="flow classes and mixins, `main()`, decorators and mutators, test helpers", reads=Reads.GRAPH,
      step_input=_names_in_test_steps)
def helper_in_flow_file(context: RuleContext):
    module = context.module
    if not context.flows:
        return
    keep: set[str] = set(module.main_calls)  # `def main(): ...` called by the main guard launches the flow
    for flow in context.flows:
        keep.update(cls.name for cls in _lineage_classes(module, flow.name))
    for info in module.classes.values():
        # A class with steps or Parameters is a flow or a mixin of one (perhaps for flows of other files): part of
        # the flow's definition, not a helper.
        if any(_declares_step_or_parameter(statement) for statement in info.node.body):
            keep.add(info.name)
    keep |= _decorator_code(module, context.flows)
    test_module = is_test_module(module.path)
    if test_module:  # a test module's own helpers serve its tests; only what the flow's steps call is the flow's
        called_by_steps = {node.id for flow in context.flows for step in flow.own_steps
                           for node in context.nodes(step.node) if isinstance(node, ast.Name)}
    helpers: list[tuple[int, str, str, Span]] = []
    for kind, infos in (("function", module.functions.values()), ("class", module.classes.values())):
        for info in infos:
            if info.name not in keep and not (test_module and (_is_test_code(info.node)
                                                               or info.name not in called_by_steps)):
                helpers.append((info.span.line, kind, info.name, info.span))
    for _line, kind, name, span in sorted(helpers):
        yield Hit(span, f"Helper {kind} `{name}` is defined in a flow file: move it to `common.py`, so other flows "
                        f"and notebooks can import it.", {"name": name, "kind": kind})


@fix_data
class HelperData:
    name: str | None = None


# Moves code to another file: unsafe.
declare_fix("MF202", HelperData, safe=False, apply=lazy("fixes", "move_helper_plan"),
            title=lambda data, context: f"Move {quoted(data.name, 'this helper')} to common.py")


# -- MF203 ---------------------------------------------------------------------------------------------------------

METAFLOW_FOLDERS = (".metaflow", ".metaflow_spin")


def metaflow_folders_not_ignored(project, directory: Path) -> dict | None:
    """For the folder a flow runs from: which of `.metaflow` / `.metaflow_spin` the repository does not ignore,
    and which .gitignore to extend. None when it cannot be known (no repository, git failed, outside the project).
    Cached per folder in the project until `forget_git_answers()`."""

    def compute() -> dict | None:
        folder = directory.resolve()
        missing = []
        for name in METAFLOW_FOLDERS:
            answer = project.is_ignored(folder / name, directory=True)
            if answer is None:
                answer = project.ignored_by_files(folder / name, directory=True)
            if answer is None:
                return None
            if not answer:
                missing.append(name)
        root = project.ignore_root(folder)
        if not missing or root is None:
            return None
        return {"missing": missing, "gitignore": str(root / ".gitignore"), "folder": str(folder)}

    return project.git_answer(("MF203", str(directory)), compute)


def _is_flow_file(project, path: Path) -> bool:
    data = project.module(path) if path.suffix == ".py" else None
    return bool(data is not None and data.ok and data.flows)


def _reported_here(project, path: Path, state: dict) -> bool:
    """MF203 once per repository: on the first flow file (in path order, as saved) of the project that misses the
    same entries of the same .gitignore; on this file when there is none or it is not in the project's list. The
    list is walked again every few seconds; the choice is kept for one list."""
    files = project.cached_python_files()
    current = path.resolve()
    key = ("MF203-reporter", state["gitignore"], tuple(state["missing"]))
    cached = project.git_answer(key, dict)  # {id(files): (files, first flow file or None)}
    known = cached.get(id(files))
    if known is None or known[0] is not files:
        root = Path(state["gitignore"]).parent
        first = None
        for candidate in files:
            if not candidate.is_relative_to(root):
                continue
            if not _is_flow_file(project, candidate):
                continue  # as saved on disk, so every file agrees on the choice; parsed once per change
            other = metaflow_folders_not_ignored(project, candidate.parent)
            if other is not None and other["gitignore"] == state["gitignore"] and other["missing"] == state["missing"]:
                first = candidate
                break
        cached.clear()
        cached[id(files)] = known = (files, first)
    first = known[1]
    return first is None or first == current or current not in files


@rule("MF203", "metaflow-folder-not-ignored", Severity.WARNING, "The repository's .gitignore does not ignore .metaflow",
      silent="folders with no `.git` and no `.gitignore`; files without a flow; home-folder ignores")
def metaflow_folder_not_ignored(context: RuleContext):
    project, path = context.project, context.module.path
    if project is None or path is None or not context.flows:
        return
    flow = next((f for f in context.flows if f.own_steps), context.flows[0])
    state = metaflow_folders_not_ignored(project, Path(path).parent)  # resolved only when not cached
    if state is None or not _reported_here(project, Path(path), state):
        return
    gitignore = Path(state["gitignore"])
    folder = Path(state["folder"])
    try:
        shown_folder = folder.relative_to(gitignore.parent).as_posix()
    except ValueError:
        shown_folder = str(folder)
    if len(shown_folder) > 40:
        shown_folder = "…" + shown_folder[-39:]
    where = "" if shown_folder == "." else f" in `{shown_folder}/`"
    entries = " and ".join(f"`{name}/`" for name in state["missing"])
    plural = len(state["missing"]) > 1
    spin_only = state["missing"] == [".metaflow_spin"]
    what = "what `spin` writes" if spin_only else "the local datastore of every run"
    yield Hit(flow.span, f"{entries}{where} ({what}) {'are' if plural else 'is'} not git-ignored: add "
                         f"{'them' if plural else 'it'} to the repository's `.gitignore`.",
              dict(state), Severity.INFORMATION if spin_only else None)


@fix_data
class GitignoreData:
    missing: list[str] = field(default_factory=list)
    gitignore: str | None = None


# Only adds lines to .gitignore (creating it when missing): safe.
declare_fix("MF203", GitignoreData, safe=True, apply=lazy("fixes", "gitignore_plan"),
            title=lambda data, context: f"Add {', '.join(data.missing or METAFLOW_FOLDERS[:1])} to .gitignore",
            writes=lambda data: Path(data.gitignore) if data.gitignore else None)


# -- MF204 ---------------------------------------------------------------------------------------------------------


def _has_work_to_shrink(flow: FlowClass) -> bool:
    """Whether a test mode would have anything to make smaller: inputs (Parameters, Configs, files) or a fan-out.
    A hello-world flow with neither runs as fast as it ever will."""
    return bool(flow.parameters) or any(
        t.kind in ("foreach", "parallel", "split") for step in flow.steps.values() for t in step.transitions)


@rule("MF204", "no-test-mode-parameter", Severity.WARNING, "A flow without a test-mode Parameter",
      silent="flows with nothing to shrink, unreadable bases, base classes, computed names", reads=Reads.GRAPH)
def no_test_mode_parameter(context: RuleContext):
    name = context.settings.test_mode_parameters[0]
    for flow in context.runnable_flows():
        if context.graph(flow).start_step is None:
            continue
        found = _test_mode(flow, context.settings)
        if found.parameters or found.unknown or not _has_work_to_shrink(flow):
            continue
        yield Hit(flow.span,
                  f"`{flow.name}` has no test-mode Parameter: add `{name} = Parameter(\"{name}\", type=bool, "
                  f"default=False)` and shrink the data and fan-outs with it.",
                  {"flow": flow.name, "parameter": name})


@fix_data
class TestModeFlowData:
    flow: str | None = None


# Adds a command-line option to the flow: unsafe.
declare_fix("MF204", TestModeFlowData, safe=False, apply=lazy("fixes", "test_mode_parameter_plan"),
            title=lambda data, context: "Add a `test_mode` Parameter to the flow")


# -- MF205 ---------------------------------------------------------------------------------------------------------


def _self_reads(context: RuleContext, flow: FlowClass, step: Step) -> tuple[frozenset[str], bool]:
    """What MF205 reads of a step: the `self.<name>`s it reads, and whether `self` escapes."""
    reads, opaque = _scan_self(context, [step.node])
    return frozenset(reads), opaque


@rule("MF205", "test-mode-parameter-unused", Severity.WARNING, "A test-mode Parameter that no step reads",
      silent="`self` handed to a helper; a test-mode Parameter inherited from a base", reads=Reads.MODULE,
      step_input=_self_reads)
def test_mode_parameter_unused(context: RuleContext):
    module = context.module
    for flow in context.complete_flows():
        parameter = _test_mode(flow, context.settings).parameter  # the one the launcher passes
        if parameter is None or parameter.owner != flow.name:
            continue
        methods = method_nodes(module, flow)
        if methods is None:
            continue
        reads, opaque = _scan_self(context, [s.node for s in flow.steps.values()] + methods)
        if opaque or parameter.attr in reads:
            continue
        yield Hit(_assignment_span(parameter),
                  f"Test-mode Parameter `{parameter.attr}` is never read, so `run --{parameter.option} 1` runs the "
                  f"full workload: shrink the data and foreach lists under `self.{parameter.attr}`.",
                  {"parameter": parameter.attr, "option": parameter.option})


@fix_data
class UnusedTestModeData:
    parameter: str | None = None


# Inserts code for the user to fill in: unsafe.
declare_fix("MF205", UnusedTestModeData, safe=False, apply=lazy("fixes", "use_test_mode_plan"),
            title=lambda data, context: f"Use {quoted(data.parameter, 'the test-mode Parameter')} to shrink the run")


# -- MF206 ---------------------------------------------------------------------------------------------------------


def _bound_names(target: ast.expr) -> list[str]:
    """Local names an assignment target binds (`a`, `a, *b`), not `self` in `self.x = ...`."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _bound_names(element)]
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return []


class _TestModeUse:
    """Whether a function handles `self.<var>` under test mode: assigns it from an expression involving the
    test-mode Parameter (directly, through a local variable computed from it, or through a helper given `self`), or
    touches it inside a branch on it."""

    def __init__(self, var: str, test_mode: set[str], methods: set[str]):
        self.var = var
        self.test_mode = test_mode
        self.methods = methods
        self.tainted: set[str] = set()
        self.writes = 0
        self.handled = False

    def involves(self, node: ast.AST | None) -> bool:
        if node is None:
            return False
        for child in ast.walk(node):
            if is_self_attr(child) and child.attr in self.test_mode:
                return True
            if is_self_attr(child) and child.attr in self.methods:
                return True  # one of the flow's methods may read the test-mode Parameter
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load) and child.id in self.tainted:
                return True
            if isinstance(child, ast.Call) and any(is_self(a) for a in child.args + [k.value for k in child.keywords]):
                return True  # a helper given `self` may read the test-mode Parameter
        return False

    def _mentions_var(self, node: ast.AST) -> bool:
        return any(is_self_attr(c) and c.attr == self.var for c in ast.walk(node))

    def _writes_var(self, targets: list[ast.expr]) -> bool:
        return any(is_self_attr(c) and c.attr == self.var
                   and isinstance(c.ctx, ast.Store) for t in targets for c in ast.walk(t))

    def body(self, statements: list[ast.stmt], under: bool) -> None:
        for statement in statements:
            self.statement(statement, under)

    def statement(self, node: ast.stmt, under: bool) -> None:
        if isinstance(node, (ast.If, ast.While)):
            inner = under or self.involves(node.test)
            self.body(node.body, inner)
            self.body(node.orelse, inner)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            inner = under or self.involves(node.iter)
            if inner:
                self.tainted.update(_bound_names(node.target))
            self.body(node.body, inner)
            self.body(node.orelse, inner)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self.body(node.body, under or any(self.involves(i.context_expr) for i in node.items))
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.body(node.body, under)
            for handler in node.handlers:
                self.body(handler.body, under)
            self.body(node.orelse, under)
            self.body(node.finalbody, under)
        elif isinstance(node, ast.Match):
            inner = under or self.involves(node.subject)
            for case in node.cases:
                self.body(case.body, inner or self.involves(case.guard))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.body(node.body, under)
        else:
            targets: list[ast.expr] = []
            value = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets, value = [node.target], node.value
            dependent = under or self.involves(value)
            if targets and dependent:
                self.tainted.update(name for t in targets for name in _bound_names(t))
            if self._writes_var(targets):
                self.writes += 1
            if self._mentions_var(node) and (under or self.involves(node)):
                self.handled = True


def _by_self_attribute(context: RuleContext, functions: list[ast.AST]) -> dict[str, list[ast.AST]]:
    """Each `self.<name>` with the functions that mention it, in order (each function's names are kept while it is
    unchanged): one pass over the flow, however many fan-outs it has."""
    index: dict[str, list[ast.AST]] = {}
    for function in functions:
        names = context.derived(function, "self-attributes", lambda function=function: {
            n.attr for n in context.nodes(function) if is_self_attr(n)})
        for name in names:
            index.setdefault(name, []).append(function)
    return index


def _test_mode_use(context: RuleContext, function: ast.AST, var: str, test_mode: frozenset[str],
                   methods: frozenset[str]) -> tuple[int, bool]:
    """(writes, handled) of `_TestModeUse` over one function: the key names all it reads besides the function, so
    an unchanged step keeps its answer across keystrokes."""

    def compute() -> tuple[int, bool]:
        use = _TestModeUse(var, set(test_mode), set(methods))
        use.body(function.body, False)
        use.body(function.body, False)  # again, for locals tainted later in a loop
        return use.writes, use.handled

    return context.derived(function, ("test-mode-use", var, test_mode, methods), compute)


def _test_mode_uses(context: RuleContext, flow: FlowClass, step: Step) -> tuple:
    """What MF206 reads of a step beyond the graph: the `self.<name>`s it mentions, and what it does with each under
    test mode."""
    test_mode = frozenset(p.attr for p in _test_mode(flow, context.settings).parameters)
    methods = frozenset(flow.methods)
    mentioned = _by_self_attribute(context, [step.node])
    return tuple((name, _test_mode_use(context, step.node, name, test_mode, methods)) for name in sorted(mentioned)
                 if name in foreach_lists(context, flow))



@rule("MF206", "foreach-not-shrunk-in-test-mode", Severity.HINT,
      "A foreach list that the test-mode Parameter never shortens",
      silent="foreach over a Parameter or Config; lists built by helpers given `self`", reads=Reads.GRAPH,
      step_input=_test_mode_uses)
def foreach_not_shrunk(context: RuleContext):
    module = context.module
    reported: set[int] = set()
    for flow in context.complete_flows():
        test_mode = _test_mode(flow, context.settings).parameters
        if not test_mode:
            continue
        methods = method_nodes(module, flow)
        if methods is None:
            continue
        functions: dict[str, list[ast.AST]] | None = None  # by the self.<name> they mention, built when needed
        test_mode_attrs = frozenset(p.attr for p in test_mode)
        methods_names = frozenset(flow.methods)
        for step in flow.steps.values():
            if not context.defined_here(step):
                continue
            for transition in step.transitions:
                var = transition.foreach
                if transition.kind != "foreach" or not isinstance(var, str) or id(transition.call) in reported:
                    continue
                if var in flow.parameters or not flow.is_artifact(var):
                    continue  # a Parameter or Config: test mode can pass a short list on the command line
                if functions is None:
                    functions = _by_self_attribute(context, [s.node for s in flow.steps.values()] + methods)
                writes, handled = 0, False
                for function in functions.get(var, ()):  # the others neither write nor shorten self.<var>
                    function_writes, function_handled = _test_mode_use(context, function, var, test_mode_attrs,
                                                                       methods_names)
                    writes += function_writes
                    handled |= function_handled
                if writes == 0 or handled:
                    continue  # assigned where we cannot see, or shortened under test mode
                reported.add(id(transition.call))
                attr = test_mode[0].attr
                yield Hit(transition.span,
                          f"foreach over `self.{var}` fans out to the full list in test mode too: shorten it when "
                          f"`self.{attr}` is set (e.g. `[:2]`), so a test run starts a few tasks.",
                          {"foreach": var, "test_mode": attr})


# -- MF207 ---------------------------------------------------------------------------------------------------------


def _validated_at_launch(parameter: Parameter) -> bool:
    """Parameters that Click already checks completely when the run starts: booleans and choices."""
    kind = next((k.value for k in parameter.call.keywords if k.arg == "type"), None)
    if isinstance(kind, ast.Call) and (dotted_name(kind.func) or "").endswith("Choice"):
        return True
    return is_bool_parameter(parameter)


def _used_by_decorators(flow: FlowClass, module: Module, parameter: Parameter) -> bool:
    """A Config read in a class or step decorator is evaluated (and fails) when the run starts."""
    decorators = [d for cls in _lineage_classes(module, flow.name) for d in cls.decorator_list]
    decorators += [d for step in flow.steps.values() for d in step.node.decorator_list]
    return any(isinstance(n, ast.Name) and n.id == parameter.attr for d in decorators for n in ast.walk(d))


@rule("MF207", "validate-parameters-in-start", Severity.HINT,
      "Parameters first read after start while start validates nothing",
      silent="booleans, choices, test mode; a start that asserts, raises or hands `self` on")
def validate_parameters_in_start(context: RuleContext):
    module = context.module
    reported: set[int] = set()
    # not on a base class: its start may be overridden, its later steps are its subclasses'
    for flow in context.runnable_flows():
        start_name = context.graph(flow).start_step
        start = flow.steps.get(start_name) if start_name else None
        if start is None or not context.defined_here(start) or id(start.node) in reported:
            continue
        if any(isinstance(n, (ast.Assert, ast.Raise)) for n in context.nodes(start.node)):
            continue
        start_reads, opaque = _scan_self(context, [start.node], flow.methods)
        if opaque:
            continue  # start hands `self` to a helper or a method, which may validate
        test_mode = _test_mode(flow, context.settings).attributes
        later_reads, _ = _scan_self(context, [s.node for s in flow.steps.values() if s is not start])
        late = [p for p in flow.parameters.values()
                if p.kind in ("Parameter", "Config") and p.attr in later_reads and p.attr not in start_reads
                and p.attr not in test_mode and not _validated_at_launch(p)
                and not (p.kind == "Config" and _used_by_decorators(flow, module, p))]
        if not late:
            continue
        reported.add(id(start.node))
        groups = []
        for kind in ("Parameter", "Config"):
            names = [p.attr for p in late if p.kind == kind]
            if names:
                groups.append(f"{kind}{'s' if len(names) > 1 else ''} {_names(names)}")
        several = len(late) > 1
        yield Hit(start.span,
                  f"{', '.join(groups)} {'are' if several else 'is'} first read after `{start.name}`, which checks "
                  f"nothing: validate {'them' if several else 'it'} in `{start.name}`, so a bad value fails in "
                  f"seconds.", {"parameters": [p.attr for p in late]})
