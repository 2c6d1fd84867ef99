// How the server process is started, kept free of `vscode` so it is unit-tested with plain Node
// (test/serverLaunch.test.ts). Why each choice: docs/dev/security.md.
import { isAbsolute, relative, resolve, sep } from "node:path";

export const SERVER_MODULE = "metaflow_lsp";

export interface ServerProcess {
  command: string;
  args: string[];
  /** A folder of the extension's own: `python -m` puts the working directory first on sys.path, so it must never be
   *  the workspace (a `tomllib.py` there would run before the server's first line). */
  cwd: string;
}

/** `<interpreter> -m metaflow_lsp` in the extension's folder. Not `-I`: that would also drop PYTHONPATH and the
 *  user's site-packages, where the server may be installed; the server cleans sys.path itself as it starts. */
export function serverProcess(interpreter: string[], extensionPath: string): ServerProcess {
  const [command, ...args] = interpreter;
  return { command, args: [...args, "-m", SERVER_MODULE], cwd: extensionPath };
}

/** What the server reads from `initializationOptions`: whether the workspace is trusted. */
export function initializationOptions(trusted: boolean): { trusted: boolean } {
  return { trusted };
}

/** Whether `path` (an interpreter) lies inside one of `folders`: in an untrusted workspace that is the workspace's
 *  own code (a `.venv/bin/python` it ships), not an interpreter the user chose. */
export function insideAny(path: string, folders: string[]): boolean {
  if (!isAbsolute(path)) {
    return false; // a name looked up on PATH
  }
  return folders.some((folder) => {
    const rest = relative(resolve(folder), resolve(path));
    return rest === "" || (rest !== ".." && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
  });
}
