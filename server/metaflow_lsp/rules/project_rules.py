"""MF4xx: the project around a flow. MF401 compares this file with the project's other flow files (through the cached
index of `Project.flow_functions`, never a fresh disk scan); MF402 reads the flow's deployment decorators."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .registry import Hit, Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

TRIGGER_DECORATORS = ("schedule", "trigger", "trigger_on_finish")


def _shown_path(path: Path, root: Path | None, current: Path | None) -> str:
    """A path as the user knows it: relative to the current file's folder when the other file is a neighbour,
    else to the project root."""
    for base in (current.parent if current else None, root):
        if base is None:
            continue
        try:
            relative = os.path.relpath(path, base)
        except ValueError:  # another drive
            continue
        if not relative.startswith(".."):
            return Path(relative).as_posix()
    return path.as_posix()


@rule("MF401", "duplicated-helper", Severity.WARNING,
      "the same module-level helper defined in two flow files: move it to common.py",
      silent="different bodies or signatures, empty bodies, files without a flow, methods")
def duplicated_helper(context: RuleContext):
    project, module = context.project, context.module
    if project is None or module.path is None or not module.flows or not module.functions:
        return
    current = Path(module.path).resolve()
    index = project.flow_functions(exclude=current)
    if not index:
        return
    from ..flow_index import function_fingerprint  # here: a check of one flow file seldom needs the index's module

    for info in module.functions.values():
        others = index.get(info.name)
        if not others:
            continue
        fingerprint = function_fingerprint(info.node)
        if not fingerprint:
            continue
        same = sorted((o for o in others if o.fingerprint == fingerprint), key=lambda o: (str(o.path), o.span.line))
        if not same:
            continue
        where = [f"{_shown_path(o.path, project.root, current)}:{o.span.line + 1}" for o in same]
        listed = ", ".join(f"`{w}`" for w in where[1:3]) + (", …" if len(where) > 3 else "")
        also = f" (and {len(where) - 1} more: {listed})" if len(where) > 1 else ""
        yield Hit(info.span,
                  f"Helper `{info.name}()` is also defined, identically, in `{where[0]}`{also}: move it to "
                  f"`common.py` and import it in both flows.",
                  {"function": info.name,
                   "others": [{"path": str(o.path), "line": o.span.line} for o in same]})


@rule("MF402", "trigger-without-project", Severity.WARNING,
      "@schedule / @trigger / @trigger_on_finish on a flow without @project",
      silent="flows with `@project` (own or inherited), unreadable bases, extended classes")
def trigger_without_project(context: RuleContext):
    module = context.module
    # A flow that another class of this file extends is a base: its subclass is what gets deployed, and is checked.
    extended = {base.rsplit(".", 1)[-1] for info in module.classes.values() for base in info.bases}
    for flow in context.complete_flows():
        if flow.name in extended or flow.decorator("project") is not None:
            continue
        own = {id(node) for node in flow.node.decorator_list}
        triggers = [d for d in flow.decorators if d.name in TRIGGER_DECORATORS]
        for decorator in triggers:
            inherited = id(decorator.node) not in own
            message = (f"@{decorator.name} deploys `{flow.name}` without @project: test and production deployments "
                       f"share one namespace and overwrite each other. Add @project(name=...).")
            if inherited:
                message = (f"`{flow.name}` inherits @{decorator.name} but has no @project: test and production "
                           f"deployments share one namespace. Add @project(name=...).")
            yield Hit(flow.span if inherited else decorator.span, message,
                      {"flow": flow.name, "decorator": decorator.name})
            if inherited:
                break  # one finding on the class name is enough
