"""What rules keep across keystrokes (`RuleContext.derived`) is keyed by everything it reads besides the method: an
edit elsewhere that changes one of those inputs (the test-mode Parameter, the flow's helper methods, the imports)
must change the findings exactly as a fresh check does, and an edit that changes none must keep them."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metaflow_lsp.config import Settings
from metaflow_lsp.engine import check_source
from metaflow_lsp.reuse import NodeReuse

BASE = '''\
from metaflow import FlowSpec, Parameter, step, retry


class TrainFlow(FlowSpec):
    tm = Parameter("test_mode", type=bool, default=False)

    def shrink(self, items):
        return items[:2] if self.tm else items

    @retry(times=10)
    @step
    def start(self):
        self.params = [0.1, 0.2, 0.3, 0.4]
        self.params = self.shrink(self.params)
        self.next(self.train, foreach="params")

    @step
    def train(self):
        self.score = self.input
        self.next(self.join)

    @step
    def join(self, inputs):
        self.best = max(i.score for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrainFlow()
'''

# Each edit replaces one text of BASE; the first ones change an input of a cached value without touching the steps
# that hold it, the last ones change a step and nothing else.
EDITS = {
    "test-mode parameter renamed": ('    tm = Parameter("test_mode"', '    quick = Parameter("test_mode"'),
    "helper method renamed": ("    def shrink(self, items):", "    def shrunk(self, items):"),
    "retry imported under an alias": ("step, retry\n", "step, retry as again\n"),
    "retry no longer Metaflow's": ("step, retry\n", "step\nfrom tenacity import retry\n"),
    "start edited": ("        self.params = [0.1, 0.2, 0.3, 0.4]", "        self.params = [0.1, 0.2, 0.3, 0.5]"),
    "train edited": ("        self.score = self.input", "        self.score = self.input * 2"),
    "foreach over another list": ('foreach="params"', 'foreach="params2"'),
}


def version(edits: frozenset[str]) -> str:
    text = BASE
    for name in sorted(edits):
        old, new = EDITS[name]
        text = text.replace(old, new, 1)
    return text


def outcome(source: str, reuse: NodeReuse | None):
    result = check_source(source, Path("flow.py"), Settings(), None, reuse)
    return [(f.code, f.span, f.message, f.data) for f in result.findings]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.frozensets(st.sampled_from(sorted(EDITS))), min_size=1, max_size=8))
def test_findings_after_edits_to_what_cached_values_read_equal_a_fresh_check(sequence):
    reuse = NodeReuse()
    for edits in [frozenset(), *sequence]:
        text = version(edits)
        assert outcome(text, reuse) == outcome(text, None)


def codes(source: str) -> set[str]:
    return {code for code, *_ in outcome(source, None)}


def test_the_edits_change_what_is_reported():
    """The property above covers both outcomes: each input edit alone turns a finding on or off."""
    assert codes(BASE) == {"MF103"}  # the helper shortens the list under test mode
    assert "MF206" in codes(version(frozenset({"helper method renamed"})))
    assert "MF205" in codes(version(frozenset({"test-mode parameter renamed"})))
    assert "MF103" not in codes(version(frozenset({"retry no longer Metaflow's"})))
    assert "MF103" not in codes(version(frozenset({"retry imported under an alias"})))
