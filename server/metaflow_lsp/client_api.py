"""What a Python file reads of a flow through Metaflow's Client API, from its syntax tree alone: the artifacts
(`Flow("X").latest_run.data.<name>`, `run["step"].task.data.<name>`, `task["<name>"]`) and the steps
(`run["<step>"]`, `Step("X/1/<step>")`) of each flow named by a literal.

Silent wherever the flow is not named by a literal, where `Flow`/`Run`/`Step`/`Task` are not Metaflow's, and for a
variable bound to anything else anywhere in its scope: a reference that is not surely the flow's is never reported
(a rename would change code that is not about it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Literal

from .artifacts import name_span, string_span
from .model import dotted_name
from .text import Span

ReadKind = Literal["artifact", "step"]
_CLIENT_CLASSES = {"Flow": "flow", "Run": "run", "Step": "step", "Task": "task"}
_CLIENT_MODULES = ("metaflow", "metaflow.client", "metaflow.client.core")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass(frozen=True, slots=True)
class ClientRead:
    flow: str  # the flow's name (its class name)
    kind: ReadKind
    name: str  # the artifact or step read
    span: Span  # the name itself (inside the quotes for a string)


# What an expression evaluates to: (what, flow name, step name or None). `what` is flow, run, step, task or data, or
# runs / steps / tasks for something that iterates over those.
Value = tuple[str, str, str | None]
_ITERATES = {"flow": "run", "runs": "run", "run": "step", "steps": "step", "step": "task", "tasks": "task"}


def client_reads(tree: ast.Module) -> list[ClientRead]:
    classes = _client_names(tree)
    if not classes:
        return []
    reader = _Reader(classes)
    reader.scope(tree, None)
    return sorted(reader.reads, key=lambda read: (read.span.line, read.span.col))


def _client_names(tree: ast.Module) -> dict[str, str]:
    """Names bound to Metaflow's client classes (`Flow`, `mf.Flow` after `import metaflow as mf`), by dotted text."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in _CLIENT_MODULES:
            for alias in node.names:
                if alias.name in _CLIENT_CLASSES:
                    names[alias.asname or alias.name] = _CLIENT_CLASSES[alias.name]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "metaflow":
                    names.update({f"{alias.asname or 'metaflow'}.{c}": w for c, w in _CLIENT_CLASSES.items()})
    return names


class _Reader:
    def __init__(self, classes: dict[str, str]):
        self.classes = classes
        self.reads: list[ClientRead] = []

    def scope(self, root: ast.AST, outer: _Scope | None) -> None:
        """One function (or the module): its bindings first, then every expression read against them."""
        scope = _Scope(self, outer)
        body: list[ast.AST] = []
        stack = list(ast.iter_child_nodes(root))
        while stack:
            node = stack.pop()
            if isinstance(node, _SCOPES):
                body.append(node)
                continue
            scope.note(node)
            body.append(node)
            stack.extend(ast.iter_child_nodes(node))
        for node in body:
            if isinstance(node, _SCOPES):
                self.scope(node, scope)
            else:
                self._record(node, scope)

    def _record(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, ast.Attribute):
            value = scope.value(node.value)
            if value is not None and value[0] == "data" and not node.attr.startswith("_"):
                self.reads.append(ClientRead(value[1], "artifact", node.attr, name_span(node)))
        elif isinstance(node, ast.Subscript):
            value = scope.value(node.value)
            span = string_span(node.slice)
            if value is None or span is None:
                return
            name = node.slice.value  # type: ignore[attr-defined]
            if value[0] == "run":
                self.reads.append(ClientRead(value[1], "step", name, span))
            elif value[0] == "task":
                self.reads.append(ClientRead(value[1], "artifact", name, span))
        elif isinstance(node, ast.Call):
            pathspec = self.pathspec(node) if not scope._shadows(node.func) else None
            if pathspec is not None and pathspec[2] is not None:
                flow, step, span = pathspec
                self.reads.append(ClientRead(flow, "step", step, span))

    def pathspec(self, call: ast.Call) -> tuple[str, str | None, Span | None] | None:
        """`Flow("X")`, `Run("X/1")`, `Step("X/1/s")`, `Task("X/1/s/2")`: the flow, the step and the span of its
        name in the string (None when the string cannot be mapped)."""
        what = self.classes.get(dotted_name(call.func) or "")
        if what is None or len(call.args) != 1 or call.keywords:
            return None
        argument = call.args[0]
        if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
            return None
        parts = argument.value.split("/")
        if len(parts) != {"flow": 1, "run": 2, "step": 3, "task": 4}[what] or not all(parts):
            return None
        if what in ("flow", "run"):
            return parts[0], None, None
        inner = string_span(argument)
        if inner is None:
            return parts[0], parts[2], None
        start = inner.col + len("/".join(parts[:2]).encode()) + 1
        return parts[0], parts[2], Span(inner.line, start, inner.line, start + len(parts[2].encode()))


class _Scope:
    """The names of one scope bound to a client object: a name counts only when every binding of it in the scope is
    the same client object (`run = Flow("X").latest_run`, `for task in step:`)."""

    def __init__(self, reader: _Reader, outer: _Scope | None):
        self.reader, self.outer = reader, outer
        self.bindings: dict[str, list[tuple[str, ast.expr]]] = {}  # name -> (how, expression)
        self.others: set[str] = set()  # names bound some other way too
        self._targets: set[int] = set()  # the Name nodes of the bindings above
        self._values: dict[str, Value | None] = {}
        self._memo: dict[int, Value | None] = {}

    def note(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.bindings.setdefault(node.targets[0].id, []).append(("is", node.value))
            self._targets.add(id(node.targets[0]))
            return
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.target, ast.Name):
            self.bindings.setdefault(node.target.id, []).append(("in", node.iter))
            self._targets.add(id(node.target))
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if id(node) not in self._targets:  # unpacking, `with ... as`, `+=`, walrus, `del`: not followed
                self.others.add(node.id)
        elif isinstance(node, ast.arg):
            self.others.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            self.others.update(node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.others.update((a.asname or a.name).split(".")[0] for a in node.names)

    def value(self, node: ast.expr) -> Value | None:
        key = id(node)
        if key not in self._memo:
            self._memo[key] = None  # a cycle (`run = run.parent`) evaluates to nothing
            self._memo[key] = self._evaluate(node)
        return self._memo[key]

    def name(self, name: str) -> Value | None:
        if name in self.bindings or name in self.others:
            if name not in self._values:
                self._values[name] = None
                self._values[name] = self._bound(name)
            return self._values[name]
        return self.outer.name(name) if self.outer is not None else None

    def _bound(self, name: str) -> Value | None:
        if name in self.others:
            return None
        values = {self.value(expression) if how == "is" else _item(self.value(expression))
                  for how, expression in self.bindings[name]}
        return values.pop() if len(values) == 1 else None

    def _evaluate(self, node: ast.expr) -> Value | None:
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Call):
            pathspec = self.reader.pathspec(node) if not self._shadows(node.func) else None
            if pathspec is not None:
                what = self.reader.classes[dotted_name(node.func) or ""]
                return what, pathspec[0], pathspec[1]
            if isinstance(node.func, ast.Attribute):
                owner = self.value(node.func.value)
                return _method(owner, node.func.attr) if owner is not None else None
            return None
        if isinstance(node, ast.Attribute):
            owner = self.value(node.value)
            return _attribute(owner, node.attr) if owner is not None else None
        if isinstance(node, ast.Subscript):
            owner = self.value(node.value)
            if owner is None:
                return None
            if owner[0] == "flow":
                return "run", owner[1], None
            if owner[0] == "run":
                step = string_span(node.slice) and node.slice.value  # type: ignore[attr-defined]
                return "step", owner[1], step or None
            if owner[0] == "step":
                return "task", owner[1], owner[2]
        return None


    def _shadows(self, func: ast.expr) -> bool:
        """`Flow` bound by a function around the call (`def f(Flow):`): not the import any more."""
        head = (dotted_name(func) or "").split(".")[0]
        scope: _Scope | None = self
        while scope is not None and scope.outer is not None:  # the module's own bindings are the imports
            if head in scope.bindings or head in scope.others:
                return True
            scope = scope.outer
        return False


def _attribute(owner: Value, attr: str) -> Value | None:
    what, flow, step = owner
    if what == "flow" and attr in ("latest_run", "latest_successful_run"):
        return "run", flow, None
    if what == "run" and attr == "data":
        return "data", flow, None
    if what == "run" and attr == "end_task":
        return "task", flow, None
    if what == "step" and attr == "task":
        return "task", flow, step
    if what == "task" and attr == "data":
        return "data", flow, step
    return None


def _method(owner: Value, method: str) -> Value | None:
    what, flow, step = owner
    if what == "flow" and method == "runs":
        return "runs", flow, None
    if what == "run" and method == "steps":
        return "steps", flow, None
    if what == "step" and method == "tasks":
        return "tasks", flow, step
    return None


def _item(iterable: Value | None) -> Value | None:
    """What iterating over a client object gives: a flow's runs, a run's steps, a step's tasks."""
    if iterable is None or iterable[0] not in _ITERATES:
        return None
    what, flow, step = iterable
    return _ITERATES[what], flow, step if what in ("step", "tasks") else None

