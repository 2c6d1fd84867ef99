"""`# noqa` as the README promises it: alone it silences every rule on its line, `# noqa: MF101, MF201` only the
codes it names. Seen through `metaflow-lsp check` and through the language server, which must agree."""

from __future__ import annotations

import json

from lsprotocol import types

from test_cli import run
from test_lsp_session import open_document, pull, session, write

# Line 8 (`@retry(times=9)` below `@step`) gets two findings: MF101 (decorator below @step) and MF103 (too many
# retries). `{comment}` is what the user wrote at the end of that line.
FLOW = '''\
from metaflow import FlowSpec, Parameter, retry, step


class RetryFlow(FlowSpec):
    test_mode = Parameter("test_mode", default=False)

    @step
    @retry(times=9){comment}
    def start(self):
        print(self.test_mode)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    RetryFlow()
'''
LINE = 8  # 1-based, as the CLI prints it
BOTH = {"MF101", "MF103"}

# file name -> (comment at the end of line 8, codes still reported on line 8)
CASES = {
    "no_comment": ("", BOTH),
    "bare": ("  # noqa", set()),
    "bare_upper_case": ("  # NOQA", set()),
    "both_codes": ("  # noqa: MF101, MF103", set()),
    "both_codes_other_order": ("  # noqa: MF103, MF101", set()),
    "both_codes_no_spaces": ("  #noqa:MF101,MF103", set()),
    "after_another_comment": ("  # flaky service  # noqa: MF101, MF103", set()),
    "first_code": ("  # noqa: MF101", {"MF103"}),
    "second_code_no_spaces": ("  #noqa:MF103", {"MF101"}),
    "lower_case_code": ("  # noqa: mf101", {"MF103"}),
    "another_code": ("  # noqa: MF201", BOTH),
    "another_code_then_one": ("  # noqa: MF201, MF103", {"MF101"}),
}


def source_of(case: str) -> str:
    return FLOW.format(comment=CASES[case][0])


def test_cli(tmp_path):
    for case in CASES:
        (tmp_path / f"{case}.py").write_text(source_of(case), encoding="utf-8")
    result = run("check", "--format", "json", ".", cwd=tmp_path)
    rows = json.loads(result.stdout)
    assert {r["line"] for r in rows} == {LINE}, rows  # the flow is clean apart from that line
    reported = {case: {r["code"] for r in rows if r["path"] == f"{case}.py"} for case in CASES}
    assert reported == {case: expected for case, (_, expected) in CASES.items()}


def test_cli_exit_status_is_zero_when_every_finding_is_silenced(tmp_path):
    for case in ("bare", "both_codes", "both_codes_other_order"):
        (tmp_path / f"{case}.py").write_text(source_of(case), encoding="utf-8")
    result = run("check", ".", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")


async def test_server_pull_diagnostics(tmp_path):
    reported = {}
    async with session(tmp_path) as client:
        for case in CASES:
            source = source_of(case)
            uri = open_document(client, write(tmp_path, f"{case}.py", source), source)
            report = await pull(client, uri)
            assert {d.range.start.line for d in report.items} <= {LINE - 1}, report.items
            reported[case] = {d.code for d in report.items}
            assert all(d.severity == types.DiagnosticSeverity.Error for d in report.items)
    assert reported == {case: expected for case, (_, expected) in CASES.items()}


def test_a_string_that_reads_noqa_silences_nothing(tmp_path):
    """Only a comment silences: `"# noqa"` inside a string on the reported line is data, not a request."""
    source = FLOW.replace("        print(self.test_mode)\n", '        self.test_mode = "# noqa"\n')
    (tmp_path / "flow.py").write_text(source.format(comment=""), encoding="utf-8")
    (tmp_path / "silenced.py").write_text(source.replace('"# noqa"', '"x"  # noqa').format(comment=""),
                                          encoding="utf-8")
    rows = json.loads(run("check", "--format", "json", "--select", "MF107", ".", cwd=tmp_path).stdout)
    assert [(r["path"], r["code"], r["line"]) for r in rows] == [("flow.py", "MF107", LINE + 2)]
