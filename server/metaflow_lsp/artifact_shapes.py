"""Whether an artifact holds a list, as far as the source of its assignments shows: what completion inside
`foreach="` offers first. Metaflow iterates whatever the foreach artifact holds and pickles it, so a list, a tuple,
a set, a comprehension of one or a `range` is what a foreach goes over; a number, a boolean, None or a string
literal is not (a string would fan out over its characters). Anything else (a call, a name, a dict, arithmetic)
cannot be known without running the flow. Ast only.
"""

from __future__ import annotations

import ast
from typing import Literal

from .model import SelfAccess, Step

Shape = Literal["list", "scalar", "unknown"]

# Calls of builtins that always give a list-like value Metaflow can iterate and pickle.
LIST_BUILDERS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "range"})
LIST_METHODS = frozenset({"split", "rsplit", "splitlines"})  # `text.split(",")`: str methods giving lists


def value_shape(value: ast.expr | None) -> Shape:
    """The shape of an assigned value's expression."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set, ast.ListComp, ast.SetComp)):
        return "list"
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Name) and func.id in LIST_BUILDERS:
            return "list"
        if isinstance(func, ast.Attribute) and func.attr in LIST_METHODS:
            return "unknown" if isinstance(func.value, ast.Name) and func.value.id == "self" else "list"
    if isinstance(value, (ast.Constant, ast.JoinedStr, ast.Compare)) or (
            isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not)):
        return "scalar"
    return "unknown"


def assigned_values(step: Step) -> dict[int, ast.expr | None]:
    """`id(target)` -> the value assigned to it, for each `self.<name> = value` of the step (`a = self.b = v` too).
    An unpacking (`self.a, self.b = pair`) or an augmented assignment maps to None: its shape is not the value's."""
    values: dict[int, ast.expr | None] = {}
    for node in ast.walk(step.node):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute):
                    values[id(target)] = node.value
                elif isinstance(target, (ast.Tuple, ast.List)):
                    values.update((id(element), None) for element in ast.walk(target))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Attribute):
            values[id(node.target)] = node.value
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
            values[id(node.target)] = None
    return values


def artifact_shape(writes: list[SelfAccess], values: dict[int, ast.expr | None]) -> Shape:
    """The shape of an artifact from the writes that can have set it (`values`: their steps' `assigned_values`):
    "list" or "scalar" when all of them agree, else "unknown"."""
    shapes = {value_shape(values.get(id(access.node))) for access in writes}
    return shapes.pop() if len(shapes) == 1 else "unknown"
