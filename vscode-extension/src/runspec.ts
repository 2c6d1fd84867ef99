// What the server asks the editor to run, and how VS Code runs it. No `vscode` import here, so it is unit-tested
// with plain Node (test/runspec.test.ts).

/** The server's RunSpec (server/metaflow_lsp/launch/runspec.py): `python <script> <args...>` in `cwd`. */
export interface RunSpec {
  title: string;
  kind: string;
  flow: string;
  script: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  debug: boolean;
  debugger?: Record<string, unknown> | null;
  testOption?: string | null;
}

/** Checks what arrives as a command argument; throws with a message worth showing. */
export function parseRunSpec(value: unknown): RunSpec {
  if (typeof value !== "object" || value === null) {
    throw new Error("Metaflow: the command needs a run specification from the server.");
  }
  const spec = value as Record<string, unknown>;
  for (const key of ["title", "flow", "script", "cwd"]) {
    if (typeof spec[key] !== "string" || (spec[key] as string).length === 0) {
      throw new Error(`Metaflow: the run specification has no ${key}.`);
    }
  }
  if (!Array.isArray(spec.args) || !spec.args.every((a) => typeof a === "string")) {
    throw new Error("Metaflow: the run specification's args must be a list of strings.");
  }
  const env = (spec.env ?? {}) as Record<string, unknown>;
  if (typeof env !== "object" || Object.values(env).some((v) => typeof v !== "string")) {
    throw new Error("Metaflow: the run specification's env must map names to strings.");
  }
  return {
    title: spec.title as string,
    kind: typeof spec.kind === "string" ? spec.kind : "testMode",
    flow: spec.flow as string,
    script: spec.script as string,
    args: spec.args as string[],
    cwd: spec.cwd as string,
    env: env as Record<string, string>,
    debug: spec.debug === true,
    debugger: (spec.debugger as Record<string, unknown> | null | undefined) ?? null,
    testOption: (spec.testOption as string | null | undefined) ?? null,
  };
}

/** The process to start: an argument list, never a shell string. */
export interface ProcessLaunch {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export function processLaunch(interpreter: string[], spec: RunSpec): ProcessLaunch {
  if (interpreter.length === 0) {
    throw new Error("Metaflow: no Python interpreter is configured (setting metaflowLsp.interpreter).");
  }
  const [command, ...interpreterArgs] = interpreter;
  return { command, args: [...interpreterArgs, spec.script, ...spec.args], cwd: spec.cwd, env: { ...spec.env } };
}

/** The extension's own debug type (package.json `debuggers`): debugpy's adapter from the bundle, for editors without
 *  Microsoft's Python Debugger (VSCodium, code-server). It takes debugpy's launch configuration as it is. */
export const OWN_DEBUG_TYPE = "metaflow-debugpy";

/** A debugpy launch configuration that follows Metaflow's task subprocesses; of type `debugpy` when Microsoft's
 *  Python Debugger is installed, else the extension's own. */
export function debugConfiguration(interpreter: string[], spec: RunSpec, hasDebugpyExtension: boolean): Record<string, unknown> {
  return {
    name: `${spec.flow}: ${spec.title}`,
    type: hasDebugpyExtension ? "debugpy" : OWN_DEBUG_TYPE,
    request: "launch",
    program: spec.script,
    args: [...spec.args],
    cwd: spec.cwd,
    env: { ...spec.env },
    python: interpreter,
    console: "integratedTerminal",
    justMyCode: false,
    ...(spec.debugger ?? {}),
    ...(hasDebugpyExtension ? {} : { type: OWN_DEBUG_TYPE }), // what the server named needs the missing extension
    // Every Metaflow task is a subprocess: without this the debugger never stops in step code.
    subProcess: true,
  };
}
