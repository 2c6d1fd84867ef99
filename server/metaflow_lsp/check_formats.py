"""`check --format github` and `--format sarif`: the findings as CI shows them inline.

- github: one workflow command a finding, `::error file=P,line=L,col=C,title=MFxxx::message` (`warning`, `notice`
  for information and hints), which GitHub Actions turns into annotations on the pull request's lines.
- sarif: a SARIF 2.1.0 log (what code-scanning services read): the rule table as the tool's rules, each with its
  documentation link, and one result a finding with 1-based line and column (counted in code points).

Both take the rows `check` prints as JSON (`cli._row`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from . import __version__
from .config import Settings
from .docs import rule_url

GITHUB_COMMANDS = {"error": "error", "warning": "warning", "information": "notice", "hint": "notice"}
SARIF_LEVELS = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped, as the Actions runner reads them back."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """A workflow command's property value: also `:` and `,`, which end a property."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        command = GITHUB_COMMANDS.get(row["severity"], "warning")
        properties = (f"file={_escape_property(Path(row['path']).as_posix())},line={row['line']},"
                      f"col={row['column']},title={_escape_property(row['code'])}")
        lines.append(f"::{command} {properties}::{_escape_data(row['message'])}")
    return lines


def _artifact_uri(path: str) -> str:
    """A relative path stays relative (to the folder `check` ran in, as code scanning expects: the repository's
    root); an absolute one becomes a file: URI."""
    location = Path(path)
    if location.is_absolute():
        return location.as_uri()
    return quote(location.as_posix())


def sarif_log(rows: list[dict], settings: Settings) -> dict:
    """The SARIF log of one `check`; the rules' `helpUri` follows `docs-url` of `settings` like the editor's
    links (the rule pages shipped with the package otherwise)."""
    from .rules import RULES

    index = {code: position for position, code in enumerate(RULES)}
    rules = [{
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "helpUri": rule_url(rule.code, settings),
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity.label]},
    } for rule in RULES.values()]
    results = []
    for row in rows:
        result = {
            "ruleId": row["code"],
            "level": SARIF_LEVELS.get(row["severity"], "warning"),
            "message": {"text": row["message"]},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _artifact_uri(row["path"])},
                "region": {"startLine": row["line"], "startColumn": row["column"],
                           "endLine": row["end_line"], "endColumn": row["end_column"]},
            }}],
        }
        if row["code"] in index:
            result["ruleIndex"] = index[row["code"]]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "metaflow-lsp", "version": __version__, "rules": rules}},
            "columnKind": "unicodeCodePoints",  # `check` counts columns in code points, not UTF-16 units
            "results": results,
        }],
    }
