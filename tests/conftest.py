"""Shared test helpers.

Rules fail loudly in tests (METAFLOW_LSP_STRICT=1) instead of being logged and skipped as they are for users.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("METAFLOW_LSP_STRICT", "1")
os.environ.setdefault("METAFLOW_USER", "tester")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TUTORIALS = Path(__import__("metaflow").__file__).parent / "tutorials"
PYTHON = sys.executable

# tests/corpus/ holds flows and their own test modules (conftest.py too): checked by test_corpus.py, never collected.
collect_ignore = ["corpus"]


@pytest.fixture
def write(tmp_path):
    """write("flows/train.py", source) -> Path: a file under tmp_path with dedented content."""

    def _write(relative: str, content: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def check_text(source: str, path: Path | None = None, **settings):
    """Findings for a source text, with the given settings (e.g. select=("MF201",))."""
    from metaflow_lsp.config import Settings
    from metaflow_lsp.engine import check_source

    return check_source(textwrap.dedent(source), path, Settings(**settings)).findings
