// The graph view's pure logic, shared by the panel (graphPanel.ts) and the webview's script (webview/graphView.ts):
// the JSON of the server's `metaflow.flowGraph` (see docs/flow-graph.md), how each step is styled, and its layout
// by dagre (top to bottom). No DOM and no `vscode` here, so Node's test runner covers it (test/graphModel.test.ts).
import * as dagre from "@dagrejs/dagre";

export interface DiagnosticJson {
  code: string;
  severity: string; // error, warning, information, hint
  message: string;
  line: number; // 1-based
}

export interface StepJson {
  name: string;
  type: string | null; // Metaflow's node type: start, linear, split, foreach, split-switch, join, end; null: invalid
  line: number; // the `def` line, 1-based
  decorators: string[];
  next: string[];
  foreach: string | null;
  switch: boolean;
  cases?: string[] | null; // a switch's case of each `next` entry
  parallel_foreach?: boolean; // self.next(self.x, num_parallel=...)
  file?: string | null;
  diagnostics?: DiagnosticJson[];
}

export interface FlowJson {
  name: string;
  file: string | null;
  steps: StepJson[];
}

export interface GraphJson {
  flows: FlowJson[];
}

/** A step in the latest local run (the server's run-status command, launch/run_status.py): `ok`, `failed` or
 *  `unfinished` (running, or killed), over all its tasks. */
export interface StepStatus {
  status: string;
  tasks?: number;
  failed_tasks?: number;
  duration_ms: number | null;
}

/** A flow's latest local run. */
export interface RunStatus {
  id: string;
  status: string;
  steps: Record<string, StepStatus>;
}

/** The answer of `metaflow.flowRunStatus` by flow name; {} for no answer or one of another shape. */
export function runsByFlow(answer: unknown): Record<string, RunStatus | null> {
  const flows = (answer as { flows?: unknown } | null)?.flows;
  if (!Array.isArray(flows)) return {};
  const runs: Record<string, RunStatus | null> = {};
  for (const flow of flows as { name?: unknown; run?: RunStatus | null }[]) {
    if (typeof flow?.name === "string") runs[flow.name] = flow.run?.steps ? flow.run : null;
  }
  return runs;
}

export type StepKind =
  | "start" | "end" | "linear" | "split" | "foreach" | "parallel" | "switch" | "join" | "invalid" | "missing";

/** How a step fans out or in, for its colour and tag: Metaflow's type, a `num_parallel` fan-out told apart. */
export function stepKind(step: StepJson, steps: Map<string, StepJson>): StepKind {
  switch (step.type) {
    case "split-switch":
      return "switch";
    case "foreach": {
      // `self.next(self.train, num_parallel=4)`; a server without `parallel_foreach`: the target is an @parallel step.
      const parallel = step.parallel_foreach
        ?? step.next.some((target) => steps.get(target)?.decorators.some(isParallel));
      return parallel ? "parallel" : "foreach";
    }
    case "start": case "end": case "linear": case "split": case "join":
      return step.type;
    default:
      return "invalid";
  }
}

const isParallel = (decorator: string) => decorator.split(".").pop() === "parallel";

/** The short tag under a step's name: what it does to the graph ("foreach items", "split", ...); "" for none. */
export function stepTag(step: StepJson, kind: StepKind): string {
  switch (kind) {
    case "foreach":
      return step.foreach ? `foreach ${step.foreach}` : "foreach";
    case "split": case "switch": case "join": case "parallel":
      return kind;
    case "invalid":
      return "no valid self.next";
    case "missing":
      return "not defined";
    default:
      return step.decorators.some(isParallel) ? "parallel" : "";
  }
}

/** The decorators as the source writes them, `@` first, a few to a line. */
export function decoratorLines(decorators: string[], perLine = 3): string[] {
  const lines: string[] = [];
  for (let i = 0; i < decorators.length; i += perLine) {
    lines.push(decorators.slice(i, i + perLine).map((name) => `@${name}`).join(" "));
  }
  return lines;
}

export interface Badge {
  severity: "error" | "warning" | "information";
  count: number;
  text: string; // the messages, one a line: the badge's tooltip
}

/** One badge for a step's diagnostics: the count, coloured by the worst severity; hints are not counted. */
export function diagnosticBadge(diagnostics: DiagnosticJson[] | undefined): Badge | null {
  const shown = (diagnostics ?? []).filter((d) => d.severity !== "hint");
  if (shown.length === 0) return null;
  const order = ["error", "warning", "information"] as const;
  const severity = order.find((level) => shown.some((d) => d.severity === level)) ?? "information";
  return { severity, count: shown.length, text: shown.map((d) => `${d.code}: ${d.message}`).join("\n") };
}

/** "1.2 s", "3 min 4 s", "1 h 2 min"; "" when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "";
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The run-status pill of a step: "✓ 1.2 s", "✗ 2 of 5 failed", "… unfinished". */
export function statusLabel(step: StepStatus): string {
  const duration = formatDuration(step.duration_ms);
  if (step.status === "ok") return ["✓", duration].filter(Boolean).join(" ");
  if (step.status === "failed") {
    const tasks = step.tasks ?? 1;
    return tasks > 1 ? `✗ ${step.failed_tasks ?? "?"} of ${tasks} failed` : "✗ failed";
  }
  return `… ${step.status}`;
}

export interface NodeBox {
  name: string;
  kind: StepKind;
  classes: string[]; // CSS classes of the node: `kind-<kind>`, `terminal` for start and end
  lines: { text: string; role: "name" | "tag" | "decorators" }[];
  line: number | null; // the `def` line to jump to; null for a missing step
  badge: Badge | null;
  x: number; // centre, as dagre gives it
  y: number;
  width: number;
  height: number;
}

export interface EdgePath {
  from: string;
  to: string;
  kind: "normal" | "foreach" | "switch" | "missing";
  points: { x: number; y: number }[];
  label: string | null; // a switch's case
  labelAt: { x: number; y: number } | null;
}

export interface FlowLayout {
  name: string;
  nodes: NodeBox[];
  edges: EdgePath[];
  width: number;
  height: number;
}

// Sizes in CSS pixels for the webview's monospace font (graph.css: 12px, the name 13px bold).
export const FONT = { name: 13, text: 12, charWidth: 0.62, lineHeight: 1.5, padding: 10, minWidth: 90 };

function boxSize(lines: NodeBox["lines"], hasBadge: boolean): { width: number; height: number } {
  const widths = lines.map((line) => line.text.length * FONT.charWidth * (line.role === "name" ? FONT.name : FONT.text));
  const badge = hasBadge ? 28 : 0;
  const width = Math.max(FONT.minWidth, Math.ceil(Math.max(...widths) + 2 * FONT.padding + badge));
  const height = Math.ceil(lines.reduce((sum, line) =>
    sum + (line.role === "name" ? FONT.name : FONT.text) * FONT.lineHeight, 0) + 2 * FONT.padding);
  return { width, height };
}

function nodeFor(step: StepJson, steps: Map<string, StepJson>): Omit<NodeBox, "x" | "y" | "width" | "height"> {
  const kind = stepKind(step, steps);
  const tag = stepTag(step, kind);
  const lines: NodeBox["lines"] = [{ text: step.name, role: "name" }];
  if (tag && tag !== step.name) lines.push({ text: tag, role: "tag" }); // a step named `join` needs no "join"
  for (const text of decoratorLines(step.decorators)) lines.push({ text, role: "decorators" });
  const classes = [`kind-${kind}`];
  if (step.name === "start" || step.name === "end") classes.push("terminal");
  if (step.decorators.some(isParallel)) classes.push("parallel-step");
  return { name: step.name, kind, classes, lines, line: step.line, badge: diagnosticBadge(step.diagnostics) };
}

function missingNode(name: string): Omit<NodeBox, "x" | "y" | "width" | "height"> {
  return { name, kind: "missing", classes: ["kind-missing"], line: null, badge: null,
    lines: [{ text: name, role: "name" }, { text: stepTag({} as StepJson, "missing"), role: "tag" }] };
}

/** The flow as dagre's input: one node per step (and per transition target that is no step), one edge per
 *  out_func in order; then dagre's layout, top to bottom. */
export function layoutFlow(flow: FlowJson): FlowLayout {
  const steps = new Map(flow.steps.map((step) => [step.name, step]));
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 36, edgesep: 12, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const boxes = new Map<string, Omit<NodeBox, "x" | "y" | "width" | "height">>();
  for (const step of flow.steps) boxes.set(step.name, nodeFor(step, steps));
  for (const step of flow.steps) {
    for (const target of step.next) if (!boxes.has(target)) boxes.set(target, missingNode(target));
  }
  for (const [name, box] of boxes) graph.setNode(name, boxSize(box.lines, box.badge !== null));
  const edges: (Omit<EdgePath, "points" | "labelAt"> & { id: string })[] = [];
  for (const step of flow.steps) {
    const kind = boxes.get(step.name)!.kind;
    step.next.forEach((target, index) => {
      const label = step.cases?.[index] ?? null;
      const edge = {
        from: step.name, to: target, id: String(index), label, // a switch may name one step for two cases

        kind: !steps.has(target) ? "missing" : kind === "switch" ? "switch"
          : kind === "foreach" || kind === "parallel" ? "foreach" : "normal",
      } as const;
      const room = label === null ? {}
        : { width: label.length * FONT.charWidth * FONT.text + 8, height: FONT.text * FONT.lineHeight, labelpos: "c" };
      graph.setEdge(step.name, target, room, edge.id);
      edges.push(edge);
    });
  }
  dagre.layout(graph);
  const nodes = [...boxes.values()].map((box) => {
    const { x, y, width, height } = graph.node(box.name);
    return { ...box, x, y, width, height };
  });
  const paths = edges.map(({ id, ...edge }) => {
    const laid = graph.edge(edge.from, edge.to, id);
    const points = (laid?.points ?? []).map(({ x, y }: { x: number; y: number }) => ({ x, y }));
    const labelAt = edge.label !== null && laid?.x !== undefined ? { x: laid.x, y: laid.y } : null;
    return { ...edge, points, labelAt };
  });
  const { width, height } = graph.graph();
  return { name: flow.name, nodes, edges: paths, width: width ?? 0, height: height ?? 0 };
}
