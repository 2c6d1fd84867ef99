"""The README's Performance block is written by the benchmark (`make bench` → `benchmarks/bench_readme.py`), from the
figures of one run: the block is replaced whole, nothing around it changes, and the README holds such a block."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_readme import END, START, render, update  # noqa: E402


def report(pull_5000: float = 4.0) -> dict:
    def row(lines, parse, pull):
        return {"lines": lines, "ast_parse_ms": parse, "engine_ms": parse * 4, "pull_p50_ms": pull,
                "pull_p90_ms": pull * 1.1, "push_p50_ms": pull + 5, "push_p90_ms": pull + 6,
                "pull_in_name_p50_ms": pull * 1.5, "pull_enter_p50_ms": pull * 2}
    return {
        "edits": 60, "sizes": {200: row(197, 1.0, 2.5), 1_000: row(979, 6.0, 3.0), 5_000: row(4991, 60.0, pull_5000)},
        "pull_ratio_to_parse_1000": 0.5, "push_ratio_to_parse_1000": 1.3, "pull_growth_5000": pull_5000 / 3.0,
        "push_growth_5000": 1.2, "check_folder": {"folder": "593 files", "ours_s": 0.5, "ruff_s": 0.25, "ratio": 2.0,
                                                  "warm_cache_s": 0.2},
        "initialize_ms": 200.0, "small_check_ms": 70.0, "small_check_no_cache_ms": 90.0, "mf401_warm_ms": 8.0, "wide_diamonds_ms": 90.0,
        "completion_1000": {"p50_ms": 4.0, "p95_ms": 5.0},
        "code_actions_1000": {"list_p50_ms": 16.0, "resolve_extract_p50_ms": 190.0},
    }


def test_the_block_is_replaced_and_nothing_around_it(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{START}\nold figures\n{END}\n\nafter\n")
    update(readme, render(report()))
    text = readme.read_text()
    assert text.startswith("# Title\n\nbefore\n\n" + START + "\nMeasured with `make bench`")
    assert text.endswith(END + "\n\nafter\n") and "old figures" not in text
    assert "| 4,991 | 60.0 ms | 240.0 ms | 4.0 ms |" in text


def test_a_target_is_said_met_only_when_the_figure_meets_it():
    assert "p50 at 1,000 | pull 1.33 ×, push 1.20 × | **met** |" in render(report(pull_5000=4.0))
    assert "p50 at 1,000 | pull 2.00 ×, push 1.20 × | missed |" in render(report(pull_5000=6.0))


def test_a_readme_without_the_block_is_an_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n")
    with pytest.raises(SystemExit, match="no <!-- bench:start -->"):
        update(readme, render(report()))


def test_the_readme_figures_are_the_benchmarks_own():
    text = (ROOT / "README.md").read_text()
    block = text[text.index(START) + len(START):text.index(END)].strip()
    rendered = render(report())
    assert block.split("\n")[0].startswith("Measured with `make bench`")
    rows = rendered.split("\n")
    headers = [row for row, below in zip(rows, rows[1:]) if below.startswith("| ---")]  # each table's header
    assert len(headers) == 2 and all(header in block for header in headers), "regenerate the figures: make bench"
