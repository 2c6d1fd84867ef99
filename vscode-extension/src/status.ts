// The server's state in the status bar (starting, ready, error); a click opens the output channel.
import * as vscode from "vscode";

export class ServerStatus implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(command: string) {
    this.item = vscode.window.createStatusBarItem("metaflowLsp.status", vscode.StatusBarAlignment.Left, 0);
    this.item.name = "Metaflow LSP";
    this.item.command = command;
    this.item.show();
  }

  starting(): void {
    this.show("$(sync~spin) Metaflow", "Metaflow LSP: starting the server", undefined);
  }

  ready(detail: string): void {
    this.show("$(check) Metaflow", `Metaflow LSP: ready (${detail}). Click for the output.`, undefined);
  }

  error(problem: string): void {
    this.show("$(error) Metaflow", `${problem} Click for the output.`, new vscode.ThemeColor("statusBarItem.errorBackground"));
  }

  private show(text: string, tooltip: string, background: vscode.ThemeColor | undefined): void {
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = background;
  }

  dispose(): void {
    this.item.dispose();
  }
}
