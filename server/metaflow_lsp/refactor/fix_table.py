"""The fix table: one `Fix` per fixable rule, declared with `declare_fix(...)` right after the rule in `rules/*.py`.

A declaration says what the editor and `metaflow-lsp fix` need and nothing else: the code, the typed view of the
finding's `data` (a small class declared with `fix_data`, read with `typed_data`), the title built from it, whether the fix is safe, and
`apply`, which computes the plan. This module and the declarations stay cheap (no libcst, no file access) because
the code action list reads them on every request; `apply` is `lazy("fixes", "name")`, which imports the libcst
transform of `refactor/` only when the fix runs.

Safe fixes (`source.fixAll.metaflow-lsp` in the editor, `metaflow-lsp fix` on the command line) turn a flow that
cannot run as written into one that does, without choosing anything for the user. Unsafe ones are offered one at a
time as quick fixes only. Each declaration says why it is one or the other.

Code actions (`lsp/code_actions.py`), fix-all and `metaflow-lsp fix` (`fixes.fix_all`, `fix_command.py`) all read
`FIXES`. The one action not in it is the refactoring "Extract step body to common.py" on any step at the cursor
(refactor/extract.py), which MF201's fix runs too.
"""

from __future__ import annotations

import importlib
import threading
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from ..config import Settings
    from ..engine import CheckResult, Finding
    from ..model import Module
    from ..project import Project
    from .plan import FixPlan

FIX_ALL_KIND = "source.fixAll.metaflow-lsp"
FIX_ALL_TITLE = "Fix all safe Metaflow problems"
PROJECT_PYTHON = "the project's Python"


def read_disk(path: Path) -> str | None:
    """A file's text from the disk (with the size cap of `files.read_source`); None when it cannot be read."""
    from ..files import read_source

    try:
        return read_source(path)
    except OSError:
        return None


def _default_settings() -> Settings:
    from ..config import Settings

    return Settings()


@dataclass
class FixContext:
    """What a fix may look at besides the file's text."""

    path: Path | None
    settings: Settings = field(default_factory=_default_settings)
    project: Project | None = None
    # The current text of another file: the editor's unsaved buffer when it is open, else the disk; None: no file.
    read: Callable[[Path], str | None] = read_disk
    # The installed version of a package in the project's interpreter (MF301); None: not installed or unknown.
    installed_version: Callable[[str], str | None] | None = None
    interpreter_name: str = PROJECT_PYTHON  # how a title names that interpreter

    def check(self, source: str) -> CheckResult:
        from ..engine import check_source

        return check_source(source, self.path, self.settings, self.project)

    def reading(self, read: Callable[[Path], str | None]) -> FixContext:
        """The same context, reading other files through `read`."""
        return FixContext(self.path, self.settings, self.project, read, self.installed_version,
                          self.interpreter_name)


@dataclass(frozen=True)
class FixRequest:
    """One finding to fix in `source`, the current text of `context.path`; `module` is the model of `source`."""

    source: str
    finding: Finding
    context: FixContext
    module: Module


D = TypeVar("D")


@dataclass(frozen=True)
class Fix(Generic[D]):
    code: str
    data: type[D]  # the typed view of the finding's data
    title: Callable[[D, FixContext], str | None]  # the quick fix's title; None: no fix for this finding
    safe: bool  # in fix-all and `metaflow-lsp fix`, and preferred in the quick fix list
    apply: Callable[[FixRequest, D], FixPlan]
    # The other file the fix writes when the rule reads it back from the disk (MF203's .gitignore): fix-all counts
    # the finding settled once that file is in the plan, and `metaflow-lsp fix` once an earlier file wrote it.
    writes: Callable[[D], Path | None] | None = None
    # The title needs the installed packages (`FixContext.installed_version`): the list asks the interpreter first.
    asks_interpreter: bool = False
    # Why the fix cannot be made here, known cheaply from the model (ast only); the list shows the action disabled
    # with the reason (MF201: a step Extract cannot move). None: always offered.
    unavailable: Callable[[Module, D], str | None] | None = None

    def data_of(self, finding: Finding) -> D:
        return typed_data(self.data, finding.data)

    def title_of(self, finding: Finding, context: FixContext) -> str | None:
        return self.title(self.data_of(finding), context)

    def plan(self, request: FixRequest) -> FixPlan:
        return self.apply(request, self.data_of(request.finding))


FIXES: dict[str, Fix] = {}


def declare_fix(code: str, data: type[D], *, title: Callable[[D, FixContext], str | None], safe: bool,
                apply: Callable[[FixRequest, D], FixPlan], writes: Callable[[D], Path | None] | None = None,
                asks_interpreter: bool = False,
                unavailable: Callable[[Module, D], str | None] | None = None) -> Fix[D]:
    """Adds the fix of `code` to the table; one per code."""
    if code in FIXES:
        raise ValueError(f"fix for {code} declared twice")
    FIXES[code] = declared = Fix(code, data, title, safe, apply, writes, asks_interpreter, unavailable)
    return declared


def declared_fixes() -> dict[str, Fix]:
    """The whole table, by code."""
    from ..rules import load

    load()  # the declarations run when the rule modules are imported
    return FIXES


def fix_for(code: str) -> Fix | None:
    return declared_fixes().get(code)


def safe_codes() -> frozenset[str]:
    return frozenset(code for code, declared in declared_fixes().items() if declared.safe)


def lazy(module: str, function: str) -> Callable[[FixRequest, Any], FixPlan]:
    """An `apply` that imports `refactor.<module>` (libcst) when the fix runs, then calls its `function`."""

    def apply(request: FixRequest, data: Any) -> FixPlan:
        target = getattr(importlib.import_module(f"{__package__}.{module}"), function)
        return target(request, data)

    apply.__qualname__ = f"{module}.{function}"
    return apply


def noqa_title(code: str) -> str:
    return f"Disable {code} for this line"


# -- typed data ----------------------------------------------------------------------------------------------------


def fix_data(cls: type[D]) -> type[D]:
    """Declares the typed view of a fix's finding data (`Fix.data`): a class whose annotated fields all have
    defaults, which becomes a frozen dataclass when a fix first reads it (`typed_data`). Creating a dataclass compiles
    its methods (about half a millisecond each), and `check`, which never reads fix data, imports every rule module
    at every start."""
    return cls


_MAKING_DATACLASS = threading.Lock()  # the code action list and the edit thread may both read fix data first


def _as_dataclass(cls: type) -> None:
    with _MAKING_DATACLASS:
        if not is_dataclass(cls):
            dataclass(frozen=True)(cls)


@fix_data
class NoData:
    """For a fix that needs nothing from the finding but its line."""


def typed_data(cls: type[D], data: dict[str, Any] | None) -> D:
    """`cls` (declared with `fix_data`) from a finding's data: each field takes the value of the same key when it
    has the declared type (str, int, bool, list[str], or None where allowed), else its default."""
    if not is_dataclass(cls):
        _as_dataclass(cls)
    data = data or {}
    hints = typing.get_type_hints(cls)
    values = {f.name: data[f.name] for f in fields(cls)  # type: ignore[arg-type]
              if f.name in data and _has_type(data[f.name], hints[f.name])}
    return cls(**values)


def _has_type(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_has_type(value, option) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin in (list, tuple):
        [item] = typing.get_args(hint)[:1] or [Any]
        return isinstance(value, (list, tuple)) and all(_has_type(v, item) for v in value)
    if hint is Any:
        return True
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def quoted(value: str | None, fallback: str) -> str:
    """`value` in backticks for a title, or `fallback` when the finding did not say."""
    return f"`{value}`" if value else fallback

