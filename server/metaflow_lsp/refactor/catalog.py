"""Which findings have a fix, what the fix is called, and which fixes are safe to apply without looking.

This module is what the code action list reads, so it stays cheap: no libcst, no file access. The fixes themselves
are in `fixes.py` and run only when an action is resolved (or applied by `metaflow-lsp fix`).

Safe fixes (`source.fixAll.metaflow-lsp` in the editor, `metaflow-lsp fix` on the command line) are those that turn a
flow that cannot run as written into one that does, without choosing anything for the user:

- MF101: moving `@step` directly above `def` is the only order Metaflow accepts; other decorators keep their order.
- MF103: Metaflow refuses `@retry(times=N)` above 4; 4 is the closest value it accepts.
- MF112: without `if __name__ == "__main__": Flow()` the file runs nothing; the guard adds exactly that.
- MF203: appending `.metaflow` / `.metaflow_spin` to .gitignore only adds lines (the file is created if missing).

Not safe, offered one at a time as quick fixes only: MF202 (moves code to another file), MF204 (adds a command-line
option), MF205 (inserts code to fill in), MF301 (reads the project's interpreter, which runs code), and Extract
step body (a refactoring the user should look at).
"""

from __future__ import annotations

from typing import Any

SAFE_CODES = frozenset({"MF101", "MF103", "MF112", "MF203"})

FIX_ALL_KIND = "source.fixAll.metaflow-lsp"


def _quote(value: Any, fallback: str) -> str:
    return f"`{value}`" if isinstance(value, str) and value else fallback


def quick_fix_title(code: str, data: dict[str, Any] | None) -> str | None:
    """The title of the quick fix for a finding, or None when the code has none. Uses the finding's data only."""
    data = data or {}
    if code == "MF101":
        return "Move @step directly above def"
    if code == "MF103":
        return "Set @retry times to 4 (the most Metaflow allows)"
    if code == "MF112":
        flow = data.get("flow")
        call = f"{flow}()" if isinstance(flow, str) else "the flow"
        return f'Add `if __name__ == "__main__":` that runs {call}'
    if code == "MF202":
        return f"Move {_quote(data.get('name'), 'this helper')} to common.py"
    if code == "MF203":
        missing = data.get("missing") or [".metaflow"]
        return f"Add {', '.join(missing)} to .gitignore"
    if code == "MF204":
        return "Add a `test_mode` Parameter to the flow"
    if code == "MF205":
        return f"Use {_quote(data.get('parameter') or data.get('name'), 'the test-mode Parameter')} to shrink the run"
    if code == "MF301":
        return f"Pin {_quote(data.get('package'), 'the package')} to the version installed in the project's Python"
    return None


def noqa_title(code: str) -> str:
    return f"Disable {code} for this line"
