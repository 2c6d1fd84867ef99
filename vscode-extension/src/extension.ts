// The VS Code client: starts `python -m metaflow_lsp` (the bundled server, from the extension's folder, told whether
// the workspace is trusted), shows its state in the status bar, and executes the run specifications the server's
// code lenses carry. The server decides what to run; this file only runs it.
import { basename } from "node:path";

import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from "vscode-languageclient/node";

import { GraphPanel, SHOW_FLOW_GRAPH } from "./graphPanel";
import { findInterpreter } from "./interpreter";
import { initProcess, initSummary, projectNameProblem, runInit } from "./newProject";
import { notebookToOpen } from "./notebook";
import { OWN_DEBUG_TYPE, RunSpec, debugConfiguration, parseRunSpec, processLaunch } from "./runspec";
import { probeInterpreter } from "./serverCheck";
import { ImportStrategy, ServerProcess, debugAdapterProcess, initializationOptions, serverProcess } from "./serverLaunch";
import { ServerStatus } from "./status";

let client: LanguageClient | undefined;
let restarting: Promise<void> = Promise.resolve();
let status: ServerStatus;

// Client-side commands named by the server's code lenses (server/metaflow_lsp/lsp/code_lens.py).
const RUN_COMMANDS = ["metaflow.runTestMode", "metaflow.resume", "metaflow.spin"];
const DEBUG_COMMANDS = ["metaflow.debugForeach"];

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Metaflow LSP");
  status = new ServerStatus("metaflow.showOutput");
  context.subscriptions.push(output, status);
  for (const id of RUN_COMMANDS) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (spec: unknown) => runFlow(spec)));
  }
  for (const id of DEBUG_COMMANDS) {
    context.subscriptions.push(vscode.commands.registerCommand(id, (spec: unknown) => debugFlow(spec)));
  }
  context.subscriptions.push(
    vscode.commands.registerCommand("metaflow.restartServer", () => restart(context, output)),
    vscode.commands.registerCommand("metaflow.showOutput", () => output.show()),
    vscode.commands.registerCommand("metaflow.newProject", () => newProject(context, output)),
    // From the "Show graph" lens: (uri, flow name); from the editor's title bar: its Uri; from the palette: nothing.
    vscode.commands.registerCommand(SHOW_FLOW_GRAPH, (target?: unknown, flow?: unknown) => {
      const uri = typeof target === "string" ? vscode.Uri.parse(target)
        : target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
      if (uri) GraphPanel.show(context.extensionUri, uri, typeof flow === "string" ? flow : undefined);
      else void vscode.window.showInformationMessage("Metaflow: open a flow file to see its graph.");
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("metaflowLsp.interpreter") || event.affectsConfiguration("metaflowLsp.importStrategy")) {
        void restart(context, output);
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => restart(context, output)),
    // Debugging without Microsoft's Python Debugger: debugpy's adapter from the bundle (runspec.ts picks the type).
    vscode.debug.registerDebugAdapterDescriptorFactory(OWN_DEBUG_TYPE, {
      createDebugAdapterDescriptor: async (session) => {
        const connect = session.configuration.connect as { host?: string; port?: number } | undefined;
        if (session.configuration.request === "attach" && connect?.port) {
          // A task subprocess: debugpy's adapter (already running) serves its session on this port.
          return new vscode.DebugAdapterServer(connect.port, connect.host ?? "127.0.0.1");
        }
        const python = session.configuration.python;
        const interpreter = Array.isArray(python) && python.length > 0 ? python : await findInterpreter();
        const adapter = debugAdapterProcess(interpreter, context.extensionPath);
        output.appendLine(`debug adapter: ${adapter.command} ${adapter.args.join(" ")} (${adapter.source})`);
        return new vscode.DebugAdapterExecutable(adapter.command, adapter.args, { cwd: adapter.cwd, env: adapter.env });
      },
    }),
    // subProcess: true: debugpy's adapter asks for one child session per subprocess (every Metaflow task) with this
    // event, as Microsoft's Python Debugger answers it.
    vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
      if (event.session.type === OWN_DEBUG_TYPE && event.event === "debugpyAttach") {
        const child = { ...(event.body as vscode.DebugConfiguration), type: OWN_DEBUG_TYPE };
        void vscode.debug.startDebugging(event.session.workspaceFolder, child, { parentSession: event.session });
      }
    }),
  );
  await restart(context, output);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}

/** Restarts are serialised: a second request waits for the first to finish. */
function restart(context: vscode.ExtensionContext, output: vscode.OutputChannel): Promise<void> {
  restarting = restarting.then(async () => {
    const previous = client;
    client = undefined; // its Stopped state is not an error
    await previous?.stop().catch(() => undefined);
    status.starting();
    const interpreter = await findInterpreter();
    const server = await serverFor(context, interpreter);
    if ("problem" in server) {
      fail(output, server.problem);
      return;
    }
    const serverOptions: ServerOptions = {
      command: server.command,
      args: server.args,
      options: { cwd: server.cwd, env: server.env },
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file", language: "python" }],
      // Untrusted: the server offers no launch lenses or run specs and refuses to write run configurations.
      initializationOptions: initializationOptions(vscode.workspace.isTrusted),
      outputChannel: output,
      middleware: {
        // The server writes a debug notebook and returns where: open it (the lens's command goes to the server).
        executeCommand: async (command, args, next) => {
          const result = await next(command, args);
          const notebook = notebookToOpen(command, result);
          if (notebook) await openNotebook(notebook);
          return result;
        },
      },
      synchronize: {
        fileEvents: [
          vscode.workspace.createFileSystemWatcher("**/.gitignore"),
          vscode.workspace.createFileSystemWatcher("**/pyproject.toml"),
        ],
      },
    };
    const started = new LanguageClient("metaflowLsp", "Metaflow LSP", serverOptions, clientOptions);
    client = started;
    started.onDidChangeState((event) => {
      if (client !== started) return; // a client being replaced
      if (event.newState === State.Running) status.ready(`${server.source}, ${interpreter.join(" ")}`);
      else if (event.newState === State.Stopped) status.error("the server stopped: see the output");
    });
    try {
      await started.start();
      output.appendLine(`metaflow-lsp started with ${interpreter.join(" ")} (${server.source})`);
    } catch (error) {
      output.appendLine(String(error));
      fail(output, `Metaflow LSP could not start with ${interpreter.join(" ")}: ${String(error)}`);
    }
  });
  return restarting;
}

/** The server's process for `interpreter`, as the settings choose it, or a message worth showing. */
async function serverFor(context: vscode.ExtensionContext, interpreter: string[]): Promise<ServerProcess | { problem: string }> {
  const strategy =
    vscode.workspace.getConfiguration("metaflowLsp").get<ImportStrategy>("importStrategy") ?? "useBundled";
  // Never in the workspace: `python -c` / `python -m` would import a workspace module of the same name first.
  const facts = await probeInterpreter(interpreter, context.extensionPath);
  return "problem" in facts ? facts : serverProcess(interpreter, context.extensionPath, facts, strategy);
}

/** "Metaflow: New Project": a folder, a name, then `metaflow-lsp init` by the server's package (newProject.ts). */
async function newProject(context: vscode.ExtensionContext, output: vscode.OutputChannel): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage("Metaflow: no project is created from an untrusted workspace.");
    return;
  }
  const [folder] =
    (await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: "Create the Project Here",
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    })) ?? [];
  if (!folder) return;
  const name = await vscode.window.showInputBox({
    prompt: "The project's name, also the flows' prefix (churn: ChurnTrainFlow, ChurnPredictFlow)",
    value: basename(folder.fsPath).replace(/[^A-Za-z0-9_-]/g, "-").replace(/^[^A-Za-z]+/, ""),
    validateInput: (value) => projectNameProblem(value),
  });
  if (name === undefined) return;
  const server = await serverFor(context, await findInterpreter(folder));
  const report = "problem" in server ? server : await runInit(initProcess(server, folder.fsPath, name));
  if ("problem" in report) {
    output.appendLine(report.problem);
    void vscode.window.showErrorMessage(report.problem);
    return;
  }
  const summary = initSummary(report);
  output.appendLine(summary);
  const open = "Open Folder";
  const show = report.errors.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  if ((await show(summary, open)) === open) {
    await vscode.commands.executeCommand("vscode.openFolder", folder);
  }
}

/** One notification, with the fix one click away; the status bar keeps showing the error. */
function fail(output: vscode.OutputChannel, problem: string): void {
  output.appendLine(problem);
  status.error(problem);
  const choose = "Select Interpreter";
  const settings = "Open Settings";
  void vscode.window.showErrorMessage(problem, choose, settings).then((answer) => {
    if (answer === choose) {
      void vscode.commands.executeCommand("python.setInterpreter").then(undefined, () =>
        vscode.commands.executeCommand("workbench.action.openSettings", "metaflowLsp.interpreter"),
      );
    } else if (answer === settings) {
      void vscode.commands.executeCommand("workbench.action.openSettings", "metaflowLsp.interpreter");
    }
  });
}

async function openNotebook(uri: string): Promise<void> {
  try {
    await vscode.window.showNotebookDocument(await vscode.workspace.openNotebookDocument(vscode.Uri.parse(uri)));
  } catch (error) {
    void vscode.window.showErrorMessage(`Metaflow: could not open ${uri} as a notebook: ${String(error)}`);
  }
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
  // Microsoft's Python Debugger when it is there (its UI and settings), else the extension's own debug type.
  const hasDebugpyExtension = vscode.extensions.getExtension("ms-python.debugpy") !== undefined;
  const configuration = debugConfiguration(interpreter, spec, hasDebugpyExtension);
  const started = await vscode.debug.startDebugging(folder, configuration as vscode.DebugConfiguration);
  if (!started) {
    void vscode.window.showErrorMessage("Metaflow: the debugger did not start; see the output (Metaflow: Show Server Output).");
  }
}
