"""The real-world corpus (tests/corpus/README.md): public flows from pinned PyPI archives and flows written here in the
shapes real projects have. Every finding of the real `metaflow-lsp check` CLI on it is pinned in
tests/corpus/expected.toml, every error with a one-line justification, so a new false alarm fails here.

Metaflow is the referee: its own lint (run statically, as in test_differential_lint.py) must accept every flow we
give no MF0xx finding, and its real `check` (slow: it imports the flows) must not accept a flow we give an MF0xx
error, except the false alarms pinned as such (each names the issue that removes it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import harness
from metaflow_lsp.builder import file_resolver, parse_module
from metaflow_lsp.project import read_source
from test_differential_lint import compare_module

# Written flows that must not be imported by a test: importing runs their module-level install.
NOT_IMPORTED = {"written/module_install/report.py": "runs `pip install` when the file is loaded"}
FALSE_ALARM = "false alarm"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> harness.Corpus:
    try:
        return harness.build(tmp_path_factory.mktemp("corpus"))
    except harness.CorpusError as error:
        pytest.fail(f"the corpus cannot be built: {error}", pytrace=False)


@pytest.fixture(scope="session")
def checked(corpus):
    return harness.check(corpus)


def test_findings_are_pinned(corpus, checked):
    found, messages = checked
    pinned_files, pinned = harness.load_pins()
    changes = harness.differences(corpus.files, found, messages, pinned_files, pinned)
    assert not changes, (f"`metaflow-lsp check` on the corpus differs from tests/corpus/expected.toml "
                         f"({len(changes)} changes; after a deliberate change run `{harness.REGENERATE}`):\n  "
                         + "\n  ".join(changes))


def test_every_error_is_justified_and_real():
    """Issue 8's bar: an error on the corpus is a real mistake, said why; a known false alarm is a bug to fix."""
    _, pinned = harness.load_pins()
    missing = [f"{pin.path}:{pin.line} {pin.code}" for pin in pinned if pin.needs_justification]
    assert not missing, ("errors in tests/corpus/expected.toml without a why (\"real: ...\" or \"false alarm, fixed "
                         "by issue N item M: ...\"):\n  " + "\n  ".join(missing))
    false_alarms = [f"{pin.path}:{pin.line} {pin.code}: {pin.why}" for pin in pinned
                    if pin.severity == harness.SEVERITY_ERROR and pin.why.startswith("false alarm")]
    assert not false_alarms, "errors pinned as false alarms:\n  " + "\n  ".join(false_alarms)


def test_corpus_has_both_halves(corpus):
    public = [f for f in corpus.files if not f.startswith("written/")]
    written = [f for f in corpus.files if f.startswith("written/")]
    assert len(public) >= 40 and len(written) >= 20, (len(public), len(written))
    assert any(f.startswith("metaflow/metaflow/tutorials/") for f in public)


def test_metaflow_lint_accepts_flows_without_graph_findings(corpus):
    """A flow we give no MF001-MF020 finding passes every default check of Metaflow's own lint (static)."""
    compared, refused = 0, []
    for relative in corpus.files:
        path = corpus.path(relative)
        module = parse_module(read_source(path), path, file_resolver())
        if module.syntax_error is not None or not module.flows:
            continue
        for comparison in compare_module(module):
            if comparison.ours:
                continue
            compared += 1
            raised = {check: outcome.message for check, outcome in comparison.metaflow.items() if outcome.raised}
            if raised:
                refused.append(f"{relative} {comparison.flow}: {raised}")
    assert compared >= 40, compared
    assert not refused, "Metaflow's lint refuses flows we pass:\n  " + "\n  ".join(refused)


def graph_errors(found, relative: str):
    return [pin for pin in found if pin.path == relative and pin.code.startswith("MF0")
            and pin.severity == harness.SEVERITY_ERROR]


@pytest.mark.slow
def test_metaflow_check_agrees(corpus, checked, tmp_path):
    """Real `python flow.py check` (Metaflow imports the flow, with the pinned extensions on PYTHONPATH): a flow it
    accepts gets no MF0xx error but the pinned false alarms; every written flow file with a __main__ call passes."""
    found, _ = checked
    _, pinned = harness.load_pins()
    why = {pin.key: pin.why for pin in pinned}
    accepted, problems = [], []
    for relative in corpus.files:
        path = corpus.path(relative)
        module = parse_module(read_source(path), path, file_resolver())
        if not module.main_calls or relative in NOT_IMPORTED:
            continue
        result = harness.metaflow_check(corpus, relative, tmp_path / "home")
        if result.returncode != 0:
            if relative.startswith("written/"):
                problems.append(f"{relative}: Metaflow's check refuses a flow written for the corpus:\n"
                                f"{result.stderr[-1500:]}")
            continue
        accepted.append(relative)
        for pin in graph_errors(found, relative):
            if not why.get(pin.key, "").startswith(FALSE_ALARM):
                problems.append(f"{relative}:{pin.line} {pin.code}: Metaflow's check accepts the flow; the error is "
                                f"not pinned as a {FALSE_ALARM!r}")
    assert not problems, "\n".join(problems)
    assert len(accepted) >= 25, accepted


# ---- the pin file's own rules ---------------------------------------------------------------------------------------

def pin(path="a.py", line=3, code="MF011", severity="error", why=""):
    return harness.Pin(path, line, code, severity, why)


def test_regeneration_keeps_justifications_and_marks_new_errors():
    old = [pin(why="real: unknown step"), pin(code="MF017", line=9, why="false alarm, fixed by issue 8 item 1"),
           pin(code="MF204", line=1, severity="warning", why="deliberate")]
    new = harness.justified([pin(), pin(code="MF017", line=12), pin(code="MF204", line=1, severity="warning"),
                             pin(code="MF003", line=5)], old)
    assert [(p.code, p.line, p.why) for p in new] == [
        ("MF011", 3, "real: unknown step"),  # same place
        ("MF017", 12, "false alarm, fixed by issue 8 item 1"),  # the line moved: the one MF017 of the file
        ("MF204", 1, "deliberate"),
        ("MF003", 5, harness.NEEDS_JUSTIFICATION),  # new error
    ]
    assert [p.needs_justification for p in new] == [False, False, False, True]


def test_ambiguous_moves_are_not_guessed():
    old = [pin(line=3, why="real: first"), pin(line=4, why="real: second")]
    new = harness.justified([pin(line=7), pin(line=8)], old)
    assert all(p.why == harness.NEEDS_JUSTIFICATION for p in new)


def test_pin_file_round_trips(tmp_path: Path):
    pins = [pin(path="x/flow.py", why='real: "quoted" \\ and ünïcode'), pin(path="x/flow.py", code="MF204",
                                                                          line=1, severity="warning")]
    target = tmp_path / "expected.toml"
    target.write_text(harness.render_pins(("x/empty.py", "x/flow.py"), pins), encoding="utf-8")
    files, loaded = harness.load_pins(target)
    assert files == ["x/empty.py", "x/flow.py"]
    assert loaded == sorted(pins, key=lambda p: p.key)


def test_differences_read_as_a_diff():
    report = harness.differences(("a.py", "new.py"), [pin(), pin(code="MF204", severity="information")],
                                 {pin().key: "Step *start* transitions to *trian*"}, ["a.py", "gone.py"],
                                 [pin(code="MF204", severity="warning"), pin(code="MF017", line=9, why="false alarm")])
    assert report == [
        "+ file new.py (new in the corpus)",
        "- file gone.py (no longer in the corpus)",
        "+ a.py:3 MF011 error (new): Step *start* transitions to *trian*",
        "- a.py:9 MF017 error (vanished) [false alarm]",
        "~ a.py:3 MF204 severity warning -> information",
    ]


def test_a_tampered_archive_fails_clearly(tmp_path: Path):
    archive = harness.archives()[0]
    (tmp_path / archive.file).write_bytes(b"not the pinned archive")
    with pytest.raises(harness.CorpusError, match="sha256"):
        harness.fetch(archive, cache=tmp_path)


def typing_in_real_flows(corpus, per_file: int | None):
    """Each flow file of the corpus with edits of what rules read (`test_rule_reuse.edits_of_what_rules_read`) and
    lines added and removed inside its methods: all of them, or `per_file` spread over the file."""
    from test_rule_reuse import edits_of_what_rules_read, lines_added_and_removed

    for relative in corpus.files:
        source = read_source(corpus.path(relative))
        if source is None or "FlowSpec" not in source:
            continue
        edits = list(edits_of_what_rules_read(source)) + list(lines_added_and_removed(source))
        if per_file is not None and len(edits) > per_file:
            edits = edits[::len(edits) // per_file][:per_file]
        yield relative, source, edits


def assert_typing_gives_fresh_findings(corpus, per_file: int | None):
    from metaflow_lsp.config import Settings
    from metaflow_lsp.engine import check_source
    from metaflow_lsp.reuse import NodeReuse

    def outcome(text, reuse, path):
        return [(f.code, f.span, f.message) for f in check_source(text, path, Settings(), None, reuse).findings]

    for relative, source, edits in typing_in_real_flows(corpus, per_file):
        path, reuse = corpus.path(relative), NodeReuse()
        outcome(source, reuse, path)
        for edited in edits:
            assert outcome(edited, reuse, path) == outcome(edited, None, path), relative
            assert outcome(source, reuse, path) == outcome(source, None, path), relative


def test_typing_in_real_flows_gives_the_findings_of_a_fresh_check(corpus):
    # The language server keeps what an edit did not change (rule_reuse); on real flows too, after each keystroke,
    # it reports what the CLI reports.
    assert_typing_gives_fresh_findings(corpus, per_file=12)


@pytest.mark.slow
def test_every_edit_of_real_flows_gives_the_findings_of_a_fresh_check(corpus):
    assert_typing_gives_fresh_findings(corpus, per_file=None)
