"""Which Python files a check of folders covers: regular `.py` files, without virtualenvs, caches, hidden folders
and what git ignores."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .files import is_regular_file
from .git_commands import drop_git_ignored

SKIPPED_DIRECTORIES = {
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", "site-packages",
    ".metaflow", ".metaflow_spin", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist",
}


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
        yield from drop_git_ignored(path, found)
