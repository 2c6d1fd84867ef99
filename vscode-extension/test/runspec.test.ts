import { strict as assert } from "node:assert";
import { test } from "node:test";

import { OWN_DEBUG_TYPE, debugConfiguration, parseRunSpec, processLaunch } from "../src/runspec";

const spec = {
  title: "Run in test mode",
  kind: "testMode",
  flow: "TrainFlow",
  script: "/work/my project/flows/$(touch pwned).py",
  args: ["--no-pylint", "run", "--test_mode", "1", "--max-workers", "1", "--tag", "ide-test-run"],
  cwd: "/work/my project/flows",
  env: { PYTHONUNBUFFERED: "1" },
  debug: false,
  debugger: null,
  testOption: "--test_mode",
};

test("a run is an argument list: paths with spaces and $(...) stay one argument each", () => {
  const launch = processLaunch(["/venv/bin/python"], parseRunSpec(spec));
  assert.equal(launch.command, "/venv/bin/python");
  assert.deepEqual(launch.args, [spec.script, ...spec.args]);
  assert.equal(launch.cwd, spec.cwd);
  assert.deepEqual(launch.env, { PYTHONUNBUFFERED: "1" });
});

test("an interpreter given with arguments keeps them before the script", () => {
  const launch = processLaunch(["/usr/bin/env", "python3"], parseRunSpec(spec));
  assert.equal(launch.command, "/usr/bin/env");
  assert.deepEqual(launch.args.slice(0, 2), ["python3", spec.script]);
});

test("debugging follows subprocesses, whatever the server sent", () => {
  const config = debugConfiguration(["/venv/bin/python"], parseRunSpec({ ...spec, debug: true, debugger: { subProcess: false, type: "debugpy" } }), true);
  assert.equal(config.type, "debugpy");
  assert.equal(config.request, "launch");
  assert.equal(config.program, spec.script);
  assert.deepEqual(config.args, spec.args);
  assert.equal(config.subProcess, true);
  assert.deepEqual(config.python, ["/venv/bin/python"]);
});

test("without Microsoft's Python Debugger the extension's own debug type runs it, with the same semantics", () => {
  const config = debugConfiguration(["/venv/bin/python"], parseRunSpec({ ...spec, debug: true, debugger: { type: "debugpy" } }), false);
  assert.equal(config.type, OWN_DEBUG_TYPE);
  assert.equal(config.subProcess, true);
  assert.equal(config.request, "launch");
  assert.deepEqual(config.python, ["/venv/bin/python"]);
});

test("a malformed spec is refused with a message, not run", () => {
  assert.throws(() => parseRunSpec(undefined), /needs a run specification/);
  assert.throws(() => parseRunSpec({ ...spec, args: "run --test_mode 1" }), /args must be a list/);
  assert.throws(() => parseRunSpec({ ...spec, script: "" }), /has no script/);
  assert.throws(() => processLaunch([], parseRunSpec(spec)), /no Python interpreter/);
});
