"""MF1xx: mistakes Metaflow only reports at run time (or never reports at all).

Every claim here was checked with real runs; see docs/dev/runtime-facts.md. The rules are deliberately conservative:
when the model cannot see the whole flow (an unreadable base class, a broken graph, a step that may set attributes
dynamically) they stay silent.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..graph import FlowGraph
from ..model import FLOW_API, UNKNOWN, Decorator, FlowClass, Module, SelfAccess, Step, literal
from ..text import Span
from .registry import Hit, Severity, rule

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
    "deepspeed", "metaflow_ray", "fast_bakery_internal", "uv",
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


def step_decorator(step: Step, name: str, module: Module) -> Decorator | None:
    """The first decorator of `step` that is Metaflow's `@name`."""
    return next((d for d in step.decorators if d.name and metaflow_name(d, module) == name), None)


def reported_steps(context, flow: FlowClass, seen: set[int]) -> Iterator[Step]:
    """The steps of `flow` written in this file (own or of a base in this file), each once per check."""
    for step in flow.steps.values():
        if step.path != context.module.path or id(step.node) in seen:
            continue
        seen.add(id(step.node))
        yield step


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


def is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def is_self_attr(node: ast.AST, name: str | None = None) -> bool:
    return isinstance(node, ast.Attribute) and is_self(node.value) and (name is None or node.attr == name)


class StepFacts:
    """What the rules below need to know about one step body beyond `Step.accesses`."""

    def __init__(self, step: Step, flow: FlowClass, module: Module, context):
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

    def _scan(self, flow: FlowClass, context) -> None:
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
            elif isinstance(node, ast.Attribute) and is_self(node.value) and node.attr in ("__dict__", "__class__"):
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
                    loop_names |= _written_names(current, context)
                current = parents.get(id(current))
            if loop_names:
                self.loop_writes[id(node)] = loop_names


def _written_names(node: ast.AST, context) -> set[str]:
    """Artifacts assigned anywhere under `node` (computed once per node and check run)."""

    def compute() -> set[str]:
        nodes = context.nodes(node)
        return {n.attr for n in nodes if is_self_attr(n) and isinstance(n.ctx, ast.Store)} | {
            n.target.attr for n in nodes if isinstance(n, ast.AugAssign) and is_self_attr(n.target)}

    return context.derived(node, "written", compute)


def _facts(context, step: Step, flow: FlowClass) -> StepFacts:
    """The facts of a step, shared by MF107, MF108, MF110 and MF111 (and kept while the step is unchanged). They
    depend on the step, on which names are the flow's methods and steps, and on the imports (which decorators are
    Metaflow's)."""
    signature = context.memo(("flow-signature", id(flow)), lambda: (
        frozenset(flow.methods), frozenset(flow.steps),
        tuple((i.bound_name, i.module, i.name, i.level) for i in context.module.imports)))
    return context.derived(step.node, ("facts", signature), lambda: StepFacts(step, flow, context.module, context))


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


def _reach(links: dict[str, set[str]], name: str) -> set[str]:
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
    return _reach(predecessors(flow), name)


def descendants(flow: FlowClass, name: str) -> set[str]:
    """Steps that can be reached from `name`."""
    return _reach(edges(flow), name)


def graph_is_sound(flow: FlowClass, graph: FlowGraph) -> bool:
    """Start and end found, the walk finished, and every reachable step ends in a valid `self.next` to known
    steps (the end step in none)."""
    if graph.start_step is None or graph.end_step is None or not graph.traversal_complete:
        return False
    for name in graph.reachable():
        node = graph[name]
        step = node.step
        if name != graph.end_step and (node.type is None or step.tail is None or step.tail.kind == "invalid"):
            return False
        if step.num_args > 1 and node.type != "join":
            return False
        for transition in step.transitions:
            if transition.kind == "invalid" or any(t not in flow.steps for t in transition.target_names):
                return False
    return True


def _star_kwargs(decorator: Decorator) -> bool:
    """`@deco(**options)`: the arguments are not visible."""
    node = decorator.node
    return isinstance(node, ast.Call) and (any(k.arg is None for k in node.keywords)
                                           or any(isinstance(a, ast.Starred) for a in node.args))


def _short(node: ast.AST, limit: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _keyword_span(call: ast.Call, key: str) -> Span | None:
    return next((Span.of(k.value) for k in call.keywords if k.arg == key), None)


# --------------------------------------------------------------------------------------------------------------------
# MF101
# --------------------------------------------------------------------------------------------------------------------

@rule("MF101", "decorator-below-step", Severity.ERROR,
      "A Metaflow step decorator is placed below @step (@step must be the decorator closest to def)")
def decorator_below_step(context):
    seen: set[int] = set()
    module = context.module
    for flow in context.flows:
        for step in reported_steps(context, flow, seen):
            index = step.step_decorator_index
            step_deco = step.decorators[index]
            for decorator in step.decorators[index + 1:]:
                name = metaflow_name(decorator, module)
                if name is None or name not in METAFLOW_STEP_DECORATORS:
                    continue
                yield Hit(
                    decorator.span,
                    f"@{decorator.qualified} is below @step on step '{step.name}': Metaflow fails when the class is "
                    f"loaded (BadStepDecoratorException). Move @{decorator.qualified} above @step; @step must be "
                    "the decorator closest to def.",
                    {"decorator": decorator.qualified, "step": step.name,
                     "step_decorator_line": step_deco.span.line, "decorator_line": decorator.span.line},
                )


# --------------------------------------------------------------------------------------------------------------------
# MF102
# --------------------------------------------------------------------------------------------------------------------

@rule("MF102", "catch-on-split", Severity.ERROR, "@catch on a foreach or switch split step")
def catch_on_split(context):
    seen: set[int] = set()
    for flow in context.flows:
        graph = context.graph(flow)
        for step in reported_steps(context, flow, seen):
            catch = step_decorator(step, "catch", context.module)
            if catch is None or step.name not in graph:
                continue
            kind = graph[step.name].type
            if kind == "foreach":
                what, how = "a foreach split", "foreach split steps"
            elif kind == "split-switch":
                what, how = "a conditional (switch) step", "conditional switch steps"
            else:
                continue
            yield Hit(
                catch.span,
                f"@catch on step '{step.name}', which is {what}: Metaflow refuses to run the flow (@catch is not "
                f"supported in {how}). Remove @catch here, or move the work that can fail into a step of its own "
                "and put @catch there.",
                {"step": step.name, "split": kind},
            )


# --------------------------------------------------------------------------------------------------------------------
# MF103
# --------------------------------------------------------------------------------------------------------------------

MAX_RETRIES = 4  # metaflow_config.MAX_ATTEMPTS (6) - 2


@rule("MF103", "retry-times-too-high", Severity.ERROR, "@retry(times=N) with N above 4")
def retry_times_too_high(context):
    seen: set[int] = set()
    for flow in context.flows:
        for step in reported_steps(context, flow, seen):
            retry = step_decorator(step, "retry", context.module)
            if retry is None or _star_kwargs(retry):
                continue
            times = retry.kwarg("times")
            if isinstance(times, str):
                try:
                    times = int(times)
                except ValueError:
                    continue
            if isinstance(times, bool) or not isinstance(times, int) or times <= MAX_RETRIES:
                continue
            yield Hit(
                retry.span,
                f"@retry(times={times}) on step '{step.name}': Metaflow allows at most {MAX_RETRIES} retries and "
                f"refuses to run the flow. Use times={MAX_RETRIES} or fewer.",
                {"times": times, "max": MAX_RETRIES, "step": step.name},
            )


# --------------------------------------------------------------------------------------------------------------------
# MF104
# --------------------------------------------------------------------------------------------------------------------

@rule("MF104", "timeout-without-duration", Severity.ERROR, "@timeout with no duration, or a zero one")
def timeout_without_duration(context):
    seen: set[int] = set()
    for flow in context.flows:
        for step in reported_steps(context, flow, seen):
            timeout = step_decorator(step, "timeout", context.module)
            if timeout is None or timeout.args or _star_kwargs(timeout):
                continue
            if any(key not in ("seconds", "minutes", "hours") for key in timeout.kwargs):
                continue  # `**options` or a misspelt key: another problem, and nothing certain here
            total = 0
            for key, factor in (("hours", 3600), ("minutes", 60), ("seconds", 1)):
                value = timeout.kwarg(key, 0)
                if value is UNKNOWN or isinstance(value, bool):
                    total = None
                    break
                try:
                    total += int(value) * factor
                except (TypeError, ValueError, OverflowError):
                    total = None
                    break
            if total != 0:
                continue
            detail = "no duration" if not timeout.kwargs else "a duration that adds up to 0 seconds"
            yield Hit(
                timeout.span,
                f"@{_short(timeout.node)} on step '{step.name}' has {detail}: "
                "Metaflow refuses to run the flow ('Specify a duration for @timeout'). Give seconds=, minutes= "
                "or hours= (Metaflow truncates each to a whole number).",
                {"step": step.name},
            )


# --------------------------------------------------------------------------------------------------------------------
# MF105
# --------------------------------------------------------------------------------------------------------------------

def _env_side(step: Step, flow: FlowClass, module: Module, step_name: str, base_name: str):
    """(present, packages, decorators) for one side (pypi or conda) of a step, with the flow-level decorator merged
    the way Metaflow merges it. packages is a dict, or UNKNOWN; None means the side is absent."""
    step_deco = step_decorator(step, step_name, module)
    base = next((d for d in flow.decorators if metaflow_name(d, module) == base_name), None)
    if step_deco is None and base is None:
        return None
    packages: dict = {}
    decorators = [d for d in (base, step_deco) if d is not None]
    for decorator in decorators:
        if _star_kwargs(decorator):
            return UNKNOWN
        disabled = decorator.kwarg("disabled", None)
        if disabled is UNKNOWN or (disabled and str(disabled).lower() != "false"):
            return UNKNOWN  # a disabled environment: Metaflow builds none, nothing to mix
        value = decorator.kwarg("packages", {})
        if not isinstance(value, dict):
            return UNKNOWN
        packages.update(value)
    return packages, decorators


@rule("MF105", "pypi-and-conda-mixed", Severity.ERROR, "A step mixes @pypi and @conda packages")
def pypi_and_conda_mixed(context):
    seen: set[int] = set()
    module = context.module
    reported_base = set()
    for flow in context.flows:
        for step in reported_steps(context, flow, seen):
            pypi = _env_side(step, flow, module, "pypi", "pypi_base")
            conda = _env_side(step, flow, module, "conda", "conda_base")
            if not pypi or not conda:  # absent (None) or unknown
                continue
            conda_packages, conda_decorators = conda
            if not conda_packages:
                continue  # @conda(python=...) alone adds no conda packages: Metaflow accepts it
            pypi_decorators = pypi[1]
            step_level = [d for d in pypi_decorators + conda_decorators if any(d is s for s in step.decorators)]
            names = " and ".join("@" + d.qualified for d in pypi_decorators + conda_decorators)
            message = (f"Step '{step.name}' gets both {names}: Metaflow cannot mix PyPI and Conda packages in one "
                       "step and fails when it builds the environment ('Mixing and matching PyPI packages and "
                       "Conda packages within a step is not yet supported'). Use only @pypi or only @conda "
                       "for this step.")
            data = {"step": step.name, "conda_packages": sorted(map(str, conda_packages))}
            if step_level:
                yield Hit(step_level[-1].span, message, data)
            else:
                # Both come from the class: every step fails; say it once, on the class decorator.
                base = conda_decorators[-1]
                if own_class_decorator(flow, base) and id(base.node) not in reported_base:
                    reported_base.add(id(base.node))
                    yield Hit(base.span,
                              f"{names} on {flow.name}: every step gets both PyPI and Conda packages, and Metaflow "
                              "fails when it builds the environment ('Mixing and matching PyPI packages and Conda "
                              "packages within a step is not yet supported'). Use only one of them.",
                              {"flow": flow.name, "conda_packages": data["conda_packages"]})


# --------------------------------------------------------------------------------------------------------------------
# MF106
# --------------------------------------------------------------------------------------------------------------------

_NON_STR_TYPES = frozenset({"int", "float", "bool", "JSONType", "dict", "list", "tuple"})


@rule("MF106", "bad-parameter-name", Severity.ERROR,
      "A Parameter with a reserved name, an attribute name Metaflow ignores, or a separator on a non-string type")
def bad_parameter_name(context):
    module = context.module
    seen: set[int] = set()
    for flow in context.flows:
        own_calls = {id(s.value) for node in class_nodes(module, flow) for s in node.body
                     if isinstance(s, (ast.Assign, ast.AnnAssign)) and s.value is not None}
        for parameter in flow.parameters.values():
            call = parameter.call
            if id(call) not in own_calls or id(call) in seen:
                continue
            seen.add(id(call))
            kind = parameter.kind
            option = parameter.option
            if isinstance(option, str) and option in RESERVED_PARAMETER_NAMES:
                span = Span.of(call.args[0]) if call.args else (_keyword_span(call, "name") or parameter.span)
                yield Hit(span,
                          f"{kind} name '{option}' is reserved by Metaflow's command line: the flow does not start "
                          f"('Parameter name '{option}' is a reserved word'). Choose another name, e.g. "
                          f"'{option.replace('-', '_')}_value'.",
                          {"attribute": parameter.attr, "name": option, "problem": "reserved"})
            attr = parameter.attr
            if attr == "next":
                yield Hit(parameter.span,
                          f"The {kind} is stored in the class attribute 'next', which replaces self.next(): every "
                          "step fails at its transition (TypeError: 'str' object is not callable). Rename the "
                          f"attribute, e.g. next_value = {kind}(...).",
                          {"attribute": attr, "problem": "next"})
            elif attr in NON_PARAMETERS or attr.startswith("_"):
                why = ("starts with '_'" if attr.startswith("_") else
                       f"is one of FlowSpec's own names ({', '.join(sorted(NON_PARAMETERS))})")
                yield Hit(parameter.span,
                          f"The class attribute '{attr}' {why}, so Metaflow silently ignores this {kind}: there is "
                          f"no command-line option for it and self.{attr} is not its value. Rename the attribute "
                          f"(the option name can stay), e.g. {attr.strip('_') or 'param'}_param = {kind}(...).",
                          {"attribute": attr, "problem": "ignored"})
            if kind == "Parameter" and parameter.has_kwarg("separator"):
                separator = parameter.kwarg("separator")
                if separator is UNKNOWN or not separator:
                    continue
                problem = _separator_type_problem(call)
                if problem:
                    yield Hit(_keyword_span(call, "separator") or parameter.span,
                              f"Parameter '{option if isinstance(option, str) else attr}' has separator= but "
                              f"{problem}: Metaflow refuses to run the flow ('Separator is only allowed for string "
                              "parameters'). Drop type=/the non-string default (the value is then a list of str), "
                              "or drop separator= and parse the value yourself.",
                              {"attribute": attr, "problem": "separator"})


def _separator_type_problem(call: ast.Call) -> str | None:
    """Why Metaflow's `is_string_type` is False for this call, when the source says so for certain."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    if None in [k.arg for k in call.keywords]:
        return None  # **kwargs
    if "type" in keywords:
        type_node = keywords["type"]
        name = type_node.attr if isinstance(type_node, ast.Attribute) else (
            type_node.id if isinstance(type_node, ast.Name) else None)
        if name in _NON_STR_TYPES:
            return f"type={name}"
        if name != "str":
            return None
    if "default" in keywords:
        default = literal(keywords["default"])
        if default is UNKNOWN or default is None:
            return None
        if not isinstance(default, str):
            kind = type(default).__name__
            return f"its default {default!r} makes it a{'n' if kind[0] in 'aeiou' else ''} {kind} Parameter"
    return None


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
      "Assignment to a Parameter, Config or public class attribute inside a step")
def assign_to_parameter(context):
    module = context.module
    seen: set[int] = set()
    for flow in context.flows:
        for step in reported_steps(context, flow, seen):
            facts = None
            for access in step.accesses:
                if access.kind not in ("write", "delete") or access.name in FLOW_API:
                    continue
                name = access.name
                parameter = flow.parameters.get(name)
                if parameter is not None:
                    what = f"the {parameter.kind} '{name}'"
                    if isinstance(parameter.option, str) and parameter.option != name:
                        what += f" (--{parameter.option})"
                elif (name in flow.class_attributes and not name.startswith("_")
                      and name not in flow.methods and name not in flow.steps
                      and _is_data_value(class_assignment(module, flow, name))):
                    what = f"the class attribute '{name}' of {flow.name}"
                else:
                    continue
                facts = facts or _facts(context, step, flow)
                if id(access.node) in facts.nested:
                    continue
                verb = "assigns" if access.kind == "write" else "deletes"
                yield Hit(
                    access.span,
                    f"Step '{step.name}' {verb} self.{name}, which is {what}: Metaflow makes it read-only in every "
                    "step, so this task fails (AttributeError: Flow level attributes and Parameters are not "
                    f"modifiable). Store the value under another artifact name, e.g. self.{name.lower()}_value.",
                    {"step": step.name, "name": name},
                )


# --------------------------------------------------------------------------------------------------------------------
# MF108
# --------------------------------------------------------------------------------------------------------------------

TOP = None  # "anything may be there": the analysis knows nothing and the rule stays silent


def _merge_effect(call: ast.Call) -> tuple[set[str] | None, set[str]]:
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
                result.append((value, _keyword_span(transition.call, key) or transition.span, key))
    return result


@rule("MF108", "artifact-lost-at-join", Severity.ERROR,
      "An artifact read at or after a join that the join neither assigns nor merges")
def artifact_lost_at_join(context):
    module = context.module
    seen: set[int] = set()
    for flow in context.flows:
        if not flow.complete:
            continue
        graph = context.graph(flow)
        if not graph_is_sound(flow, graph):
            continue
        if _methods_hidden(context, flow):
            continue
        reachable = graph.reachable()
        preds = predecessors(flow)
        joins = {name for name in reachable if graph[name].type == "join"}
        if not joins:
            continue
        facts = {name: _facts(context, flow.steps[name], flow) for name in reachable}

        def readable(name: str) -> bool:
            return flow.is_artifact(name) and name not in flow.class_attributes

        # Forward may-analysis: which artifacts may exist when each step starts. TOP = may be anything.
        entry: dict[str, set[str] | None] = {}
        out: dict[str, set[str] | None] = {name: set() for name in reachable}
        last_joins: dict[str, set[str]] = {name: set() for name in reachable}
        order = _forward_order(graph)
        changed = True
        rounds = 0
        while changed and rounds < 4 * len(reachable) + 4:
            changed = False
            rounds += 1
            for name in order:
                if name in joins:
                    start_set: set[str] | None = set()
                    joins_here = {name}
                elif name == graph.start_step:
                    start_set, joins_here = TOP, set()
                else:
                    start_set = set()
                    joins_here = set()
                    for pred in preds[name]:
                        if pred not in reachable:
                            continue
                        joins_here |= last_joins[pred]
                        if out[pred] is TOP or start_set is TOP:
                            start_set = TOP
                        else:
                            start_set |= out[pred]
                entry[name] = start_set
                step_facts = facts[name]
                if start_set is TOP or step_facts.opaque or any(
                        _merge_effect(call)[0] is None for call in step_facts.merges.values()):
                    new_out = TOP
                else:
                    new_out = set(start_set) | {a.name for a in flow.steps[name].accesses if a.kind == "write"}
                    new_out |= step_facts.decorator_writes
                    for call in step_facts.merges.values():
                        new_out |= _merge_effect(call)[0] or set()
                if new_out != out[name] or joins_here != last_joins[name]:
                    out[name], last_joins[name] = new_out, joins_here
                    changed = True
        if changed:
            continue  # did not settle: say nothing

        for step in reported_steps(context, flow, seen):
            name = step.name
            if name not in reachable or entry.get(name) is TOP or facts[name].opaque:
                continue
            available = set(entry[name])
            step_facts = facts[name]
            merged_all = False
            excluded: set[str] = set()
            joins_text = " / ".join(f"'{j}'" for j in sorted(last_joins[name])) or "the join"
            for access in step.accesses:
                if access.name == "merge_artifacts" and id(access.node) in step_facts.merges:
                    include, exclude = _merge_effect(step_facts.merges[id(access.node)])
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
                                 joins_text, id(access.node), f"self.{access.name} is read")
                if hit:
                    available.add(access.name)  # one report per artifact and step is enough
                    yield hit
            for artifact, span, key in _transition_reads(step):
                if not readable(artifact):
                    continue
                hit = _lost_read(artifact, span, step, available, merged_all, excluded, step_facts, joins_text,
                                 None, f'{key}="{artifact}" reads self.{artifact}')
                if hit:
                    yield hit


def _forward_order(graph: FlowGraph) -> list[str]:
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


def _lost_read(artifact: str, span: Span, step: Step, available: set[str], merged_all: bool, excluded: set[str],
               facts: StepFacts, joins_text: str, node_id: int | None, what: str) -> Hit | None:
    if artifact in available or artifact in facts.guarded:
        return None
    if merged_all and artifact not in excluded:
        return None
    if node_id is not None and (node_id in facts.nested or artifact in facts.loop_writes.get(node_id, ())):
        return None
    if step.is_join:
        where = f"the join step '{step.name}'"
        fix = (f"Assign it first (e.g. self.{artifact} = inputs[0].{artifact}, or pick a value from the branches) "
               "or call self.merge_artifacts(inputs)" + (f" without excluding '{artifact}'" if artifact in excluded
                                                         else "") + " before reading it.")
    else:
        where = f"step '{step.name}', after the join {joins_text},"
        fix = (f"Assign self.{artifact} in the join (from inputs) or call self.merge_artifacts(inputs) there.")
    return Hit(
        span,
        f"In {where} {what}, but the artifact '{artifact}' is not set since the join and the join does not "
        f"merge it: Metaflow carries nothing across a join, so this task fails with AttributeError. {fix}",
        {"artifact": artifact, "step": step.name, "joins": joins_text},
    )


def _methods_hidden(context, flow: FlowClass) -> bool:
    """True when a non-step method may set artifacts: `__init__` or any method whose body writes self.x or that
    the model cannot see (defined in another file)."""
    defs = method_defs(context.module, flow)
    if set(flow.methods) - set(defs):
        return True
    for name, node in defs.items():
        decorators = {d.id if isinstance(d, ast.Name) else getattr(d, "attr", "") for d in node.decorator_list}
        if decorators & {"property", "cached_property", "staticmethod"} and name != "__init__":
            if not _written_names(node, context):
                continue
        if name == "__init__" or name == "__getattr__" or _written_names(node, context) or any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr"
                for n in context.nodes(node)):
            return True
    return False


# --------------------------------------------------------------------------------------------------------------------
# MF109
# --------------------------------------------------------------------------------------------------------------------

@rule("MF109", "input-outside-foreach", Severity.WARNING,
      "self.input / self.index in a step that does not run inside a foreach")
def input_outside_foreach(context):
    seen: set[int] = set()
    for flow in context.flows:
        if not flow.complete:
            continue
        graph = context.graph(flow)
        if not graph_is_sound(flow, graph):
            continue
        reachable = graph.reachable()
        # A foreach child and every step after it up to the foreach's join keep the foreach stack, so they see the
        # item (is_inside_foreach); @parallel children too.
        inside = {name for node in graph for name in node.out_funcs if node.type == "foreach"}
        inside |= {node.name for node in graph if node.is_inside_foreach}
        for step in reported_steps(context, flow, seen):
            if step.name in inside or step.name not in reachable:
                continue
            for access in step.accesses:
                if access.name not in ("input", "index") or access.kind != "read":
                    continue
                if step.is_join:
                    why = (f"a join does not run per foreach item. Read the items through inputs instead "
                           f"(e.g. [i.value for i in inputs]).")
                else:
                    why = (f"'{step.name}' does not run inside a foreach (only the steps from a foreach split to its "
                           f"join get self.{access.name}). Pass the value as an artifact instead.")
                yield Hit(
                    access.span,
                    f"self.{access.name} in step '{step.name}' is always None: {why}",
                    {"step": step.name, "name": access.name},
                )


# --------------------------------------------------------------------------------------------------------------------
# MF110
# --------------------------------------------------------------------------------------------------------------------

@rule("MF110", "foreach-on-unset-artifact", Severity.ERROR,
      "foreach=\"x\" where no step before the split (nor the split itself) sets self.x")
def foreach_on_unset_artifact(context):
    module = context.module
    seen: set[int] = set()
    for flow in context.flows:
        if not flow.complete or _methods_hidden(context, flow):
            continue
        graph = context.graph(flow)
        if not graph_is_sound(flow, graph):
            continue
        for step in reported_steps(context, flow, seen):
            for transition in step.transitions:
                if transition.kind != "foreach" or not isinstance(transition.foreach, str):
                    continue
                var = transition.foreach
                if (var in flow.parameters or var in flow.class_attributes or var in flow.methods
                        or var in flow.steps or var in FLOW_API):
                    continue
                before = ancestors(flow, step.name) | {step.name}
                if any(_facts(context, flow.steps[name], flow).opaque
                       or var in _facts(context, flow.steps[name], flow).decorator_writes
                       or any(a.name == var and a.kind == "write" for a in flow.steps[name].accesses)
                       for name in before):
                    continue
                yield Hit(
                    _keyword_span(transition.call, "foreach") or transition.span,
                    f'foreach="{var}" in step \'{step.name}\', but neither this step nor any step before it sets '
                    f"self.{var}: the split fails at run time (Foreach variable self.{var} ... does not exist). "
                    f"Assign self.{var} = [...] before self.next(), or name the artifact that holds the items.",
                    {"step": step.name, "foreach": var},
                )


# --------------------------------------------------------------------------------------------------------------------
# MF111
# --------------------------------------------------------------------------------------------------------------------

def _local_names(step: Step, context) -> tuple[set[str], set[str]]:
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


def _function_source(value: ast.expr, step: Step, flow: FlowClass, module: Module, context) -> str | None:
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
            return f"the function {name} defined in the step"
        if name in module.constants or name in module.classes:
            return None
        if name in module.functions:
            return f"the function {name}"
        imported = module.imported(name)
        if imported is not None and imported.name and _imported_function(imported, module, context):
            return f"the function {name} (imported from {'.' * imported.level}{imported.module})"
        return None
    if isinstance(value, ast.Attribute):
        if is_self(value.value):
            method = method_defs(module, flow).get(value.attr)
            if method is None or value.attr in flow.parameters or value.attr in flow.class_attributes:
                return None
            decorators = [d for d in method.decorator_list]
            if any(not (isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")) for d in decorators):
                return None  # a property or something else we cannot judge
            return f"the method self.{value.attr}"
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
                        return f"the method {owner}.{value.attr}"
                return None
            imported = module.imported(owner)
            if imported is not None and imported.name is None and context.resolver is not None:
                other = _resolve(context, imported.module, imported.level, module)
                if other is not None and other.ok and value.attr in other.functions \
                        and value.attr not in other.constants:
                    return f"the function {owner}.{value.attr}"
    return None


def _resolve(context, module_name: str, level: int, module: Module) -> Module | None:
    resolver = context.resolver
    if resolver is None:
        return None
    try:
        return resolver(module_name, level, module.path)
    except (OSError, RecursionError, ValueError):
        return None


def _imported_function(imported, module: Module, context) -> bool:
    """True when `from x import f` names a function defined in a project file (an installed package's names may
    be ufuncs, builtins or classes, which Metaflow does persist)."""
    other = _resolve(context, imported.module, imported.level, module)
    return (other is not None and other.ok and imported.name in other.functions
            and imported.name not in other.constants and imported.name not in other.classes)


def _self_stores(context, step: Step) -> list[tuple[ast.Attribute, ast.expr | None]]:
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


@rule("MF111", "function-artifact", Severity.ERROR,
      "A function or lambda stored on self and read in a later step (Metaflow does not persist functions)")
def function_artifact(context):
    module = context.module
    for flow in context.flows:
        if not flow.complete:
            continue
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
        if any(_facts(context, step, flow).opaque for step in flow.steps.values()):
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
                if step.path != module.path:
                    continue
                facts = _facts(context, step, flow)
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
                        f"self.{artifact} is read in step '{name}', but step '{writer}' (line {write_span.line + 1}) "
                        f"stored {source} in it: Metaflow does not persist functions, so later steps have no "
                        f"'{artifact}' (AttributeError). Call the function directly (or make it a method of the "
                        "flow), or store the data needed to rebuild it.",
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
      "A flow file that never calls its flow class (no `if __name__ == \"__main__\": Flow()`)")
def missing_main_guard(context):
    module = context.module
    if module.tree is None:
        return
    path_name = module.path.name if module.path else ""
    if path_name.startswith("test_") or path_name.endswith("_test.py") or path_name == "conftest.py":
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
        if flow.name in called:
            continue
        graph = context.graph(flow)
        if graph.start_step is None or graph.end_step is None or graph.start_step == graph.end_step:
            continue  # not a complete flow (or a one-step oddity): a base or a work in progress
        if module.main_guard is not None:
            message = (f"{flow.name} is never run: the `if __name__ == \"__main__\":` block of this file does not "
                       f"call {flow.name}(), so `python {path_name or 'flow.py'} run` runs something else. Call "
                       f"{flow.name}() there, or move the flow to a file of its own.")
        else:
            message = (f"{flow.name} has no `if __name__ == \"__main__\": {flow.name}()` at the end of the file: "
                       f"`python {path_name or 'flow.py'} run` exits with status 0 and runs nothing. Add the "
                       "guard.")
        yield Hit(flow.span, message, {"flow": flow.name, "has_guard": module.main_guard is not None})


def _in_class_bases(name: ast.Name, module: Module) -> bool:
    return any(any(base is name for base in info.node.bases) for info in module.classes.values())
