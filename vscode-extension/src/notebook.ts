// The "Debug in notebook" lens names a server command (server/metaflow_lsp/commands.json, serverCommands): every
// editor sends it to the server, which writes the notebook and returns where; VS Code then opens it.

export const DEBUG_NOTEBOOK_COMMAND = "metaflow.debugNotebook";

/** The notebook to open after `command` returned `result`: its file URI, for the debug-notebook command only. */
export function notebookToOpen(command: string, result: unknown): string | undefined {
  if (command !== DEBUG_NOTEBOOK_COMMAND || typeof result !== "object" || result === null) {
    return undefined;
  }
  const uri = (result as { uri?: unknown }).uri;
  return typeof uri === "string" && uri.startsWith("file:") && uri.endsWith(".ipynb") ? uri : undefined;
}
