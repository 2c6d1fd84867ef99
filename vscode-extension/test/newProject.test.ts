import { strict as assert } from "node:assert";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

import { initProcess, initSummary, projectNameProblem, runInit } from "../src/newProject";
import { bundleFolders, serverProcess } from "../src/serverLaunch";

const EXT = "/ext/metaflow-lsp";
const py312 = { version: [3, 12] as [number, number], hasServer: false };
const bundled = (path: string) => path.startsWith(`${EXT}/bundled/`);
// The repository's venv (`make install`; `make test` creates it before running these tests).
const REPO = resolve(__dirname, "..", "..", "..");
const VENV_PYTHON = join(REPO, ".venv", "bin", "python");

function server(interpreter: string[]) {
  const process = serverProcess(interpreter, EXT, py312, "useBundled", bundled);
  assert.ok(!("problem" in process));
  return process;
}

test("New Project runs the server's package as `-m metaflow_lsp.scaffold`, in the extension's folder", () => {
  const init = initProcess(server(["/usr/bin/env", "python3"]), "/home/me/my project", "churn");
  assert.equal(init.command, "/usr/bin/env");
  assert.deepEqual(init.args, ["python3", "-m", "metaflow_lsp.scaffold", "/home/me/my project", "--name", "churn",
    "--format", "json"]);
  assert.equal(init.cwd, EXT); // never the chosen folder: `-m` puts the working directory on sys.path
  assert.equal(init.env.PYTHONPATH, server(["python3"]).env.PYTHONPATH);
});

test("only the server's own process is turned into an init", () => {
  assert.throws(() => initProcess({ command: "python", args: ["-m", "debugpy.adapter"], cwd: EXT, env: {}, source: "x" },
    "/p", "n"), /not the server's process/);
});

test("project names are checked as metaflow-lsp init checks them", () => {
  assert.equal(projectNameProblem("churn-model_2"), undefined);
  for (const bad of ["", "2fast", "my project", "-x", "a/b"]) {
    assert.match(projectNameProblem(bad) ?? "", /Start with a letter/, bad);
  }
});

function fakeInterpreter(script: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "mflsp-init-")), "python");
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

test("a failed init shows what it printed", async () => {
  const init = initProcess(server([fakeInterpreter('echo "metaflow-lsp: /p is not a folder" >&2; exit 2')]), "/p", "n");
  const result = await runInit({ ...init, cwd: tmpdir() });
  assert.deepEqual(result, { problem: "Metaflow: the new project was not created: metaflow-lsp: /p is not a folder" });
});

test("the real init, run by the bundle's layout: the project is created and the report read", async () => {
  assert.ok(existsSync(VENV_PYTHON), `${VENV_PYTHON} is missing: run make install first`);
  // An extension folder whose bundle is this checkout's server (scripts/build_vsix.py copies it there).
  const extension = realpathSync(mkdtempSync(join(tmpdir(), "mflsp-ext-")));
  mkdirSync(join(extension, "bundled"));
  symlinkSync(join(REPO, "server"), bundleFolders(extension).libs);
  const process = serverProcess([VENV_PYTHON], extension, py312, "useBundled");
  assert.ok(!("problem" in process));
  const folder = join(realpathSync(mkdtempSync(join(tmpdir(), "mflsp-new-"))), "sales");
  const report = await runInit(initProcess(process, folder, "sales"));
  assert.ok(!("problem" in report), JSON.stringify(report));
  assert.equal(report.root, folder);
  assert.ok(report.written.includes("flows/train.py") && report.skipped.length === 0);
  assert.match(readFileSync(join(folder, "flows", "train.py"), "utf8"), /class SalesTrainFlow\(FlowSpec\)/);
  assert.equal(initSummary(report), `Metaflow: created ${report.written.length} files in ${folder}.`);

  const again = await runInit(initProcess(process, folder, "sales"));
  assert.ok(!("problem" in again));
  assert.deepEqual(again.written, []);
  assert.match(initSummary(again), /created 0 files .*; kept 8 existing \(flows\/common\.py, /);
});
