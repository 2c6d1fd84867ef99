"""Work that survives a keystroke.

Typing changes one step; the other steps of the file are the same text at the same place. After each parse, a
method whose source text and position are unchanged is replaced in the new tree by the node of the previous
version: the two are equal in every field, positions included, so nothing downstream can tell, and node identity
stays consistent (the tree, the model and every cache hold the same objects). What was computed from such a node
alone (its `Step`, its flattened nodes, rule facts) is then reused instead of recomputed.

Before that, the previous tree itself saves the parse when the edit lies inside one method (`incremental`).

One `NodeReuse` per document, kept by the language server. The CLI checks each file once and has none.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .incremental import reparse_edited_method


@dataclass
class _Entry:
    key: tuple  # `_key`: the method's class, position and text
    node: ast.FunctionDef | ast.AsyncFunctionDef
    derived: dict[Any, Any] = field(default_factory=dict)  # what was computed from this node alone


class NodeReuse:
    """Methods of the previous version, by (class, position, text), and what was derived from each."""

    def __init__(self) -> None:
        self._entries: dict[tuple, _Entry] = {}
        self._by_node: dict[int, _Entry] = {}
        self._last: tuple[list[str], ast.Module] | None = None  # the previous version's lines and tree
        # Parses of the whole text so far: while it stays the same, every version came from `reparse`, so only the
        # methods of top-level classes changed (`rule_reuse` relies on it).
        self.full_parses = 0
        self.rule_state: Any = None  # `rule_reuse.RuleReuse`'s: the last checked version's steps and hits
        self._path: Path | None = None

    def same_path(self, path: Path | None) -> Path | None:
        """The document's path as the previous version had it, when equal: kept `Step`s hold that object, and paths
        compared by identity skip `pathlib`'s slow equality on every step of every keystroke."""
        if path is not None and path == self._path:
            return self._path
        self._path = path
        return path

    def reparse(self, lines: list[str]) -> ast.Module | None:
        """The tree of the text with these lines from the previous version's tree, when only one method changed;
        None when the text must be parsed whole."""
        tree = reparse_edited_method(self._last[0], self._last[1], lines) if self._last is not None else None
        if tree is None:
            self.full_parses += 1
        return tree

    def remember(self, lines: list[str], tree: ast.Module | None) -> None:
        """The tree of this version (None when it did not parse), for `reparse` on the next one."""
        self._last = (lines, tree) if tree is not None else None

    def splice(self, tree: ast.Module, lines: list[str]) -> None:
        """Puts the previous version's node in place of every unchanged method of every top-level class, and
        forgets the methods that are gone (so no stale `id()` can ever match a new node)."""
        previous = self._last[1] if self._last is not None else None
        if tree is previous:
            return  # the same text
        replaced = _one_method_replaced(previous, tree) if previous is not None else None
        if replaced is not None:  # what `reparse` gives: the previous tree with one method parsed again
            owner, old_method, new_method = replaced
            stale = self._by_node.pop(id(old_method), None)
            if stale is not None:
                del self._entries[stale.key]
            entry = _Entry(_key(owner, new_method, lines), new_method)
            self._entries[entry.key] = self._by_node[id(new_method)] = entry
            return
        entries: dict[tuple, _Entry] = {}
        for statement in tree.body:
            if not isinstance(statement, ast.ClassDef):
                continue
            body = statement.body
            for index, member in enumerate(body):
                if not isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                entry = self._by_node.get(id(member))
                if entry is not None and entry.node is member and entry.key[0] == statement.name:
                    # The previous version's own node, shared by `reparse`, which keeps every line outside the
                    # re-parsed method: same class, position and text, so the key is the one it had.
                    entries[entry.key] = entry
                    continue
                key = _key(statement.name, member, lines)
                entry = self._entries.get(key)
                if entry is None:
                    entry = _Entry(key, member)
                else:
                    body[index] = entry.node
                entries[key] = entry
        self._entries = entries
        self._by_node = {id(entry.node): entry for entry in entries.values()}

    def derived(self, node: ast.AST) -> dict[Any, Any] | None:
        """The store of values computed from `node` alone, when `node` is a method this cache keeps."""
        entry = self._by_node.get(id(node))
        return entry.derived if entry is not None and entry.node is node else None


def _one_method_replaced(old: ast.Module, new: ast.Module) -> tuple[str, ast.AST, ast.AST] | None:
    """(class, old method, new method) when `new` is `old` with one method of one top-level class replaced, the other
    statements and members being the same objects (as `reparse` builds it); else None."""
    if len(old.body) != len(new.body):
        return None
    changed = [(a, b) for a, b in zip(old.body, new.body) if a is not b]
    if len(changed) != 1 or not all(isinstance(node, ast.ClassDef) for node in changed[0]):
        return None
    old_class, new_class = changed[0]
    if len(old_class.body) != len(new_class.body) or old_class.name != new_class.name:
        return None
    members = [(a, b) for a, b in zip(old_class.body, new_class.body) if a is not b]
    if len(members) != 1 or not all(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in members[0]):
        return None
    return (new_class.name, *members[0])


def _key(owner: str, node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> tuple:
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    last = (node.end_lineno or node.lineno) - 1
    return (owner, first, node.col_offset, last, node.end_col_offset, "\n".join(lines[first:last + 1]))
