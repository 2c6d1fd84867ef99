"""What a debug notebook of one step needs to know, decided without running anything: the flow and step from the
static model (`ast`), the run and its tasks from the local datastore's metadata files (`launch/datastore.py`).

`debug_plan` either returns a `DebugPlan` or raises `NotebookError` with a message for the user: no run yet, the
run failed before the step, the step never ran.
"""

from __future__ import annotations

import ast
import keyword
from dataclasses import dataclass, field
from pathlib import Path

from ..builder import parse_module
from ..files import read_source
from ..graph import FlowGraph
from ..launch import datastore
from ..launch.datastore import LocalRun, TaskRecord
from ..model import FlowClass, Module, Step
from ..refactor.extract_analysis import COMMON_MODULE, common_bindings

# Artifacts Metaflow stores in every task that are no user's: the flow's name (the `_`-prefixed ones are skipped too).
SYSTEM_ARTIFACTS = frozenset({"name"})
# Names the notebook itself binds; an artifact of the same name keeps its value, the notebook's own object moves.
OWN_NAMES = ("run", "task", "parent", "foreach", "inputs")


class NotebookError(Exception):
    """No notebook can be written; the message says why, for the user."""


@dataclass(frozen=True)
class CommonCall:
    """`self.a, self.b = common.f(self.x, self.input)` in the step, as the Extract refactor writes it."""

    function: str  # its name in common.py
    source: str  # the statement as written, for the notebook's comment
    arguments: tuple[str, ...]  # the notebook's expressions for its arguments (`x`, `input`, `inputs`, literals)
    keywords: tuple[tuple[str, str], ...]
    targets: tuple[str | None, ...]  # per assigned element, the artifact it ends in (None: a local only)
    unpacks: bool  # the call's result is a tuple assigned to several targets


@dataclass
class DebugPlan:
    flow_path: Path
    flow: str
    step: str
    run: LocalRun
    task: TaskRecord  # the task the notebook opens (the first of a foreach)
    other_tasks: tuple[str, ...]  # pathspecs of the step's other tasks, in foreach order
    kind: str  # "start", "join", "foreach" (a foreach child), "linear"
    bound: tuple[str, ...]  # artifacts of the task the step did not write: variables of the same name
    recorded: tuple[str, ...]  # artifacts the step wrote that the task stored: `<name>_recorded`
    received: tuple[str, ...]  # artifacts the step wrote whose incoming value the parent may hold: `<name>`
    has_common: bool  # common.py beside the flow
    calls: tuple[CommonCall, ...]
    all_namespaces: bool = False
    own: dict[str, str] = field(default_factory=dict)  # notebook object -> its variable (`task`, or `task_`)


def debug_plan(flow_path: Path, step_name: str | None = None, run_id: str | None = None,
               all_namespaces: bool = False, source: str | None = None) -> DebugPlan:
    """The plan of the notebook for `step_name` (default: the first step calling common.py, else `start`) of the
    flow in `flow_path`, for run `run_id` (default: the flow's latest local run)."""
    flow_path = Path(flow_path)
    try:
        text = source if source is not None else read_source(flow_path)  # a regular file, size-capped
    except (OSError, UnicodeDecodeError) as error:
        raise NotebookError(f"cannot read {flow_path}: {getattr(error, 'strerror', None) or error}") from None
    module = parse_module(text, flow_path)
    if not module.ok:
        raise NotebookError(f"{flow_path.name} has a syntax error; fix it first")
    flow, step = _flow_and_step(module, step_name)
    run = _run(flow_path, flow.name, run_id)
    task_ids = run.task_ids(step.name)
    if not task_ids:
        raise NotebookError(_why_no_task(flow_path.parent, run, step.name))
    tasks = sorted((datastore.task_record(flow_path.parent, run, step.name, task_id) for task_id in task_ids),
                   key=lambda t: (t.foreach_index if t.foreach_index is not None else -1, _number(t.pathspec)))
    task = tasks[0]
    graph = FlowGraph(flow)
    kind = ("start" if step.name == graph.start_step else "join" if step.is_join
            else "foreach" if any(graph[p].type == "foreach" and not graph[p].parallel_foreach
                                  for p in graph[step.name].in_funcs if p in graph)
            else "linear")
    written = list(dict.fromkeys(a.name for a in flow.artifact_writes(step)))
    stored = [name for name in task.artifacts if _user_artifact(name)]
    own = _own_names(set(stored) | {f"{name}_recorded" for name in written} | set(written))
    has_common = (flow_path.parent / f"{COMMON_MODULE}.py").is_file()
    return DebugPlan(
        flow_path=flow_path, flow=flow.name, step=step.name, run=run, task=task,
        other_tasks=tuple(t.pathspec for t in tasks[1:]), kind=kind,
        bound=tuple(name for name in stored if name not in written),
        recorded=tuple(name for name in stored if name in written),
        received=tuple(written) if kind not in ("start", "join") else (),
        has_common=has_common, calls=tuple(common_calls(module, step, own)) if has_common else (),
        all_namespaces=all_namespaces, own=own)


def _flow_and_step(module: Module, step_name: str | None) -> tuple[FlowClass, Step]:
    if not module.flows:
        raise NotebookError(f"{module.path.name if module.path else 'the file'} defines no Metaflow flow")
    if step_name is None:
        for flow in module.flows:
            for step in flow.steps.values():
                if common_calls(module, step, {}):
                    return flow, step
        flow = module.flows[0]
        start = FlowGraph(flow).start_step
        if start is None:
            raise NotebookError(f"{flow.name} has no start step; name the step with --step")
        return flow, flow.steps[start]
    for flow in module.flows:
        if step_name in flow.steps:
            return flow, flow.steps[step_name]
    names = ", ".join(s for f in module.flows for s in f.steps)
    raise NotebookError(f"no step `{step_name}` in {module.flows[0].name} (its steps: {names})")


def _run(flow_path: Path, flow: str, run_id: str | None) -> LocalRun:
    folder = flow_path.parent
    run = datastore.run_by_id(folder, flow, run_id) if run_id else datastore.latest_run(folder, flow)
    if run is not None:
        return run
    if run_id:
        raise NotebookError(f"no local run {flow}/{run_id} (looked in {_where(folder)})")
    raise NotebookError(f"no local run of {flow} yet: run the flow first (`python {flow_path.name} run` in "
                        f"{folder}), then make the notebook")


def _where(folder: Path) -> str:
    root = datastore.datastore_root(folder)
    return str(root) if root is not None else f"{folder / datastore.DATASTORE_DIR} (none there)"


def _why_no_task(folder: Path, run: LocalRun, step: str) -> str:
    """The step has no task in the run: the run failed (or stopped) before it, or finished without it."""
    pathspec = f"{run.flow}/{run.run_id}"
    failed = [record for name, ids in run.tasks for record in
              (datastore.task_record(folder, run, name, task_id) for task_id in ids) if record.ok is False]
    if failed:
        where = failed[0].pathspec.split("/")[2]
        return (f"run {pathspec} failed before step `{step}` (step `{where}` failed, task {failed[0].pathspec}); "
                f"fix it and run the flow again, or debug `{where}`")
    end_ids = run.task_ids("end")
    if end_ids and datastore.task_record(folder, run, "end", end_ids[-1]).ok:
        return (f"step `{step}` never ran in run {pathspec}: the run finished without it (a branch not taken, or a "
                "step added since)")
    return f"run {pathspec} has not reached step `{step}` (still running, or stopped before it)"


def _number(pathspec: str) -> tuple[int, str]:
    task_id = pathspec.rsplit("/", 1)[-1]
    return (int(task_id), "") if task_id.isdigit() else (0, task_id)


def _user_artifact(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_") \
        and name not in SYSTEM_ARTIFACTS and name != COMMON_MODULE


def _own_names(taken: set[str]) -> dict[str, str]:
    own = {}
    for name in OWN_NAMES:
        chosen = name
        while chosen in taken:
            chosen += "_"
        own[name] = chosen
    return own


# -- the step's calls of common.py ---------------------------------------------------------------------------------


def common_calls(module: Module, step: Step, own: dict[str, str]) -> list[CommonCall]:
    """The statements of the step's body that call a function of common.py with arguments the notebook can give
    again: artifacts (`self.x`), the foreach `self.input` / `self.index`, a join's `inputs`, and literals. A call
    with anything else (a local, a module's name) is left out: the notebook could not call it with the same values."""
    alias, from_common = common_bindings(module)
    join_argument = step.node.args.args[1].arg if step.is_join else None
    # `x = common.f(...)` then `if x is not common.UNSET: self.a = x`: the local ends in artifact `a`.
    local_to_artifact = {
        node.value.id: node.targets[0].attr for node in ast.walk(step.node)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Name)
        and _self_attribute(node.targets[0]) is not None}
    calls = []
    for statement in step.node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.Expr):
            target, value = None, statement.value
        else:
            continue
        if not isinstance(value, ast.Call):
            continue
        function = _common_function(value.func, alias, from_common)
        if function is None:
            continue
        arguments = [_argument(a, join_argument, own) for a in value.args]
        keywords = [(k.arg, _argument(k.value, join_argument, own)) for k in value.keywords]
        if None in arguments or any(k is None or v is None for k, v in keywords):
            continue
        elements = target.elts if isinstance(target, ast.Tuple) else [target] if target is not None else []
        targets = []
        for element in elements:
            attribute = _self_attribute(element)
            if attribute is None and isinstance(element, ast.Name):
                attribute = local_to_artifact.get(element.id)
            elif attribute is None:
                break  # a subscript or starred target: not the shape Extract writes
            targets.append(attribute)
        else:
            calls.append(CommonCall(function, ast.unparse(statement), tuple(arguments),  # type: ignore[arg-type]
                                    tuple(keywords), tuple(targets), isinstance(target, ast.Tuple)))
    return calls


def _common_function(func: ast.expr, alias: str | None, from_common: set[str]) -> str | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and alias and func.value.id == alias:
        return func.attr
    if isinstance(func, ast.Name) and func.id in from_common:
        return func.id
    return None


def _self_attribute(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _argument(node: ast.expr, join_argument: str | None, own: dict[str, str]) -> str | None:
    attribute = _self_attribute(node)
    if attribute is not None:
        return attribute if attribute.isidentifier() and not keyword.iskeyword(attribute) else None
    if isinstance(node, ast.Name) and node.id == join_argument:
        return own.get("inputs", "inputs")
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return ast.unparse(node)
