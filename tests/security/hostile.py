"""Helpers of the hostile-workspace tests: what an editor does with the server's answers, written from the LSP
specification and not from the server's code, so a test fails when the server counts differently.

- `LSP_LINE_BREAKS`, `lsp_lines`, `apply_text_edits`: an editor's view of a document (lines end at \\n, \\r\\n or \\r
  only; columns in UTF-16 code units) and how it applies a TextEdit;
- `served`: the real server (`python -m metaflow_lsp`, as editors start it) on a workspace, every wait bounded;
- `still_answers`: the check made after each hostile input, that a normal request is answered within seconds.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

from lsprotocol import types

from test_lsp_session import capabilities, session

LSP_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
# Characters `str.splitlines` takes for line breaks that Python and LSP do not.
NOT_LINE_BREAKS = ("\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
ANSWER_WITHIN = 10.0  # seconds: what "the server keeps answering" means in these tests
CLI_TIMEOUT = 60.0

SIMPLE_FLOW = '''from metaflow import FlowSpec, step


class SimpleFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SimpleFlow()
'''
RETRY_FLOW = SIMPLE_FLOW.replace("    @step\n    def start", "    @retry(times=9)\n    @step\n    def start") \
    .replace("import FlowSpec, step", "import FlowSpec, retry, step")  # one finding, MF103, with a safe fix


def lsp_lines(text: str) -> list[str]:
    """The lines of `text` as an editor counts them, breaks kept; the last line may be empty."""
    lines, start = [], 0
    for match in LSP_LINE_BREAKS.finditer(text):
        lines.append(text[start:match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


def _offset(lines: list[str], position: types.Position) -> int:
    if position.line >= len(lines):
        return sum(map(len, lines))
    before = sum(len(line) for line in lines[:position.line])
    line = LSP_LINE_BREAKS.sub("", lines[position.line])
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return before + index
        units += len(char.encode("utf-16-le")) // 2
    return before + len(line)


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """`text` after `edits`, applied as an editor applies them (positions all refer to the original text)."""
    lines = lsp_lines(text)
    spans = sorted(((_offset(lines, e.range.start), _offset(lines, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


@asynccontextmanager
async def served(root: Path, **kwargs):
    """The real server on workspace `root` (VS Code's capabilities, pull diagnostics)."""
    async with session(root, caps=kwargs.pop("caps", None) or capabilities(), **kwargs) as client:
        yield client


async def still_answers(client, uri: str) -> types.DocumentDiagnosticReport:
    """A normal request (pull the diagnostics of `uri`) answered within `ANSWER_WITHIN` seconds."""
    started = time.monotonic()
    report = await asyncio.wait_for(client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri))), ANSWER_WITHIN)
    assert time.monotonic() - started < ANSWER_WITHIN
    return report


def codes(report) -> list[str]:
    return [item.code for item in report.items]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`metaflow-lsp ARGS` as CI runs it; a hang fails the test (TimeoutExpired) instead of blocking it."""
    command = Path(sys.executable).with_name("metaflow-lsp")
    return subprocess.run([str(command), *args], cwd=cwd, capture_output=True, text=True, timeout=CLI_TIMEOUT)


def long_flow(chars: int) -> str:
    """A valid flow of at least `chars` characters: a chain of steps of a few statements each, every one of them
    extractable (Extract offered on `step_1`)."""
    head = ["from metaflow import FlowSpec, step", "", "", "class LongFlow(FlowSpec):", "    @step",
            "    def start(self):", "        self.total = 0", "        self.next(self.step_0)", ""]
    tail = ["    @step", "    def end(self):", "        print(self.total)", "", "", 'if __name__ == "__main__":',
            "    LongFlow()", ""]
    body, index, size = [], 0, 0
    while size < chars or index < 3:
        step = ["    @step", f"    def step_{index}(self):", f"        value = self.total + {index}"]
        step += [f"        value = value * 3 + {k}  # some arithmetic" for k in range(8)]
        step += [f"        self.total = value % 1000", f"        self.next(self.step_{index + 1})", ""]
        body += step
        size += sum(len(line) + 1 for line in step)
        index += 1
    body[-2] = "        self.next(self.end)"
    return "\n".join(head + body + tail)
