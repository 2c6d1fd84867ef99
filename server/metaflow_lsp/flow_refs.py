"""Every place a flow's artifact, Parameter or step name stands in the flow's own code, and the flows that share that
code (a base class and its subclasses): what references and rename answer, before the Client API reads of other
files (`client_api.py`) are added.

Ast and model only. A site is a (file, span) pair; two flows belong together for a name when they share one of its
sites, that is when their lineages share a step or a Parameter declaration that uses it.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .artifacts import TokenKind, branch_names, join_reads, merge_strings, name_span, tail_span, transition_strings
from .builder import ModuleResolver, resolve_import
from .model import FlowClass, Module
from .text import Span


class Files(Protocol):
    """Where the models come from: `module(path)` (the editor's text of an open document, else the disk's) and the
    project's `resolver` for imported base classes."""

    resolver: ModuleResolver

    def module(self, path: Path) -> Module | None: ...


@dataclass(frozen=True, slots=True)
class Site:
    path: Path  # real path of the file
    span: Span  # the name itself (inside the quotes for a string)
    declaration: bool = False  # an assignment, a Parameter's declaration, a step's `def`


def real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def flow_sites(flow: FlowClass, kind: TokenKind, name: str, files: Files) -> list[Site]:
    """The sites of `name` in `flow`'s steps, methods and class bodies, its bases' and mixins' included."""
    sites: list[Site] = []
    for step in flow.steps.values():
        if step.path is None:
            continue
        path = real(step.path)
        if kind == "step":
            if step.name == name:
                sites.append(Site(path, step.span, True))
            for transition in step.transitions:
                sites += [Site(path, tail_span(span, target)) for target, span in transition.targets if target == name]
            sites += [Site(path, span) for branch, span in branch_names(step) if branch == name]
            continue
        # A called `self.<name>(...)` too: `name` is no method here, so it is a function stored as an artifact.
        sites += [Site(path, name_span(access.node), access.kind == "write")
                  for access in step.accesses if access.name == name]
        sites += [Site(path, span) for value, span in (*transition_strings(step), *merge_strings(step))
                  if value == name]
        sites += [Site(path, name_span(node)) for node, _ in join_reads(step) if node.attr == name]
    if kind == "step":
        return sites
    for path, _class_name, node in lineage_classes(flow, files):
        # Helper methods read `self.<name>` too (a test-mode Parameter in `sample_size(self)`); steps come again
        # here, their sites are the same.
        for function in node.body:
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                sites += [Site(path, name_span(attribute), isinstance(attribute.ctx, ast.Store))
                          for attribute in self_attributes(function) if attribute.attr == name]
        # The class body: a Parameter's declaration, or a class attribute a step assigns on `self`.
        for statement in node.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                sites += [Site(path, Span.of(target), True) for target in targets
                          if isinstance(target, ast.Name) and target.id == name]
    return sites


def lineage_classes(flow: FlowClass, files: Files) -> Iterator[tuple[Path, str, ast.ClassDef]]:
    """The class statements of `flow` and of every base the model can read (in its file or an imported one), as
    the builder follows them; the model keeps no path per class, so they are found again here."""
    seen: set[tuple[Path, str]] = set()
    stack = [(flow.path, flow.name)]
    while stack:
        path, name = stack.pop()
        if path is None or (real(path), name) in seen:
            continue
        seen.add((real(path), name))
        module = files.module(real(path))
        info = module.classes.get(name) if module is not None else None
        if info is None:
            continue
        yield real(path), name, info.node
        for base in info.bases:
            stack.extend(_base_class(module, base, files.resolver))


def _base_class(module: Module, base: str, resolver: ModuleResolver) -> list[tuple[Path | None, str]]:
    """Where base `base` of a class of `module` is defined: this module, or the project file it is imported from."""
    if base in module.classes:
        return [(module.path, base)]
    imported = module.imported(base.split(".")[0]) if base else None
    if imported is None:
        return []
    if imported.name is not None and "." not in base:
        other = resolve_import(resolver, imported.module, imported.level, module.path)
        return [(other.path, imported.name)] if other is not None else []
    if imported.name is None and "." in base:
        module_name, _, class_name = base.rpartition(".")
        target = imported.module if module_name == imported.bound_name else module_name
        other = resolve_import(resolver, target, 0, module.path)
        return [(other.path, class_name)] if other is not None else []
    return []


def self_attributes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.Attribute]:
    """`self.<x>` in a method (by its first argument's name)."""
    if not function.args.args:
        return
    owner = function.args.args[0].arg
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == owner:
            yield node


def family(flow: FlowClass, kind: TokenKind, name: str, candidates: Iterable[FlowClass],
           files: Files) -> tuple[list[FlowClass], set[Site]]:
    """`flow` and the candidate flows sharing a site of `name` with it (or with one already taken), with the union
    of their sites. A subclass reading an artifact its base sets shares the base's step; two subclasses of one base
    share nothing when the name is used in their own steps only, and stay apart."""
    members = [flow]
    sites = set(flow_sites(flow, kind, name, files))
    pending = {id(c): (c, set(flow_sites(c, kind, name, files))) for c in candidates if c is not flow}
    changed = True
    while changed:
        changed = False
        for key, (candidate, own) in list(pending.items()):
            if own & sites:
                members.append(candidate)
                sites |= own
                del pending[key]
                changed = True
    return members, sites


def names_in_use(flows: Iterable[FlowClass], files: Files) -> dict[str, str]:
    """Every name the flows give a meaning on `self` (step, Parameter, method, class attribute, artifact), with what
    it is: a rename onto one of them would merge two things into one."""
    used: dict[str, str] = {}
    for flow in flows:
        for step in flow.steps.values():
            used.setdefault(step.name, "a step")
        for method in flow.methods:
            used.setdefault(method, "a method")
        for attribute in flow.class_attributes:
            used.setdefault(attribute, "a class attribute")
        for _path, _name, node in lineage_classes(flow, files):
            for function in node.body:
                if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for attribute in self_attributes(function):
                        used.setdefault(attribute.attr, "an artifact")
        for parameter in flow.parameters.values():
            used[parameter.attr] = f"a {parameter.kind}"
    return used

