"""Work that survives a keystroke.

Typing changes one step; the other steps of the file are the same text at the same place. After each parse, a
method whose source text and position are unchanged is replaced in the new tree by the node of the previous
version: the two are equal in every field, positions included, so nothing downstream can tell, and node identity
stays consistent (the tree, the model and every cache hold the same objects). What was computed from such a node
alone (its `Step`, its flattened nodes, rule facts) is then reused instead of recomputed.

Before that, the previous tree itself saves the parse when the edit lies inside one method (`incremental`). When
the edit added or removed lines, the methods after it are the same nodes moved in place, and keep what was derived from
them: derived values hold nodes, names and counts, never positions copied out of a node (`RuleContext.derived`).

One `NodeReuse` per document, kept by the language server. The CLI checks each file once and has none.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .incremental import LineMove, reparse_edited_method
from .walk import FLAT_NODES


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
        self.parses = 0  # versions parsed so far, whole or not
        self.line_shifts = 0  # versions whose edit moved later methods (a line added or removed inside a method)
        self.last_move: LineMove | None = None  # where the last of those left the lines of the version before it
        # The last reparse's move, when it moved lines, with the line after which nodes moved: for the next `splice`.
        self._moving: tuple[int, LineMove] | None = None
        self.rule_state: Any = None  # `rule_reuse.RuleReuse`'s: the last checked version's steps and hits
        self._path: Path | None = None
        # What was computed from each top-level class node alone (`class_store`), by id, with the node.
        self._classes: dict[int, tuple[ast.ClassDef, dict[Any, Any]]] = {}
        # The last splice's one replaced method (`reparse`'s usual result), else None: the model of the class can
        # then be updated rather than read again.
        self.replaced: Replaced | None = None

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
        reparsed = None if self._last is None else reparse_edited_method(
            self._last[0], self._last[1], lines, self._flat_nodes)
        self.parses += 1
        if reparsed is None:
            self.full_parses += 1
        elif reparsed.move is not None:
            self.line_shifts += 1
            self.last_move = reparsed.move
        self._moving = (reparsed.moved_after, reparsed.move) if reparsed is not None and reparsed.move is not None \
            else None
        return reparsed.tree if reparsed is not None else None

    def _flat_nodes(self, node: ast.AST) -> list[ast.AST] | None:
        store = self.derived(node)
        return store.get(FLAT_NODES) if store is not None else None

    def remember(self, lines: list[str], tree: ast.Module | None) -> None:
        """The tree of this version (None when it did not parse), for `reparse` on the next one."""
        self._last = (lines, tree) if tree is not None else None

    def splice(self, tree: ast.Module, lines: list[str]) -> None:
        """Puts the previous version's node in place of every unchanged method of every top-level class, and
        forgets the methods that are gone (so no stale `id()` can ever match a new node). A tree from `reparse`
        already shares every node but one method's: only that method's entry changes, in constant time."""
        previous = self._last[1] if self._last is not None else None
        self.replaced = None
        moving, self._moving = self._moving, None
        if tree is previous:
            return  # the same text
        old_classes, self._classes = self._classes, {
            id(node): entry for node in tree.body if (entry := self._classes.get(id(node))) is not None
            and entry[0] is node}  # only the classes of this tree: a gone node's id can never match again
        replaced = _one_method_replaced(previous, tree) if previous is not None else None
        if replaced is not None:  # what `reparse` gives: the previous tree with one method parsed again
            entry = old_classes.get(id(replaced.old_class))
            replaced.old_store = entry[1] if entry is not None and entry[0] is replaced.old_class else {}
            replaced.delta = moving[1].delta if moving is not None else 0
            self.replaced = replaced
            stale = self._by_node.pop(id(replaced.old_method), None)
            if stale is not None:
                del self._entries[stale.key]
            if replaced.delta:
                self._moved_entries(moving[0], replaced.delta, tree)
            entry = _Entry(_key(replaced.new_class.name, replaced.new_method, lines), replaced.new_method)
            self._entries[entry.key] = self._by_node[id(replaced.new_method)] = entry
            return
        if moving is not None:  # never expected (`reparse` replaces one method): the keys of moved nodes are stale
            self._by_node = {}
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

    def _moved_entries(self, after: int, delta: int, tree: ast.Module) -> None:
        """After a reparse that moved the nodes below line `after`: the methods there keep their entries under their
        new position, and the classes there lose their stores (the members' spans of their attributes and
        Parameters are copied positions). The replaced method's class is a new node, read again."""
        entries: dict[tuple, _Entry] = {}
        for key, entry in self._entries.items():
            if key[1] > after:
                entry.key = key = (key[0], key[1] + delta, key[2], key[3] + delta, *key[4:])
            entries[key] = entry
        self._entries = entries
        for statement in tree.body:
            if isinstance(statement, ast.ClassDef) and statement.lineno - 1 > after:
                self._classes.pop(id(statement), None)

    def class_store(self, node: ast.ClassDef) -> dict[Any, Any]:
        """The store of values computed from a top-level class node alone, kept while the class is the same node."""
        entry = self._classes.get(id(node))
        if entry is None or entry[0] is not node:
            entry = self._classes[id(node)] = (node, {})
        return entry[1]

    def derived(self, node: ast.AST) -> dict[Any, Any] | None:
        """The store of values computed from `node` alone, when `node` is a method this cache keeps."""
        entry = self._by_node.get(id(node))
        return entry.derived if entry is not None and entry.node is node else None


@dataclass
class Replaced:
    """One method of one top-level class parsed again, everything else of the tree the same objects."""

    old_class: ast.ClassDef
    new_class: ast.ClassDef
    old_method: ast.FunctionDef | ast.AsyncFunctionDef
    new_method: ast.FunctionDef | ast.AsyncFunctionDef
    old_store: dict[Any, Any] = field(default_factory=dict)  # `class_store` of the old class
    delta: int = 0  # lines the edit added (removed, when negative): the nodes after the method moved


def _one_method_replaced(old: ast.Module, new: ast.Module) -> Replaced | None:
    """The replaced method when `new` is `old` with one method of one top-level class replaced, the other statements
    and members being the same objects (as `reparse` builds it); else None."""
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
    return Replaced(old_class, new_class, *members[0])


def _key(owner: str, node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> tuple:
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    last = (node.end_lineno or node.lineno) - 1
    return (owner, first, node.col_offset, last, node.end_col_offset, "\n".join(lines[first:last + 1]))
