"""How many long steps "Extract step body to common.py" can extract: `python benchmarks/extract_coverage.py [PATH...]`.

For every step MF201 reports in the flow files under PATH (files or folders), the Extract plan is computed as the
editor computes it (common.py beside the flow read as it is, nothing written) and the step counted as extractable
or refused; refusals are grouped by reason (the message with names and line numbers blanked out).

`--corpus` adds the real-world corpus (tests/corpus: pinned public flows from PyPI, downloaded once into
tests/corpus/.cache/, plus the flows written there), `--tutorials` the Metaflow wheel's tutorials and `--fixtures`
this repository's Extract fixtures; `--all` is the three. `--max-step-statements N` lowers MF201's limit (default
15, as the rule) to measure on more steps. `--markdown` prints the README's table row.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "tests"))  # the corpus harness

from metaflow_lsp.config import Settings  # noqa: E402
from metaflow_lsp.engine import check_source  # noqa: E402
from metaflow_lsp.file_walk import walk_python_files  # noqa: E402
from metaflow_lsp.files import read_source  # noqa: E402
from metaflow_lsp.refactor.extract import COMMON_FILE, extract_plan  # noqa: E402
from metaflow_lsp.refactor.plan import FixError  # noqa: E402

FIXTURES = REPOSITORY / "tests" / "fixtures" / "extract"


@dataclass
class Coverage:
    label: str
    extractable: int = 0
    refused: Counter = field(default_factory=Counter)  # reason pattern -> steps
    examples: dict = field(default_factory=dict)  # reason pattern -> "path:line step"

    @property
    def steps(self) -> int:
        return self.extractable + sum(self.refused.values())

    @property
    def fraction(self) -> float:
        return self.extractable / self.steps if self.steps else 1.0


def reason_pattern(message: str) -> str:
    """The reason without what varies from step to step: names in backticks, line numbers, counts."""
    pattern = re.sub(r"`[^`]*`", "`…`", message)
    return re.sub(r"\d+", "N", pattern)


def _read(path: Path) -> str | None:
    try:
        return read_source(path)
    except OSError:
        return None


def measure(label: str, paths: list[Path], limit: int) -> Coverage:
    coverage = Coverage(label)
    settings = Settings(select=("MF201",), max_step_statements=limit)
    for path in walk_python_files(paths):
        if path.name == COMMON_FILE or path.name.endswith(".extracted.py"):  # a fixture's expected result
            continue
        source = _read(path)
        if source is None:
            continue
        for finding in check_source(source, path, settings).findings:
            step = finding.data.get("step")
            try:
                extract_plan(source, path, step, _read)
            except FixError as error:
                pattern = reason_pattern(str(error))
                coverage.refused[pattern] += 1
                coverage.examples.setdefault(pattern, f"{path}:{finding.span.line + 1} {step}")
            else:
                coverage.extractable += 1
    return coverage


def report(coverage: Coverage) -> str:
    lines = [f"{coverage.label}: {coverage.extractable} of {coverage.steps} long steps extractable "
             f"({coverage.fraction:.0%})"]
    for pattern, count in coverage.refused.most_common():
        lines.append(f"  {count:4d}  {pattern}\n        e.g. {coverage.examples[pattern]}")
    return "\n".join(lines)


def markdown(coverages: list[Coverage], limit: int) -> str:
    rows = ["| flows | long steps (> {} statements) | extractable |".format(limit), "| --- | ---: | ---: |"]
    rows += [f"| {c.label} | {c.steps} | {f'{c.extractable} ({c.fraction:.0%})' if c.steps else '-'} |"
             for c in coverages]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    parser.add_argument("--corpus", action="store_true", help="the real-world corpus of tests/corpus")
    parser.add_argument("--tutorials", action="store_true", help="the installed Metaflow's tutorials")
    parser.add_argument("--fixtures", action="store_true", help="this repository's Extract fixtures")
    parser.add_argument("--all", action="store_true", help="--corpus --tutorials --fixtures")
    parser.add_argument("--max-step-statements", type=int, default=Settings().max_step_statements, metavar="N")
    parser.add_argument("--markdown", action="store_true", help="print the README's table")
    args = parser.parse_args(argv)
    limit = args.max_step_statements
    coverages = []
    if args.paths:
        coverages.append(measure(", ".join(map(str, args.paths)), args.paths, limit))
    with tempfile.TemporaryDirectory() as scratch:
        if args.all or args.tutorials:
            import metaflow

            coverages.append(measure("Metaflow tutorials", [Path(metaflow.__file__).parent / "tutorials"], limit))
        if args.all or args.fixtures:
            coverages.append(measure("Extract fixtures", [FIXTURES], limit))
        if args.all or args.corpus:
            from corpus import harness

            corpus = harness.build(Path(scratch) / "corpus")
            flows = [corpus.path(f) for f in corpus.files]
            coverages.append(measure("real-world corpus (`tests/corpus`)", flows, limit))
    if not coverages:
        parser.error("give a PATH, --corpus, --tutorials, --fixtures or --all")
    print(markdown(coverages, limit) if args.markdown else "\n\n".join(report(c) for c in coverages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
