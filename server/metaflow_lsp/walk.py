"""Fast traversal of `ast` trees.

`ast.walk` and `ast.NodeVisitor` cost about a microsecond per node in dispatch alone; rules run on every keystroke
over every step. These explicit-stack walks skip fields that never hold nodes and produce a flat list once, which a
`RuleContext` shares between all rules of a check run.
"""

from __future__ import annotations

import ast

# The key under which `RuleContext.nodes` keeps a method's `flatten` list (`reuse` moves a method with it).
FLAT_NODES = "nodes"

# Fields that never hold a node worth visiting.
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind", "type_params"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(cls: type) -> tuple[str, ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = tuple(f for f in getattr(cls, "_fields", ()) if f not in _SKIPPED_FIELDS)
    return fields


def flatten(root: ast.AST) -> list[ast.AST]:
    """Every node under `root` (included), parents before children, siblings in source order."""
    nodes: list[ast.AST] = []
    stack = [root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        children = []
        for field in child_fields(type(node)):
            value = getattr(node, field, None)
            if value is None:
                continue
            if type(value) is list:
                children.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                children.append(value)
        stack.extend(reversed(children))
    return nodes


def parents_of(nodes: list[ast.AST]) -> dict[int, ast.AST]:
    """`id(child) -> parent` for a list made by `flatten`."""
    parents: dict[int, ast.AST] = {}
    for node in nodes:
        for field in child_fields(type(node)):
            value = getattr(node, field, None)
            if value is None:
                continue
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        parents[id(item)] = node
            elif isinstance(value, ast.AST):
                parents[id(value)] = node
    return parents
