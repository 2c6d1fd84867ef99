"""Versions of the packages installed in the project's interpreter, for "Pin to the installed version" (MF301).

The interpreter is asked, in a subprocess, for every installed distribution and version and for the mapping of import
names to distributions (`importlib.metadata`). One subprocess per interpreter, cached for `TTL` seconds: a pin never
uses a version that was not read from the interpreter, and a package that is not installed gets no fix.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

TTL = 60.0  # seconds before the interpreter is asked again
TIMEOUT = 20  # seconds; a broken interpreter must not hang the editor

_SCRIPT = r"""
import importlib.metadata as m, json, sys
versions = {}
for dist in m.distributions():
    name = dist.metadata["Name"]
    if name and name not in versions:
        versions[name] = dist.version
try:
    imports = {k: sorted(set(v)) for k, v in m.packages_distributions().items()}
except Exception:
    imports = {}
json.dump({"versions": versions, "imports": imports}, sys.stdout)
"""


def normalize(name: str) -> str:
    """PEP 503 name normalisation: `Scikit_Learn` and `scikit-learn` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Installed:
    interpreter: str
    versions: dict[str, str]  # normalized distribution name -> version
    imports: dict[str, list[str]]  # import name -> distribution names
    error: str | None = None
    stamp: float = 0.0

    def version_of(self, package: str) -> str | None:
        """The installed version of a distribution named `package`, or of the one distribution that provides the
        import name `package` (`sklearn` -> scikit-learn). None when it is not installed or ambiguous."""
        package = package.strip()
        found = self.versions.get(normalize(package))
        if found:
            return found
        distributions = {normalize(d) for d in self.imports.get(package, [])}
        if len(distributions) == 1:
            return self.versions.get(distributions.pop())
        return None


def query(interpreter: str) -> Installed:
    """Asks `interpreter` now (blocking)."""
    try:
        result = subprocess.run([interpreter, "-I", "-c", _SCRIPT], capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.SubprocessError) as error:
        return Installed(interpreter, {}, {}, f"cannot run {interpreter}: {error}", time.monotonic())
    if result.returncode != 0:
        return Installed(interpreter, {}, {}, f"{interpreter} failed: {result.stderr.strip()[-300:]}",
                         time.monotonic())
    try:
        payload = json.loads(result.stdout)
    except ValueError:
        return Installed(interpreter, {}, {}, f"{interpreter} gave no package list", time.monotonic())
    versions = {normalize(name): version for name, version in payload.get("versions", {}).items()}
    return Installed(interpreter, versions, payload.get("imports", {}), None, time.monotonic())


class InstalledCache:
    """Per-interpreter answers, refreshed in a background thread so a caller never waits for a warm entry."""

    def __init__(self, ttl: float = TTL):
        self.ttl = ttl
        self._entries: dict[str, Installed] = {}
        self._pending: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def peek(self, interpreter: str | None) -> Installed | None:
        """The cached answer (even if old; a refresh is then started), or None if never asked. Never blocks."""
        interpreter = interpreter or sys.executable
        entry = self._entries.get(interpreter)
        if entry is None or time.monotonic() - entry.stamp > self.ttl:
            self._refresh(interpreter)
        return entry

    def get(self, interpreter: str | None, wait: float = TIMEOUT) -> Installed | None:
        """The answer, waiting up to `wait` seconds for the interpreter on a cold cache."""
        interpreter = interpreter or sys.executable
        entry = self.peek(interpreter)
        if entry is not None:
            return entry
        thread = self._pending.get(interpreter)
        if thread is not None:
            thread.join(wait)
        return self._entries.get(interpreter)

    def _refresh(self, interpreter: str) -> None:
        with self._lock:
            if interpreter in self._pending:
                return
            thread = threading.Thread(target=self._run, args=(interpreter,), daemon=True,
                                      name=f"metaflow-lsp versions {interpreter}")
            self._pending[interpreter] = thread
        thread.start()

    def _run(self, interpreter: str) -> None:
        try:
            self._entries[interpreter] = query(interpreter)
        finally:
            with self._lock:
                self._pending.pop(interpreter, None)


INSTALLED = InstalledCache()
