"""Every rule against its fixtures in tests/fixtures/rules/<CODE>/, and every rule page's header against the registry.

A fixture marks each line where a diagnostic of that code must start with `# expect: <CODE>`; files whose name
starts with `ok_` are near-misses that must produce none. `expected.txt` beside them holds what the user sees of each
diagnostic, `<file>:<line>:<column>: <message>` (as `metaflow-lsp check` prints it), so a changed column or message
fails too; a failing test prints the lines to write there. Only the fixture's own rule runs, so fixtures stay small.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import FIXTURES
from metaflow_lsp.config import Settings
from metaflow_lsp.docs import rule_doc
from metaflow_lsp.engine import check_source
from metaflow_lsp.project import Project, read_source
from metaflow_lsp.refactor.fix_table import fix_for
from metaflow_lsp.rules import RULES, Rule

RULE_FIXTURES = FIXTURES / "rules"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>MF\d{3}(?:\s*,\s*MF\d{3})*)")
FIXTURE_FILES = sorted(RULE_FIXTURES.glob("MF*/*.py"))


def expected_lines(source: str, code: str) -> list[int]:
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = EXPECT.search(line)
        if match and code in re.split(r"\s*,\s*", match.group("codes")):
            lines.append(number)
    return lines


def shown_findings(fixture: Path) -> list[str]:
    """The fixture's diagnostics of its folder's rule as `metaflow-lsp check` shows them (1-based line and column,
    the column in characters)."""
    code = fixture.parent.name
    result = check_source(read_source(fixture), fixture, Settings(select=(code,)), Project(fixture.parent))
    return [f"{fixture.name}:{f.span.line + 1}:{result.lines.char_col(f.span.line, f.span.col) + 1}: {f.message}"
            for f in result.findings if f.code == code]


def sidecar(folder: Path) -> list[str]:
    path = folder / "expected.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(fixture: Path):
    code = fixture.parent.name
    assert code in RULES, f"fixture folder {code} names no rule"
    shown = shown_findings(fixture)
    found = [int(line.split(":")[1]) for line in shown]
    expected = expected_lines(read_source(fixture), code)
    if fixture.name.startswith("ok_"):
        assert expected == [], "an ok_ fixture must not expect diagnostics"
    else:
        assert expected, "a fixture that triggers nothing must be named ok_*"
    assert found == expected, "\n".join(shown)
    pinned = [line for line in sidecar(fixture.parent) if line.startswith(f"{fixture.name}:")]
    assert shown == pinned, f"{fixture.parent / 'expected.txt'} should have these lines for {fixture.name}:\n" + \
        "\n".join(shown)


@pytest.mark.parametrize("folder", sorted({p.parent for p in FIXTURE_FILES}), ids=lambda p: p.name)
def test_expected_names_only_fixtures_of_the_folder(folder: Path):
    names = {p.name for p in folder.glob("*.py") if not p.name.startswith("ok_")}
    assert all(line.split(":")[0] in names for line in sidecar(folder)), sidecar(folder)


def fix_availability(code: str) -> str:
    """What the rule page's header says of the rule's fix."""
    declared = fix_for(code)  # the `Fix` declared beside the rule
    if declared is None:
        return "none"
    return "safe" if declared.safe else "unsafe (a quick fix to review)"


def page_header(rule: Rule) -> list[str]:
    return [f"# {rule.code} {rule.name}", "",
            f"**Default severity:** {rule.severity.label} · **Family:** {rule.family} · **Fix:** "
            f"{fix_availability(rule.code)}"]


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_page_header_is_the_registry(code: str):
    """Name, default severity, family and fix of every rule page are what the tool does."""
    doc = rule_doc(code)
    assert doc is not None, f"docs/rules/{code}.md is missing"
    expected = page_header(RULES[code])
    assert doc.splitlines()[:3] == expected, f"docs/rules/{code}.md should start with:\n" + "\n".join(expected)


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_docs_and_fixtures(code: str):
    doc = rule_doc(code)
    assert doc is not None, f"docs/rules/{code}.md is missing"
    for heading in ("## What it does", "## What it does not report", "## Why", "## Example", "## Use instead",
                    "## Fix"):
        assert heading in doc, f"docs/rules/{code}.md has no '{heading}' section"
    files = [p.name for p in (RULE_FIXTURES / code).glob("*.py")]
    assert any(not n.startswith("ok_") for n in files), f"{code} has no fixture that triggers it"
    assert any(n.startswith("ok_") for n in files), f"{code} has no near-miss fixture (ok_*.py)"
