// How the server process is started, kept free of `vscode` so it is unit-tested with plain Node
// (test/serverLaunch.test.ts). Why each choice: docs/dev/security.md.
import { existsSync } from "node:fs";
import { delimiter, isAbsolute, join, relative, resolve, sep } from "node:path";

import type { InterpreterFacts } from "./serverCheck";

export const SERVER_MODULE = "metaflow_lsp";
/** The oldest Python the server runs on (pyproject.toml's requires-python). */
export const MIN_PYTHON: [number, number] = [3, 10];

/** `metaflowLsp.importStrategy`, named as ruff-vscode and Microsoft's Python tool template name it. */
export type ImportStrategy = "useBundled" | "fromEnvironment";

export interface ServerProcess {
  command: string;
  args: string[];
  /** A folder of the extension's own: `python -m` puts the working directory first on sys.path, so it must never be
   *  the workspace (a `tomllib.py` there would run before the server's first line). */
  cwd: string;
  /** Added to the extension host's environment: the bundle's PYTHONPATH, or nothing (the interpreter's own copy). */
  env: Record<string, string>;
  /** Where the server's code comes from, for the output channel. */
  source: string;
}

/** The bundle's folders inside the extension (scripts/build_vsix.py writes them): `libs` for what every Python
 *  shares, `native/cp3XX` for one CPython version (libcst's compiled wheels), `debugger` for debugpy. */
export function bundleFolders(extensionPath: string) {
  const bundled = join(extensionPath, "bundled");
  return {
    libs: join(bundled, "libs"),
    native: (version: [number, number]) => join(bundled, "native", `cp${version[0]}${version[1]}`),
    debugger: join(bundled, "debugger"),
  };
}

export function formatVersion(version: [number, number]): string {
  return `${version[0]}.${version[1]}`;
}

/** `<interpreter> -m metaflow_lsp` in the extension's folder, or a message worth showing when it cannot run.
 *  The bundled server runs on a PYTHONPATH of the bundle's absolute folders only: nothing is installed into the
 *  interpreter, and its own packages (metaflow) stay importable after the bundle's. Not `-I`: that would also drop
 *  PYTHONPATH; the server cleans sys.path of the working directory and relative entries itself as it starts. */
export function serverProcess(
  interpreter: string[],
  extensionPath: string,
  facts: InterpreterFacts,
  strategy: ImportStrategy,
  exists: (path: string) => boolean = existsSync,
): ServerProcess | { problem: string } {
  const shown = interpreter.join(" ");
  if (facts.version[0] < MIN_PYTHON[0] || (facts.version[0] === MIN_PYTHON[0] && facts.version[1] < MIN_PYTHON[1])) {
    return {
      problem:
        `Metaflow LSP needs Python ${formatVersion(MIN_PYTHON)} or newer; ${shown} is Python ` +
        `${formatVersion(facts.version)}. Choose a newer interpreter with "Python: Select Interpreter" or the ` +
        `setting metaflowLsp.interpreter.`,
    };
  }
  const [command, ...args] = interpreter;
  const base = { command, args: [...args, "-m", SERVER_MODULE], cwd: extensionPath };
  const folders = bundleFolders(extensionPath);
  const bundled = exists(folders.libs);
  if ((strategy === "fromEnvironment" && facts.hasServer) || (!bundled && facts.hasServer)) {
    return { ...base, env: {}, source: `metaflow_lsp installed in ${shown}` };
  }
  if (!bundled) {
    return {
      problem:
        `Metaflow LSP: this build of the extension has no bundled server, and ${shown} has no metaflow_lsp. ` +
        "Install a release .vsix (make vsix), or install the server into that interpreter (pip install -e .).",
    };
  }
  const native = folders.native(facts.version);
  // A Python newer than the bundle's native wheels still gets diagnostics (pure Python); only libcst-based edits
  // would then need the interpreter's own libcst.
  const path = exists(native) ? [native, folders.libs] : [folders.libs];
  const note = exists(native) ? "" : ` (no bundled libcst for Python ${formatVersion(facts.version)})`;
  return { ...base, env: { PYTHONPATH: path.join(delimiter) }, source: `bundled server${note}` };
}

/** The debug adapter of the extension's own debug type: `debugpy.adapter` from the bundle, run by the user's
 *  interpreter in the extension's folder. */
export function debugAdapterProcess(interpreter: string[], extensionPath: string): ServerProcess {
  const [command, ...args] = interpreter;
  return {
    command,
    args: [...args, "-m", "debugpy.adapter"],
    cwd: extensionPath,
    env: { PYTHONPATH: bundleFolders(extensionPath).debugger },
    source: "bundled debugpy",
  };
}

/** What the server reads from `initializationOptions`: whether the workspace is trusted, and that this client draws
 *  flow graphs (graphPanel.ts), so the server offers the "Show graph" lens. */
export function initializationOptions(trusted: boolean): { trusted: boolean; graphView: true } {
  return { trusted, graphView: true };
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
