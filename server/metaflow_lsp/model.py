"""The static flow model: what a flow file says, read from the stdlib `ast` alone.

Nothing here imports or executes user code. `metaflow_lsp.builder` fills these classes in; rules, code actions and
launchers only read them. The positions of a step's parts (`Step`, `Decorator`, `Transition`, `SelfAccess`) are
read from their nodes, never copied: an edit that adds a line moves the later methods' nodes in place (`incremental`),
and what was built from them stays right. Where the source cannot tell (a base class from another package, a computed decorator
argument) the model says so (`FlowClass.complete`, `UNKNOWN`) instead of guessing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .text import LineIndex, Span


class _Unknown:
    """A value the source does not determine statically (a call, a variable, a Config expression)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()

# Attributes of `self` that Metaflow itself provides inside a step: never artifacts.
FLOW_API = frozenset(
    {
        "next", "input", "index", "merge_artifacts", "foreach_stack", "name", "cmd", "script_name",
        "_datastore", "_graph", "_steps", "_flow_state", "_current_step", "_success", "_cached_input",
    }
)


def literal(node: ast.expr | None) -> Any:
    """The Python value of a literal expression, or UNKNOWN."""
    if node is None:
        return UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return UNKNOWN


def is_self(node: ast.AST) -> bool:
    """`self` (the step's or method's first argument, by the name every flow uses)."""
    return type(node) is ast.Name and node.id == "self"


def is_self_attr(node: ast.AST, name: str | None = None) -> bool:
    """`self.<name>` (any name when `name` is None)."""
    return type(node) is ast.Attribute and is_self(node.value) and (name is None or node.attr == name)


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attribute accesses on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


@dataclass(slots=True)
class Import:
    """One name bound by an import statement."""

    bound_name: str  # the name the module namespace gets (`np` in `import numpy as np`)
    module: str  # `numpy`; for `from .x import y` the dotted module after the dots (`x`)
    name: str | None  # the imported member (`y`), None for `import module`
    level: int  # dots of a relative import
    span: Span
    node: ast.Import | ast.ImportFrom


@dataclass(slots=True)
class Decorator:
    name: str  # last component as written: `retry` for `@metaflow.retry(times=2)`
    qualified: str  # the dotted text: `metaflow.retry`
    args: list[ast.expr]
    kwargs: dict[str, ast.expr]
    called: bool  # written with parentheses
    node: ast.expr

    @property
    def span(self) -> Span:
        return Span.of(self.node)

    def kwarg(self, key: str, default: Any = None) -> Any:
        """The literal value of a keyword argument: `default` when absent, UNKNOWN when computed."""
        if key not in self.kwargs:
            return default
        return literal(self.kwargs[key])


TransitionKind = Literal["linear", "split", "foreach", "parallel", "switch", "invalid"]


@dataclass(slots=True)
class Transition:
    """One `self.next(...)` call, wherever it stands in the step."""

    call: ast.Call
    kind: TransitionKind
    target_nodes: list[ast.Attribute]  # each `self.<step>`, in order
    foreach: Any = None  # the foreach= literal (UNKNOWN when computed)
    condition: Any = None  # the condition= literal of a switch
    switch_cases: dict[Any, str] = field(default_factory=dict)
    num_parallel: Any = None
    conditional: bool = False  # inside an `if`, loop, `try` or `with`

    @property
    def span(self) -> Span:
        return Span.of(self.call)

    @property
    def targets(self) -> list[tuple[str, Span]]:
        """The step names in order, with the span of each `self.x`."""
        return [(node.attr, Span.of(node)) for node in self.target_nodes]

    @property
    def target_names(self) -> list[str]:
        return [node.attr for node in self.target_nodes]


AccessKind = Literal["read", "write", "delete"]


@dataclass(slots=True)
class SelfAccess:
    """`self.<name>` in a step body."""

    name: str
    kind: AccessKind
    conditional: bool  # inside control flow: may not happen on every run
    called: bool  # `self.name(...)`: a method call, not an artifact
    node: ast.Attribute

    @property
    def span(self) -> Span:
        return Span.of(self.node)


@dataclass(slots=True)
class Step:
    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    decorators: list[Decorator]
    owner: str  # the class that defines it (a mixin or base for inherited steps)
    path: Path | None  # the file that defines it
    is_start: bool = False  # @step(start=True)
    is_end: bool = False  # @step(end=True)
    step_decorator_index: int = 0  # position of @step in the decorator list (top = 0)
    transitions: list[Transition] = field(default_factory=list)
    accesses: list[SelfAccess] = field(default_factory=list)
    # What Metaflow's graph sees: only the last statement of the body counts as the transition.
    tail: Transition | None = None
    has_tail_next: bool = False

    @property
    def span(self) -> Span:
        """The name after `def`."""
        return Span.of_name(self.node)

    @property
    def num_args(self) -> int:
        return len(self.node.args.args)

    @property
    def is_join(self) -> bool:
        return self.num_args == 2

    @property
    def body(self) -> list[ast.stmt]:
        return self.node.body

    def decorator(self, name: str) -> Decorator | None:
        return next((d for d in self.decorators if d.name == name), None)

    def reads(self) -> list[SelfAccess]:
        return [a for a in self.accesses if a.kind == "read" and not a.called and a.name not in FLOW_API]

    def writes(self) -> list[SelfAccess]:
        return [a for a in self.accesses if a.kind == "write" and a.name not in FLOW_API]


ParameterKind = Literal["Parameter", "Config", "IncludeFile"]


@dataclass(slots=True)
class Parameter:
    """A class attribute assigned `Parameter(...)`, `Config(...)` or `IncludeFile(...)`."""

    attr: str  # the class attribute
    option: Any  # the option name (first argument or name=), UNKNOWN when computed
    kind: ParameterKind
    call: ast.Call
    span: Span  # the attribute name in the assignment
    owner: str

    def kwarg(self, key: str, default: Any = None) -> Any:
        for keyword in self.call.keywords:
            if keyword.arg == key:
                return literal(keyword.value)
        return default

    def has_kwarg(self, key: str) -> bool:
        return any(keyword.arg == key for keyword in self.call.keywords)

    @property
    def cli_option(self) -> str | None:
        """The command-line option Metaflow derives from the name: `--<name>`."""
        return f"--{self.option}" if isinstance(self.option, str) else None


@dataclass(slots=True)
class ClassInfo:
    """Any top-level class of a module, flow or not, as the model sees it."""

    name: str
    node: ast.ClassDef
    span: Span
    bases: list[str]  # dotted text of each base; "" when not a plain name
    path: Path | None


@dataclass(slots=True)
class FlowClass:
    name: str
    node: ast.ClassDef
    span: Span  # the class name
    path: Path | None
    bases: list[str]
    steps: dict[str, Step]  # own and inherited, in definition order; own ones override
    parameters: dict[str, Parameter]  # by attribute, own and inherited
    class_attributes: dict[str, Span]  # other names assigned in the class body (own and inherited)
    methods: set[str]  # non-step functions of the class and its known bases
    decorators: list[Decorator]  # class decorators: @project, @schedule, @pypi_base, ...
    # False when a base class could not be read (another package, a computed base): the flow may then have steps,
    # Parameters or decorators the model does not see, and a rule needing the whole flow must stay silent.
    complete: bool = True
    unresolved_bases: list[str] = field(default_factory=list)

    @property
    def own_steps(self) -> list[Step]:
        """The steps this class defines itself (not a base's or a mixin's). For the steps a file reports, use
        `RuleContext.steps_in_file()`, which also has those of bases and mixins defined in the same file."""
        return [s for s in self.steps.values() if s.owner == self.name]

    def decorator(self, name: str) -> Decorator | None:
        return next((d for d in self.decorators if d.name == name), None)

    def is_artifact(self, name: str) -> bool:
        """Whether `self.<name>` can be an artifact of this flow, not a Parameter, method or step."""
        return (name not in FLOW_API and name not in self.parameters and name not in self.methods
                and name not in self.steps)

    def artifact_reads(self, step: Step) -> list[SelfAccess]:
        return [a for a in step.reads() if self.is_artifact(a.name)]

    def artifact_writes(self, step: Step) -> list[SelfAccess]:
        return [a for a in step.writes() if self.is_artifact(a.name)]


@dataclass(slots=True)
class FunctionInfo:
    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    span: Span


@dataclass(slots=True)
class Module:
    path: Path | None
    source: str
    tree: ast.Module | None
    lines: LineIndex = field(init=False)  # positions of `source`, shared by everything that converts them
    syntax_error: SyntaxError | None = None
    imports: list[Import] = field(default_factory=list)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    constants: dict[str, Span] = field(default_factory=dict)  # other top-level assigned names
    flows: list[FlowClass] = field(default_factory=list)
    main_guard: ast.If | None = None  # `if __name__ == "__main__":`
    main_calls: set[str] = field(default_factory=set)  # names called inside the guard (`TrainFlow()`)

    def __post_init__(self) -> None:
        self.lines = LineIndex(self.source)

    @property
    def ok(self) -> bool:
        return self.tree is not None

    def imported(self, bound_name: str) -> Import | None:
        return next((i for i in self.imports if i.bound_name == bound_name), None)
