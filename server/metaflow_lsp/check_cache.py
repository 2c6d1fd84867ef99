"""`metaflow-lsp check`'s result cache, for repeat runs (the language server keeps none): `.metaflow_lsp_cache/` at
each project root, as ruff keeps `.ruff_cache/`. `--no-cache` neither reads nor writes it.

Why it is never stale. A file's findings depend on four things, and an entry is used only when all four are as they
were when it was stored:

1. The file's bytes, its path and its effective settings (pyproject.toml and the command line's `--select` /
   `--ignore`): hashed into the entry's key (`entry_key`), so another content or setting is another entry. The
   bytes hashed are the bytes checked: the process that checks a file computes the key from what it read.
2. The code that produced them: the header (`run_header`) holds the metaflow-lsp version, the Python version and
   the size and modification time of every module of the package; another header discards the whole cache.
3. Everything a check learnt about the rest of the project, which only ever comes through its `Project` (sibling
   modules of the resolver, the flow index of MF401 and `RuleContext.is_base_flow`, the project's file list, git's
   ignore answers, the .gitignore files and where they are for MF203): `Project.observations` notes the stamp
   (size, mtime_ns, or missing) of every file it looked up, before looking, and every answer it gave about the
   project. The cache keeps the union of what the whole run noted, in every worker. The next run takes the
   entries only if every stamp is unchanged and every answer, asked again of a fresh `Project`, is the same: a new
   file in the project changes the file list, a new sibling `base.py` is a stamp that was "missing", an edited
   .gitignore changes git's verdict. One changed answer discards every entry of that project (all or nothing: the
   simplest rule that is provably right, since one flow file's edit can change another's MF401 or base-flow
   answer); a run that got two answers to one question (a file changed during the run) stores nothing.
4. Nothing else: rules read no environment and no other file (`docs/dev/architecture.md`).

Why a repository cannot plant results. The cache folder is inside the checked project, so a commit or a pull request
can bring one. The header also holds a random key kept outside every project, in the user's cache folder
(`machine_key`): a cache written anywhere else never matches it, so planted entries cannot hide findings from a CI
run; without such a key (no writable home) there is no cache. And a stored answer is only ever asked again of the
`Project` methods that give them (`QUESTIONS`), never of a name the file chooses.

What it cannot see, as ruff cannot: a file rewritten within the file system's timestamp resolution with the same
size. The folder holds a `.gitignore` of `*`, so it is never committed; it is written only with `files.write_inside`
(never through a link that leaves the project) and, when it cannot be written, the run goes on without it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .config import Settings
from .files import read_bytes, write_inside
from .project import FileStamp, Project, file_stamp

CACHE_FOLDER = ".metaflow_lsp_cache"
CACHE_FILE = "check.json"
MAX_CACHE_BYTES = 64_000_000
ROW_FIELDS = frozenset({"path", "code", "severity", "message", "line", "column", "end_line", "end_column"})
FORMAT = 1
PACKAGE = Path(__file__).resolve().parent


# The `Project` methods whose answers `Observations` notes: the only ones `_still_true` asks again.
QUESTIONS = frozenset({"cached_python_files", "git_root", "is_ignored", "ignored_by_files", "ignore_root"})


def machine_key() -> str | None:
    """This user's random cache key, created on first use in `$XDG_CACHE_HOME/metaflow-lsp` (else ~/.cache), readable
    by the user only; None when it can be neither read nor created."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "metaflow-lsp"
    key_file = folder / "check-cache-key"
    try:
        return read_bytes(key_file, 1024).decode("ascii").strip()
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError):
        return None
    import secrets  # once per user: not on every run's start-up

    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
        return read_bytes(key_file, 1024).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):  # a read-only home; another run created it first and it is unreadable
        return None


def run_header() -> dict[str, Any] | None:
    """What the results were computed with (2. in the module's docstring), and the user's key; None: no cache."""
    key = machine_key()
    if not key:
        return None
    import hashlib  # here: `--no-cache` never hashes, and importing it costs a small check 2 ms (OpenSSL)

    modules = sorted(str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py"))
    return {"format": FORMAT, "version": __version__, "python": sys.version, "key": key,
            "code": hashlib.sha256(json.dumps([(name, file_stamp(PACKAGE / name)) for name in modules])
                                   .encode()).hexdigest()}


def entry_key(path: Path, data: bytes, settings: Settings, select: list[str] | None,
              ignore: list[str] | None) -> str:
    """The entry of one checked file (1. in the module's docstring): its path as given (rows repeat it) and as it
    really is, its bytes and its settings. `repr(settings)` names every field, the pyproject's folder included."""
    import hashlib  # see `run_header`

    digest = hashlib.sha256(json.dumps([str(path), os.path.realpath(path), repr(settings), select, ignore]).encode())
    digest.update(b"\0")
    digest.update(data)
    return digest.hexdigest()


class CheckCache:
    """The caches of the project roots one run of `check` meets, read when first needed and saved at the end."""

    def __init__(self):
        self.header = run_header()
        self._roots: dict[Path, _RootCache] = {}

    def rows(self, root: Path, key: str) -> list[dict] | None:
        """The stored rows of an entry, or None when there is none that still holds."""
        return self._root(root).rows(key)

    def store(self, root: Path, key: str, rows: list[dict],
              observed: tuple[dict[str, FileStamp], dict[str, Any], bool]) -> None:
        """The rows a check gave and what its `Project.observations` noted (`Observations.drain()`)."""
        self._root(root).store(key, rows, observed)

    def save(self) -> None:
        for cache in self._roots.values():
            cache.save()

    def _root(self, root: Path) -> "_RootCache":
        if root not in self._roots:
            self._roots[root] = _RootCache(root, self.header)
        return self._roots[root]


class _RootCache:
    def __init__(self, root: Path, header: dict[str, Any] | None):
        self.root = root
        self.folder = root / CACHE_FOLDER
        self.header = header
        self.usable = header is not None and Path(os.path.realpath(self.folder)).is_relative_to(os.path.realpath(root))
        self.files: dict[str, FileStamp] = {}
        self.answers: dict[str, Any] = {}
        self.entries: dict[str, list[dict]] = {}
        self.changed = self.conflict = False
        if self.usable:
            self._load()

    def rows(self, key: str) -> list[dict] | None:
        return self.entries.get(key)

    def store(self, key: str, rows: list[dict], observed: tuple[dict[str, FileStamp], dict[str, Any], bool]) -> None:
        files, answers, conflict = observed
        self.conflict |= conflict
        for known, noted in ((self.files, files), (self.answers, answers)):
            for name, value in noted.items():
                if known.setdefault(name, value) != value:
                    self.conflict = True  # entries stored earlier were computed with the other value
        self.entries[key] = rows
        self.changed = True

    def save(self) -> None:
        if not self.usable or not self.changed or self.conflict:
            return
        data = json.dumps({"header": self.header, "files": self.files, "answers": self.answers,
                           "entries": self.entries}, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            ignore = self.folder / ".gitignore"
            if not os.path.lexists(ignore):
                write_inside(self.root, ignore, b"# written by metaflow-lsp check: never commit this folder\n*\n")
            write_inside(self.root, self.folder / CACHE_FILE, data)
        except OSError:
            pass  # a read-only checkout, a link that leads out: the next run checks everything, as this one did

    def _load(self) -> None:
        path = self.folder / CACHE_FILE
        try:
            if not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(self.root)):
                return
            stored = json.loads(read_bytes(path, MAX_CACHE_BYTES))
            if not isinstance(stored, dict) or stored.get("header") != self.header:
                return
            files, answers, entries = stored["files"], stored["answers"], stored["entries"]
            if not (isinstance(files, dict) and isinstance(answers, dict) and isinstance(entries, dict)):
                return
            if not _still_true(self.root, files, answers):
                return
        except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable, corrupt: as if there were none
            return
        self.files = {name: _stamp(value) for name, value in files.items()}
        self.answers = answers
        self.entries = {key: rows for key, rows in entries.items() if isinstance(rows, list)
                        and all(isinstance(row, dict) and row.keys() == ROW_FIELDS for row in rows)}


def _stamp(value: Any) -> FileStamp:
    return tuple(value) if isinstance(value, list) else value  # JSON has no tuples


def _still_true(root: Path, files: dict[str, Any], answers: dict[str, Any]) -> bool:
    """Whether every file noted has its stamp and every answer noted is given again (3. in the module's docstring),
    asked of a fresh `Project` that notes nothing."""
    if any(file_stamp(name) != _stamp(stamp) for name, stamp in files.items()):
        return False
    fresh = Project(root)
    for question, answer in answers.items():
        method, *arguments = json.loads(question)
        if method not in QUESTIONS:
            return False
        value = getattr(fresh, method)
        if callable(value):
            value = value(*[Path(arguments[0]), *arguments[1:]] if arguments else [])
        if _json(value) != answer:
            return False
    return True


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
