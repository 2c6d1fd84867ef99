"""Diagnostics of a new version reuse the converted diagnostics of the previous one only where nothing they were
converted from changed: the same finding on a line of the same text (UTF-16 columns count through the line)."""

from __future__ import annotations

from pathlib import Path

from metaflow_lsp.config import Settings
from metaflow_lsp.engine import CheckResult, Finding
from metaflow_lsp.lsp.diagnostics import Converted, to_diagnostics
from metaflow_lsp.model import Module
from metaflow_lsp.rules import Severity
from metaflow_lsp.text import LineIndex, Span

SETTINGS = Settings()


def result(text: str, findings: list[Finding]) -> CheckResult:
    return CheckResult(Module(Path("flow.py"), text, None), findings, LineIndex(text))


def converted(before: CheckResult) -> Converted:
    return Converted(before, SETTINGS, "utf-16", to_diagnostics(before, SETTINGS, 10**6))


def test_a_finding_on_a_changed_line_is_converted_again():
    finding = Finding("MF201", "m", Severity.WARNING, Span(0, 5, 0, 6))  # the `x`, byte 5 in both texts
    before, after = result("ab = x\n", [finding]), result("é = x\n", [finding])
    items = to_diagnostics(after, SETTINGS, 10**6, "utf-16", converted(before))
    assert items == to_diagnostics(after, SETTINGS, 10**6)
    assert items[0].range.start.character == 4  # é is one UTF-16 unit and two bytes


def test_unchanged_findings_keep_their_diagnostics_and_new_ones_are_converted():
    kept = Finding("MF201", "kept", Severity.WARNING, Span(0, 0, 0, 1))
    before = result("a\nb\n", [kept])
    previous = converted(before)
    new = Finding("MF202", "new", Severity.HINT, Span(1, 0, 1, 1))
    items = to_diagnostics(result("a\nb\n", [kept, new]), SETTINGS, 10**6, "utf-16", previous)
    assert items[0] is previous.items[0]
    assert items == to_diagnostics(result("a\nb\n", [kept, new]), SETTINGS, 10**6)


def test_other_settings_convert_everything_again():
    finding = Finding("MF201", "m", Severity.WARNING, Span(0, 0, 0, 1))
    before = result("a\n", [finding])
    other = Settings(docs_url="https://example.org/rules")
    items = to_diagnostics(before, other, 10**6, "utf-16", converted(before))
    assert items[0].code_description.href == "https://example.org/rules/MF201"
