import { strict as assert } from "node:assert";
import { delimiter } from "node:path";
import { test } from "node:test";

import { bundleFolders, debugAdapterProcess, initializationOptions, insideAny, serverProcess } from "../src/serverLaunch";

const EXT = "/ext/metaflow-lsp";
const folders = bundleFolders(EXT);
const bundle = (version: string) => (path: string) => path === folders.libs || path.endsWith(`/native/cp${version}`);
const py312 = { version: [3, 12] as [number, number], hasServer: false };

test("the bundled server: python -m metaflow_lsp in the extension's folder, the bundle on PYTHONPATH", () => {
  assert.deepEqual(serverProcess(["/usr/bin/python3"], EXT, py312, "useBundled", bundle("312")), {
    command: "/usr/bin/python3",
    args: ["-m", "metaflow_lsp"],
    cwd: EXT,
    env: { PYTHONPATH: [`${EXT}/bundled/native/cp312`, `${EXT}/bundled/libs`].join(delimiter) },
    source: "bundled server",
  });
  const viaEnv = serverProcess(["/usr/bin/env", "python3"], EXT, py312, "useBundled", bundle("312"));
  assert.ok(!("problem" in viaEnv));
  assert.deepEqual(viaEnv.args, ["python3", "-m", "metaflow_lsp"]);
});

test("the interpreter's version picks its native folder", () => {
  const py310 = serverProcess(["python"], EXT, { version: [3, 10], hasServer: false }, "useBundled", bundle("310"));
  assert.ok(!("problem" in py310));
  assert.equal(py310.env.PYTHONPATH.split(delimiter)[0], `${EXT}/bundled/native/cp310`);
});

test("useBundled ignores a server installed in the interpreter; fromEnvironment prefers it", () => {
  const installed = { ...py312, hasServer: true };
  const bundled = serverProcess(["python"], EXT, installed, "useBundled", bundle("312"));
  assert.ok(!("problem" in bundled) && bundled.env.PYTHONPATH);
  const own = serverProcess(["python"], EXT, installed, "fromEnvironment", bundle("312"));
  assert.ok(!("problem" in own));
  assert.deepEqual(own.env, {});
  assert.match(own.source, /installed in python/);
  // fromEnvironment without an installed server falls back to the bundle.
  const fallback = serverProcess(["python"], EXT, py312, "fromEnvironment", bundle("312"));
  assert.ok(!("problem" in fallback) && fallback.env.PYTHONPATH);
});

test("a Python older than 3.10 gets one message with the fix", () => {
  const old = serverProcess(["/usr/bin/python3.8"], EXT, { version: [3, 8], hasServer: false }, "useBundled", bundle("38"));
  assert.ok("problem" in old);
  assert.match(old.problem, /needs Python 3\.10 or newer; \/usr\/bin\/python3\.8 is Python 3\.8/);
  assert.match(old.problem, /Python: Select Interpreter.*metaflowLsp\.interpreter/);
});

test("a build without the bundle runs the interpreter's own server, or says what is missing", () => {
  const none = () => false;
  const own = serverProcess(["python"], EXT, { ...py312, hasServer: true }, "useBundled", none);
  assert.ok(!("problem" in own));
  assert.deepEqual(own.env, {});
  const missing = serverProcess(["python"], EXT, py312, "useBundled", none);
  assert.ok("problem" in missing);
  assert.match(missing.problem, /no bundled server/);
});

test("the debug adapter is the bundle's debugpy, run by the interpreter in the extension's folder", () => {
  assert.deepEqual(debugAdapterProcess(["/venv/bin/python"], EXT), {
    command: "/venv/bin/python",
    args: ["-m", "debugpy.adapter"],
    cwd: EXT,
    env: { PYTHONPATH: `${EXT}/bundled/debugger` },
    source: "bundled debugpy",
  });
});

test("the server is told whether the workspace is trusted, and that the client draws flow graphs", () => {
  assert.deepEqual(initializationOptions(false), { trusted: false, graphView: true });
  assert.deepEqual(initializationOptions(true), { trusted: true, graphView: true });
});

test("an interpreter inside a workspace folder is recognised as the workspace's own", () => {
  const folders = ["/home/me/clone", "/srv/other"];
  assert.equal(insideAny("/home/me/clone/.venv/bin/python", folders), true);
  assert.equal(insideAny("/home/me/clone/../clone/bin/python", folders), true);
  assert.equal(insideAny("/home/me/clone2/bin/python", folders), false);
  assert.equal(insideAny("/usr/bin/python3", folders), false);
  assert.equal(insideAny("python3", folders), false); // looked up on PATH
});
