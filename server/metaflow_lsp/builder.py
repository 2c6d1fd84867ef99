"""Builds the static flow model (`metaflow_lsp.model`) from source text with the stdlib `ast`.

One parse and one pass over each step body; no import of the user's code. Base classes defined in the same file are
followed; bases imported from a sibling module are followed through a `ModuleResolver` that parses that file too.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .model import (
    FLOW_API,
    ClassInfo,
    Decorator,
    FlowClass,
    FunctionInfo,
    Import,
    Module,
    Parameter,
    SelfAccess,
    Step,
    Transition,
    dotted_name,
    is_self_attr,
    literal,
)
from .files import read_source
from .text import Span
from .walk import child_fields

if TYPE_CHECKING:  # the CLI checks each file once, without one: it never imports `reuse`
    from .reuse import NodeReuse, Replaced

PARAMETER_KINDS = {"Parameter": "Parameter", "Config": "Config", "IncludeFile": "IncludeFile"}

# Given (module name, relative level, importing file), the parsed module it names, or None when it is not a file of
# the project (an installed package, or nothing found).
ModuleResolver = Callable[[str, int, "Path | None"], "Module | None"]


def parse_module(source: str, path: Path | None = None, resolver: ModuleResolver | None = None,
                 reuse: NodeReuse | None = None) -> Module:
    """The model of one file. Never raises on bad input: a file that does not parse gives `Module.syntax_error`.
    With `reuse` (the language server's, per document), an edit inside one method re-parses only that method, and
    methods unchanged since the last version keep their nodes and their `Step`s."""
    if reuse is not None:
        path = reuse.same_path(path)
    module = Module(path=path, source=source, tree=None)
    tree = reuse.reparse(module.lines.lines) if reuse is not None else None
    if tree is None:
        try:
            tree = ast.parse(source, filename=str(path or "<unknown>"))
        except SyntaxError as error:
            return _unparsed(module, error, reuse)
        except (ValueError, RecursionError, MemoryError) as error:  # NUL bytes, absurd nesting
            return _unparsed(module, _as_syntax_error(error), reuse)
    module.tree = tree
    if reuse is not None:
        reuse.splice(tree, module.lines.lines)
        reuse.remember(module.lines.lines, tree)
    try:
        _ModuleReader(module, resolver, reuse).read()
    except RecursionError as error:
        return _unparsed(Module(path=path, source=source, tree=None), _as_syntax_error(error), reuse)
    return module


def _unparsed(module: Module, error: SyntaxError, reuse: NodeReuse | None) -> Module:
    module.tree, module.syntax_error = None, error
    if reuse is not None:
        reuse.remember(module.lines.lines, None)  # the next version is parsed whole
    return module


def _as_syntax_error(error: Exception) -> SyntaxError:
    """A parse that gave up (NUL bytes, nesting beyond Python's parser) as a syntax error the user can read."""
    if isinstance(error, (MemoryError, RecursionError)):  # a MemoryError from the parser has no message at all
        reason = "it is nested too deeply or has an expression too long for Python's parser"
    else:
        reason = str(error) or type(error).__name__
    syntax_error = SyntaxError(f"cannot parse: {reason}")
    syntax_error.lineno, syntax_error.offset = 1, 1
    return syntax_error


def is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def read_decorator(node: ast.expr) -> Decorator:
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call else node
    qualified = dotted_name(target) or ""
    return Decorator(
        name=qualified.rsplit(".", 1)[-1],
        qualified=qualified,
        args=list(call.args) if call else [],
        kwargs={k.arg: k.value for k in call.keywords if k.arg} if call else {},
        called=call is not None,
        node=node,
    )


def classify_next(call: ast.Call, conditional: bool = False) -> Transition:
    """Reads a `self.next(...)` call the way Metaflow's `DAGNode._parse` does, quirks included."""
    keywords = {k.arg: k.value for k in call.keywords}
    # Switch: one dict argument plus condition=.
    if len(call.args) == 1 and isinstance(call.args[0], ast.Dict) and "condition" in keywords:
        cases = _switch_cases(call.args[0])
        condition = literal(keywords["condition"])
        if cases and isinstance(condition, str) and condition:  # Metaflow: `if switch_cases and condition_name`
            targets = list(call.args[0].values)
            return Transition(call, "switch", targets, condition=condition, switch_cases=cases,
                              conditional=conditional)
        return Transition(call, "invalid", [], conditional=conditional)
    if not all(isinstance(arg, ast.Attribute) for arg in call.args):
        return Transition(call, "invalid", [], conditional=conditional)
    targets = list(call.args)
    if len(keywords) == 1:
        if "foreach" in keywords and len(targets) == 1:
            return Transition(call, "foreach", targets, foreach=literal(keywords["foreach"]),
                              conditional=conditional)
        if "num_parallel" in keywords and len(targets) == 1:
            return Transition(call, "parallel", targets, num_parallel=literal(keywords["num_parallel"]),
                              conditional=conditional)
        return Transition(call, "invalid", targets, conditional=conditional)
    if not keywords and targets:
        return Transition(call, "split" if len(targets) > 1 else "linear", targets, conditional=conditional)
    return Transition(call, "invalid", targets, conditional=conditional)


def _switch_cases(node: ast.Dict) -> dict | None:
    cases = {}
    for key, value in zip(node.keys, node.values):
        if isinstance(key, ast.Constant) and key.value is not None:  # Metaflow rejects a None case key
            case = key.value
        elif (isinstance(key, ast.Attribute) and isinstance(key.value, ast.Attribute)
              and isinstance(key.value.value, ast.Name) and key.value.value.id == "self"):
            case = f"config:{key.value.attr}.{key.attr}"
        else:
            return None
        if not (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self"):
            return None
        cases[case] = value.attr
    return cases or None


def is_self_next(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "next"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "self")


# Expressions whose parts may not run: a lambda body, one side of `and`/`or`, a conditional expression.
_CONDITIONAL_EXPRESSIONS = (ast.Lambda, ast.IfExp, ast.BoolOp, ast.ListComp, ast.SetComp, ast.DictComp,
                            ast.GeneratorExp)


class _StepReader:
    """One pass over a step body: `self.next` calls and `self.x` accesses, in evaluation order.

    This runs on every keystroke for every step, so it is an explicit-stack walk rather than an `ast.NodeVisitor`
    (about six times faster on real flows). Statements are visited in order; within an assignment the value is read
    before the targets are written, so `self.x = self.x + 1` is a read then a write.
    """

    def __init__(self) -> None:
        self.transitions: list[Transition] = []
        self.accesses: list[SelfAccess] = []

    def visit_body(self, body: list[ast.stmt], conditional: bool = False) -> None:
        for statement in body:
            self._statement(statement, conditional)

    def _statement(self, node: ast.stmt, conditional: bool) -> None:
        kind = type(node)
        if kind is ast.Assign:
            self._expression(node.value, conditional)
            for target in node.targets:
                self._expression(target, conditional)
        elif kind is ast.AugAssign:
            self._expression(node.value, conditional)
            if is_self_attr(node.target):
                self._record(node.target, "read", conditional, False)
                self._record(node.target, "write", conditional, False)
            else:
                self._expression(node.target, conditional)
        elif kind is ast.AnnAssign:
            if node.value is not None:
                self._expression(node.value, conditional)
            self._expression(node.target, conditional)
        elif kind in (ast.Expr, ast.Return, ast.Raise, ast.Assert, ast.Delete):
            for field in child_fields(kind):
                value = getattr(node, field, None)
                if isinstance(value, list):
                    for item in value:
                        self._expression(item, conditional)
                elif value is not None:
                    self._expression(value, conditional)
        else:
            # Compound statements: their headers always run, their bodies may not.
            for field in child_fields(kind):
                value = getattr(node, field, None)
                if value is None:
                    continue
                if isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.stmt):
                            self._statement(item, True)
                        elif isinstance(item, ast.AST):
                            self._part(item)
                elif isinstance(value, ast.AST):
                    self._expression(value, conditional)

    def _part(self, node: ast.AST) -> None:
        """An except handler, match case or with item: a header plus, maybe, a body."""
        for field in child_fields(type(node)):
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.stmt):
                        self._statement(item, True)
                    elif isinstance(item, ast.AST):
                        self._expression(item, True)
            elif isinstance(value, ast.AST):
                self._expression(value, True)

    def _expression(self, root: ast.AST, conditional: bool) -> None:
        found: list[tuple[ast.Attribute, bool, bool]] = []
        stack: list[tuple[ast.AST, bool]] = [(root, conditional)]
        pop, push = stack.pop, stack.append
        while stack:
            node, maybe = pop()
            kind = type(node)
            if kind is ast.Attribute:
                if type(node.value) is ast.Name and node.value.id == "self":
                    found.append((node, maybe, False))
                    continue
            elif kind is ast.Call:
                func = node.func
                if is_self_attr(func):
                    if func.attr == "next":
                        # Its arguments name steps, not artifacts: `self.train` in `self.next(self.train)`.
                        self.transitions.append(classify_next(node, conditional=maybe))
                        continue
                    found.append((func, maybe, True))
                    for argument in node.args:
                        push((argument, maybe))
                    for keyword in node.keywords:
                        push((keyword.value, maybe))
                    continue
            elif kind is ast.Constant or kind is ast.Name:
                continue
            elif isinstance(node, ast.stmt):  # a statement inside a nested def or class
                self._statement(node, True)
                continue
            inner = maybe or isinstance(node, _CONDITIONAL_EXPRESSIONS)
            for field in child_fields(kind):
                value = getattr(node, field, None)
                if value is None:
                    continue
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            push((item, inner))
                elif isinstance(value, ast.AST):
                    push((value, inner))
        found.sort(key=lambda entry: (entry[0].lineno, entry[0].col_offset))
        for node, maybe, called in found:
            kind = {ast.Store: "write", ast.Del: "delete"}.get(type(node.ctx), "read")
            self._record(node, kind, maybe, called)

    def _record(self, node: ast.Attribute, kind: str, conditional: bool, called: bool) -> None:
        self.accesses.append(SelfAccess(node.attr, kind, conditional, called, node))  # type: ignore[arg-type]


def read_step(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str, path: Path | None) -> Step | None:
    """A `Step` for a method decorated with `@step`, else None."""
    decorators = [read_decorator(d) for d in node.decorator_list]
    step_index = next((i for i, d in enumerate(decorators) if d.name == "step"), None)
    if step_index is None:
        return None
    step_deco = decorators[step_index]
    step = Step(
        name=node.name,
        node=node,
        decorators=decorators,
        owner=owner,
        path=path,
        is_start=step_deco.kwarg("start", False) is True,
        is_end=step_deco.kwarg("end", False) is True,
        step_decorator_index=step_index,
    )
    reader = _StepReader()
    reader.visit_body(node.body)
    step.transitions = reader.transitions
    step.accesses = reader.accesses
    tail = node.body[-1]
    if isinstance(tail, ast.Expr) and is_self_next(tail.value):
        step.has_tail_next = True
        step.tail = next(t for t in step.transitions if t.call is tail.value)
    return step


def _read_step_reusing(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str, path: Path | None,
                       reuse: NodeReuse | None) -> Step | None:
    store = reuse.derived(node) if reuse is not None else None
    if store is None:
        return read_step(node, owner, path)
    key = ("step", owner, path)
    if key not in store:
        store[key] = read_step(node, owner, path)
    return store[key]


class _ClassMembers:
    """What one class body defines, before inheritance is applied."""

    def __init__(self, info: ClassInfo, path: Path | None, reuse: NodeReuse | None = None):
        self.steps: dict[str, Step] = {}
        self.parameters: dict[str, Parameter] = {}
        self.attributes: dict[str, Span] = {}
        self.methods: set[str] = set()
        self.defined_twice: set[str] = set()  # function names defined more than once in the class body
        defined: set[str] = set()
        for statement in info.node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if statement.name in defined:
                    self.defined_twice.add(statement.name)
                defined.add(statement.name)
                step = _read_step_reusing(statement, info.name, path, reuse)
                if step is not None:
                    self.steps[step.name] = step
                else:
                    self.methods.add(statement.name)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                self._read_assignment(statement, info.name)

    @classmethod
    def of(cls, info: ClassInfo, path: Path | None, reuse: NodeReuse | None) -> _ClassMembers:
        """The members of a class, kept with the class node while it is the same; after `reparse` replaced one step
        of it, the previous version's with that step read again (a keystroke in a 5,000-line class reads one step,
        not all of them)."""
        if reuse is None:
            return cls(info, path)
        store, key = reuse.class_store(info.node), ("members", info.name, path)
        members = store.get(key)
        if members is None:
            replaced = reuse.replaced
            previous = (replaced.old_store.get(key) if replaced is not None and replaced.new_class is info.node
                        and not replaced.delta else None)  # moved attributes and Parameters: read the class again
            members = previous.with_step_replaced(replaced, info.name, path, reuse) if previous is not None else None
            store[key] = members = members or cls(info, path, reuse)
        return members

    def with_step_replaced(self, replaced: Replaced, owner: str, path: Path | None, reuse: NodeReuse
                           ) -> _ClassMembers | None:
        """These members with the replaced method read again, when it is the same step under the same name, defined
        once; else None (the class is read again)."""
        name = replaced.new_method.name
        old_step = self.steps.get(name)
        if name != replaced.old_method.name or name in self.defined_twice or old_step is None \
                or old_step.node is not replaced.old_method:
            return None
        step = _read_step_reusing(replaced.new_method, owner, path, reuse)
        if step is None:
            return None
        members = copy.copy(self)
        members.steps = dict(self.steps)
        members.steps[name] = step  # the same key: the order of the steps stays
        return members

    def _read_assignment(self, statement: ast.Assign | ast.AnnAssign, owner: str) -> None:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        value = statement.value
        for target in targets:
            for name_node in ast.walk(target):
                if not isinstance(name_node, ast.Name):
                    continue
                kind = None
                if isinstance(value, ast.Call) and isinstance(target, ast.Name):
                    kind = PARAMETER_KINDS.get((dotted_name(value.func) or "").rsplit(".", 1)[-1])
                if kind:
                    option = literal(value.args[0]) if value.args else literal(
                        next((k.value for k in value.keywords if k.arg == "name"), None))
                    self.parameters[name_node.id] = Parameter(
                        name_node.id, option, kind, value, Span.of(name_node), owner)  # type: ignore[arg-type]
                else:
                    self.attributes[name_node.id] = Span.of(name_node)


class _ModuleReader:
    def __init__(self, module: Module, resolver: ModuleResolver | None, reuse: NodeReuse | None = None):
        self.module = module
        self.resolver = resolver
        self.reuse = reuse
        self.members: dict[str, _ClassMembers] = {}

    def read(self) -> None:
        module = self.module
        assert module.tree is not None
        for statement in module.tree.body:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                module.imports.extend(read_imports(statement))
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                module.functions[statement.name] = FunctionInfo(statement.name, statement, Span.of_name(statement))
            elif isinstance(statement, ast.ClassDef):
                bases = [dotted_name(b) or "" for b in statement.bases]
                module.classes[statement.name] = ClassInfo(
                    statement.name, statement, Span.of_name(statement), bases, module.path)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name):
                            module.constants[node.id] = Span.of(node)
            elif is_main_guard(statement):
                module.main_guard = statement  # type: ignore[assignment]
                for node in ast.walk(statement):
                    if isinstance(node, ast.Call):
                        name = dotted_name(node.func)
                        if name:
                            module.main_calls.add(name)
        for info in module.classes.values():
            flow = self.flow_class(info)
            if flow is not None:
                module.flows.append(flow)

    def members_of(self, info: ClassInfo) -> _ClassMembers:
        if info.name not in self.members:
            self.members[info.name] = _ClassMembers.of(info, self.module.path, self.reuse)
        return self.members[info.name]

    def flow_class(self, info: ClassInfo) -> FlowClass | None:
        """A FlowClass when `info` is a flow (FlowSpec among its bases), or may be one (an unreadable base)."""
        lineage = _Lineage(self, self.module)
        is_flow = lineage.collect(info, set())
        if not is_flow and not lineage.unresolved:
            return None
        members = self.members_of(info)
        own_steps = members.steps
        if not is_flow and not own_steps and info.name not in self.module.main_calls:
            return None  # an unknown base and nothing flow-like of its own: not ours to judge
        flow = FlowClass(
            name=info.name,
            node=info.node,
            span=info.span,
            path=self.module.path,
            bases=info.bases,
            steps=lineage.steps,
            parameters=lineage.parameters,
            class_attributes=lineage.attributes,
            methods=lineage.methods,
            decorators=[read_decorator(d) for d in info.node.decorator_list] + lineage.inherited_decorators,
            complete=not lineage.unresolved,
            unresolved_bases=lineage.unresolved,
        )
        return flow


class _Lineage:
    """Walks a class and its bases (in this file, or in sibling files through the resolver), merging members in
    Python's lookup order for the usual cases: a class overrides its bases, an earlier base overrides a later one."""

    def __init__(self, reader: _ModuleReader, module: Module):
        self.reader = reader
        self.module = module
        self.steps: dict[str, Step] = {}
        self.parameters: dict[str, Parameter] = {}
        self.attributes: dict[str, Span] = {}
        self.methods: set[str] = set()
        self.inherited_decorators: list[Decorator] = []
        self.unresolved: list[str] = []

    def collect(self, info: ClassInfo, visiting: set[str], reader: _ModuleReader | None = None, top: bool = True) -> bool:
        """Merges `info` and its bases into this lineage; True when FlowSpec is among the bases."""
        reader = reader or self.reader
        key = f"{reader.module.path}:{info.name}"
        if key in visiting:
            return False
        visiting.add(key)
        is_flow = False
        for base in reversed(info.bases):
            is_flow |= self._collect_base(base, reader, visiting)
        members = reader.members_of(info)
        self.steps.update(members.steps)
        self.parameters.update(members.parameters)
        for name in members.parameters:
            self.attributes.pop(name, None)
        for name, span in members.attributes.items():
            if name not in members.parameters:
                self.attributes[name] = span
                self.parameters.pop(name, None)
        self.methods |= members.methods
        if not top:
            self.inherited_decorators.extend(read_decorator(d) for d in info.node.decorator_list)
        return is_flow

    def _collect_base(self, base: str, reader: _ModuleReader, visiting: set[str]) -> bool:
        module = reader.module
        if base in ("object", "Generic", "ABC", "abc.ABC"):
            return False
        if base in ("FlowSpec", "metaflow.FlowSpec"):
            imported = module.imported(base.split(".")[0])
            if base == "FlowSpec" and "FlowSpec" in module.classes:
                pass  # a local class shadows the import: fall through to it
            elif imported is None or imported.module.split(".")[0] == "metaflow" or base == "metaflow.FlowSpec":
                return True
        if base in module.classes:
            return self.collect(module.classes[base], visiting, reader, top=False)
        imported = module.imported(base.split(".")[0]) if base else None
        if imported is not None and imported.name is not None and "." not in base:
            if imported.module.split(".")[0] == "metaflow" and imported.name == "FlowSpec":
                return True  # `from metaflow import FlowSpec as Base`
            other = self._resolve(imported.module, imported.level, module.path)
            if other is not None and other.ok and imported.name in other.classes:
                other_reader = _ModuleReader(other, self.reader.resolver)
                return self.collect(other.classes[imported.name], visiting, other_reader, top=False)
        if imported is not None and imported.name is None and "." in base:
            # `import common` + `class F(common.Base)` (or `import pkg.common as c` + `c.Base`)
            module_name, _, class_name = base.rpartition(".")
            aliased = imported.bound_name != imported.module.split(".")[0]
            target = imported.module if aliased and module_name == imported.bound_name else module_name
            if not aliased or module_name == imported.bound_name:
                other = self._resolve(target, 0, module.path)
                if other is not None and other.ok and class_name in other.classes:
                    other_reader = _ModuleReader(other, self.reader.resolver)
                    return self.collect(other.classes[class_name], visiting, other_reader, top=False)
        self.unresolved.append(base or "<expression>")
        return False

    def _resolve(self, module_name: str, level: int, path: Path | None) -> Module | None:
        return resolve_import(self.reader.resolver, module_name, level, path)


def resolve_import(resolver: ModuleResolver | None, module_name: str, level: int, importer: Path | None
                   ) -> Module | None:
    """The project module an import names, parsed, or None: no resolver (a file checked alone), not a project file,
    or a file that cannot be read."""
    if resolver is None:
        return None
    try:
        return resolver(module_name, level, importer)
    except (OSError, RecursionError, ValueError):
        return None


def read_imports(statement: ast.Import | ast.ImportFrom) -> list[Import]:
    span = Span.of(statement)
    if isinstance(statement, ast.Import):
        return [Import(alias.asname or alias.name.split(".")[0], alias.name if alias.asname else alias.name, None, 0,
                       span, statement) for alias in statement.names]
    return [Import(alias.asname or alias.name, statement.module or "", alias.name, statement.level, span, statement)
            for alias in statement.names]


def file_resolver(cache: dict | None = None, observe: Callable[[Path], None] | None = None) -> ModuleResolver:
    """Resolves project-local modules to files next to the importing file (how `python flow.py` finds them), or
    relative to its package for relative imports. Parsed modules are cached by path and modification time.
    `observe` is told of every file looked for, found or not, before it is looked at (`Project.observations`)."""
    cache = {} if cache is None else cache

    def resolve(module_name: str, level: int, importer: Path | None) -> Module | None:
        if importer is None or not module_name:
            return None
        base = importer.parent
        for _ in range(max(level - 1, 0)):
            base = base.parent
        relative = Path(*module_name.split("."))
        for candidate in (base / relative.with_suffix(".py"), base / relative / "__init__.py"):
            if observe is not None:
                observe(candidate)
            if candidate.is_file():
                stamp = candidate.stat().st_mtime_ns
                cached = cache.get(candidate)
                if cached and cached[0] == stamp:
                    return cached[1]
                cache[candidate] = (stamp, None)  # guards import cycles while parsing
                source = read_source(candidate)
                parsed = parse_module(source, candidate, resolve)
                cache[candidate] = (stamp, parsed)
                return parsed
        return None

    return resolve


__all__ = ["parse_module", "file_resolver", "resolve_import", "classify_next", "read_step", "is_main_guard", "FLOW_API"]
