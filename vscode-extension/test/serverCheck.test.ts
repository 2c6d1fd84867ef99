import { strict as assert } from "node:assert";
import { chmodSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { probeInterpreter } from "../src/serverCheck";

function fakeInterpreter(script: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "mflsp-")), "python");
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

test("a real interpreter tells its version and whether it has metaflow_lsp", async () => {
  const facts = await probeInterpreter(["python3"], tmpdir());
  assert.ok(!("problem" in facts), JSON.stringify(facts));
  assert.equal(facts.version[0], 3);
  assert.equal(typeof facts.hasServer, "boolean");
});

test("an interpreter that does not exist says so, with the fix", async () => {
  const facts = await probeInterpreter(["/nonexistent/bin/python"], tmpdir());
  assert.ok("problem" in facts);
  assert.match(facts.problem, /\/nonexistent\/bin\/python does not exist/);
  assert.match(facts.problem, /metaflowLsp\.interpreter/);
});

test("a program that is not a Python 3 is refused with what it printed", async () => {
  const facts = await probeInterpreter([fakeInterpreter('echo "SyntaxError: invalid syntax" >&2; exit 1')], tmpdir());
  assert.ok("problem" in facts);
  assert.match(facts.problem, /as a Python 3 interpreter \(SyntaxError: invalid syntax\)/);
});

test("the probe runs in the folder it is given, never the caller's (the workspace)", async () => {
  const folder = realpathSync(mkdtempSync(join(tmpdir(), "mflsp-cwd-")));
  const facts = await probeInterpreter([fakeInterpreter('echo "ran in $(pwd -P)" >&2; exit 1')], folder);
  assert.ok("problem" in facts);
  assert.match(facts.problem, new RegExp(`ran in ${folder}`));
});
