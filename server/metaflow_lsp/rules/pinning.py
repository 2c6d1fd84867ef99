"""MF3xx: reproducible environments. Packages of @pypi / @conda (and their `_base` forms) and the specs given to the
`install_dependencies(...)` helper should name exact versions, VCS references a tag or commit, and environments a
Python version.

Only literal values are judged: a computed version, a Config value or a `**kwargs` spread stays silent.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..model import Decorator, dotted_name, literal
from ..refactor.fix_table import declare_fix, fix_data, lazy
from ..text import Span
from .guide import shown as _shown
from .installs import INSTALL_HELPER, install_helper_names, is_install_helper_call
from .registry import Hit, Reads, Severity, rule

if TYPE_CHECKING:  # at run time a cycle: the context imports the rules package
    from ..context import RuleContext

PACKAGE_DECORATORS = ("pypi", "conda", "pypi_base", "conda_base")
BASE_DECORATORS = ("pypi_base", "conda_base")
FILE_SUFFIXES = (".txt", ".whl", ".tar.gz", ".tgz", ".zip", ".toml", ".cfg", ".py", ".in", ".lock")

# Refs that are branches in practically every repository (compared case-insensitively).
BRANCH_NAMES = frozenset({"main", "master", "develop", "development", "dev", "trunk", "head", "staging", "default"})
# Prefixes that only branch names use.
BRANCH_PREFIXES = ("refs/heads/", "feature/", "features/", "feat/", "fix/", "bugfix/", "hotfix/", "users/", "user/",
                   "wip/", "refs/pull/", "pull/")
# Patterns are strings given to `re.match` and the like, compiled on first use (`re` keeps them): a one-file `check`
# imports every rule module, and compiling these at import took it over a millisecond.
COMMIT_SHA = r"[0-9a-fA-F]{7,40}"
VCS_URL = r"(?i)^(?:git|hg|svn|bzr)\+[A-Za-z][A-Za-z0-9+.-]*://"
# `name[extras]` then the rest of a PEP 508 requirement.
REQUIREMENT = r"(?s)^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<rest>.*?)\s*$"


# -- package specs ----------------------------------------------------------------------------------------------


def version_problem(version: str) -> str | None:
    """Why a version of a package dict (`{"pandas": version}`) is not exact: "empty", "range", or None when it is
    exact (or not a version at all, such as a `@git+...` direct reference, which `vcs_problem` judges)."""
    text = version.strip()
    if not text:
        return "empty"
    if text.startswith("@"):
        return None
    if text.lower() == "latest" or text.startswith(("<", ">", "!", "~")) or any(c in text for c in ",*|"):
        return "range"
    return None


@dataclass(frozen=True, slots=True)
class VcsRef:
    url: str  # the URL without `#fragment`
    ref: str | None  # what follows `@` in the path; None when the URL names no ref


def vcs_reference(spec: str) -> VcsRef | None:
    """The VCS URL of a spec, in any of the forms pip and Metaflow accept: `git+https://...@ref`,
    `name @ git+https://...@ref` (PEP 508) and `@git+https://...@ref` (a @pypi package value). None for anything
    else."""
    text = spec.strip()
    if text.startswith("@"):
        text = text[1:].strip()
    elif " @ " in text or re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@\s*\S+://", text):
        text = text.split("@", 1)[1].strip()
    text = text.split(";", 1)[0].strip()  # environment markers
    if not re.match(VCS_URL, text):
        return None
    url = text.split("#", 1)[0]
    after_scheme = url.split("://", 1)[1]
    _, _, path = after_scheme.partition("/")  # the host part may hold `user@`
    if "@" not in path:
        return VcsRef(url, None)
    return VcsRef(url, path.rsplit("@", 1)[1])


def branch_like(ref: str) -> bool:
    """Whether a VCS ref is (almost surely) a branch: a well-known branch name, or a name under a prefix only branches
    use. Commit shas, tag-looking refs and anything else unclear are not: the rule would rather miss a branch than
    flag a tag."""
    if not ref or re.fullmatch(COMMIT_SHA, ref):
        return False
    lowered = ref.lower()
    return lowered in BRANCH_NAMES or lowered.startswith(BRANCH_PREFIXES)


def requirement_problem(spec: str) -> str | None:
    """Why an `install_dependencies` string spec is not pinned: "unpinned" (a bare name), "range", "vcs" (a VCS URL
    without a ref); None when it is pinned or is something the rule does not judge (a path, a wheel URL, a pip
    option)."""
    text = spec.split(";", 1)[0].strip()  # environment markers
    if not text or text.startswith(("-", ".", "/", "~")) or text.lower().endswith(FILE_SUFFIXES):
        return None  # a pip option, a path, a requirements file or an archive
    if "://" in text and vcs_reference(text) is None:
        return None  # a plain URL (a wheel, an archive)
    vcs = vcs_reference(text)
    if vcs is not None:
        return "vcs" if vcs.ref is None else None
    match = re.match(REQUIREMENT, text)
    if match is None:
        return None
    rest = match.group("rest")
    if not rest:
        return "unpinned"
    if rest.startswith("@"):
        return None  # `name @ https://.../x.whl`: a direct reference
    if rest.startswith("===") or (rest.startswith("==") and "," not in rest):
        return "range" if "*" in rest else None
    if rest.startswith(("<", ">", "!", "~")) or "," in rest:
        return "range"
    return None  # not a requirement the rule understands


# -- where the specs are ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackageEntry:
    decorator: Decorator
    name: str
    spec: str
    key_span: Span
    value_span: Span

    @property
    def requirement(self) -> str:
        """What Metaflow hands pip (`metaflow/plugins/pypi/pip.py`): name and value joined when the value is empty
        or starts with `<`, `>`, `!`, `~` or `@` (`{"pkg @ git+https://h/r.git": "@main"}` is
        `pkg @ git+https://h/r.git@main`), else `name==value`."""
        if not self.spec.strip() or self.spec.strip().startswith(("<", ">", "!", "~", "@")):
            return self.name + self.spec.strip()
        return f"{self.name}=={self.spec.strip()}"


def _own_decorators(context: RuleContext) -> Iterator[Decorator]:
    """Every @pypi / @conda / *_base written in this file on a flow or a class, each once."""
    seen: set[int] = set()
    for flow in context.flows:
        for step in flow.own_steps:
            for decorator in step.decorators:
                if decorator.name in PACKAGE_DECORATORS and id(decorator.node) not in seen:
                    seen.add(id(decorator.node))
                    yield decorator
    from ..builder import read_decorator

    for info in context.module.classes.values():
        for node in info.node.decorator_list:
            if id(node) not in seen:
                decorator = read_decorator(node)
                if decorator.name in PACKAGE_DECORATORS:
                    seen.add(id(node))
                    yield decorator


def _package_dicts(decorator: Decorator) -> Iterator[ast.expr]:
    keys = ("packages", "libraries") if decorator.name.startswith("conda") else ("packages",)
    for key in keys:
        if key in decorator.kwargs:
            yield decorator.kwargs[key]


def package_entries(context: RuleContext) -> Iterator[PackageEntry]:
    """The literal `"name": "spec"` pairs of package dicts (`{...}` or `dict(name="spec")`); computed ones skipped."""
    for decorator in _own_decorators(context):
        for node in _package_dicts(decorator):
            if isinstance(node, ast.Dict):
                pairs = [(k, v) for k, v in zip(node.keys, node.values) if k is not None]
                for key, value in pairs:
                    name, spec = literal(key), literal(value)
                    if isinstance(name, str) and isinstance(spec, str):
                        yield PackageEntry(decorator, name, spec, Span.of(key), Span.of(value))
            elif isinstance(node, ast.Call) and dotted_name(node.func) == "dict" and not node.args:
                for keyword in node.keywords:
                    spec = literal(keyword.value)
                    if keyword.arg and isinstance(spec, str):
                        yield PackageEntry(decorator, keyword.arg, spec, Span.of(keyword), Span.of(keyword.value))


@dataclass(frozen=True, slots=True)
class InstallSpec:
    name: str | None  # the package name of a dict entry; None for a string spec
    spec: str
    span: Span
    is_dict_entry: bool


def install_specs(context: RuleContext) -> Iterator[InstallSpec]:
    """The literal specs given to `install_dependencies(...)` calls anywhere in the file: strings as positional
    arguments, in a list / tuple / set, or a dict of name to version (positional or any keyword)."""
    module = context.module
    if module.tree is None or INSTALL_HELPER not in module.source:
        return  # neither called nor imported under another name
    helpers = install_helper_names(module)
    for node in context.nodes(module.tree):
        if isinstance(node, ast.Call) and is_install_helper_call(node, helpers):
            for argument in [*node.args, *(k.value for k in node.keywords if k.arg)]:
                yield from _specs_in(argument)


def _specs_in(node: ast.expr) -> Iterator[InstallSpec]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield InstallSpec(None, node.value, Span.of(node), False)
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for element in node.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                yield InstallSpec(None, element.value, Span.of(element), False)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            name, spec = literal(key), literal(value)
            if isinstance(name, str) and isinstance(spec, str):
                span = Span.of(value) if spec.strip() else Span.of(key)
                yield InstallSpec(name, spec, span, True)


# -- rules ------------------------------------------------------------------------------------------------------


@rule("MF301", "unpinned-package", Severity.WARNING,
      "a @pypi / @conda package given as \"\", a range or \"latest\" instead of an exact version",
      silent="computed versions; exact versions, conda builds, git tags and commits", reads=Reads.GRAPH)
def unpinned_package(context: RuleContext):
    for entry in package_entries(context):
        vcs = vcs_reference(entry.requirement)
        if vcs is not None:
            if vcs.ref is not None:
                continue  # a tag or a commit (a branch is MF304's)
            kind = "vcs"
        else:
            kind = version_problem(entry.spec)
            if kind is None:
                continue
        deco = f"@{entry.decorator.name}"
        data = {"package": entry.name, "decorator": entry.decorator.name, "spec": entry.spec, "kind": kind}
        name = _shown(entry.name)
        if kind == "empty":
            yield Hit(entry.key_span, f"{name} in {deco} has no version: each run may resolve a different one; pin "
                                      f"an exact version.", data)
        elif kind == "vcs":
            span = entry.value_span if entry.spec.strip() else entry.key_span
            yield Hit(span, f"{name} in {deco} installs a git URL without a tag or commit: pin one with `@<tag>` or "
                            f"`@<sha>`.", data)
        else:
            yield Hit(entry.value_span, f"{name} in {deco} is a range ({_shown(entry.spec)}), not an exact version: "
                                        f"each run may resolve a different one.", data)


@fix_data
class UnpinnedData:
    package: str | None = None
    decorator: str | None = None
    kind: str | None = None


def _pin_title(data: UnpinnedData, context) -> str | None:
    if data.kind == "vcs" or not data.package:
        return None  # a git URL without a ref: the installed version is no answer to "which commit"
    version = context.installed_version(data.package) if context.installed_version else None
    if not version:
        return None  # not installed there: no version to pin to, no fix
    return f"Pin `{data.package}` to {version} (installed in {context.interpreter_name})"


# Reads the project's interpreter, which runs code: unsafe.
declare_fix("MF301", UnpinnedData, title=_pin_title, safe=False, apply=lazy("fixes", "pin_plan"),
            asks_interpreter=True)


@rule("MF302", "unpinned-install-dependencies", Severity.WARNING,
      "an install_dependencies(...) spec without an exact version, tag or commit",
      silent="exact pins, VCS refs (MF304), URLs, paths, options, computed specs")
def unpinned_install_dependencies(context: RuleContext):
    for item in install_specs(context):
        if item.is_dict_entry:
            problem = version_problem(item.spec)
            if problem is None:
                continue
            shown = _shown(f"{item.name}: {item.spec!r}" if item.spec.strip() else item.name)
            problem = "unpinned" if problem == "empty" else problem
        else:
            problem = requirement_problem(item.spec)
            if problem is None:
                continue
            shown = _shown(item.spec)
        data = {"spec": item.spec, "kind": problem}
        if item.name is not None:
            data["package"] = item.name
        if problem == "vcs":
            message = f"`install_dependencies` installs {shown} without a tag or commit: add `@<tag>` or `@<sha>`."
        elif problem == "unpinned":
            message = f"`install_dependencies` installs {shown} with no version: each run may get a different one; " \
                      f"pin it with `==`."
        else:
            message = f"`install_dependencies` installs {shown}, a range, not an exact version: pin it with `==`."
        yield Hit(item.span, message, data)


@rule("MF303", "base-environment-without-python", Severity.WARNING,
      "@pypi_base / @conda_base without python=",
      silent="step-level `@pypi` / `@conda`; computed `python=`; disabled environments", reads=Reads.GRAPH)
def base_environment_without_python(context: RuleContext):
    for decorator in _own_decorators(context):
        if decorator.name not in BASE_DECORATORS:
            continue
        call = decorator.node if isinstance(decorator.node, ast.Call) else None
        if call is not None and any(k.arg is None for k in call.keywords):
            continue  # `**settings` may carry python=
        if decorator.kwarg("disabled", False) is not False:
            continue  # disabled (or computed): not ours to judge
        python = decorator.kwarg("python", None)
        if python is not None:
            continue  # a version, or computed
        yield Hit(decorator.span, f"@{decorator.name} has no `python=`: the environment gets the Python of whatever "
                                  f"interpreter launches the run; pin it, e.g. `python=\"3.11\"`.",
                  {"decorator": decorator.name})


@rule("MF304", "vcs-branch-reference", Severity.WARNING,
      "a git URL pinned to a branch (main, master, develop...) instead of a tag or commit",
      silent="refs that may be tags, commit shas, URLs without a ref, computed specs")
def vcs_branch_reference(context: RuleContext):
    items: list[tuple[str, Span]] = [(e.requirement, e.value_span) for e in package_entries(context)]
    items += [(i.spec, i.span) for i in install_specs(context)]
    for spec, span in items:
        vcs = vcs_reference(spec)
        if vcs is None or vcs.ref is None or not branch_like(vcs.ref):
            continue
        yield Hit(span, f"{_shown(vcs.url)} follows the branch `{vcs.ref}`: every run may install a different commit; "
                        f"use a tag or a commit sha.", {"spec": spec, "ref": vcs.ref, "url": vcs.url})
