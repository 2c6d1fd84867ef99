// Which Python runs the server and the flows: the extension's own setting, then the interpreter selected in the
// Python extension, then `python3`. In an untrusted workspace, never a program inside the workspace. Never PATH alone: VS Code starts extension hosts from a login shell, so a PATH
// set by whoever started VS Code is lost.
import * as vscode from "vscode";

import { insideAny } from "./serverLaunch";

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(path: string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

export async function findInterpreter(resource?: vscode.Uri): Promise<string[]> {
  const configured = vscode.workspace.getConfiguration("metaflowLsp", resource).get<string[]>("interpreter") ?? [];
  if (configured.length > 0) {
    const folder = resource ? vscode.workspace.getWorkspaceFolder(resource) : vscode.workspace.workspaceFolders?.[0];
    const interpreter = configured.map((part) => part.replace(/\$\{workspaceFolder\}/g, folder?.uri.fsPath ?? ""));
    // Untrusted, only the user's settings are read (restrictedConfigurations), but a user setting such as
    // `${workspaceFolder}/.venv/bin/python` still names a program the workspace ships: not run until trusted.
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    if (vscode.workspace.isTrusted || !insideAny(interpreter[0], folders)) {
      return interpreter;
    }
  }
  // A workspace's own environment is code from the workspace: only run it once the user trusts the workspace.
  if (vscode.workspace.isTrusted) {
    const fromPythonExtension = await pythonExtensionInterpreter(resource);
    if (fromPythonExtension) {
      return [fromPythonExtension];
    }
  }
  return ["python3"];
}

async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const environments = api?.environments;
    if (!environments) {
      return undefined;
    }
    const active = environments.getActiveEnvironmentPath(resource);
    const resolved = await environments.resolveEnvironment(active.path);
    return resolved?.executable.uri?.fsPath;
  } catch {
    return undefined;
  }
}
