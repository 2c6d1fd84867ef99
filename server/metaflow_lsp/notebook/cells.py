"""The debug notebook of a `DebugPlan` as nbformat 4 JSON (written here: no dependency on nbformat).

Run with the flow's folder as working directory, the notebook opens the run with Metaflow's Client API, binds the
task's artifacts to variables, gives the step's received values their names, and calls the step's common.py
functions again to compare with what the run recorded. Its cells are plain code a user can edit.
"""

from __future__ import annotations

import json
from pathlib import Path

from .plan import CommonCall, DebugPlan

NBFORMAT_MINOR = 5  # 4.5: cells have ids
MAX_LISTED_TASKS = 100

# Defined in the notebook when it compares: what `==` means for arrays and data frames too.
SAME_HELPER = '''\
NOT_RECORDED = object()  # what the run did not store (the step failed, or left the artifact unset)


def same(new, recorded):
    """Whether a value computed here equals what the run recorded (arrays and data frames: every element)."""
    unset = getattr(common, "UNSET", NOT_RECORDED)  # what an extracted function returns for "not assigned"
    if recorded is NOT_RECORDED or new is unset:
        return recorded is NOT_RECORDED and new is unset
    try:
        equal = new == recorded
        for _ in range(2):  # numpy: array -> bool; pandas: frame -> series -> bool
            if hasattr(equal, "all") and not isinstance(equal, bool):
                equal = equal.all()
        return bool(equal)
    except Exception:  # values that cannot be compared
        return False
'''


def notebook_json(plan: DebugPlan, folder: Path) -> str:
    """The content of the notebook written in `folder`."""
    cells = [_markdown(_title(plan)), _code(_setup(plan, folder)), _code(_open_run(plan))]
    if plan.other_tasks:
        cells.append(_code(_other_tasks(plan)))
    cells += [_markdown("## Artifacts\nEvery artifact of the task in a variable of its name; what the step wrote is "
                        "`<name>_recorded`, and `<name>` is the value the step received, where it received one."),
              _code(_bind(plan))]
    received = _received(plan)
    if received:
        cells.append(_code(received))
    if plan.calls:
        cells.append(_markdown("## The step's common.py calls, again\nEdit common.py and run these cells again: "
                               "autoreload picks the change up, and the comparison says whether the result still "
                               "matches the run."))
        cells.append(_code(SAME_HELPER))
        cells += [_code(_call(plan, call)) for call in plan.calls]
    for number, cell in enumerate(cells, 1):
        cell["id"] = f"cell-{number}"
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": NBFORMAT_MINOR,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _title(plan: DebugPlan) -> str:
    return (f"# Debug step `{plan.step}` of {plan.flow}\n"
            f"Run `{plan.run.flow}/{plan.run.run_id}`, task `{plan.task.pathspec}`. Run the cells with "
            f"`{plan.flow_path.parent.name or '.'}/` (the flow's folder) as working directory.")


def _setup(plan: DebugPlan, folder: Path) -> str:
    lines = ["%load_ext autoreload", "%autoreload 2", ""]
    if folder.resolve() != plan.flow_path.parent.resolve():  # Jupyter starts in the notebook's folder
        lines += ["import os", "", f"os.chdir({str(plan.flow_path.parent.resolve())!r})  # the flow's folder: its "
                                    ".metaflow and common.py"]
    if plan.has_common:
        lines.append("import common  # reloaded before each cell: edits to common.py apply at once")
    lines.append("import metaflow")
    return "\n".join(lines)


def _open_run(plan: DebugPlan) -> str:
    own = plan.own
    lines = []
    if plan.all_namespaces:
        lines.append("metaflow.namespace(None)  # every user's runs, not only yours")
    lines += [f"{own['run']} = metaflow.Run({plan.run.flow + '/' + plan.run.run_id!r})",
              f"{own['task']} = metaflow.Task({plan.task.pathspec!r})"
              + ("  # the first task of the foreach" if plan.other_tasks else "")]
    if plan.task.ok is False:
        lines.append("print('This task failed in the run: what it wrote was not stored')")
    lines.append(own["task"])
    return "\n".join(lines)


def _other_tasks(plan: DebugPlan) -> str:
    """The step's other tasks, in foreach order, from the generation's reading of the run (cheap to run: the Client
    would load each task's foreach stack to order them)."""
    shown = plan.other_tasks[:MAX_LISTED_TASKS]
    more = len(plan.other_tasks) - len(shown)
    lines = [f"# The other tasks of `{plan.step}`: to debug one, put its pathspec in the cell above and run again.",
             f"other_tasks = [{', '.join(repr(p) for p in shown)}]"
             + (f"  # and {more} more: {plan.own['run']}[{plan.step!r}] has them all" if more else ""),
             "for pathspec in other_tasks:",
             "    print(pathspec)"]
    return "\n".join(lines)


def _bind(plan: DebugPlan) -> str:
    own = plan.own
    lines = [f"{name} = {own['task']}[{name!r}].data" for name in plan.bound]
    if plan.recorded:
        lines += ["", f"# What `{plan.step}` wrote, as the run recorded it"]
        lines += [f"{name}_recorded = {own['task']}[{name!r}].data" for name in plan.recorded]
    return "\n".join(lines) or "# The task stored no artifacts of the flow's own"


def _received(plan: DebugPlan) -> str:
    """What the step received: its parent's values of the artifacts it writes, the foreach item, a join's inputs."""
    own = plan.own
    if plan.kind == "join":
        return "\n".join([
            f"# What `{plan.step}` received: one input per parent task (artifacts as attributes, `inp.x`)",
            f"{own['inputs']} = [parent.data for parent in sorted({own['task']}.parent_tasks, "
            "key=lambda t: (t.index or 0, int(t.id)))]",
        ])
    if plan.kind == "start":
        return ""
    lines = [f"# What `{plan.step}` received from its parent task",
             f"{own['parent']} = next({own['task']}.parent_tasks)"]
    if plan.kind == "foreach":
        lines += [f"{own['foreach']} = {own['task']}['_foreach_stack'].data[-1]  # this task's foreach frame",
                  f"index = {own['foreach']}.index",
                  f"input = {own['parent']}[{own['foreach']}.var].data[index]  # self.input in the step"]
    for name in plan.received:
        lines += [f"if {name!r} in {own['parent']}:", f"    {name} = {own['parent']}[{name!r}].data"]
    return "\n".join(lines)


def _call(plan: DebugPlan, call: CommonCall) -> str:
    arguments = [*call.arguments, *(f"{key}={value}" for key, value in call.keywords)]
    names = [f"{target or f'result_{i}'}_new" for i, target in enumerate(call.targets, 1)]
    head = f"{', '.join(names)}{',' if len(names) == 1 and call.unpacks else ''} = " if names else "result = "
    lines = [f"# `{plan.step}` does: {call.source}",
             f"{head}common.{call.function}({', '.join(arguments)})"]
    compared = [(target, name) for target, name in zip(call.targets, names) if target is not None]
    if not compared:
        lines.append(names[0] if names else "result")
        return "\n".join(lines)
    rows = ", ".join(f"({target!r}, {name}, {_recorded(plan, target)})" for target, name in compared)
    lines += [f"for name, new, recorded in [{rows}]:",
              "    print(name, 'same as the run' if same(new, recorded) else 'DIFFERENT from the run')"]
    return "\n".join(lines)


def _recorded(plan: DebugPlan, artifact: str) -> str:
    return f"{artifact}_recorded" if artifact in plan.recorded else "NOT_RECORDED"


def _code(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": _lines(source)}


def _markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(source)}


def _lines(source: str) -> list[str]:
    """nbformat's multi-line string: a list of lines, each but the last with its newline."""
    return source.rstrip("\n").splitlines(keepends=True)
