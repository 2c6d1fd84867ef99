// "Metaflow: New Project": `metaflow-lsp init` run by the server's own package (the bundled copy or the
// interpreter's, as serverProcess chose), in the extension's folder. No `vscode` import: unit-tested with plain Node
// (test/newProject.test.ts); extension.ts asks for the folder and the name and shows the result.
import { execFile } from "node:child_process";

import { SERVER_MODULE, ServerProcess } from "./serverLaunch";

/** `python -m metaflow_lsp.scaffold`: `metaflow-lsp init` (server/metaflow_lsp/scaffold/__main__.py). */
export const INIT_MODULE = `${SERVER_MODULE}.scaffold`;
/** The names `metaflow-lsp init` accepts (server/metaflow_lsp/scaffold/project_init.py, NAME). */
const PROJECT_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const INIT_TIMEOUT_MS = 60_000;

export interface InitReport {
  root: string;
  written: string[];
  skipped: string[];
  errors: string[];
  notes: string[];
}

/** Why `name` cannot name a project (shown while the user types), or undefined when it can. */
export function projectNameProblem(name: string): string | undefined {
  if (PROJECT_NAME.test(name)) return undefined;
  return "Start with a letter; then letters, digits, - and _ only (the flows are named after it: churn -> ChurnTrainFlow).";
}

/** The server's process with `-m metaflow_lsp.scaffold <folder> --name <name>` instead of the server module: an
 *  argument list (no shell), in the extension's folder, with the server's environment (the bundle's PYTHONPATH). */
export function initProcess(server: ServerProcess, folder: string, name: string): ServerProcess {
  const moduleAt = server.args.lastIndexOf("-m");
  if (moduleAt < 0 || server.args[moduleAt + 1] !== SERVER_MODULE) {
    throw new Error(`not the server's process: ${server.command} ${server.args.join(" ")}`);
  }
  const args = [...server.args.slice(0, moduleAt), "-m", INIT_MODULE, folder, "--name", name, "--format", "json"];
  return { ...server, args, source: `metaflow-lsp init (${server.source})` };
}

/** Runs `init`; its report, or a message worth showing (what it printed on stderr). */
export function runInit(init: ServerProcess): Promise<InitReport | { problem: string }> {
  return new Promise((resolve) => {
    execFile(
      init.command,
      init.args,
      { cwd: init.cwd, env: { ...process.env, ...init.env }, timeout: INIT_TIMEOUT_MS },
      (error, stdout, stderr) => {
        try {
          const report = JSON.parse(String(stdout)) as InitReport;
          if (!Array.isArray(report.written) || !Array.isArray(report.skipped)) throw new Error("no report");
          resolve(report);
        } catch {
          const reason = String(stderr).trim() || String(error?.message ?? "no output");
          resolve({ problem: `Metaflow: the new project was not created: ${reason}` });
        }
      },
    );
  });
}

/** One line for the notification: what was created, what was kept. */
export function initSummary(report: InitReport): string {
  const kept = report.skipped.length ? `; kept ${report.skipped.length} existing (${report.skipped.join(", ")})` : "";
  const problems = [...report.notes, ...report.errors];
  return `Metaflow: created ${report.written.length} files in ${report.root}${kept}.` +
    (problems.length ? ` ${problems.join(" ")}` : "");
}
