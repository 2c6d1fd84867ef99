"""What the engine adds to the rules' hits: findings sorted by position (line, then column, then code)."""

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
