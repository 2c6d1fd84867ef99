"""Rewrite expected.toml from what `metaflow-lsp check` finds on the corpus today, keeping the justifications.

    .venv/bin/python tests/corpus/pin.py

Prints what changed; exits 1 while an error-severity finding has no justification (edit its `why`).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import harness


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="metaflow-lsp-corpus-") as folder:
        try:
            corpus = harness.build(Path(folder))
        except harness.CorpusError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        found, messages = harness.check(corpus)
    pinned_files, pinned = harness.load_pins()
    for line in harness.differences(corpus.files, found, messages, pinned_files, pinned):
        print(line)
    pins = harness.justified(found, pinned)
    harness.PINS.write_text(harness.render_pins(corpus.files, pins), encoding="utf-8")
    unjustified = [pin for pin in pins if pin.needs_justification]
    print(f"{harness.PINS}: {len(pins)} findings on {len(corpus.files)} files, "
          f"{sum(p.severity == harness.SEVERITY_ERROR for p in pins)} errors, {len(unjustified)} without a why")
    for pin in unjustified:
        print(f"  needs a why: {pin.path}:{pin.line} {pin.code}: {messages.get(pin.key, '')}")
    return 1 if unjustified else 0


if __name__ == "__main__":
    sys.exit(main())
