import { strict as assert } from "node:assert";
import { test } from "node:test";

import {
  FlowJson, NodeBox, StepJson, decoratorLines, diagnosticBadge, formatDuration, layoutFlow, runsByFlow, statusLabel,
  stepKind,
} from "../src/graphModel";

function step(name: string, type: string | null, next: string[], extra: Partial<StepJson> = {}): StepJson {
  return { name, type, line: 10, decorators: [], next, foreach: null, switch: false, diagnostics: [], ...extra };
}

// The e2e test's TrainFlow, as the server's metaflow.flowGraph describes it.
const TRAIN: FlowJson = {
  name: "TrainFlow", file: "/w/train_flow.py", steps: [
    step("start", "foreach", ["work"], { line: 9, foreach: "items" }),
    step("work", "linear", ["join"], { line: 14, decorators: ["retry", "kubernetes", "catch", "resources"] }),
    step("join", "join", ["train"], { line: 19 }),
    step("train", "linear", ["end"], { line: 24 }),
    step("end", "end", [], { line: 29 }),
  ],
};

const byName = (nodes: NodeBox[]) => new Map(nodes.map((node) => [node.name, node]));

test("every step is a node, every out_func an edge, laid out top to bottom without overlaps", () => {
  const layout = layoutFlow(TRAIN);
  assert.deepEqual(layout.nodes.map((node) => node.name), ["start", "work", "join", "train", "end"]);
  assert.deepEqual(layout.edges.map((edge) => `${edge.from}->${edge.to}`),
    ["start->work", "work->join", "join->train", "train->end"]);
  const nodes = byName(layout.nodes);
  for (const edge of layout.edges) {
    const [from, to] = [nodes.get(edge.from)!, nodes.get(edge.to)!];
    assert.ok(from.y + from.height / 2 <= to.y - to.height / 2, `${edge.from} is above ${edge.to}`);
    assert.ok(edge.points.length >= 2);
  }
  for (const node of layout.nodes) {
    assert.ok(node.x - node.width / 2 >= 0 && node.x + node.width / 2 <= layout.width, `${node.name} fits`);
    assert.ok(node.y + node.height / 2 <= layout.height, `${node.name} fits`);
  }
});

test("steps are styled by what they do to the graph, decorators shown as written", () => {
  const nodes = byName(layoutFlow(TRAIN).nodes);
  const start = nodes.get("start")!;
  assert.equal(start.kind, "foreach");
  assert.deepEqual(start.classes, ["kind-foreach", "terminal"]);
  assert.deepEqual(start.lines.map((line) => line.text), ["start", "foreach items"]);
  assert.equal(nodes.get("join")!.kind, "join");
  assert.deepEqual(nodes.get("join")!.lines.map((line) => line.text), ["join"]); // its name says it already
  assert.deepEqual(nodes.get("work")!.lines.map((line) => [line.role, line.text]), [
    ["name", "work"], ["decorators", "@retry @kubernetes @catch"], ["decorators", "@resources"]]);
  assert.equal(nodes.get("work")!.line, 14); // where a click goes
  assert.deepEqual(layoutFlow(TRAIN).edges.map((edge) => edge.kind), ["foreach", "normal", "normal", "normal"]);
  // A box is wide enough for its longest line.
  assert.ok(nodes.get("work")!.width > nodes.get("train")!.width);
});

test("a switch labels its edges with the cases, one edge per case even to the same step", () => {
  const flow: FlowJson = { name: "Switch", file: null, steps: [
    step("start", "split-switch", ["fast", "slow", "fast"], { switch: true, cases: ["small", "big", "tiny"] }),
    step("fast", "linear", ["end"]), step("slow", "linear", ["end"]), step("end", "end", []),
  ] };
  const layout = layoutFlow(flow);
  assert.equal(byName(layout.nodes).get("start")!.kind, "switch");
  const fromStart = layout.edges.filter((edge) => edge.from === "start");
  assert.deepEqual(fromStart.map((edge) => [edge.to, edge.label, edge.kind]),
    [["fast", "small", "switch"], ["slow", "big", "switch"], ["fast", "tiny", "switch"]]);
  for (const edge of fromStart) assert.ok(edge.labelAt && edge.points.length >= 2, JSON.stringify(edge));
  assert.deepEqual(layout.edges.filter((edge) => edge.from !== "start").map((edge) => edge.label), [null, null]);
});

test("a split, a parallel fan-out and an invalid step", () => {
  const steps = [
    step("start", "split", ["a", "b"]), step("a", "foreach", ["train"], { parallel_foreach: true }),
    step("train", "linear", ["gather"], { decorators: ["parallel"] }), step("gather", "join", ["join"]),
    step("b", null, []), step("join", "join", ["end"]), step("end", "end", []),
  ];
  const nodes = byName(layoutFlow({ name: "F", file: null, steps }).nodes);
  assert.equal(nodes.get("start")!.kind, "split");
  assert.equal(nodes.get("a")!.kind, "parallel");
  assert.deepEqual(nodes.get("train")!.classes, ["kind-linear", "parallel-step"]);
  assert.deepEqual(nodes.get("train")!.lines.map((line) => line.text), ["train", "parallel", "@parallel"]);
  assert.equal(nodes.get("b")!.kind, "invalid");
  assert.equal(nodes.get("b")!.lines[1].text, "no valid self.next");
  // A server without `parallel_foreach`: the @parallel target tells.
  const index = new Map(steps.map((s) => [s.name, s]));
  assert.equal(stepKind(step("a", "foreach", ["train"]), index), "parallel");
  assert.equal(stepKind(step("a", "foreach", ["b"]), index), "foreach");
});

test("a transition to a step that does not exist draws a missing node, never a crash", () => {
  const layout = layoutFlow({ name: "Broken", file: null, steps: [step("start", "linear", ["trian"]),
    step("train", "linear", ["end"]), step("end", "end", [])] });
  const missing = byName(layout.nodes).get("trian")!;
  assert.equal(missing.kind, "missing");
  assert.equal(missing.line, null); // nothing to jump to
  assert.deepEqual(missing.lines.map((line) => line.text), ["trian", "not defined"]);
  assert.deepEqual(layout.edges.map((edge) => edge.kind), ["missing", "normal"]);
  assert.deepEqual(layoutFlow({ name: "Empty", file: null, steps: [] }).nodes, []);
});

test("a step's diagnostics are one badge: the count, the worst severity, the messages", () => {
  assert.equal(diagnosticBadge([]), null);
  assert.equal(diagnosticBadge(undefined), null);
  assert.equal(diagnosticBadge([{ code: "MF1", severity: "hint", message: "m", line: 1 }]), null);
  assert.deepEqual(diagnosticBadge([
    { code: "MF201", severity: "warning", message: "too long", line: 3 },
    { code: "MF103", severity: "error", message: "retry", line: 2 },
    { code: "MF9", severity: "hint", message: "quiet", line: 4 },
  ]), { severity: "error", count: 2, text: "MF201: too long\nMF103: retry" });
  const work = byName(layoutFlow({ name: "F", file: null, steps: [step("start", "end", [], {
    diagnostics: [{ code: "MF201", severity: "warning", message: "long", line: 3 }] })] }).nodes).get("start")!;
  assert.deepEqual(work.badge, { severity: "warning", count: 1, text: "MF201: long" });
});

test("decorator lines, durations and run-status labels", () => {
  assert.deepEqual(decoratorLines([]), []);
  assert.deepEqual(decoratorLines(["mf.retry", "catch"]), ["@mf.retry @catch"]);
  assert.deepEqual([450, 12_400, 185_000, 3_780_000, null, -1].map(formatDuration),
    ["0.5 s", "12 s", "3 min 5 s", "1 h 3 min", "", ""]);
  assert.equal(statusLabel({ status: "ok", duration_ms: 1200, tasks: 1 }), "✓ 1.2 s");
  assert.equal(statusLabel({ status: "ok", duration_ms: null }), "✓");
  assert.equal(statusLabel({ status: "failed", duration_ms: 5, tasks: 5, failed_tasks: 2 }), "✗ 2 of 5 failed");
  assert.equal(statusLabel({ status: "failed", duration_ms: 5, tasks: 1, failed_tasks: 1 }), "✗ failed");
  assert.equal(statusLabel({ status: "unfinished", duration_ms: null }), "… unfinished");
});

test("the run-status answer by flow: a flow without a run has null, a bad answer nothing", () => {
  const run = { id: "17", created_ms: 1, status: "failed", steps: {
    start: { status: "ok", tasks: 1, failed_tasks: 0, started_ms: 1, finished_ms: 243, duration_ms: 242 } } };
  assert.deepEqual(runsByFlow({ flows: [{ name: "TrainFlow", file: "/w/t.py", run }, { name: "Other", run: null }] }),
    { TrainFlow: run, Other: null });
  for (const bad of [null, undefined, {}, { flows: "x" }, { flows: [{ run }] }]) assert.deepEqual(runsByFlow(bad), {});
});
