"""What the engine adds to the rules' hits: findings sorted by position (line, then column, then code), and the one
finding of a file that does not parse."""

from __future__ import annotations

from conftest import check_text

# In the join, one line reads self.v, lost at the join (MF108, column 12), then assigns the Parameter alpha (MF107,
# column 20).
JOIN = '''
from metaflow import FlowSpec, Parameter, step


class SortFlow(FlowSpec):
    alpha = Parameter("alpha", default=1)

    @step
    def start(self):
        self.v = 1
        self.next(self.a, self.b)

    @step
    def a(self):
        self.next(self.join)

    @step
    def b(self):
        self.next(self.join)

    @step
    def join(self, inputs):
        x = self.v; self.alpha = x
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SortFlow()
'''


def test_findings_on_one_line_are_sorted_by_column_before_code():
    found = [(f.span.line, f.span.col, f.code) for f in check_text(JOIN, select=("MF107", "MF108"))]
    assert found == [(22, 12, "MF108"), (22, 20, "MF107")]


def test_a_syntax_error_is_one_finding_at_the_character_python_stopped_at():
    """Python counts the column in characters; spans count UTF-8 bytes (`text.Span`): "café 🚀" is 7 characters and 10
    bytes, so the `)` at character 17 starts at byte 21."""
    [finding] = check_text('from metaflow import FlowSpec\n\nlabel = "café 🚀" )\n')
    assert (finding.code, finding.message) == ("MF000", "Syntax error: unmatched ')'")
    assert (finding.span.line, finding.span.col, finding.span.end_line, finding.span.end_col) == (2, 21, 2, 22)
