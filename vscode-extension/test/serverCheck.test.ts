import { strict as assert } from "node:assert";
import { chmodSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { checkServerInstalled } from "../src/serverCheck";

function fakeInterpreter(script: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "mflsp-")), "python");
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

test("an interpreter that imports metaflow_lsp passes", async () => {
  assert.equal(await checkServerInstalled([fakeInterpreter("exit 0")], tmpdir()), undefined);
});

test("a missing package is explained with the install command", async () => {
  const python = fakeInterpreter('echo "ModuleNotFoundError: No module named \'metaflow_lsp\'" >&2; exit 1');
  const message = await checkServerInstalled([python], tmpdir());
  assert.match(message ?? "", /No module named 'metaflow_lsp'/);
  assert.match(message ?? "", new RegExp(`${python} -m pip install metaflow-lsp`));
});

test("an interpreter that does not exist says so", async () => {
  const message = await checkServerInstalled(["/nonexistent/bin/python"], tmpdir());
  assert.match(message ?? "", /does not exist/);
});

test("the probe runs in the folder it is given, never the caller's (the workspace)", async () => {
  const folder = realpathSync(mkdtempSync(join(tmpdir(), "mflsp-cwd-")));
  const message = await checkServerInstalled([fakeInterpreter('echo "ran in $(pwd -P)" >&2; exit 1')], folder);
  assert.match(message ?? "", new RegExp(`ran in ${folder}`));
});
