"""What references and rename need of every Python file of a project, kept per file content: its Client API reads
(`client_api.py`) and the names of the classes its classes extend (which files may hold a subclass of a flow).

The files are the project's walk (`Project.cached_python_files`: no virtualenvs, nothing git ignores, regular files
only), read through `files.py` (size cap); a file is read and parsed again only when its modification time or size
changed, or, for a document open in the editor, when its text did.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass
from pathlib import Path

from .client_api import ClientRead, client_reads
from .files import read_source
from .project import Project


@dataclass(frozen=True, slots=True)
class FileFacts:
    reads: tuple[ClientRead, ...]
    extended: frozenset[str]  # last part of each base of each class: `Base` for `class F(common.Base)`


_NOTHING = FileFacts((), frozenset())


class ProjectScan:
    def __init__(self, project: Project):
        self.project = project
        self._facts: dict[Path, tuple[tuple, FileFacts]] = {}

    def facts(self, path: Path, text: str | None = None) -> FileFacts:
        """The facts of `path`: of `text` (the editor's copy) when given, else of the file on disk."""
        if text is not None:
            key: tuple = ("text", hash(text))
        else:
            try:
                stat = path.stat()
            except OSError:
                return _NOTHING
            key = ("disk", stat.st_mtime_ns, stat.st_size)
        cached = self._facts.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        if text is None:
            try:
                text = read_source(path)
            except OSError:  # gone, too large, not a regular file: nothing read from it
                text = ""
        facts = _facts_of(text)
        self._facts[path] = (key, facts)
        return facts

    def files(self) -> list[Path]:
        return self.project.cached_python_files()


def _facts_of(text: str) -> FileFacts:
    if "class" not in text and "metaflow" not in text:
        return _NOTHING
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _NOTHING
    extended = frozenset(_last_part(base) for node in tree.body if isinstance(node, ast.ClassDef)
                         for base in node.bases)
    return FileFacts(tuple(client_reads(tree)) if "metaflow" in text else (), extended - {""})


def _last_part(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


_SCANS: weakref.WeakKeyDictionary[Project, ProjectScan] = weakref.WeakKeyDictionary()


def scan_of(project: Project) -> ProjectScan:
    """The scan of a project, kept as long as the project is."""
    scan = _SCANS.get(project)
    if scan is None:
        scan = _SCANS[project] = ProjectScan(project)
    return scan
