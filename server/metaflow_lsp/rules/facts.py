"""What the MF1xx rules know about a flow beyond the model: which decorators are Metaflow's, the facts of a step
body (does `self` escape, what merges, what is guarded), and walks over the step graph.

Every claim behind these rules was checked with real runs; see docs/dev/runtime-facts.md.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..model import Decorator, FlowClass, Module, Step, is_self, is_self_attr, literal
from ..text import Span

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

# --------------------------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------------------------

# Step decorators of Metaflow (plugins/__init__.py STEP_DECORATORS_DESC) and of its common extensions. A name only
# counts when it is imported from `metaflow` (see `metaflow_name`), so a project's own `retry` is never mistaken.
METAFLOW_STEP_DECORATORS = frozenset({
    "catch", "timeout", "environment", "secrets", "parallel", "retry", "resources", "batch", "kubernetes", "card",
    "pypi", "conda", "pytorch_parallel", "argo_workflows_internal", "step_functions_internal", "airflow_internal",
    "unbounded_test_foreach_internal",
    # metaflow extensions (Outerbounds and others) that are imported from `metaflow` too
    "checkpoint", "model", "huggingface_hub", "nvidia", "nvct", "ollama", "snowpark", "slurm", "torchrun",
    "deepspeed", "metaflow_ray", "fast_bakery_internal", "uv", "mpi", "tensorflow",
})

# Metaflow marks a step parallel when one of its decorators' classes has `IS_PARALLEL = True` (metaflow/graph.py), not
# by the name `parallel`. Those classes, read from the packages: Metaflow 2.19.39 (`parallel`, `pytorch_parallel`),
# metaflow-ray 0.1.5 (`metaflow_ray`), metaflow-torchrun 0.2.2 (`torchrun`), metaflow-deepspeed 0.0.9 (`deepspeed`),
# metaflow-mpi 0.0.4 (`mpi`), metaflow-tensorflow 0.0.4 (`tensorflow`): all `ParallelDecorator` subclasses.
PARALLEL_STEP_DECORATORS = frozenset({"parallel", "pytorch_parallel", "metaflow_ray", "torchrun", "deepspeed", "mpi",
                                      "tensorflow"})
# Metaflow's own step decorators (plugins/__init__.py STEP_DECORATORS_DESC) whose classes are not parallel. Any other
# decorator (an extension's, a project's own, a StepMutator that may add @parallel) leaves a step's kind unknown.
CORE_PLAIN_STEP_DECORATORS = frozenset({
    "catch", "timeout", "environment", "secrets", "retry", "resources", "batch", "kubernetes", "card", "pypi",
    "conda", "argo_workflows_internal", "step_functions_internal", "airflow_internal",
    "unbounded_test_foreach_internal",
})

# parameters.py: names Click already uses. The `_` spellings of the hyphenated ones are reserved as well.
_RESERVED = ["params", "with", "tag", "namespace", "obj", "tags", "decospecs", "run-id-file", "max-num-splits",
             "max-workers", "max-log-size", "user-namespace", "run-id", "task-id", "runner-attribute-file"]
RESERVED_PARAMETER_NAMES = frozenset(_RESERVED) | {name.replace("-", "_") for name in _RESERVED}
# FlowSpec._NON_PARAMETERS: class attributes `_get_parameters` skips (as it skips every name starting with `_`).
NON_PARAMETERS = frozenset({"cmd", "foreach_stack", "index", "input", "script_name", "name"})

_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
# `self` passed to these does not let them write attributes.
_READ_ONLY_SELF_CALLS = frozenset({"hasattr", "getattr", "print", "isinstance", "type", "id", "repr", "str",
                                   "dir", "len", "bool", "hash"})


def metaflow_name(decorator: Decorator, module: Module) -> str | None:
    """The Metaflow name of a decorator (`retry` for `@retry`, `@metaflow.retry`, `@mf.retry`, `@r` after
    `from metaflow import retry as r`), or None when it is not (or may not be) Metaflow's."""
    parts = decorator.qualified.split(".") if decorator.qualified else []
    if not parts:
        return None
    imported = module.imported(parts[0])
    if len(parts) == 1:
        if imported is not None:
            if imported.name and imported.module.split(".")[0] == "metaflow":
                return imported.name
            return None
        name = parts[0]
        shadowed = name in module.functions or name in module.classes or name in module.constants
        star = any(i.name == "*" and i.module.split(".")[0] == "metaflow" for i in module.imports)
        return name if star and not shadowed else None
    if imported is not None and imported.name is None and imported.module.split(".")[0] == "metaflow":
        return parts[-1]  # `import metaflow` / `import metaflow as mf`
    if imported is not None and imported.name is not None and imported.module.split(".")[0] == "metaflow":
        return parts[-1]  # `from metaflow import plugins` ...
    return None


def is_parallel_step(step: Step, module: Module | None) -> bool | None:
    """Whether Metaflow sees `step` as parallel: True with a parallel decorator of Metaflow or of a known extension,
    False when every other decorator is a plain one of Metaflow's core, None when the model cannot tell (a decorator
    it does not know, or no `module`: the file that defines the step was not read)."""
    if module is None:
        return None
    known = True
    for index, decorator in enumerate(step.decorators):
        if index == step.step_decorator_index:
            continue
        name = metaflow_name(decorator, module)
        if name in PARALLEL_STEP_DECORATORS:
            return True
        if name not in CORE_PLAIN_STEP_DECORATORS:
            known = False
    return False if known else None


def own_class_decorator(flow: FlowClass, decorator: Decorator) -> bool:
    return any(decorator.node is node for node in flow.node.decorator_list)


def class_nodes(module: Module, flow: FlowClass) -> list[ast.ClassDef]:
    """The ClassDef of the flow and of its bases defined in this file, in lookup order (approximately the MRO)."""
    result: list[ast.ClassDef] = []
    pending = [flow.node]
    while pending:
        node = pending.pop(0)
        if any(node is seen for seen in result):
            continue
        result.append(node)
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in module.classes:
                pending.append(module.classes[base.id].node)
    return result


def class_assignment(module: Module, flow: FlowClass, name: str) -> ast.expr | None:
    """The value assigned to class attribute `name` (first found in lookup order), if it is in this file."""
    for node in class_nodes(module, flow):
        for statement in node.body:
            if isinstance(statement, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in statement.targets):
                return statement.value
            if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                    and statement.target.id == name):
                return statement.value
    return None


def method_defs(module: Module, flow: FlowClass) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Non-step methods of the flow visible in this file, by name (the first in lookup order wins)."""
    result: dict = {}
    for node in class_nodes(module, flow):
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name not in result:
                if statement.name not in flow.steps:
                    result[statement.name] = statement
    return result


class StepFacts:
    """What the rules below need to know about one step body beyond `Step.accesses`."""

    def __init__(self, step: Step, flow: FlowClass, module: Module, context: RuleContext):
        self.step = step
        self.decorator_writes: set[str] = set()  # artifacts a decorator sets (@catch(var="x"))
        self.opaque = False  # something may set attributes of self we cannot see
        self.nested: set[int] = set()  # id() of self.x nodes inside nested defs, lambdas and classes
        self.loop_writes: dict[int, set[str]] = {}  # id() of a self.x node -> names written in enclosing loops
        self.guarded: set[str] = set()  # names tested with hasattr(self, "x") / getattr(self, "x", default)
        self.merges: dict[int, ast.Call] = {}  # id() of the `self.merge_artifacts` attribute -> the call
        self._scan(flow, context)
        for index, decorator in enumerate(step.decorators):
            if index == step.step_decorator_index:
                continue
            name = metaflow_name(decorator, module)
            if name == "catch":
                var = decorator.kwarg("var")
                if isinstance(var, str):
                    self.decorator_writes.add(var)
                elif var is not None:
                    self.opaque = True
            elif name is None or name not in METAFLOW_STEP_DECORATORS:
                self.opaque = True  # a wrapper of the project's own may set attributes of self

    def _scan(self, flow: FlowClass, context: RuleContext) -> None:
        body = self.step.node
        nodes = context.nodes(body)
        parents = context.parents(body)
        for node in nodes:
            if isinstance(node, ast.Call):
                func = node.func
                if is_self_attr(func, "merge_artifacts"):
                    self.merges[id(func)] = node
                elif is_self_attr(func) and (func.attr in flow.methods or func.attr in flow.steps):
                    self.opaque = True  # a method of the flow may write any attribute
                elif isinstance(func, ast.Name):
                    if func.id in ("setattr", "delattr", "vars", "exec", "eval", "super", "locals"):
                        self.opaque = True
                    elif func.id in ("hasattr", "getattr") and len(node.args) >= 2 and is_self(node.args[0]):
                        key = literal(node.args[1])
                        if isinstance(key, str) and (func.id == "hasattr" or len(node.args) >= 3):
                            self.guarded.add(key)
            elif is_self_attr(node) and node.attr in ("__dict__", "__class__"):
                self.opaque = True
            elif is_self(node):
                parent = parents.get(id(node))
                if isinstance(parent, ast.Attribute) and parent.value is node:
                    continue
                call = parents.get(id(parent)) if isinstance(parent, ast.keyword) else parent
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                        and call.func.id in _READ_ONLY_SELF_CALLS and call.func is not node):
                    continue
                # `x = self`, `[self]`, `helper(self)`: anything may happen to it later.
                self.opaque = True
        # nested scopes and enclosing loops of every self.x node
        for node in nodes:
            if not is_self_attr(node):
                continue
            current = parents.get(id(node))
            loop_names: set[str] = set()
            while current is not None and current is not body:
                if isinstance(current, _NESTED_SCOPES):
                    self.nested.add(id(node))
                if isinstance(current, _LOOPS):
                    loop_names |= written_names(current, context)
                current = parents.get(id(current))
            if loop_names:
                self.loop_writes[id(node)] = loop_names


def written_names(node: ast.AST, context: RuleContext) -> set[str]:
    """Artifacts assigned anywhere under `node` (computed once per node and check run)."""

    def compute() -> set[str]:
        nodes = context.nodes(node)
        return {n.attr for n in nodes if is_self_attr(n) and isinstance(n.ctx, ast.Store)} | {
            n.target.attr for n in nodes if isinstance(n, ast.AugAssign) and is_self_attr(n.target)}

    return context.derived(node, "written", compute)


def facts_of(context: RuleContext, step: Step, flow: FlowClass) -> StepFacts:
    """The facts of a step, shared by MF107, MF108, MF110 and MF111 (and kept while the step is unchanged). They
    depend on the step, on which names are the flow's methods and steps, and on the imports (which decorators are
    Metaflow's)."""
    signature = context.memo(("flow-signature", id(flow)), lambda: (
        frozenset(flow.methods), frozenset(flow.steps),
        tuple((i.bound_name, i.module, i.name, i.level) for i in context.module.imports)))
    return context.derived(step.node, ("facts", signature), lambda: StepFacts(step, flow, context.module, context))


def foreach_lists(context: RuleContext, flow: FlowClass) -> frozenset[str]:
    """The names of the flow's `foreach="..."` transitions (any of a step's, not only its last), kept with the
    graph."""
    return context.graph_derived(flow, "foreach-lists", lambda: frozenset(
        t.foreach for step in flow.steps.values() for t in step.transitions
        if t.kind == "foreach" and isinstance(t.foreach, str)))


def edges(flow: FlowClass) -> dict[str, set[str]]:
    """Every step each step may go to: the targets of all its `self.next` calls, not only the last one."""
    return {name: {target for t in step.transitions for target in t.target_names if target in flow.steps}
            for name, step in flow.steps.items()}


def predecessors(flow: FlowClass) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {name: set() for name in flow.steps}
    for name, targets in edges(flow).items():
        for target in targets:
            result[target].add(name)
    return result


def reach(links: dict[str, set[str]], name: str) -> set[str]:
    """Every step reachable from `name` along `links` (not `name` itself unless it is on a cycle)."""
    seen: set[str] = set()
    stack = list(links.get(name, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(links.get(current, ()))
    return seen


def ancestors(flow: FlowClass, name: str) -> set[str]:
    """Steps from which `name` can be reached."""
    return reach(predecessors(flow), name)


def descendants(flow: FlowClass, name: str) -> set[str]:
    """Steps that can be reached from `name`."""
    return reach(edges(flow), name)


def has_star_kwargs(decorator: Decorator) -> bool:
    """`@deco(**options)`: the arguments are not visible."""
    node = decorator.node
    return isinstance(node, ast.Call) and (any(k.arg is None for k in node.keywords)
                                           or any(isinstance(a, ast.Starred) for a in node.args))


def short_text(node: ast.AST, limit: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def keyword_span(call: ast.Call, key: str) -> Span | None:
    return next((Span.of(k.value) for k in call.keywords if k.arg == key), None)


def is_test_module(path) -> bool:
    """pytest's default test files and `conftest.py` (MF112, MF202): their flows are defined for tests, which import
    and run them."""
    name = getattr(path, "name", "") if path is not None else ""
    return name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))
