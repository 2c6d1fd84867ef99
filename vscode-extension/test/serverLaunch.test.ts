import { strict as assert } from "node:assert";
import { test } from "node:test";

import { initializationOptions, insideAny, serverProcess } from "../src/serverLaunch";

test("the server starts as `python -m metaflow_lsp` in the extension's folder, never the workspace", () => {
  assert.deepEqual(serverProcess(["/usr/bin/python3"], "/ext/metaflow-lsp"), {
    command: "/usr/bin/python3",
    args: ["-m", "metaflow_lsp"],
    cwd: "/ext/metaflow-lsp",
  });
  assert.deepEqual(serverProcess(["/usr/bin/env", "python3"], "/ext").args, ["python3", "-m", "metaflow_lsp"]);
});

test("the server is told whether the workspace is trusted", () => {
  assert.deepEqual(initializationOptions(false), { trusted: false });
  assert.deepEqual(initializationOptions(true), { trusted: true });
});

test("an interpreter inside a workspace folder is recognised as the workspace's own", () => {
  const folders = ["/home/me/clone", "/srv/other"];
  assert.equal(insideAny("/home/me/clone/.venv/bin/python", folders), true);
  assert.equal(insideAny("/home/me/clone/../clone/bin/python", folders), true);
  assert.equal(insideAny("/home/me/clone2/bin/python", folders), false);
  assert.equal(insideAny("/usr/bin/python3", folders), false);
  assert.equal(insideAny("python3", folders), false); // looked up on PATH
});
