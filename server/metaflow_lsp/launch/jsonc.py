"""A small JSONC reader that keeps positions, and an edit that merges entries into a `configurations` array.

VS Code's launch.json is JSON with comments (`//`, `/* */`) and trailing commas. Rewriting it through `json` would
lose the comments and the user's layout, so the merge edits the text: our entries (found by `name`) are updated in
place (what the user added to them stays), new ones are inserted before the closing bracket, and every other byte
stays as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..text import split_lines


class JsoncError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


@dataclass
class Node:
    kind: str  # object | array | string | number | literal
    start: int
    end: int  # exclusive
    value: Any = None  # the Python value of strings, numbers and literals
    members: list[tuple[str, "Node"]] = field(default_factory=list)  # objects
    items: list["Node"] = field(default_factory=list)  # arrays
    # For objects and arrays: whether a comma follows the last member/item (a trailing comma).
    trailing_comma: bool = False

    def member(self, key: str) -> "Node | None":
        return next((value for name, value in self.members if name == key), None)


def parse(text: str) -> Node:
    """The top-level value of a JSONC text, with positions. Raises JsoncError."""
    scanner = _Scanner(text)
    scanner.skip()
    node = scanner.value()
    scanner.skip()
    if scanner.i != len(text):
        raise JsoncError("unexpected text after the value", scanner.i)
    return node


class _Scanner:
    def __init__(self, text: str):
        self.text = text
        self.i = 0

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.i < n:
            ch = text[self.i]
            if ch in " \t\r\n\ufeff":
                self.i += 1
            elif text.startswith("//", self.i):
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end + 1
            elif text.startswith("/*", self.i):
                end = text.find("*/", self.i + 2)
                if end < 0:
                    raise JsoncError("unterminated comment", self.i)
                self.i = end + 2
            else:
                return

    def value(self) -> Node:
        if self.i >= len(self.text):
            raise JsoncError("unexpected end", self.i)
        ch = self.text[self.i]
        if ch == "{":
            return self._container("object", "}")
        if ch == "[":
            return self._container("array", "]")
        if ch == '"':
            start = self.i
            return Node("string", start, self._string_end(), value=self._decode(start))
        return self._scalar()

    def _string_end(self) -> int:
        i = self.i + 1
        text = self.text
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                self.i = i + 1
                return self.i
            if ch == "\n":
                break
            i += 1
        raise JsoncError("unterminated string", self.i)

    def _decode(self, start: int) -> str:
        try:
            return json.loads(self.text[start:self.i])
        except ValueError as error:
            raise JsoncError(f"bad string ({error})", start) from None

    def _scalar(self) -> Node:
        start = self.i
        text = self.text
        while self.i < len(text) and text[self.i] not in " \t\r\n,]}/":
            self.i += 1
        raw = text[start:self.i]
        try:
            value = json.loads(raw)
        except ValueError:
            raise JsoncError(f"unexpected {raw[:20]!r}", start) from None
        return Node("literal" if raw in ("true", "false", "null") else "number", start, self.i, value=value)

    def _container(self, kind: str, closer: str) -> Node:
        node = Node(kind, self.i, -1)
        self.i += 1
        while True:
            self.skip()
            if self.i >= len(self.text):
                raise JsoncError(f"missing {closer!r}", self.i)
            if self.text[self.i] == closer:
                self.i += 1
                node.end = self.i
                return node
            if kind == "object":
                if self.text[self.i] != '"':
                    raise JsoncError("expected a key", self.i)
                key_start = self.i
                self._string_end()
                key = self._decode(key_start)
                self.skip()
                if not self.text.startswith(":", self.i):
                    raise JsoncError("expected ':'", self.i)
                self.i += 1
                self.skip()
                node.members.append((key, self.value()))
            else:
                node.items.append(self.value())
            self.skip()
            node.trailing_comma = False
            if self.text.startswith(",", self.i):
                self.i += 1
                node.trailing_comma = True
            elif not self.text.startswith(closer, self.i):
                raise JsoncError(f"expected ',' or {closer!r}", self.i)


def indent_unit(text: str) -> str:
    """The indentation step the file uses (its first indented line), four spaces when it has none."""
    for line in split_lines(text):
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            return line[: len(line) - len(stripped)]
    return "    "


def line_indent(text: str, offset: int) -> str:
    """The whitespace that starts the line holding `offset`."""
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:]
    return line[: len(line) - len(line.lstrip(" \t"))]


def render(value: Any, base: str, unit: str) -> str:
    """`value` as indented JSON whose first line starts at `base` indentation (not included in the result)."""
    lines = json.dumps(value, indent=unit, ensure_ascii=False).split("\n")
    return "\n".join([lines[0], *(base + line for line in lines[1:])])


def merge_configurations(text: str | None, entries: list[dict[str, Any]]) -> str:
    """The launch.json text with `entries` (dicts with a unique "name") merged in: an entry whose name already
    exists in `configurations` is updated in place (_update_entry), others are appended. Everything else is kept
    byte for byte.
    Raises JsoncError when the file is not JSONC whose top level is an object (it is then left alone)."""
    if text is None or not text.strip():
        unit = "    "
        document = {"version": "0.2.0", "configurations": entries}
        return json.dumps(document, indent=unit, ensure_ascii=False) + "\n"
    root = parse(text)
    if root.kind != "object":
        raise JsoncError("the top level is not an object", root.start)
    unit = indent_unit(text)
    configurations = root.member("configurations")
    edits: list[tuple[int, int, str]] = []
    if configurations is None:
        base = line_indent(text, root.start) + unit
        member = f'"configurations": {render(entries, base, unit)}'
        edits += _append(text, root, root.members[-1][1] if root.members else None, member, base)
    elif configurations.kind != "array":
        raise JsoncError('"configurations" is not an array', configurations.start)
    else:
        base = line_indent(text, configurations.start) + unit
        if configurations.items:
            base = line_indent(text, configurations.items[0].start)
        by_name = {}
        for item in configurations.items:
            name = item.member("name") if item.kind == "object" else None
            if name is not None and name.kind == "string":
                by_name.setdefault(name.value, item)
        new = []
        for entry in entries:
            item = by_name.get(entry["name"])
            if item is None:
                new.append(entry)
            else:
                edits += _update_entry(text, item, entry, unit)
        if new:
            rendered = f",\n{base}".join(render(entry, base, unit) for entry in new)
            last = configurations.items[-1] if configurations.items else None
            edits += _append(text, configurations, last, rendered, base)
    # From the end backwards; of two edits at one offset the one listed first must end up first in the text.
    for _, (start, end, replacement) in sorted(enumerate(edits), key=lambda e: (e[1][0], e[0]), reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def python_value(node: Node) -> Any:
    """The Python value of a parsed node."""
    if node.kind == "object":
        return {key: python_value(value) for key, value in node.members}
    if node.kind == "array":
        return [python_value(item) for item in node.items]
    return node.value


def _update_entry(text: str, item: Node, entry: dict[str, Any], unit: str) -> list[tuple[int, int, str]]:
    """Edits that bring an existing entry of ours up to date without losing what the user added to it: the keys we
    write get our values (`env`: our variables added to the user's), keys only the user has (preLaunchTask,
    envFile, python...) and comments stay; a value that is already right is not touched."""
    if item.kind != "object":
        return [(item.start, item.end, render(entry, line_indent(text, item.start), unit))]
    edits, missing = [], []
    for key, value in entry.items():
        node = item.member(key)
        if key == "env" and node is not None and node.kind == "object":
            value = {**python_value(node), **value}
        if node is None:
            missing.append((key, value))
        elif python_value(node) != value:
            edits.append((node.start, node.end, render(value, line_indent(text, node.start), unit)))
    if missing:
        base = line_indent(text, item.members[0][1].start) if item.members else line_indent(text, item.start) + unit
        rendered = f",\n{base}".join(f"{json.dumps(key)}: {render(value, base, unit)}" for key, value in missing)
        edits += _append(text, item, item.members[-1][1] if item.members else None, rendered, base)
    return edits


def _append(text: str, container: Node, last: Node | None, rendered: str, base: str) -> list[tuple[int, int, str]]:
    """Edits that add `rendered` as the last element of `container` (an object or array)."""
    closer = container.end - 1
    edits = []
    if last is not None and not container.trailing_comma:
        edits.append((last.end, last.end, ","))
    line_start = text.rfind("\n", 0, closer) + 1
    if line_start > container.start and not text[line_start:closer].strip():
        # The closer stands on its own line: insert whole lines above it.
        edits.append((line_start, line_start, f"{base}{rendered}\n"))
    else:
        outer = line_indent(text, container.start)
        edits.append((closer, closer, f"\n{base}{rendered}\n{outer}"))
    return edits
