// Drives a running code-server with Debian's Chromium, as a person would, and prints what it saw as one JSON line.
// Started by tests/test_vscode_e2e.py, which starts code-server, asserts on the JSON and kills everything.
//
//   node e2e/driver.mjs config.json
//   config: { url, file, errorLine, fixAt: {line, column, remove, insert}, classLine, shots, profile, untrusted? }
//   untrusted: VS Code asks whether to trust the workspace; the driver answers No, then only reads what it sees.
//   problem: the server cannot start (the interpreter is missing): record the notification and the status bar item.
//   debug: {line, expression, maxStops}: a breakpoint on `line`, a click on "Debug (foreach, one worker)"; at each
//   stop the call stack and `expression` evaluated in the debug console are recorded, then F5 continues.
//   artifacts: {hoverLine, hoverColumn, hoverWaitFor, completeAfterLine, completeWaitFor}: the hover (Ctrl+K Ctrl+I)
//   at hoverLine:hoverColumn, then `self.` typed on a new line below completeAfterLine and the suggest widget's rows.
//   graph: {steps, click: {step, line}, addStep: {rewireAt: {line, column, remove, insert}, insertAt, text, step}}:
//   the "Show graph" lens opens the graph view; the steps drawn in its webview, a click on one (the cursor's line
//   afterwards), then an edit that adds a step, typed into the editor (the steps drawn before saving).
//
// Observations, not assertions: a step either records what it saw (the test judges it) or fails when what it waits
// for never shows (an action that cannot be done); the first failed step ends the session, with a screenshot, and
// the test reports that step. Step log on stderr.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const result = { steps: [], screenshots: [] };
const started = Date.now();
const log = (message) => process.stderr.write(`[driver ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

const EDITOR = ".part.editor .monaco-editor";
const SQUIGGLE = `${EDITOR} .squiggly-error`;
const LENS = `${EDITOR} .codelens-decoration a`;
const PROBLEM_ROW = ".markers-panel .monaco-list-row";
const TERMINAL_ROWS = ".part.panel .terminal-wrapper .xterm-rows";
const PAUSED = ".debug-toolbar .codicon-debug-continue";
const CALL_STACK_ROW = ".debug-call-stack .monaco-list-row";

/** Polls `probe` until it returns a truthy value or `ms` pass; returns the last value. */
async function until(probe, ms, every = 250) {
  const deadline = Date.now() + ms;
  let value;
  for (;;) {
    value = await probe().catch(() => undefined);
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

async function step(name, body) {
  log(name);
  const t0 = Date.now();
  try {
    const value = await body();
    result.steps.push({ name, ok: true, seconds: (Date.now() - t0) / 1000 });
    return value;
  } catch (error) {
    result.steps.push({ name, ok: false, seconds: (Date.now() - t0) / 1000, error: String(error?.message ?? error) });
    log(`${name} failed: ${error}`);
    throw new StepFailed(name);
  }
}

/** The first failed step ends the session: later steps would only wait for their timeouts. */
class StepFailed extends Error {}

async function screenshot(page, name) {
  const path = join(config.shots, `${String(result.screenshots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path }).catch((error) => log(`screenshot ${name}: ${error}`));
  result.screenshots.push(path);
}

/** Editor line numbers (1-based) of the error squiggles: a squiggle and its line number share a `top`. */
async function squiggleLines(page) {
  return page.evaluate(({ editor }) => {
    const root = document.querySelector(editor);
    if (!root) return [];
    const numbers = [...root.querySelectorAll(".margin-view-overlays .line-numbers")].map((el) => ({
      top: Math.round(el.getBoundingClientRect().top),
      line: Number(el.textContent.trim()),
    }));
    return [...root.querySelectorAll(".squiggly-error")].map((el) => {
      const top = Math.round(el.getBoundingClientRect().top);
      return numbers.find((n) => Math.abs(n.top - top) <= 2)?.line ?? null;
    });
  }, { editor: EDITOR });
}

const lensTexts = (page) => page.locator(LENS).allTextContents();
const terminalText = (page) =>
  page.locator(TERMINAL_ROWS).evaluateAll((rows) => rows.map((row) => row.innerText).join("\n"));

/** A command from the palette. Tried three times: a debug session starting or stopping moves the focus, which
 *  can close the palette while it is being typed into. */
async function runCommand(page, label) {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press("F1");
      await page.locator(".quick-input-widget input").waitFor({ state: "visible", timeout: 5000 });
      await page.keyboard.type(label);
      await page.locator(".quick-input-widget .monaco-list-row").first().waitFor({ timeout: 5000 });
      await page.keyboard.press("Enter");
      return;
    } catch (error) {
      if (attempt === 3) throw error;
      log(`palette: ${label} (attempt ${attempt}) failed: ${error}`);
      await page.keyboard.press("Escape");
    }
  }
}

const browser = await chromium.launchPersistentContext(config.profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
  ],
});
const page = browser.pages()[0] ?? (await browser.newPage());
page.setDefaultTimeout(15000);
try {
  await step("open the workspace", async () => {
    await page.goto(config.url);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    await page.locator(".part.activitybar, .part.sidebar").first().waitFor({ timeout: 30000 });
  });
  if (config.untrusted) {
    await untrustedSession(page);
  } else if (config.debug) {
    await debugSession(page);
  } else if (config.graph) {
    await graphSession(page);
  } else if (config.problem) {
    await problemSession(page);
  } else if (config.artifacts) {
    await artifactSession(page);
  } else {
    await trustedSession(page);
  }
} catch (error) {
  if (!(error instanceof StepFailed)) throw error;
  await screenshot(page, "failed");
} finally {
  result.notifications = await page.locator(".notifications-toasts .notification-list-item-message")
    .allInnerTexts().catch(() => []);
  await browser.close().catch(() => undefined);
  result.seconds = (Date.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function openFlowFile(page) {
  await step("open the flow file (Ctrl+P)", async () => {
    await page.locator(".monaco-workbench").click({ position: { x: 700, y: 450 } }).catch(() => undefined);
    await page.keyboard.press("Control+P");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type(config.file);
    await page.locator(".quick-input-widget .monaco-list-row").first().waitFor();
    await page.keyboard.press("Enter");
    await page.locator(`${EDITOR} .view-lines`, { hasText: config.classText ?? "class TrainFlow" })
      .waitFor({ timeout: 30000 });
  });
}

/** Workspace trust on: the person answers "No" to VS Code's trust question, then reads the flow. */
async function untrustedSession(page) {
  await step("decline to trust the workspace", async () => {
    const no = page.getByRole("button", { name: /No, I don.t trust the authors/ });
    await no.waitFor({ timeout: 30000 });
    await screenshot(page, "trust-question");
    await no.click();
    await page.locator(".monaco-dialog-box").waitFor({ state: "detached", timeout: 10000 });
  });
  await openFlowFile(page);
  result.errorLinesBefore = await step("error squiggle appears", async () => {
    await page.locator(SQUIGGLE).first().waitFor({ timeout: 45000 });
    return squiggleLines(page);
  });
  result.problemsBefore = await step("Problems panel (Ctrl+Shift+M)", async () => {
    await page.keyboard.press("Control+Shift+M");
    await page.locator(PROBLEM_ROW, { hasText: "MF011" }).first().waitFor();
    return page.locator(PROBLEM_ROW).allInnerTexts();
  });
  // Lenses come with the first requests after the document opens: give them ample time to show, if they would.
  await new Promise((resolve) => setTimeout(resolve, config.lensWaitMs ?? 8000));
  result.lensesBefore = await lensTexts(page);
  result.paletteRows = await step("the command palette offers no 'Write Run Configurations'", async () => {
    await page.keyboard.press("F1");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible", timeout: 5000 });
    await page.keyboard.type("Metaflow:");
    await page.locator(".quick-input-widget .monaco-list-row").first().waitFor({ timeout: 5000 });
    const rows = await page.locator(".quick-input-widget .monaco-list-row").allInnerTexts();
    await page.keyboard.press("Escape");
    return rows;
  });
  result.restricted = await page.locator(".statusbar-item", { hasText: "Restricted Mode" }).count();
  await screenshot(page, "untrusted-squiggle-no-lenses");
}

async function trustedSession(page) {

  await openFlowFile(page);

  // The server starts with the extension: the first squiggle can take a few seconds.
  result.errorLinesBefore = await step("error squiggle appears", async () => {
    await page.locator(SQUIGGLE).first().waitFor({ timeout: 45000 });
    return squiggleLines(page);
  });
  result.lensesBefore = await step("code lenses appear", async () => {
    await until(async () => (await lensTexts(page)).some((t) => t.includes("Run in test mode")), 30000);
    return lensTexts(page);
  });
  result.problemsBefore = await step("Problems panel (Ctrl+Shift+M)", async () => {
    await page.keyboard.press("Control+Shift+M");
    await page.locator(PROBLEM_ROW, { hasText: "MF011" }).first().waitFor();
    return page.locator(PROBLEM_ROW).allInnerTexts();
  });
  await screenshot(page, "mf011-squiggle-problems-lenses");

  // The status bar item: the server's state; a click opens the output channel.
  result.statusBar = await step("status bar shows the server ready", async () => {
    const item = page.locator(".part.statusbar .statusbar-item", { hasText: "Metaflow" }).first();
    await until(async () => (await item.innerHTML()).includes("codicon-check"), 15000);
    return { html: await item.innerHTML(), label: await item.getAttribute("aria-label") };
  });
  result.outputAfterStatusClick = await step("clicking it opens the output channel", async () => {
    await page.locator(".part.statusbar .statusbar-item", { hasText: "Metaflow" }).first().locator("a").first().click();
    const lines = page.locator(".part.panel .monaco-editor .view-lines", { hasText: "metaflow-lsp started" });
    await lines.first().waitFor({ timeout: 10000 });
    return (await lines.first().innerText()).replace(/\u00a0/g, " "); // the editor renders spaces as nbsp
  });

  await step("fix the typo by typing", async () => {
    const { line, column, remove, insert } = config.fixAt;
    await page.locator(`${EDITOR} .view-lines`).click(); // focus the editor again
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type(`${line}:${column}`);
    await page.keyboard.press("Enter");
    for (let i = 0; i < remove; i++) await page.keyboard.press("Backspace");
    await page.keyboard.type(insert, { delay: 30 });
  });
  // Live: the squiggle goes away while the file is still unsaved.
  result.errorLinesAfterFix = await step("squiggle disappears", async () => {
    await until(async () => (await page.locator(SQUIGGLE).count()) === 0, 15000);
    return squiggleLines(page);
  });
  result.dirtyAfterFix = await page.locator(".part.editor .tab.dirty").count();
  result.problemsAfterFix = await step("Problems panel after the fix", async () => {
    await until(async () => (await page.locator(PROBLEM_ROW, { hasText: "MF011" }).count()) === 0, 10000);
    return page.locator(PROBLEM_ROW).allInnerTexts();
  });
  await step("save (Ctrl+S)", async () => {
    await page.keyboard.press("Control+S");
    await until(async () => (await page.locator(".part.editor .tab.dirty").count()) === 0, 10000);
  });
  await screenshot(page, "fixed-no-squiggle");

  // The lens, as a person uses it: a click. VS Code's lens command carries the server's RunSpec as its argument.
  result.lensesAfterFix = await lensTexts(page);
  result.lensRoute = await step("activate the 'Run in test mode' lens", async () => {
    await page.keyboard.press("Escape"); // the completion list typing opened
    await page.keyboard.press("Control+Home"); // scrolled to the top: the class's lens line is in view
    await page.locator(LENS, { hasText: "Run in test mode" }).first().click();
    if (await until(() => page.locator(TERMINAL_ROWS).count(), 10000)) return "click";
    // Fallback if a click is swallowed: the same lens through "Show CodeLens Commands for Current Line".
    await page.keyboard.press("Control+G");
    await page.keyboard.type(String(config.classLine));
    await page.keyboard.press("Enter");
    await runCommand(page, "Show CodeLens Commands for Current Line");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Run in test mode" }).waitFor();
    await page.keyboard.type("Run in test mode");
    await page.keyboard.press("Enter");
    return "command palette (Show CodeLens Commands for Current Line)";
  });
  result.terminal = await step("task terminal shows Metaflow's Done!", async () => {
    await until(async () => (await terminalText(page)).includes("Done!"), config.runTimeoutMs ?? 90000, 500);
    return terminalText(page);
  });
  result.terminalTabs = await page.locator(".part.panel .tabs-list .monaco-list-row, .terminal-tabs-entry")
    .allInnerTexts().catch(() => []);
  await screenshot(page, "test-mode-run-done");
  if (config.extractAt) await extractStep(page);
}

/** The Extract action, as a person applies it: cursor in the step, Ctrl+., the Extract row, Enter; then Save All. */
async function extractStep(page) {
  result.extractRows = await step("Ctrl+. in the step lists Extract", async () => {
    await page.locator(`${EDITOR} .view-lines`).click();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type(`${config.extractAt.line}:${config.extractAt.column}`);
    await page.keyboard.press("Enter");
    await page.keyboard.press("Control+.");
    await page.locator(".action-widget .monaco-list-row", { hasText: "Extract body of step" }).first().waitFor();
    return page.locator(".action-widget .monaco-list-row").allInnerTexts();
  });
  await step("apply it (Enter on the Extract row), Save All", async () => {
    const rows = page.locator(".action-widget .monaco-list-row");
    // The list opens with its first action focused; headers are skipped by the arrow keys.
    const actions = (await rows.evaluateAll((els) => els.map((el) => !el.classList.contains("group-header"))));
    const texts = await rows.allInnerTexts();
    const target = texts.findIndex((text) => text.includes("Extract body of step"));
    const moves = actions.slice(0, target).filter(Boolean).length;
    for (let i = 0; i < moves; i++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.locator(".action-widget").waitFor({ state: "hidden", timeout: 5000 }).catch(() => undefined);
    await until(async () => (await page.locator(".part.editor .tab", { hasText: "common.py" }).count()) > 0
      || (await page.locator(".part.editor .tab.dirty").count()) > 0, 10000);
    await runCommand(page, "File: Save All");
    await until(async () => (await page.locator(".part.editor .tab.dirty").count()) === 0, 10000);
  });
  await screenshot(page, "extracted-to-common");
}


/** Breakpoint in the foreach step, the Debug lens, then one record per stop until the run ends. */
async function debugSession(page) {
  await openFlowFile(page);
  await step("the Debug lens appears", async () => {
    await until(async () => (await lensTexts(page)).some((t) => t.includes("Debug (foreach")), 30000);
  });
  await step("set a breakpoint in the foreach step (F9)", async () => {
    await page.locator(`${EDITOR} .view-lines`).click();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type(String(config.debug.line));
    await page.keyboard.press("Enter");
    await page.keyboard.press("F9");
    await page.locator(`${EDITOR} .codicon-debug-breakpoint`).first().waitFor({ timeout: 5000 });
  });
  await step("click the 'Debug (foreach, one worker)' lens", async () => {
    await page.keyboard.press("Control+Home");
    await page.locator(LENS, { hasText: "Debug (foreach" }).first().click();
  });
  result.stops = [];
  for (let stop = 0; stop < config.debug.maxStops; stop++) {
    // The first stop waits for the run to reach the foreach; later ones for the next task to start.
    const paused = await until(() => page.locator(PAUSED).isVisible(), stop === 0 ? 90000 : 20000, 300);
    if (!paused) break;
    const record = await step(`stop ${stop + 1}: call stack and ${config.debug.expression}`, async () => {
      const callStack = await until(async () => {
        const rows = await page.locator(CALL_STACK_ROW).allInnerTexts();
        return rows.some((row) => /paused on breakpoint/i.test(row)) ? rows : undefined;
      }, 10000);
      // VS Code moves the focus to the paused session's editor just after the stop: let it settle before typing.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const input = page.locator(".repl-input-wrapper .monaco-editor");
      if (!(await input.isVisible())) await runCommand(page, "Debug Console: Focus on Debug Console View");
      const clear = page.locator(".part.panel .codicon-clear-all").first();
      if (await clear.isVisible()) await clear.click(); // each stop reads its own answer
      await input.click();
      await page.keyboard.type(config.debug.expression);
      await page.keyboard.press("Enter");
      const replRows = ".repl .monaco-list-row";
      const value = await until(async () => {
        const rows = await page.locator(replRows).allInnerTexts();
        const at = rows.lastIndexOf(config.debug.expression);
        return at >= 0 && rows.length > at + 1 ? rows[at + 1] : undefined;
      }, 10000);
      return { callStack: callStack ?? [], value: value ?? null, console: await page.locator(replRows).allInnerTexts() };
    });
    result.stops.push(record);
    if (stop === 0) await screenshot(page, "debugger-stopped-in-foreach");
    await page.keyboard.press("F5");
    await until(async () => !(await page.locator(PAUSED).isVisible()), 10000, 200);
  }
  result.terminal = await step("the debugged run finishes (Done!)", async () => {
    await runCommand(page, "Terminal: Focus Terminal"); // the debug console was in front: show the run's terminal
    await until(async () => (await terminalText(page)).includes("Done!"), 60000, 500);
    return terminalText(page);
  });
  await screenshot(page, "debugged-run-done");
}

/** The interpreter cannot run the server: one notification, the status bar item in its error state. */
async function problemSession(page) {
  await openFlowFile(page);
  result.problemToasts = await step("a notification names the problem", async () => {
    const toast = page.locator(".notifications-toasts .notification-list-item-message", { hasText: "Metaflow LSP" });
    await toast.first().waitFor({ timeout: 30000 });
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a second one would show by now
    return page.locator(".notifications-toasts .notification-list-item").allInnerTexts();
  });
  result.statusBar = await step("the status bar item shows the error", async () => {
    const item = page.locator(".part.statusbar .statusbar-item", { hasText: "Metaflow" }).first();
    await until(async () => (await item.innerHTML()).includes("codicon-error"), 10000);
    return { html: await item.innerHTML(), label: await item.getAttribute("aria-label") };
  });
  await screenshot(page, "interpreter-missing");
}

/** Artifact intelligence as a person meets it: the hover on an artifact read in a later step, then completion after
 *  `self.` typed on a new line (the line does not parse while it is being typed). */
async function artifactSession(page) {
  const { hoverLine, hoverColumn, hoverWaitFor, completeAfterLine, completeWaitFor } = config.artifacts;
  await openFlowFile(page);
  await step("the server is up (a code lens shows)", async () => {
    await until(async () => (await lensTexts(page)).some((t) => t.includes("Run in test mode")), 45000);
  });
  const goTo = async (where) => {
    await page.locator(`${EDITOR} .view-lines`).click();
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type(where);
    await page.keyboard.press("Enter");
  };
  result.hover = await step("hover on the artifact (Ctrl+K Ctrl+I)", async () => {
    const hover = page.locator(".monaco-hover:visible", { hasText: hoverWaitFor });
    const shown = await until(async () => {
      await goTo(`${hoverLine}:${hoverColumn}`);
      await page.keyboard.press("Control+K");
      await page.keyboard.press("Control+I");
      return hover.first().waitFor({ timeout: 3000 }).then(() => true);
    }, 20000, 500);
    if (!shown) throw new Error(`no hover containing ${hoverWaitFor}`);
    return hover.first().innerText();
  });
  await screenshot(page, "artifact-hover");
  await page.keyboard.press("Escape");
  result.completion = await step("type self. on a new line: the completion list", async () => {
    await goTo(String(completeAfterLine));
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("self.", { delay: 50 });
    const rows = page.locator(".suggest-widget .monaco-list-row");
    const shown = await until(async () => {
      if (await rows.filter({ hasText: completeWaitFor }).count()) return true;
      await page.keyboard.press("Control+Space"); // the widget closed before the answer: ask again
      return rows.filter({ hasText: completeWaitFor }).first().waitFor({ timeout: 3000 }).then(() => true);
    }, 20000, 500);
    if (!shown) throw new Error(`no completion row containing ${completeWaitFor}`);
    return rows.allInnerTexts();
  });
  await screenshot(page, "artifact-completion");
  await page.keyboard.press("Escape");
}

/** The webview's page: VS Code nests it in two iframes (the host, then the page). Function declarations: the session
 *  above runs before a `const` down here would be initialised. */
function graphPage(page) {
  return page.frameLocator("iframe.webview.ready").frameLocator("#active-frame");
}
function drawnSteps(page) {
  return graphPage(page).locator("g.node text.step-name").allTextContents();
}
function drawnEdges(page) {
  return graphPage(page).locator("path.edge")
    .evaluateAll((paths) => paths.map((path) => `${path.dataset.from}->${path.dataset.to}`));
}
function cursorPosition(page) {
  return page.locator(".statusbar-item#status\\.editor\\.selection").innerText();
}

/** The graph view: opened by its lens, every step drawn, a click moves the cursor, a typed step appears. */
async function graphSession(page) {
  const graph = config.graph;
  await openFlowFile(page);
  result.graphRoute = await step("open the graph (the 'Show graph' lens)", async () => {
    await until(async () => (await lensTexts(page)).some((t) => t.includes("Show graph")), 45000);
    await page.locator(LENS, { hasText: "Show graph" }).first().click();
    if (await until(() => page.locator("iframe.webview.ready").count(), 10000)) return "lens";
    await runCommand(page, "Metaflow: Show Flow Graph"); // a swallowed click: the same command from the palette
    return "command palette";
  });
  result.graphStepsBefore = await step("every step is drawn in the webview", async () => {
    const wanted = [...graph.steps].sort().join(",");
    await until(async () => [...(await drawnSteps(page))].sort().join(",") === wanted, 30000);
    return drawnSteps(page);
  });
  result.graphEdgesBefore = await drawnEdges(page);
  result.graphNodeClasses = await graphPage(page).locator("g.node")
    .evaluateAll((nodes) => Object.fromEntries(nodes.map((node) => [node.dataset.step, node.getAttribute("class")])));
  result.graphBadges = await graphPage(page).locator("g.node .badge")
    .evaluateAll((badges) => badges.map((badge) => [badge.closest("g.node").dataset.step, badge.textContent]));
  result.graphRunStatus = await graphPage(page).locator("g.node .run-status")
    .evaluateAll((pills) => pills.map((pill) => [pill.closest("g.node").dataset.step, pill.textContent]));
  result.graphPolicy = await graphPage(page).locator('meta[http-equiv="Content-Security-Policy"]')
    .getAttribute("content");
  await screenshot(page, "graph-view");
  result.cursorBeforeClick = await cursorPosition(page).catch(() => null);
  result.cursorAfterClick = await step(`click the '${graph.click.step}' node`, async () => {
    await graphPage(page).locator(`g.node[data-step="${graph.click.step}"]`).click();
    const wanted = `Ln ${graph.click.line},`;
    await until(async () => (await cursorPosition(page)).includes(wanted), 10000);
    return cursorPosition(page);
  });
  await step("add a step by typing", async () => {
    const { rewireAt, insertAt, text } = graph.addStep;
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type(`${rewireAt.line}:${rewireAt.column}`);
    await page.keyboard.press("Enter");
    for (let i = 0; i < rewireAt.remove; i++) await page.keyboard.press("Backspace");
    await page.keyboard.type(rewireAt.insert, { delay: 20 });
    await page.keyboard.press("Escape"); // the completion list typing opened
    await page.keyboard.press("Control+G");
    await page.locator(".quick-input-widget input").waitFor({ state: "visible" });
    await page.keyboard.type(`${insertAt}:1`);
    await page.keyboard.press("Enter");
    // Pasted (Ctrl+V), as a person adds a step they copied: typed lines would be re-indented by the editor.
    await browser.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(config.url).origin });
    await page.evaluate((copied) => navigator.clipboard.writeText(copied), text);
    await page.keyboard.press("Control+V");
  });
  result.graphStepsAfterEdit = await step(`the new step '${graph.addStep.step}' appears`, async () => {
    await until(async () => (await drawnSteps(page)).includes(graph.addStep.step), 15000);
    return drawnSteps(page);
  });
  result.graphEdgesAfterEdit = await drawnEdges(page);
  result.dirtyAfterEdit = await page.locator(".part.editor .tab.dirty").count();
  await screenshot(page, "graph-view-new-step");
  await step("save (Ctrl+S)", async () => {
    await page.locator(`${EDITOR} .view-lines`).first().click();
    await page.keyboard.press("Control+S");
    await until(async () => (await page.locator(".part.editor .tab.dirty").count()) === 0, 10000);
  });
}
