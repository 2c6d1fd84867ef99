"""The rule pages (`docs/rules/<CODE>.md`), shipped inside the package, and the links diagnostics carry to them."""

from __future__ import annotations

import functools
from pathlib import Path

from .config import Settings

RULE_DOCS = Path(__file__).resolve().parent / "docs" / "rules"


def rule_page(code: str) -> Path:
    return RULE_DOCS / f"{code}.md"


def rule_doc(code: str) -> str | None:
    try:
        return rule_page(code).read_text(encoding="utf-8")
    except OSError:
        return None


def rule_url(code: str, settings: Settings) -> str:
    """Where a diagnostic's code links to: the configured docs site, else the page on this machine."""
    return _rule_url(code, settings.docs_url)


@functools.lru_cache(maxsize=1024)
def _rule_url(code: str, docs_url: str | None) -> str:  # every diagnostic of every keystroke asks
    if docs_url:
        return docs_url.rstrip("/") + f"/{code}"
    return rule_page(code).as_uri()
