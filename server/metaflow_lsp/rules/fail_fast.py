"""MF208-MF209, the guide's "fail fast" for what a run fetches: other flows' runs are loaded in start (a missing
run fails in seconds, not hours in), and packages come from @pypi / @conda, not pip or conda called at run time.
Same family as `guide.py`."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..model import FlowClass, Module, dotted_name, is_self_attr
from ..text import Span
from .guide import FunctionNode, method_nodes, shown
from .installs import find_installs, install_helper_names, installer_names
from .registry import Hit, Reads, Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

# -- MF208 ---------------------------------------------------------------------------------------------------------

CLIENT_CLASSES = {"Flow", "Run", "Step", "Task", "DataArtifact"}
LATEST = {"latest_run", "latest_successful_run"}


def client_names(module: Module) -> tuple[dict[str, str], set[str]]:
    """Names bound to Metaflow's client classes (`Flow` -> "Flow") and names bound to the metaflow package."""
    classes, packages = {}, set()
    for item in module.imports:
        if item.module.split(".")[0] != "metaflow" or item.level:
            continue
        if item.name is None:
            if item.module == "metaflow" or item.bound_name == "metaflow":
                packages.add(item.bound_name)
        elif item.name in CLIENT_CLASSES:
            classes[item.bound_name] = item.name
    return classes, packages


def client_call(node: ast.AST, classes: dict[str, str], packages: set[str]) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    name = dotted_name(node.func)
    if name in classes:
        return classes[name]
    if name and "." in name:
        head, _, last = name.rpartition(".")
        if head in packages and last in CLIENT_CLASSES:
            return last
    return None


CURRENT_RUN = {"run_id", "pathspec", "task_id", "step_name", "retry_count", "origin_run_id", "parallel"}


def _class_constants(flow: FlowClass, module: Module) -> set[str]:
    """Class attributes (`upstream = "TrainFlow"`) that no step or method assigns: fixed before the run starts.
    None of them when a method lives in a file the model did not read."""
    methods = method_nodes(module, flow)
    if methods is None:
        return set()
    written = {a.name for step in flow.steps.values() for a in step.writes()}
    written |= {n.attr for method in methods for n in ast.walk(method)
                if is_self_attr(n) and isinstance(n.ctx, (ast.Store, ast.Del))}
    return set(flow.class_attributes) - written


def _static(expression: ast.AST, flow: FlowClass, module: Module, local: set[str]) -> bool:
    """Whether an argument names another run that is known before the run starts: literals, module-level names,
    Parameters, class constants, `current.flow_name` (not the current run itself: `Run(current.pathspec)`)."""
    constants = None
    for node in ast.walk(expression):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in CURRENT_RUN:
            return False
        if is_self_attr(node):
            if node.attr in flow.parameters:
                continue
            constants = _class_constants(flow, module) if constants is None else constants
            if node.attr not in constants:
                return False
        elif isinstance(node, ast.Name):
            if node.id == "self":
                continue
            if node.id in local or not (node.id in module.constants or module.imported(node.id) is not None):
                return False
        elif isinstance(node, (ast.Call, ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom)):
            return False
    return True


def _this_flow(call: ast.Call) -> bool:
    """`Flow(current.flow_name)` (the client class checked by the caller): the running flow itself, whose runs
    include this one."""
    return (len(call.args) == 1 and not call.keywords and isinstance(call.args[0], ast.Attribute)
            and call.args[0].attr == "flow_name" and isinstance(call.args[0].value, ast.Name)
            and call.args[0].value.id == "current")


def _locals(function: FunctionNode) -> set[str]:
    names = {a.arg for a in function.args.args + function.args.kwonlyargs + function.args.posonlyargs}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


@rule("MF208", "load-other-flows-in-start", Severity.WARNING,
      "Runs of other flows loaded after start instead of in start",
      silent="the run itself (`current.run_id`); pathspecs built from this run's data")
def load_other_flows_in_start(context: RuleContext):
    module = context.module
    classes, packages = client_names(module)
    if not classes and not packages:
        return
    for flow, step in context.steps_in_file():
        if not flow.complete:
            continue
        start_name = context.graph(flow).start_step
        if start_name is None or step.name == start_name:
            continue
        start = flow.steps.get(start_name)
        in_start = context.memo(("client-calls", id(start.node) if start else None), lambda: {
            ast.dump(n) for n in context.nodes(start.node) if client_call(n, classes, packages)} if start else set())
        loads: list[tuple[ast.expr, ast.Call]] = []  # (what to underline, the client call)
        inside_latest: set[int] = set()
        nodes = context.nodes(step.node)
        for node in nodes:
            if isinstance(node, ast.Attribute) and node.attr in LATEST and client_call(node.value, classes, packages):
                loads.append((node, node.value))  # type: ignore[arg-type]
                inside_latest.add(id(node.value))
        for node in nodes:
            if client_call(node, classes, packages) and id(node) not in inside_latest:
                loads.append((node, node))  # type: ignore[arg-type]
        if not loads:
            continue
        local = _locals(step.node)
        for target, call in sorted(loads, key=lambda item: (item[0].lineno, item[0].col_offset)):
            if ast.dump(call) in in_start:
                continue
            if client_call(call, classes, packages) == "Flow" and _this_flow(call) \
                    and not (isinstance(target, ast.Attribute) and target.attr == "latest_successful_run"):
                continue  # this run (`Flow(current.flow_name)[current.run_id]`, `.latest_run`), not another one
            arguments = list(call.args) + [k.value for k in call.keywords]
            if not arguments or not all(_static(a, flow, module, local) for a in arguments):
                continue  # built from this run's data: it cannot be loaded earlier
            text = ast.get_source_segment(module.source, target) or client_call(call, classes, packages)
            yield Hit(Span.of(target),
                      f"{shown(text, 56)} is first loaded in step `{step.name}`: load it in `{start_name}` "
                      f"and keep its `.pathspec`, so a missing run fails in seconds.",
                      {"step": step.name, "expression": text})


# -- MF209 ---------------------------------------------------------------------------------------------------------

def _module_level_nodes(context: RuleContext) -> list[ast.AST]:
    """The nodes a flow file runs when it is imported, which every task does: outside functions and classes
    (the `__main__` block included: each task runs the file as its main script)."""
    tree = context.module.tree
    if tree is None:
        return []

    def compute() -> list[ast.AST]:
        nodes: list[ast.AST] = []
        stack = list(reversed(tree.body))
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue  # runs when called, not when the file is imported
            nodes.append(node)
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
        return nodes

    return context.memo(("module-level-nodes", id(tree)), compute)


def _install_hit(node: ast.Call, packages: list[str] | None, step: str | None) -> Hit:
    data = {"step": step, "packages": packages or []}
    if packages is None:  # the guide's own helper: fine while developing, an environment decorator later
        where = f"Step `{step}` installs" if step else "This module-level call installs (in every task)"
        return Hit(Span.of(node), f"{where} packages with `install_dependencies`: fine while developing; consider "
                                  f"@pypi or @conda once the flow settles.", {**data, "helper": True},
                   Severity.INFORMATION)
    listed = ", ".join(packages[:3]) + (", …" if len(packages) > 3 else "")
    listed = f" ({listed})" if listed else ""
    if step is None:
        return Hit(Span.of(node), f"This module-level call installs packages{listed} in every task (each imports the "
                                  f"flow file): declare them with @pypi or @conda.", data)
    return Hit(Span.of(node), f"Step `{step}` installs packages at run time{listed}: declare them with @pypi or "
                              f"@conda, so every task gets the same pinned environment.", data)


@rule("MF209", "install-at-run-time", Severity.WARNING,
      "Packages installed with pip or conda at run time, in a step or at module level",
      silent="commands built in variables; installs in helpers nobody calls at import time", reads=Reads.MODULE,
      per_step=True)
def install_at_run_time(context: RuleContext):
    if not context.flows:
        return
    names = installer_names(context.module)
    helpers = install_helper_names(context.module)
    key = ("installs", helpers, tuple((name, frozenset(a), frozenset(b)) for name, (a, b) in sorted(names.items())))
    for node, packages in find_installs(_module_level_nodes(context), names, helpers):
        yield _install_hit(node, packages, None)
    for _flow, step in context.steps_in_file():
        installs = context.derived(step.node, key, lambda: find_installs(context.nodes(step.node), names, helpers))
        for node, packages in installs:
            yield _install_hit(node, packages, step.name)
