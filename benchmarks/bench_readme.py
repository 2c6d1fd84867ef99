"""The README's Performance figures, written from one run of `bench.py` (`make bench` does it): the text between
`<!-- bench:start -->` and `<!-- bench:end -->` is replaced, nothing else of the README is touched."""

from __future__ import annotations

import datetime
import os
import platform
import re
import textwrap
from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"

# (what, target) of issue 16 and issue 12, checked against the report.
KEYSTROKE_TO_PARSE, GROWTH, CHECK_TO_RUFF, INITIALIZE_MS, SMALL_CHECK_MS, COMPLETION_MS = 1.0, 1.5, 3.0, 250, 80, 20


def _met(ok: bool, bold: bool = True) -> str:
    return ("**met**" if bold else "met") if ok else "missed"


def render(report: dict, quick: bool = False) -> str:
    sizes = report["sizes"]
    thousand, five = sizes[1_000], sizes[5_000]
    edits = report["edits"]
    lines = [
        f"Measured with `make bench` (`benchmarks/bench.py`, which runs the references beside ours) on "
        f"{datetime.date.today().isoformat()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}{' (`--quick`)' if quick else ''}, through the real server over stdio. The flows are "
        "dense: a step every ~20 lines, a foreach fan-out and its join every ninth step. Latency is `didChange` → "
        f"diagnostics while typing at the end of a line of a step (p50 / p90 over {edits} edits); pulls send the "
        "previous result id, as VS Code does.",
        "",
        "| lines | `ast.parse` | fresh check | pull p50 | pull p90 | push p50 | push p90 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in sizes.values():
        lines.append(f"| {row['lines']:,} | {row['ast_parse_ms']:.1f} ms | {row['engine_ms']:.1f} ms | "
                     f"{row['pull_p50_ms']:.1f} ms | {row['pull_p90_ms']:.1f} ms | {row['push_p50_ms']:.1f} ms | "
                     f"{row['push_p90_ms']:.1f} ms |")
    pull_ratio, push_ratio = report["pull_ratio_to_parse_1000"], report["push_ratio_to_parse_1000"]
    pull_growth, push_growth = report["pull_growth_5000"], report["push_growth_5000"]
    folder = report["check_folder"]
    in_name = (thousand["pull_in_name_p50_ms"], five["pull_in_name_p50_ms"])
    enter = (thousand["pull_enter_p50_ms"], five["pull_enter_p50_ms"])
    lines += [
        "",
        f"Typing inside an artifact's name instead (`self.total` assigned in a step: what the data-flow rules read "
        f"changes with every keystroke): pull p50 {in_name[0]:.1f} ms at 1,000 lines, {in_name[1]:.1f} ms at "
        f"5,000 ({in_name[1] / in_name[0]:.2f} ×). Enter and Backspace at the end of a line of a step (every later "
        f"line moves): pull p50 {enter[0]:.1f} ms at 1,000 lines, {enter[1]:.1f} ms at 5,000 "
        f"({enter[1] / enter[0]:.2f} ×).",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
        f"| keystroke p50 at 1,000 lines ≤ {KEYSTROKE_TO_PARSE:g} × `ast.parse` of the whole text | pull "
        f"{pull_ratio:.2f} ×; push {push_ratio:.2f} × (it includes the 5 ms debounce, `metaflowLsp.diagnosticsDelay`)"
        f" | {_met(pull_ratio <= KEYSTROKE_TO_PARSE)} |",
        f"| keystroke p50 at 5,000 lines ≤ {GROWTH:g} × p50 at 1,000 | pull {pull_growth:.2f} ×, push "
        f"{push_growth:.2f} × | {_met(pull_growth <= GROWTH and push_growth <= GROWTH)} |",
        f"| `metaflow-lsp check` within {CHECK_TO_RUFF:g} × `ruff check --no-cache` ({folder['folder']}) | "
        f"{folder['ours_s']:.2f} s vs {folder['ruff_s']:.2f} s: {folder['ratio']:.1f} ×; {folder['warm_cache_s']:.2f}"
        f" s again with the result cache warm | {_met(folder['ratio'] <= CHECK_TO_RUFF)} |",
        f"| `initialize` < {INITIALIZE_MS} ms | {report['initialize_ms']:.0f} ms | "
        f"{_met(report['initialize_ms'] < INITIALIZE_MS)} |",
        f"| `check` of one small file < {SMALL_CHECK_MS} ms | {report['small_check_ms']:.0f} ms as run again (its "
        f"findings from the result cache); {report['small_check_no_cache_ms']:.0f} ms with `--no-cache` | "
        f"{_met(report['small_check_ms'] < SMALL_CHECK_MS)} (cached), "
        f"{_met(report['small_check_no_cache_ms'] < SMALL_CHECK_MS, bold=False)} (`--no-cache`) |",
        f"| completion after `self.` p50 < {COMPLETION_MS} ms (1,000 lines, on a line that does not parse) | "
        f"p50 {report['completion_1000']['p50_ms']:.1f} ms, p95 {report['completion_1000']['p95_ms']:.1f} ms | "
        f"{_met(report['completion_1000']['p50_ms'] < COMPLETION_MS)} |",
        "",
        f"Also: MF401 on a warm project index (a 1,000-line flow among 60 flow files) {report['mf401_warm_ms']:.1f} ms; "
        f"a fresh check of 40 chained diamonds (2⁴⁰ paths) {report['wide_diamonds_ms']:.0f} ms; on a 1,000-line flow, "
        f"listing code actions {report['code_actions_1000']['list_p50_ms']:.1f} ms and resolving \"Extract step body "
        f"to common.py\" {report['code_actions_1000']['resolve_extract_p50_ms']:.0f} ms (p50).",
    ]
    return "\n".join(_wrapped(line) for line in lines)


def _wrapped(line: str, width: int = 118) -> str:
    """Prose wrapped as the rest of the README is; table rows stay whole."""
    return line if line.startswith("|") or not line else textwrap.fill(line, width, break_on_hyphens=False)


def update(readme: Path, block: str) -> None:
    """Replaces the text between the markers; a README without them is an error, not a silent no-op."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{readme} has no {START} ... {END} block to write the figures into")
    readme.write_text(pattern.sub(lambda _: f"{START}\n{block}\n{END}", text, count=1), encoding="utf-8")
