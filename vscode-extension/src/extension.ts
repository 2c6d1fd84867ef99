// The VS Code client: starts `python -m metaflow_lsp` (from the extension's folder, told whether the workspace is
// trusted), and executes the run specifications the server's code lenses carry. The server decides what to run;
// this file only runs it.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";

import { findInterpreter } from "./interpreter";
import { RunSpec, debugConfiguration, parseRunSpec, processLaunch } from "./runspec";
import { checkServerInstalled } from "./serverCheck";
import { initializationOptions, serverProcess } from "./serverLaunch";

let client: LanguageClient | undefined;
let restarting: Promise<void> = Promise.resolve();

// Client-side commands named by the server's code lenses (server/metaflow_lsp/lsp/code_lens.py).
const RUN_COMMANDS = ["metaflow.runTestMode", "metaflow.resume", "metaflow.spin"];
const DEBUG_COMMANDS = ["metaflow.debugForeach"];

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Metaflow LSP");
  context.subscriptions.push(output);
  for (const id of RUN_COMMANDS) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (spec: unknown) => runFlow(spec)));
  }
  for (const id of DEBUG_COMMANDS) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (spec: unknown) => debugFlow(spec)));
  }
  context.subscriptions.push(
    vscode.commands.registerCommand("metaflow.restartServer", () => restart(context, output)),
    vscode.commands.registerCommand("metaflow.showOutput", () => output.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("metaflowLsp.interpreter")) {
        void restart(context, output);
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => restart(context, output)),
  );
  await restart(context, output);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

/** Restarts are serialised: a second request waits for the first to finish. */
function restart(context: vscode.ExtensionContext, output: vscode.OutputChannel): Promise<void> {
  restarting = restarting.then(async () => {
    await client?.stop().catch(() => undefined);
    const interpreter = await findInterpreter();
    // Never in the workspace: `python -c` / `python -m` would import a workspace module of the same name first.
    const problem = await checkServerInstalled(interpreter, context.extensionPath);
    if (problem) {
      output.appendLine(problem);
      void vscode.window.showErrorMessage(problem);
      return;
    }
    const server = serverProcess(interpreter, context.extensionPath);
    const serverOptions: ServerOptions = {
      command: server.command,
      args: server.args,
      options: { cwd: server.cwd },
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file", language: "python" }],
      // Untrusted: the server offers no launch lenses or run specs and refuses to write run configurations.
      initializationOptions: initializationOptions(vscode.workspace.isTrusted),
      outputChannel: output,
      synchronize: {
        fileEvents: [
          vscode.workspace.createFileSystemWatcher("**/.gitignore"),
          vscode.workspace.createFileSystemWatcher("**/pyproject.toml"),
        ],
      },
    };
    client = new LanguageClient("metaflowLsp", "Metaflow LSP", serverOptions, clientOptions);
    try {
      await client.start();
      output.appendLine(`metaflow-lsp started with ${interpreter.join(" ")}`);
    } catch (error) {
      void vscode.window.showErrorMessage(
        `Metaflow LSP could not start with ${interpreter.join(" ")}: is metaflow-lsp installed in that ` +
          `interpreter? (pip install metaflow-lsp; setting metaflowLsp.interpreter)`,
      );
      output.appendLine(String(error));
    }
  });
  return restarting;
}

function refuseUntrusted(): boolean {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage("Metaflow: flows are not run in an untrusted workspace.");
    return true;
  }
  return false;
}

async function runFlow(value: unknown): Promise<void> {
  let spec: RunSpec;
  try {
    spec = parseRunSpec(value);
  } catch (error) {
    void vscode.window.showErrorMessage(String((error as Error).message));
    return;
  }
  if (refuseUntrusted()) {
    return;
  }
  const launch = processLaunch(await findInterpreter(vscode.Uri.file(spec.script)), spec);
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(spec.script));
  const task = new vscode.Task(
    { type: "metaflow", flow: spec.flow, kind: spec.kind },
    folder ?? vscode.TaskScope.Workspace,
    `${spec.flow}: ${spec.title}`,
    "metaflow",
    new vscode.ProcessExecution(launch.command, launch.args, { cwd: launch.cwd, env: launch.env }),
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
  await vscode.tasks.executeTask(task);
}

async function debugFlow(value: unknown): Promise<void> {
  let spec: RunSpec;
  try {
    spec = parseRunSpec(value);
  } catch (error) {
    void vscode.window.showErrorMessage(String((error as Error).message));
    return;
  }
  if (refuseUntrusted()) {
    return;
  }
  const interpreter = await findInterpreter(vscode.Uri.file(spec.script));
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(spec.script));
  const started = await vscode.debug.startDebugging(folder, debugConfiguration(interpreter, spec) as vscode.DebugConfiguration);
  if (!started) {
    void vscode.window.showErrorMessage(
      "Metaflow: the debugger did not start. Foreach debugging needs the Python Debugger extension (debugpy).",
    );
  }
}
