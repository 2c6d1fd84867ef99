// Whether an interpreter can run the server, asked before starting it: without this check a missing package only
// shows as restarts in the output log, and the user sees nothing. No `vscode` import: unit-tested with plain Node.
import { execFile } from "node:child_process";

const PROBE_TIMEOUT_MS = 15_000;

/** undefined when `interpreter -m metaflow_lsp` can start; else a message worth showing the user. `cwd` must be a
 *  folder of the extension's own: `-c` puts the working directory on sys.path (docs/dev/security.md). */
export function checkServerInstalled(interpreter: string[], cwd: string): Promise<string | undefined> {
  const [command, ...args] = interpreter;
  const shown = interpreter.join(" ");
  return new Promise((resolve) => {
    execFile(
      command,
      [...args, "-c", "import metaflow_lsp"],
      { timeout: PROBE_TIMEOUT_MS, cwd },
      (error, _stdout, stderr) => {
        if (!error) {
          resolve(undefined);
        } else if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          resolve(`Metaflow LSP: the interpreter ${shown} does not exist. Set metaflowLsp.interpreter.`);
        } else {
          const reason = String(stderr).trim().split("\n").pop() || error.message;
          resolve(
            `Metaflow LSP cannot start with ${shown} (${reason}). Install it there ` +
              `(${shown} -m pip install metaflow-lsp) or set metaflowLsp.interpreter.`,
          );
        }
      },
    );
  });
}
