import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { DEBUG_NOTEBOOK_COMMAND, notebookToOpen } from "../src/notebook";

// out/test/ -> the repository's server/metaflow_lsp/commands.json, the list the server's lenses take ids from
const COMMANDS_JSON = join(__dirname, "..", "..", "..", "server", "metaflow_lsp", "commands.json");

test("the lens's server command is the one commands.json lists", () => {
  const listed = JSON.parse(readFileSync(COMMANDS_JSON, "utf-8")) as { serverCommands: { id: string }[] };
  assert.deepEqual(listed.serverCommands.map((entry) => entry.id), [DEBUG_NOTEBOOK_COMMAND]);
});

test("the notebook the server wrote is opened; nothing for other commands or a refused request", () => {
  const written = { path: "/work/p/flows/debug_train.ipynb", uri: "file:///work/p/flows/debug_train.ipynb" };
  assert.equal(notebookToOpen(DEBUG_NOTEBOOK_COMMAND, written), written.uri);
  assert.equal(notebookToOpen("metaflow.runSpec", written), undefined);
  assert.equal(notebookToOpen(DEBUG_NOTEBOOK_COMMAND, null), undefined);
  assert.equal(notebookToOpen(DEBUG_NOTEBOOK_COMMAND, { uri: "https://example.com/x.ipynb" }), undefined);
  assert.equal(notebookToOpen(DEBUG_NOTEBOOK_COMMAND, { uri: "file:///work/p/flows/train.py" }), undefined);
});
