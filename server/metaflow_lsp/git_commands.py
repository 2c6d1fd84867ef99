"""Every git command the project runs: `git rev-parse --show-toplevel` and `git check-ignore`, with the
repository's program-running settings off (`docs/dev/security.md`, proven by `tests/security/test_git.py`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 5  # seconds; a hung git must not hang the editor

# A repository's own configuration (.git/config, and any repository git discovers from a folder of the workspace) must
# not make git run programs. Of what rev-parse and check-ignore read, only the fsmonitor hook runs one (check-ignore
# reads the index); hooks and a pager are switched off too, and a bare repository hidden in the workspace is not
# used. `-c` wins over every configuration file. GIT_OPTIONAL_LOCKS=0: git never rewrites the index for us.
# What git is asked for (ignore rules: .gitignore, .git/info/exclude, core.excludesFile) is still honoured.
GIT_SAFETY = ("--no-pager", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
               "-c", "safe.bareRepository=explicit")
GIT_ENVIRONMENT = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}


def run_git(arguments: list[str], cwd: Path, **options: Any) -> subprocess.CompletedProcess:
    """`git <arguments>` in `cwd`, with the repository's program-running settings off (see GIT_SAFETY)."""
    if "input" not in options:
        options["stdin"] = subprocess.DEVNULL
    return subprocess.run(["git", *GIT_SAFETY, *arguments], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT,
                          env={**os.environ, **GIT_ENVIRONMENT}, **options)


def git_toplevel(directory: Path) -> Path | None:
    try:
        result = run_git(["rev-parse", "--show-toplevel"], directory, text=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def git_check_ignore(git_root: Path, path: Path | str) -> bool | None:
    try:
        result = run_git(["check-ignore", "-q", "--no-index", str(path)], git_root)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode in (0, 1):
        return result.returncode == 0
    return None


def drop_git_ignored(directory: Path, files: list[Path]) -> list[Path]:
    """`files` less those git ignores. A folder the user named that is itself ignored (say, a package inside
    .venv) is checked whole: only ignore rules below it apply, as they would in a repository of its own."""
    git_root = git_toplevel(directory)
    if git_root is None or not files:
        return files
    if git_check_ignore(git_root, directory.resolve()):
        return files
    try:
        # -z: NUL-separated both ways, so a file name holding a line break or a form feed is one name
        result = run_git(["check-ignore", "-z", "--stdin"], git_root, text=True,
                      input="\0".join(str(f) for f in files) + "\0")
    except (OSError, subprocess.SubprocessError):
        return files
    ignored = set(result.stdout.split("\0"))
    return [f for f in files if str(f) not in ignored]
