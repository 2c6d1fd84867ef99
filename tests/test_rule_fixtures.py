"""Every rule against its fixtures in tests/fixtures/rules/<CODE>/.

A fixture marks each line where a diagnostic of that code must start with `# expect: <CODE>`; files whose name
starts with `ok_` are near-misses that must produce none. Only the fixture's own rule runs, so fixtures stay small.
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
from metaflow_lsp.rules import RULES

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


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(fixture: Path):
    code = fixture.parent.name
    assert code in RULES, f"fixture folder {code} names no rule"
    source = read_source(fixture)
    result = check_source(source, fixture, Settings(select=(code,)), Project(fixture.parent))
    found = sorted(f.span.line + 1 for f in result.findings if f.code == code)
    expected = expected_lines(source, code)
    if fixture.name.startswith("ok_"):
        assert expected == [], "an ok_ fixture must not expect diagnostics"
    else:
        assert expected, "a fixture that triggers nothing must be named ok_*"
    assert found == expected, "\n".join(f"{f.span.line + 1}: {f.code} {f.message}" for f in result.findings)


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_docs_and_fixtures(code: str):
    doc = rule_doc(code)
    assert doc is not None, f"docs/rules/{code}.md is missing"
    for heading in ("## What it does", "## Why", "## Example", "## Use instead", "## Fix"):
        assert heading in doc, f"docs/rules/{code}.md has no '{heading}' section"
    files = [p.name for p in (RULE_FIXTURES / code).glob("*.py")]
    assert any(not n.startswith("ok_") for n in files), f"{code} has no fixture that triggers it"
    assert any(n.startswith("ok_") for n in files), f"{code} has no near-miss fixture (ok_*.py)"
