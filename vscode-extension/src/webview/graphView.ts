// The graph view's page (bundled with dagre into media/graphView.js by esbuild): draws what the panel
// (src/graphPanel.ts) posts as SVG, and posts back a click on a step. Layout and styling decisions are in
// src/graphModel.ts; this file only turns them into elements. No network: the page's CSP allows nothing remote.
import { FlowLayout, GraphJson, NodeBox, RunStatus, StepStatus, layoutFlow, statusLabel } from "../graphModel";

/** What the panel posts. */
export type PanelMessage =
  | { type: "graph"; graph: GraphJson; runs: Record<string, RunStatus | null>; focus?: string }
  | { type: "message"; text: string };

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };
const vscode = acquireVsCodeApi();
const SVG = "http://www.w3.org/2000/svg";
const root = document.getElementById("root")!;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>,
  parent?: Element): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  parent?.appendChild(element);
  return element;
}

function drawNode(node: NodeBox, flow: string, file: string | null, status: StepStatus | undefined,
  parent: SVGElement): void {
  const left = node.x - node.width / 2;
  const top = node.y - node.height / 2;
  const group = svg("g", { class: ["node", ...node.classes].join(" "), "data-step": node.name }, parent);
  const rx = node.classes.includes("terminal") ? node.height / 2 : 6;
  if (node.kind === "foreach" || node.kind === "parallel") {  // a fan-out: its children run as many tasks
    svg("rect", { class: "stack", x: left + 4, y: top + 4, width: node.width, height: node.height, rx }, group);
  }
  svg("rect", { class: "box", x: left, y: top, width: node.width, height: node.height, rx }, group);
  let baseline = top + 10;
  for (const line of node.lines) {
    const size = line.role === "name" ? 13 : 12;
    baseline += size * 1.5;
    const text = svg("text", { class: line.role === "name" ? "step-name" : line.role, x: node.x,
      y: baseline - size * 0.4, "text-anchor": "middle" }, group);
    text.textContent = line.text;
  }
  if (node.badge) {
    const badge = svg("g", { class: `badge ${node.badge.severity}` }, group);
    svg("circle", { cx: left + node.width - 14, cy: top + 14, r: 9 }, badge);
    const count = svg("text", { x: left + node.width - 14, y: top + 18, "text-anchor": "middle" }, badge);
    count.textContent = String(node.badge.count);
    svg("title", {}, badge).textContent = node.badge.text;
  }
  if (status) {
    const label = statusLabel(status);
    const width = label.length * 6.6 + 12;
    const pill = svg("g", { class: `run-status status-${status.status}` }, group);
    svg("rect", { x: left + node.width - width, y: top - 9, width, height: 16, rx: 8 }, pill);
    svg("text", { x: left + node.width - width / 2, y: top + 3, "text-anchor": "middle" }, pill).textContent = label;
  }
  if (node.line !== null) {
    group.setAttribute("tabindex", "0");
    group.setAttribute("role", "button");
    svg("title", {}, group).textContent = `${node.name}: go to its def (line ${node.line})`;
    const reveal = () => vscode.postMessage({ type: "reveal", flow, step: node.name, line: node.line, file });
    group.addEventListener("click", reveal);
    group.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") reveal();
    });
  }
}

function drawFlow(layout: FlowLayout, file: string | null, run: RunStatus | null): HTMLElement {
  const section = document.createElement("section");
  section.dataset.flow = layout.name;
  const heading = document.createElement("h2");
  heading.textContent = run ? `${layout.name} · latest local run ${run.id}: ${run.status}` : layout.name;
  section.appendChild(heading);
  const margin = 12; // room for the run-status pills above the top nodes
  const drawing = svg("svg", { class: "flow-graph", width: layout.width, height: layout.height + margin,
    viewBox: `0 ${-margin} ${layout.width} ${layout.height + margin}`, role: "img",
    "aria-label": `Step graph of ${layout.name}` });
  const defs = svg("defs", {}, drawing);
  const arrow = svg("marker", { id: `arrow-${layout.name}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow-head" }, arrow);
  for (const edge of layout.edges) {
    const d = edge.points.map((p, i) => `${i === 0 ? "M" : "L"} ${p.x} ${p.y}`).join(" ");
    svg("path", { class: `edge edge-${edge.kind}`, d, "marker-end": `url(#arrow-${layout.name})`,
      "data-from": edge.from, "data-to": edge.to }, drawing);
    if (edge.label !== null && edge.labelAt) {
      svg("text", { class: "edge-label", x: edge.labelAt.x, y: edge.labelAt.y + 4, "text-anchor": "middle" },
        drawing).textContent = edge.label;
    }
  }
  for (const node of layout.nodes) drawNode(node, layout.name, file, run?.steps[node.name], drawing);
  section.appendChild(drawing);
  return section;
}

let drawn: Extract<PanelMessage, { type: "graph" }> | undefined;

function note(text: string): HTMLElement {
  const paragraph = document.createElement("p");
  paragraph.className = "note";
  paragraph.textContent = text;
  return paragraph;
}

function show(message: PanelMessage): void {
  if (message.type === "message") {
    root.replaceChildren(note(message.text));
    return;
  }
  let shown = message;
  if (message.graph.flows.length === 0) {
    // Half a line typed: the file does not parse for a moment. Keep the last graph rather than flicker.
    if (!drawn) {
      root.replaceChildren(note("No flow in this file."));
      return;
    }
    shown = drawn;
  }
  drawn = shown;
  root.replaceChildren();
  if (shown !== message) root.appendChild(note("No flow in the current text (does it parse?): the last graph."));
  for (const flow of shown.graph.flows) {
    root.appendChild(drawFlow(layoutFlow(flow), flow.file, shown.runs[flow.name] ?? null));
  }
  if (message.focus) {
    root.querySelector(`section[data-flow="${CSS.escape(message.focus)}"]`)?.scrollIntoView();
  }
}

window.addEventListener("message", (event: MessageEvent<PanelMessage>) => show(event.data));
vscode.postMessage({ type: "ready" });
