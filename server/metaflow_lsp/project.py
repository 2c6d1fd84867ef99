"""The project around a flow file: its root, its other Python files read from disk (parsed once per change), and
what git says about it. Shared by the CLI and the server; everything here is cached so the keystroke path stays
cheap.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .builder import ModuleResolver, file_resolver, parse_module
from .files import MAX_FILE_BYTES, decode_source, is_regular_file, read_bytes, read_source
from .model import Module
from .text import Span, split_lines

SKIPPED_DIRECTORIES = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", "site-packages",
    ".metaflow", ".metaflow_spin", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist",
}
GIT_TIMEOUT = 5  # seconds; a hung git must not hang the editor
FILES_TTL = 3.0  # seconds between two walks of the project on the keystroke path


@dataclass(frozen=True, slots=True)
class TopLevelFunction:
    """A module-level function of a flow file, as the project index keeps it."""

    path: Path
    name: str
    span: Span  # the name after `def`
    fingerprint: str  # `function_fingerprint`: equal for the same signature and body, wherever they stand


@dataclass(frozen=True, slots=True)
class IndexedFlowFile:
    """What the project index keeps of one flow file."""

    functions: tuple[TopLevelFunction, ...]
    # Classes of other files that its classes extend: `Base` for `common.Base` and for `from common import Base as B`.
    imported_bases: frozenset[str]


NOT_A_FLOW_FILE = IndexedFlowFile((), frozenset())


def imported_base_names(module: Module) -> frozenset[str]:
    """The names of the classes that `module`'s classes extend and that it does not define itself."""
    names = set()
    for info in module.classes.values():
        for base in info.bases:
            if "." in base:
                names.add(base.rsplit(".", 1)[-1])
            elif base and base not in module.classes:
                imported = module.imported(base)
                names.add(imported.name if imported is not None and imported.name else base)
    return frozenset(names)


def function_fingerprint(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The signature and body of a function without positions and without its docstring; "" for a body that does
    nothing (`pass`, `...`), which is no helper worth sharing."""
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in body):
        return ""
    kind = "async " if isinstance(node, ast.AsyncFunctionDef) else ""
    return kind + ast.dump(node.args, include_attributes=False) + "\n" + "\n".join(
        ast.dump(statement, include_attributes=False) for statement in body)


def find_root(start: Path) -> Path:
    """The nearest folder above `start` holding .git or pyproject.toml; `start`'s own folder when there is none."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists() or (candidate / "pyproject.toml").is_file():
            return candidate
    return directory


class Project:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self._module_cache: dict = {}
        self.resolver: ModuleResolver = file_resolver(self._module_cache)
        self._git_root: Path | None | bool = False  # False: not asked yet
        self._ignored: dict[str, bool | None] = {}
        self._git_derived: dict[Hashable, Any] = {}  # `git_answer()`: cleared with the git answers
        self._files: tuple[float, list[Path]] | None = None  # (monotonic time of the walk, files)
        self._flow_index: dict[Path, tuple[tuple[int, int], IndexedFlowFile]] = {}

    # -- files ---------------------------------------------------------------------------------------------------

    def module(self, path: Path) -> Module | None:
        """The model of a file on disk, cached by modification time."""
        path = Path(os.path.realpath(path))  # unlike resolve(), no RuntimeError on a symlink loop (Python < 3.13)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return None
        cached = self._module_cache.get(path)
        if cached and cached[0] == stamp and cached[1] is not None:
            return cached[1]
        try:
            source = read_source(path)
        except OSError:
            return None
        module = parse_module(source, path, self.resolver)
        self._module_cache[path] = (stamp, module)
        return module

    def python_files(self) -> list[Path]:
        return sorted(walk_python_files([self.root]))

    # -- project index (cached for the keystroke path) -----------------------------------------------------------

    def cached_python_files(self, max_age: float = FILES_TTL) -> list[Path]:
        """`python_files()`, walked again at most every `max_age` seconds (or after `forget_files()`): the keystroke
        path must not rescan the disk, while new files still show up within a few seconds."""
        now = time.monotonic()
        if self._files is None or now - self._files[0] > max_age:
            self._files = (now, [path.resolve() for path in self.python_files()])
        return self._files[1]

    def forget_files(self, path: Path | None = None) -> None:
        """Called when files are created, deleted or renamed (or one file changed: `path`): the next
        `cached_python_files()` walks the project again, and the changed file is read again."""
        self._files = None
        if path is not None:
            self._flow_index.pop(Path(os.path.realpath(path)), None)  # the event may name a symlink loop

    def flow_functions(self, exclude: Path | None = None) -> dict[str, list[TopLevelFunction]]:
        """Module-level functions of the project's flow files (files whose model has a flow), by name.

        Each file is read and parsed once per modification time (and size); the file list comes from
        `cached_python_files()`. `exclude` (the document being checked, whose editor text wins over the disk) is
        left out."""
        by_name: dict[str, list[TopLevelFunction]] = {}
        for indexed in self._indexed_flow_files(exclude):
            for function in indexed.functions:
                by_name.setdefault(function.name, []).append(function)
        return by_name

    def flow_base_names(self, exclude: Path | None = None) -> frozenset[str]:
        """Names of the classes that the project's flow files extend without defining them (`BaseFlow` for
        `class TrainFlow(BaseFlow)` after `from base import BaseFlow`): a flow class of that name elsewhere is an
        intermediate base, not a flow of its own. From the same cached index as `flow_functions`."""
        return frozenset().union(*(indexed.imported_bases for indexed in self._indexed_flow_files(exclude)))

    def _indexed_flow_files(self, exclude: Path | None) -> Iterator[IndexedFlowFile]:
        skip = exclude.resolve() if exclude is not None else None
        for path in self.cached_python_files():
            if path != skip:
                yield self._flow_file_index(path)

    def _flow_file_index(self, path: Path) -> IndexedFlowFile:
        try:
            stat = path.stat()
        except OSError:
            self._flow_index.pop(path, None)
            return NOT_A_FLOW_FILE
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._flow_index.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        indexed = NOT_A_FLOW_FILE
        if stat.st_size <= MAX_FILE_BYTES:  # larger files are generated code, not flows: not indexed
            try:
                data = read_bytes(path)
            except OSError:
                data = b""
            if b"class" in data:  # no class: no flow (a flow that only extends a base may have no def)
                module = parse_module(decode_source(data), path, self.resolver)
                if module.ok and module.flows:
                    indexed = IndexedFlowFile(
                        tuple(TopLevelFunction(path, info.name, info.span, function_fingerprint(info.node))
                              for info in module.functions.values()),
                        imported_base_names(module))
        self._flow_index[path] = (stamp, indexed)
        return indexed

    # -- git -----------------------------------------------------------------------------------------------------

    @property
    def git_root(self) -> Path | None:
        if self._git_root is False:
            self._git_root = _git_toplevel(self.root)
        return self._git_root  # type: ignore[return-value]

    def is_ignored(self, path: Path, directory: bool = False) -> bool | None:
        """Whether git ignores `path` (which need not exist); None when this is no git repository or git failed.

        `directory=True` asks about a folder: git only applies patterns like `.metaflow/` to a path it knows is a
        folder, and a folder that does not exist yet (`.metaflow` before the first run) must be named with a slash."""
        key = str(path) + ("/" if directory else "")
        if key not in self._ignored:
            self._ignored[key] = _git_check_ignore(self.git_root, key) if self.git_root else None
        return self._ignored[key]

    def forget_git_answers(self) -> None:
        """Called when a .gitignore changes."""
        self._ignored.clear()
        self._git_derived.clear()

    def git_answer(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """`compute()` once per `key` until `forget_git_answers()`: for answers built from git and .gitignore files
        (which rules may only ask through this cache on the keystroke path)."""
        if key not in self._git_derived:
            self._git_derived[key] = compute()
        return self._git_derived[key]

    def ignored_by_files(self, path: Path, directory: bool = False) -> bool | None:
        """What the .gitignore files say about `path` without asking git: the files of each folder from the
        repository root (the nearest folder above holding `.git`, else the project root) down to `path`'s folder,
        with git's precedence (deeper files and later lines win, negations, no re-including below an ignored
        folder). None when `path` lies outside that root or no .gitignore and no `.git` is there (no repository).
        For folders that are no git repository, or when git is missing. Cached until `forget_git_answers()`."""
        return self.git_answer(("ignored_by_files", str(path), directory),
                               lambda: _ignored_by_files(self.ignore_root(path.parent), path, directory))

    def ignore_root(self, directory: Path) -> Path | None:
        """The folder whose .gitignore covers `directory`: git's top level when `directory` is inside it, else the
        nearest folder above holding `.git`. Without either (a copy of a repository, an unpacked archive), the
        highest folder above holding a `.gitignore` or `pyproject.toml`, below the home folder and the filesystem
        root: a repository's top-level .gitignore governs every folder under it. Else the project root (None when
        `directory` is outside it)."""
        directory = directory.resolve()
        git_root = self.git_root
        if git_root is not None and directory.is_relative_to(git_root.resolve()):
            return git_root.resolve()
        above = (directory, *directory.parents)
        for candidate in above:
            if (candidate / ".git").exists():
                return candidate
        home = Path.home().resolve() if "HOME" in os.environ else None
        top = None
        for candidate in above:
            if candidate.parent == candidate or (home is not None and home.is_relative_to(candidate)):
                break  # never a .gitignore of the home folder or above: those belong to no project
            if (candidate / ".gitignore").is_file() or (candidate / "pyproject.toml").is_file():
                top = candidate
        if top is not None:
            return top
        return self.root if directory.is_relative_to(self.root) else None


# A repository's own configuration (.git/config, and any repository git discovers from a folder of the workspace) must
# not make git run programs. Of what rev-parse and check-ignore read, only the fsmonitor hook runs one (check-ignore
# reads the index); hooks and a pager are switched off too, and a bare repository hidden in the workspace is not
# used. `-c` wins over every configuration file. GIT_OPTIONAL_LOCKS=0: git never rewrites the index for us.
# What git is asked for (ignore rules: .gitignore, .git/info/exclude, core.excludesFile) is still honoured.
_GIT_SAFETY = ("--no-pager", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
               "-c", "safe.bareRepository=explicit")
_GIT_ENVIRONMENT = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def _git(arguments: list[str], cwd: Path, **options: Any) -> subprocess.CompletedProcess:
    """`git <arguments>` in `cwd`, with the repository's program-running settings off (see _GIT_SAFETY)."""
    if "input" not in options:
        options["stdin"] = subprocess.DEVNULL
    return subprocess.run(["git", *_GIT_SAFETY, *arguments], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT,
                          env={**os.environ, **_GIT_ENVIRONMENT}, **options)


def _git_toplevel(directory: Path) -> Path | None:
    try:
        result = _git(["rev-parse", "--show-toplevel"], directory, text=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def _git_check_ignore(git_root: Path, path: Path | str) -> bool | None:
    try:
        result = _git(["check-ignore", "-q", "--no-index", str(path)], git_root)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode in (0, 1):
        return result.returncode == 0
    return None


def _gitignore_pattern(line: str) -> tuple[re.Pattern[str], bool, bool, bool] | None:
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


def _read_gitignore(path: Path) -> list[tuple[re.Pattern[str], bool, bool, bool]]:
    try:
        text = read_source(path)
    except OSError:
        return []
    return [rule for rule in map(_gitignore_pattern, split_lines(text)) if rule is not None]


def _ignored_by_files(root: Path | None, path: Path, directory: bool) -> bool | None:
    if root is None:
        return None
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        return None
    if not parts:
        return False
    folders = [root.joinpath(*parts[:k]) for k in range(len(parts))]  # root .. path's folder
    rules = {folder: _read_gitignore(folder / ".gitignore") for folder in folders}
    if not any(rules.values()) and not (root / ".git").exists():
        return None  # no .gitignore and no repository: nothing to judge
    if directory:
        # A folder whose every file is ignored (`*` then `!*/`, the allow-list idiom) is ignored as git does it:
        # ask about a file inside it that only wildcards can name.
        inside = path.resolve() / ".gitignore"
        rules[inside.parent] = _read_gitignore(inside)
        if _ignored_parts(root, parts + ("\0",), False, rules):
            return True
    return _ignored_parts(root, parts, directory, rules)


def _ignored_parts(root: Path, parts: tuple[str, ...], directory: bool,
                   rules: dict[Path, list[tuple[re.Pattern[str], bool, bool, bool]]]) -> bool:
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


def walk_python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Python files under `paths`, skipping virtualenvs, caches and hidden folders, and what git ignores when the
    folder is in a git repository. In folders, only regular files (links to them included): a `.py` that is a FIFO,
    a device, a broken link or a symlink loop is no source. Paths that are no folder are taken as given, whatever
    they are, so that reading them says what is wrong; folder links are not followed (no loops)."""
    for path in paths:
        if not path.is_dir():
            if os.path.lexists(path):
                yield path
            continue
        found = []
        for directory, subdirectories, files in os.walk(path):
            subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES
                                       and not d.startswith(".") and not d.endswith(".egg-info"))
            found.extend(Path(directory, name) for name in sorted(files)
                         if name.endswith(".py") and is_regular_file(Path(directory, name)))
        yield from _drop_git_ignored(path, found)


def _drop_git_ignored(directory: Path, files: list[Path]) -> list[Path]:
    """`files` less those git ignores. A folder the user named that is itself ignored (say, a package inside
    .venv) is checked whole: only ignore rules below it apply, as they would in a repository of its own."""
    git_root = _git_toplevel(directory)
    if git_root is None or not files:
        return files
    if _git_check_ignore(git_root, directory.resolve()):
        return files
    try:
        # -z: NUL-separated both ways, so a file name holding a line break or a form feed is one name
        result = _git(["check-ignore", "-z", "--stdin"], git_root, text=True,
                      input="\0".join(str(f) for f in files) + "\0")
    except (OSError, subprocess.SubprocessError):
        return files
    ignored = set(result.stdout.split("\0"))
    return [f for f in files if str(f) not in ignored]
