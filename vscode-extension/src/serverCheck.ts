// What an interpreter is, asked before starting the server: its version (which of the bundle's native folders fits,
// and whether it is too old) and whether it has a metaflow_lsp of its own. Without this a missing or old interpreter
// only shows as restarts in the output log. No `vscode` import: unit-tested with plain Node.
import { execFile } from "node:child_process";

const PROBE_TIMEOUT_MS = 15_000;
// Runs with the extension's folder as working directory and imports only the standard library.
const PROBE =
  "import importlib.util, json, sys; " +
  'print(json.dumps({"version": list(sys.version_info[:2]), ' +
  '"hasServer": importlib.util.find_spec("metaflow_lsp") is not None}))';

export interface InterpreterFacts {
  version: [number, number];
  hasServer: boolean;
}

/** The interpreter's facts, or a message worth showing the user. `cwd` must be a folder of the extension's own:
 *  `-c` puts the working directory on sys.path (docs/dev/security.md). */
export function probeInterpreter(interpreter: string[], cwd: string): Promise<InterpreterFacts | { problem: string }> {
  const [command, ...args] = interpreter;
  const shown = interpreter.join(" ");
  const fix = 'Choose one with "Python: Select Interpreter" or the setting metaflowLsp.interpreter.';
  return new Promise((resolve) => {
    // PYTHONPATH as the server will have it does not matter here; the user's own does (fromEnvironment).
    execFile(command, [...args, "-c", PROBE], { timeout: PROBE_TIMEOUT_MS, cwd }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
        resolve({ problem: `Metaflow LSP: the Python interpreter ${shown} does not exist. ${fix}` });
        return;
      }
      try {
        if (error) throw error;
        const facts = JSON.parse(String(stdout).trim().split("\n").pop() ?? "");
        const [major, minor] = facts.version;
        if (typeof major !== "number" || typeof minor !== "number") throw new Error("no version");
        resolve({ version: [major, minor], hasServer: facts.hasServer === true });
      } catch (failure) {
        // A Python 2, or not Python at all: the probe's JSON line never came.
        const reason = String(stderr).trim().split("\n").pop() || String((failure as Error).message ?? failure);
        resolve({ problem: `Metaflow LSP cannot use ${shown} as a Python 3 interpreter (${reason}). ${fix}` });
      }
    });
  });
}
