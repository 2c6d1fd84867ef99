"""What the project's Metaflow can do, asked once per interpreter and cached: never on the keystroke path.

`spin` is new in Metaflow 2.19. Whether the installed Metaflow has it is read from its source: one subprocess asks
the interpreter where the `metaflow` package is (`importlib.util.find_spec` does not import it), then the server
looks for the `spin` entry in the package's `cli.py` command table. No Metaflow code runs, and no workspace code:
the probe starts in an empty folder of its own and drops `""` (that folder) from its path before importing anything.
It is not `-I`: the answer must hold for the `sys.path` a flow run gets, `PYTHONPATH` and user site included.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from ..files import read_source

PROBE_TIMEOUT = 20  # seconds
_PROBE = (
    "import sys\n"
    "sys.path[:] = [entry for entry in sys.path if entry]\n"
    "import importlib.util\n"
    "spec = importlib.util.find_spec('metaflow')\n"
    "sys.stdout.write((spec.origin or '') if spec else '')\n"
)

_answers: dict[str, bool] = {}
_pending: set[str] = set()
_lock = threading.Lock()


def metaflow_package(python: str) -> Path | None:
    """The folder of the `metaflow` package that `python` would import, or None."""
    try:
        with tempfile.TemporaryDirectory(prefix="metaflow-lsp-probe-") as empty:
            result = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=PROBE_TIMEOUT,
                                    stdin=subprocess.DEVNULL, cwd=empty)
    except (OSError, subprocess.SubprocessError):
        return None
    origin = result.stdout.strip()
    return Path(origin).parent if result.returncode == 0 and origin else None


def package_has_spin(package: Path) -> bool:
    try:
        cli = read_source(package / "cli.py")
    except OSError:
        return False
    return '"spin":' in cli or "'spin':" in cli or (package / "cli_components" / "spin_cmd.py").is_file()


def has_spin(python: str) -> bool:
    """Whether `python`'s Metaflow has `spin` (blocking on the first call for that interpreter)."""
    with _lock:
        if python in _answers:
            return _answers[python]
    package = metaflow_package(python)
    answer = package is not None and package_has_spin(package)
    with _lock:
        _answers[python] = answer
        _pending.discard(python)
    return answer


def cached_has_spin(python: str, when_known: Callable[[bool], None] | None = None) -> bool | None:
    """The cached answer, or None while it is unknown; then the probe starts in a thread and `when_known` is called
    with the answer (e.g. to ask the editor to refresh its code lenses)."""
    with _lock:
        if python in _answers:
            return _answers[python]
        if python in _pending:
            return None
        _pending.add(python)

    def probe() -> None:
        answer = has_spin(python)
        if when_known is not None:
            when_known(answer)

    threading.Thread(target=probe, name="metaflow-spin-probe", daemon=True).start()
    return None


def forget() -> None:
    """Drop cached answers (after the interpreter or its packages changed)."""
    with _lock:
        _answers.clear()
