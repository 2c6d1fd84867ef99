"""What .gitignore files say about a path, read the way git reads them (gitignore(5)), without running git: for
folders that are no git repository (a copy, an unpacked archive) or when git is missing."""

from __future__ import annotations

import re
from pathlib import Path

from .files import read_source
from .text import split_lines

Pattern = tuple[re.Pattern[str], bool, bool, bool]  # (regex, negated, folders only, anchored)


def gitignore_pattern(line: str) -> Pattern | None:
    """One line of a .gitignore as (regex, negated, folders only, anchored to the file's folder); None for blank
    lines and comments. Follows gitignore(5): `*` and `?` stop at `/`, `**/`, `/**` and `/**/` cross folders, a
    slash at the start or in the middle anchors the pattern, a trailing slash matches folders only."""
    line = line.rstrip("\n").rstrip("\r")
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "  # `\ ` keeps one trailing space
    line = stripped
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    folders_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    out, i, n = [], 0, len(line)
    while i < n:
        char = line[i]
        if char == "*":
            if line.startswith("**", i) and (i == 0 or line[i - 1] == "/"):
                if line.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                if i + 2 == n:
                    out.append(".*")
                    i += 2
                    continue
            while i < n and line[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if char == "?":
            out.append("[^/]")
        elif char == "[":
            end = line.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = line[i + 1:end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
                continue
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(line[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(char))
        i += 1
    try:
        regex = re.compile("".join(out) + r"\Z", re.DOTALL)
    except re.error:
        return None
    return regex, negated, folders_only, anchored


def read_gitignore(path: Path) -> list[Pattern]:
    try:
        text = read_source(path)
    except OSError:
        return []
    return [rule for rule in map(gitignore_pattern, split_lines(text)) if rule is not None]


def ignored_by_files(root: Path | None, path: Path, directory: bool) -> bool | None:
    if root is None:
        return None
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return None
    if not parts:
        return False
    folders = [root.joinpath(*parts[:k]) for k in range(len(parts))]  # root .. path's folder
    rules = {folder: read_gitignore(folder / ".gitignore") for folder in folders}
    if not any(rules.values()) and not (root / ".git").exists():
        return None  # no .gitignore and no repository: nothing to judge
    if directory:
        # A folder whose every file is ignored (`*` then `!*/`, the allow-list idiom) is ignored as git does it:
        # ask about a file inside it that only wildcards can name.
        inside = path.resolve() / ".gitignore"
        rules[inside.parent] = read_gitignore(inside)
        if _ignored_parts(root, parts + ("\0",), False, rules):
            return True
    return _ignored_parts(root, parts, directory, rules)


def _ignored_parts(root: Path, parts: tuple[str, ...], directory: bool,
                   rules: dict[Path, list[Pattern]]) -> bool:
    folders = [root.joinpath(*parts[:k]) for k in range(len(parts))]
    for depth in range(1, len(parts) + 1):  # each folder on the way down, then the path itself
        is_folder = depth < len(parts) or directory
        verdict = False
        for owner in folders[:depth]:
            relative = "/".join(parts[len(owner.relative_to(root).parts):depth])
            name = parts[depth - 1]
            for regex, negated, folders_only, anchored in rules.get(owner, ()):
                if folders_only and not is_folder:
                    continue
                if regex.match(relative if anchored else name):
                    verdict = not negated
        if verdict:
            return True  # git never looks inside an ignored folder: nothing below it can be re-included
    return False
