"""The project around a flow file: its root, its other Python files read from disk (parsed once per change), the
flow-file index of MF401 and the intermediate base classes, and what git and the .gitignore files say about it, all
cached so the keystroke path stays cheap. Shared by the CLI and the server.

The jobs behind it have modules of their own: `git_commands.py` (every git call), `gitignore.py` (reading
.gitignore files without git), `file_walk.py` (which files a check covers), `flow_index.py` (what the index keeps).
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any

from functools import cached_property
from typing import TYPE_CHECKING

from .file_walk import walk_python_files
from .files import MAX_FILE_BYTES, decode_source, read_bytes, read_source
from .git_commands import git_check_ignore, git_toplevel
from .gitignore import ignored_by_files

if TYPE_CHECKING:
    from .builder import ModuleResolver
    from .flow_index import FlowSymbol, IndexedFlowFile, TopLevelFunction
    from .model import Module

# The parser, the model and the flow index are imported when a file is first parsed: `check` answered from its
# result cache asks only the project's file list and git, and starts a third faster without them.


def parse_module(source: str, path: Path, resolver: ModuleResolver) -> Module:
    """`builder.parse_module`, imported on the first parse."""
    from . import builder

    return builder.parse_module(source, path, resolver)

FILES_TTL = 3.0  # seconds between two walks of the project on the keystroke path


FileStamp = tuple[int, int] | None  # (size, mtime_ns) of a regular file; None for anything else or nothing


def file_stamp(path: Path | str) -> FileStamp:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None


class Observations:
    """What checks learnt from outside the checked file through a `Project`: the stamp of every file it looked up
    (read, stat'ed, or found missing) and every answer about the project (its file list, git's and the .gitignore
    files' verdicts, where ignore files live), as `check`'s result cache (`check_cache.py`) needs them to know when a
    stored result still holds. `conflict`: the same question got two answers within the run (a file changed
    meanwhile), so nothing learnt in this run may be trusted later."""

    def __init__(self):
        self.files: dict[str, FileStamp] = {}
        self.answers: dict[str, Any] = {}  # json.dumps([method, *arguments]) -> answer, as JSON values
        self.conflict = False

    def file(self, path: Path) -> None:
        self._note(self.files, os.path.abspath(path), file_stamp(path))  # the resolver may name it from the cwd

    def answer(self, method: str, arguments: tuple, value: Any) -> None:
        self._note(self.answers, json.dumps([method, *map(_plain, arguments)]), _plain(value))

    def _note(self, seen: dict, key: str, value: Any) -> None:
        if seen.setdefault(key, value) != value:
            self.conflict = True

    def drain(self) -> tuple[dict[str, FileStamp], dict[str, Any], bool]:
        """What was noted since the last drain (for a worker process to hand back), and forgets it."""
        noted = (self.files, self.answers, self.conflict)
        self.files, self.answers, self.conflict = {}, {}, False
        return noted


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def find_root(start: Path) -> Path:
    """The nearest folder above `start` holding .git or pyproject.toml; `start`'s own folder when there is none."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists() or (candidate / "pyproject.toml").is_file():
            return candidate
    return directory


def _real(path: Path) -> Path:
    """`path` with every link followed: `os.path.realpath`, which, unlike `Path.resolve()` before Python 3.13, does not
    raise on a symlink loop (a document under one still gets an answer)."""
    return Path(os.path.realpath(path))


class Project:
    def __init__(self, root: Path):
        self.root = _real(root)
        self._module_cache: dict = {}
        # Set by `check`'s result cache only (the server keeps none): every lookup outside the checked file is noted.
        self.observations: Observations | None = None
        self._git_root: Path | None | bool = False  # False: not asked yet
        self._ignored: dict[str, bool | None] = {}
        self._git_derived: dict[Hashable, Any] = {}  # `git_answer()`: cleared with the git answers
        self._files: tuple[float, list[Path]] | None = None  # (monotonic time of the walk, files)
        self._flow_index: dict[Path, tuple[tuple[int, int], IndexedFlowFile]] = {}

    @cached_property
    def resolver(self) -> ModuleResolver:
        from .builder import file_resolver

        return file_resolver(self._module_cache, observe=self._observe_file)

    # -- files ---------------------------------------------------------------------------------------------------

    def module(self, path: Path) -> Module | None:
        """The model of a file on disk, cached by modification time."""
        path = Path(os.path.realpath(path))  # unlike resolve(), no RuntimeError on a symlink loop (Python < 3.13)
        self._observe_file(path)
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
            self._files = (now, [_real(path) for path in self.python_files()])
        return self._observe_answer("cached_python_files", (), self._files[1])

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

    def flow_symbols(self) -> Iterator[FlowSymbol]:
        """The flows, steps and Parameters of the project's flow files on disk (`workspace/symbol`), from the same
        cached index: a file is read again only when its modification time or size changed."""
        for indexed in self._indexed_flow_files(None):
            yield from indexed.symbols

    def _indexed_flow_files(self, exclude: Path | None) -> Iterator[IndexedFlowFile]:
        skip = _real(exclude) if exclude is not None else None
        for path in self.cached_python_files():
            if path != skip:
                yield self._flow_file_index(path)

    def _flow_file_index(self, path: Path) -> IndexedFlowFile:
        from .flow_index import NOT_A_FLOW_FILE, index_flow_file

        self._observe_file(path)
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
                indexed = index_flow_file(parse_module(decode_source(data), path, self.resolver))
        self._flow_index[path] = (stamp, indexed)
        return indexed

    # -- git -----------------------------------------------------------------------------------------------------

    @property
    def git_root(self) -> Path | None:
        if self._git_root is False:
            self._git_root = git_toplevel(self.root)
        return self._observe_answer("git_root", (), self._git_root)  # type: ignore[arg-type]

    def is_ignored(self, path: Path, directory: bool = False) -> bool | None:
        """Whether git ignores `path` (which need not exist); None when this is no git repository or git failed.

        `directory=True` asks about a folder: git only applies patterns like `.metaflow/` to a path it knows is a
        folder, and a folder that does not exist yet (`.metaflow` before the first run) must be named with a slash."""
        key = str(path) + ("/" if directory else "")
        if key not in self._ignored:
            self._ignored[key] = git_check_ignore(self.git_root, key) if self.git_root else None
        return self._observe_answer("is_ignored", (path, directory), self._ignored[key])

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
        answer = self.git_answer(("ignored_by_files", str(path), directory),
                                 lambda: ignored_by_files(self.ignore_root(path.parent), path, directory))
        return self._observe_answer("ignored_by_files", (path, directory), answer)

    def ignore_root(self, directory: Path) -> Path | None:
        return self._observe_answer("ignore_root", (directory,), self._ignore_root(directory))

    def _ignore_root(self, directory: Path) -> Path | None:
        """The folder whose .gitignore covers `directory`: git's top level when `directory` is inside it, else the
        nearest folder above holding `.git`. Without either (a copy of a repository, an unpacked archive), the
        highest folder above holding a `.gitignore` or `pyproject.toml`, below the home folder and the filesystem
        root: a repository's top-level .gitignore governs every folder under it. Else the project root (None when
        `directory` is outside it)."""
        directory = _real(directory)
        git_root = self.git_root
        if git_root is not None and directory.is_relative_to(_real(git_root)):
            return _real(git_root)
        above = (directory, *directory.parents)
        for candidate in above:
            if (candidate / ".git").exists():
                return candidate
        home = _real(Path.home()) if "HOME" in os.environ else None
        top = None
        for candidate in above:
            if candidate.parent == candidate or (home is not None and home.is_relative_to(candidate)):
                break  # never a .gitignore of the home folder or above: those belong to no project
            if (candidate / ".gitignore").is_file() or (candidate / "pyproject.toml").is_file():
                top = candidate
        if top is not None:
            return top
        return self.root if directory.is_relative_to(self.root) else None


    # -- what checks learnt (`observations`) -----------------------------------------------------------------------

    def _observe_file(self, path: Path) -> None:
        """Called before a file outside the checked one is looked up (so a change after it shows)."""
        if self.observations is not None:
            self.observations.file(path)

    def _observe_answer(self, method: str, arguments: tuple, value: Any) -> Any:
        if self.observations is not None:
            self.observations.answer(method, arguments, value)
        return value


__all__ = ["Project", "find_root", "walk_python_files", "read_source"]
