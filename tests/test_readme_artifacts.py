"""The README's hover example is what the real server answers on `self.slope` in the `end` step of
examples/flows/train.py (the links' `file://` URI shortened to the file name, as the README says)."""

from __future__ import annotations

import asyncio
import re

from lsprotocol import types

from conftest import ROOT
from test_lsp_artifacts import position
from test_lsp_session import TIMEOUT, open_document, session

EXAMPLE = re.compile(r"<!-- hover-example:start -->\n```markdown\n(.*?)\n```\n<!-- hover-example:end -->", re.S)


async def test_the_readme_hover_example_is_what_the_server_sends():
    [shown] = EXAMPLE.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    folder = ROOT / "examples" / "flows"
    text = (folder / "train.py").read_text(encoding="utf-8")
    async with session(folder) as client:
        uri = open_document(client, folder / "train.py", text)
        hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position(text, 'print(f"y = {self.slope', "slope"))), TIMEOUT)
    assert hover.contents.value.replace(uri, "train.py") == shown
