"""The project around a flow file: its root, its other Python files read from disk (parsed once per change), and
what git says about it. Shared by the CLI and the server; everything here is cached so the keystroke path stays
cheap.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

from .builder import ModuleResolver, file_resolver, parse_module
from .model import Module

SKIPPED_DIRECTORIES = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", "site-packages",
    ".metaflow", ".metaflow_spin", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist",
}
GIT_TIMEOUT = 5  # seconds; a hung git must not hang the editor


def read_source(path: Path) -> str:
    """A file's text. Bytes that are not UTF-8 become U+FFFD instead of an error: the rest is still worth checking."""
    return path.read_bytes().decode("utf-8", errors="replace")


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

    # -- files ---------------------------------------------------------------------------------------------------

    def module(self, path: Path) -> Module | None:
        """The model of a file on disk, cached by modification time."""
        path = path.resolve()
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

    # -- git -----------------------------------------------------------------------------------------------------

    @property
    def git_root(self) -> Path | None:
        if self._git_root is False:
            self._git_root = _git_toplevel(self.root)
        return self._git_root  # type: ignore[return-value]

    def is_ignored(self, path: Path) -> bool | None:
        """Whether git ignores `path` (which need not exist); None when this is no git repository or git failed."""
        key = str(path)
        if key not in self._ignored:
            self._ignored[key] = _git_check_ignore(self.git_root, path) if self.git_root else None
        return self._ignored[key]

    def forget_git_answers(self) -> None:
        """Called when a .gitignore changes."""
        self._ignored.clear()


def _git_toplevel(directory: Path) -> Path | None:
    try:
        result = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=directory, capture_output=True,
                                text=True, timeout=GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def _git_check_ignore(git_root: Path, path: Path) -> bool | None:
    try:
        result = subprocess.run(["git", "check-ignore", "-q", "--no-index", str(path)], cwd=git_root,
                                capture_output=True, timeout=GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode in (0, 1):
        return result.returncode == 0
    return None


def walk_python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Python files under `paths` (files are taken as given), skipping virtualenvs, caches and hidden folders, and
    what git ignores when the folder is in a git repository."""
    for path in paths:
        if path.is_file():
            yield path
            continue
        if not path.is_dir():
            continue
        found = []
        for directory, subdirectories, files in os.walk(path):
            subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES
                                       and not d.startswith(".") and not d.endswith(".egg-info"))
            found.extend(Path(directory, name) for name in sorted(files) if name.endswith(".py"))
        yield from _drop_git_ignored(path, found)


def _drop_git_ignored(directory: Path, files: list[Path]) -> list[Path]:
    git_root = _git_toplevel(directory)
    if git_root is None or not files:
        return files
    try:
        result = subprocess.run(["git", "check-ignore", "--stdin"], cwd=git_root, capture_output=True, text=True,
                                input="\n".join(str(f) for f in files), timeout=GIT_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return files
    ignored = {line.strip() for line in result.stdout.splitlines()}
    return [f for f in files if str(f) not in ignored]
