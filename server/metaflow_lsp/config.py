"""Settings: `[tool.metaflow-lsp]` in the nearest pyproject.toml, overridden by editor settings.

One typed model with defaults. Keys are accepted in kebab-case (pyproject) and camelCase (editor settings). A bad
value never stops anything: it is reported once, in plain words, and that key keeps its default.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .files import read_text
from .rules.registry import SYNTAX_ERROR, Severity

DEFAULT_TEST_MODE_PARAMETERS = ("test_mode", "smoke", "dry_run", "quick")


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("MF",)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()  # code or prefix -> severity
    max_step_statements: int = 15
    test_mode_parameters: tuple[str, ...] = DEFAULT_TEST_MODE_PARAMETERS
    docs_url: str | None = None  # base URL of the rule pages; default: the docs shipped with the package
    root: Path | None = field(default=None, compare=False)  # where the pyproject.toml is: per-file globs start here

    def enabled(self, code: str, path: Path | None = None) -> bool:
        if code == SYNTAX_ERROR:
            return True
        ignore = self.ignore + self._file_ignores(path)
        chosen = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        dropped = max((len(p) for p in ignore if code.startswith(p)), default=-1)
        return chosen > dropped

    def severity_of(self, code: str, default: Severity) -> Severity:
        matches = [(len(prefix), level) for prefix, level in self.severity if code.startswith(prefix)]
        return max(matches)[1] if matches else default

    def _file_ignores(self, path: Path | None) -> tuple[str, ...]:
        if path is None or not self.per_file_ignores:
            return ()
        candidates = {path.name, path.as_posix()}
        if self.root is not None:
            try:
                candidates.add(path.resolve().relative_to(self.root.resolve()).as_posix())
            except (ValueError, OSError):
                pass
        codes: tuple[str, ...] = ()
        for pattern, ignored in self.per_file_ignores:
            if any(fnmatch.fnmatch(candidate, pattern) for candidate in candidates):
                codes += ignored
        return codes


def _kebab(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", key).replace("_", "-").lower()


def known_codes() -> frozenset[str]:
    """Every rule code, from the registry: the rule modules load the first time a setting names codes, not when the
    settings load."""
    from .rules import load

    return frozenset(load()) | {SYNTAX_ERROR}


def _codes(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"`{key}` must be a list of rule codes, like [\"MF201\", \"MF3\"]")
    known = known_codes()
    for code in value:
        if not code or not any(k.startswith(code.upper()) for k in known):
            raise ValueError(f"`{key}` names {code!r}, which is no rule code or prefix (see `metaflow-lsp rules`)")
    return tuple(code.upper() for code in value)


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{key}` must be a whole number of at least 1, not {value!r}")
    return value


def _names(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"`{key}` must be a non-empty list of names")
    return tuple(value)


def _severity_table(value: Any, key: str) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(value, dict):
        raise ValueError(f"`{key}` must be a table of rule code = \"error\" | \"warning\" | \"information\" | \"hint\"")
    return tuple((_codes([code], key)[0], Severity.parse(level)) for code, level in value.items())


def _per_file(value: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ValueError(f"`{key}` must be a table of glob = [rule codes]")
    return tuple((pattern, _codes(codes, key)) for pattern, codes in value.items())


def _docs_url(value: Any, key: str) -> str | None:
    if value in (None, ""):
        return None
    # Only web pages: the link is shown in every diagnostic (codeDescription.href) and one click opens it, so a
    # repository's pyproject must not be able to point it at file:, command: or javascript: URIs.
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
    except ValueError:  # an unclosed IPv6 bracket...
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc \
            or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError(f"`{key}` must be an http or https URL like https://example.org/rules/")
    return value


_READERS = {
    "select": ("select", _codes),
    "ignore": ("ignore", _codes),
    "per-file-ignores": ("per_file_ignores", _per_file),
    "severity": ("severity", _severity_table),
    "max-step-statements": ("max_step_statements", _positive_int),
    "test-mode-parameters": ("test_mode_parameters", _names),
    "docs-url": ("docs_url", _docs_url),
}


def apply(mapping: dict[str, Any], base: Settings, origin: str) -> tuple[Settings, list[str]]:
    """`base` with the values of `mapping` applied; a message for every key that was wrong (and left as it was)."""
    if not isinstance(mapping, dict):
        return base, [f"{origin}: settings must be a table, not {type(mapping).__name__}; using defaults"]
    known = {raw_key: value for raw_key, value in mapping.items() if _kebab(raw_key) in _READERS}
    errors = [f"{origin}: unknown option `{raw_key}` (ignored)" for raw_key in mapping if raw_key not in known]
    changes, invalid = read_options({_kebab(raw_key): value for raw_key, value in known.items()}, _READERS, origin)
    return replace(base, **changes), errors + invalid


Reader = Callable[[Any, str], Any]


def read_options(values: dict[str, Any], readers: dict[str, tuple[str, Reader]],
                 origin: str) -> tuple[dict[str, Any], list[str]]:
    """`{attribute: value}` for the known keys of `values` (`readers`: key -> (attribute, reader)), skipping nulls,
    and one message per invalid value, which keeps its default."""
    options: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        attribute, read = readers[key]
        try:
            options[attribute] = read(value, key)
        except ValueError as error:
            errors.append(f"{origin}: {error}; using the default")
    return options, errors


@lru_cache(maxsize=64)
def _pyproject_table(path: Path, stamp: int) -> tuple[dict[str, Any] | None, str | None]:
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        return None, f"{path}: cannot read it ({reason}); using default settings"
    if "metaflow-lsp" not in text and "\\u" not in text and "\\U" not in text:
        # No table of ours: its key would be written out (or spelled with an escape). Not parsed, as most
        # pyproject files are not ours to judge: a one-file `check` saves importing tomllib.
        return None, None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10 (requires-python): the same parser, published as tomli
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, f"{path}: cannot read it ({error}); using default settings"
    except RecursionError:  # arrays nested thousands deep: valid TOML that tomllib cannot read
        return None, f"{path}: cannot read it (nested too deeply); using default settings"
    tool = data.get("tool", {})
    if not isinstance(tool, dict):  # `tool = 1`: valid TOML, but no table to look in
        return None, f"{path}: `tool` must be a table, not {type(tool).__name__}; using default settings"
    return tool.get("metaflow-lsp"), None


def find_pyproject(start: Path) -> Path | None:
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            return pyproject
    return None


def load(start: Path, base: Settings = Settings()) -> tuple[Settings, list[str]]:
    """Settings for a file or folder from the nearest pyproject.toml (a parent's, when the file has none)."""
    try:
        pyproject = find_pyproject(start.resolve())
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13): no settings to find
        return base, []
    if pyproject is None:
        return base, []
    try:
        stamp = pyproject.stat().st_mtime_ns
    except OSError:
        return base, []
    table, error = _pyproject_table(pyproject, stamp)
    base = replace(base, root=pyproject.parent)
    if error:
        return base, [error]
    if table is None:
        return base, []
    return apply(table, base, f"{pyproject} [tool.metaflow-lsp]")
