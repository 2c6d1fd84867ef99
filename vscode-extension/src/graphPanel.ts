// The flow graph view: a webview beside the editor that draws the server's `metaflow.flowGraph` answer for one
// document (media/graphView.js, built from src/webview/graphView.ts) and asks again as the user types. A click on a
// step moves the editor's cursor to its `def`. The page loads only the extension's media/ files (strict CSP, nonce'd
// script, no network); the theme reaches it through VS Code's --vscode-* CSS variables.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";

import { GraphJson, RunStatus, runsByFlow } from "./graphModel";

export const SHOW_FLOW_GRAPH = "metaflow.showFlowGraph"; // server/metaflow_lsp/commands.json, viewCommands
const FLOW_GRAPH = "metaflow.flowGraph"; // server commands (lsp/flow_graph.py)
const RUN_STATUS = "metaflow.flowRunStatus"; // each flow's latest local run, read from .metaflow/
const DEBOUNCE_MS = 300;
const RUN_DEBOUNCE_MS = 1000;
const RETRY_MS = 1000; // the server is still starting: its commands are not registered yet
const RETRIES = 60;

/** What the page posts: a click on a step. */
interface RevealMessage {
  type: "reveal";
  step: string;
  line: number; // 1-based
  file: string | null;
}

export class GraphPanel {
  private static readonly open = new Map<string, GraphPanel>(); // by document URI
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private focus: string | undefined;
  private asked = 0; // requests sent: an answer to an older one is dropped
  private unanswered = 0; // requests in a row the server did not answer

  /** Shows the graph of `uri` (and scrolls to `flow`), in the panel it already has or a new one beside the editor. */
  static show(extensionUri: vscode.Uri, uri: vscode.Uri, flow?: string): void {
    const existing = GraphPanel.open.get(uri.toString());
    if (existing) {
      existing.focus = flow;
      existing.panel.reveal(vscode.ViewColumn.Beside, true);
      existing.refresh();
      return;
    }
    const media = vscode.Uri.joinPath(extensionUri, "media");
    const panel = vscode.window.createWebviewPanel("metaflow.flowGraph", `Graph: ${uri.path.split("/").pop()}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableCommandUris: false, localResourceRoots: [media] });
    GraphPanel.open.set(uri.toString(), new GraphPanel(panel, media, uri, flow));
  }

  private constructor(private readonly panel: vscode.WebviewPanel, media: vscode.Uri, private readonly uri: vscode.Uri,
    flow: string | undefined) {
    this.focus = flow;
    panel.webview.html = pageHtml(panel.webview, media);
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((message) => this.received(message)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document.uri.toString() === this.uri.toString()) this.schedule(DEBOUNCE_MS);
      }),
      // Settings or another file changed what the server reports on the steps; a save may follow a run.
      vscode.languages.onDidChangeDiagnostics((event) => {
        if (event.uris.some((changed) => changed.toString() === this.uri.toString())) this.schedule(DEBOUNCE_MS);
      }),
      vscode.workspace.onDidSaveTextDocument((document) => {
        if (document.uri.toString() === this.uri.toString()) this.schedule(0);
      }),
    );
    // A run writes its steps' status under .metaflow/ as it goes: the overlay follows (at most once a second).
    const runs = vscode.workspace.createFileSystemWatcher("**/.metaflow/**");
    for (const event of [runs.onDidCreate, runs.onDidChange]) {
      this.disposables.push(event(() => this.schedule(RUN_DEBOUNCE_MS)));
    }
    this.disposables.push(runs);
  }

  private received(message: { type?: string }): void {
    if (message.type === "ready") {
      this.refresh(); // a new page (opened, or shown again after being hidden): draw the latest graph
    } else if (message.type === "reveal") {
      void this.reveal(message as RevealMessage);
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), ms);
  }

  private async refresh(): Promise<void> {
    const request = ++this.asked;
    let graph: GraphJson | null | undefined;
    try {
      graph = await vscode.commands.executeCommand<GraphJson | null>(FLOW_GRAPH, this.uri.toString());
    } catch {
      graph = undefined;
    }
    if (request !== this.asked) return; // the text changed while the server answered
    if (!graph) {
      const waiting = ++this.unanswered <= RETRIES;
      void this.panel.webview.postMessage({ type: "message", text: waiting ? "Waiting for the Metaflow language server…"
        : "The Metaflow language server does not answer: see “Metaflow: Show Server Output”." });
      if (waiting) this.schedule(RETRY_MS);
      return;
    }
    this.unanswered = 0;
    const runs = await this.runStatus();
    if (request !== this.asked) return;
    void this.panel.webview.postMessage({ type: "graph", graph, runs, focus: this.focus });
    this.focus = undefined; // scroll once, not on every keystroke
  }

  /** The latest local run of each flow (an older server without the command: none). */
  private async runStatus(): Promise<Record<string, RunStatus | null>> {
    try {
      return runsByFlow(await vscode.commands.executeCommand(RUN_STATUS, this.uri.toString()));
    } catch {
      return {};
    }
  }

  /** The editor's cursor on the step's `def` (in the file that defines it: a base class may live elsewhere). */
  private async reveal(message: RevealMessage): Promise<void> {
    if (!Number.isInteger(message.line) || message.line < 1) return;
    const target = message.file ? vscode.Uri.file(message.file) : this.uri;
    const shown = vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === target.toString());
    const document = shown?.document ?? await vscode.workspace.openTextDocument(target);
    const line = Math.min(message.line - 1, document.lineCount - 1);
    const column = Math.max(0, document.lineAt(line).text.indexOf("def "));
    const at = new vscode.Position(line, column);
    await vscode.window.showTextDocument(document, {
      viewColumn: shown?.viewColumn ?? vscode.ViewColumn.One,
      selection: new vscode.Range(at, at),
    });
  }

  private dispose(): void {
    clearTimeout(this.timer);
    GraphPanel.open.delete(this.uri.toString());
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** The page: the script and the stylesheet from media/ only, the script by nonce; nothing else may load. */
export function pageHtml(webview: { cspSource: string; asWebviewUri(uri: vscode.Uri): vscode.Uri }, media: vscode.Uri,
  nonce = randomBytes(16).toString("base64")): string {
  const csp = [`default-src 'none'`, `style-src ${webview.cspSource}`, `img-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join("; ");
  const script = webview.asWebviewUri(vscode.Uri.joinPath(media, "graphView.js"));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(media, "graph.css"));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Flow graph</title>
</head>
<body>
<main id="root"><p class="note">Drawing the flow…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
