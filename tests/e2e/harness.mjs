// Test harness: tauri-driver lifecycle, the `keyline` CLI, screenshots and a tiny named-test runner.
import { spawn, execFile } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { sleep, waitFor } from "./webdriver.mjs";

const run = promisify(execFile);

/** Where the end-to-end runs find the built binaries and put their artifacts (env overrides first). */
export function e2ePaths() {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), ".cache/keyline/target");
  return {
    root,
    app: process.env.KEYLINE_APP_BIN ?? path.join(targetDir, "debug/keyline-app"),
    cli: process.env.KEYLINE_CLI_BIN ?? path.join(targetDir, "debug/keyline"),
    driverBin: process.env.TAURI_DRIVER ?? path.join(os.homedir(), ".cargo/bin/tauri-driver"),
    shots: path.join(root, "tests/artifacts/screenshots"),
    logs: path.join(root, "tests/artifacts/e2e"),
  };
}

/** Starts tauri-driver (which starts WebKitWebDriver) and waits until it accepts connections. */
export async function startDriver({ driver, port, nativePort, env, logFile }) {
  const child = spawn(driver, ["--port", String(port), "--native-port", String(nativePort)], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = [];
  const keep = (chunk) => lines.push(chunk.toString());
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  // Both must listen: tauri-driver forwards every request to WebKitWebDriver on the native port.
  await waitFor(`tauri-driver on port ${port} and WebKitWebDriver on ${nativePort}`, async () => {
    if (exited) throw new Error(`tauri-driver exited (${JSON.stringify(exited)}): ${lines.join("")}`);
    return (await canConnect(port)) && (await canConnect(nativePort));
  }, { timeoutMs: 20000 });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        for (let i = 0; i < 30 && !exited; i++) await sleep(100);
        if (!exited) child.kill("SIGKILL");
      }
      if (logFile) {
        mkdirSync(path.dirname(logFile), { recursive: true });
        writeFileSync(logFile, lines.join(""));
      }
    },
  };
}

/** A TCP port that was free a moment ago (another run on this machine may hold the usual 4444). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Runs the `keyline` CLI with `--json`; resolves to the parsed output. */
export async function keylineJson(cli, args, env) {
  try {
    const { stdout } = await run(cli, [...args, "--json"], { env, timeout: 60000 });
    return JSON.parse(stdout);
  } catch (error) {
    throw new Error(`keyline ${args.join(" ")} failed: ${error.message}\n${error.stdout ?? ""}${error.stderr ?? ""}`);
  }
}

/** Saves a PNG screenshot of the window as `<dir>/<name>.png`. */
export async function screenshot(session, dir, name) {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  writeFileSync(file, await session.screenshot());
  return file;
}

/** Runs named tests in order; a failing test does not stop the later ones. */
export class Runner {
  constructor() {
    this.passed = 0;
    this.failed = 0;
    /** Called after a failed test so that it leaves no dialog open for the next one. */
    this.afterFailure = async () => {};
  }

  async test(name, body) {
    const started = Date.now();
    try {
      await body();
      this.passed += 1;
      console.log(`PASS ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      this.failed += 1;
      console.log(`FAIL ${name} (${Date.now() - started} ms)\n  ${String(error.stack ?? error).replace(/\n/g, "\n  ")}`);
      await this.afterFailure().catch(() => {});
    }
  }

  summary() {
    console.log(`E2E: ${this.passed} passed, ${this.failed} failed`);
    return this.failed === 0 && this.passed > 0;
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`assertion failed: ${message}\n  expected ${e}\n  actual   ${a}`);
}

/** The app's environment for a practice-mode run on `dataDir` (no CA passphrase in the environment). */
export function practiceEnv(dataDir, root) {
  const env = { ...process.env, KEYLINE_DATA_DIR: dataDir, KEYLINE_PROJECT_DIR: root, WEBKIT_DISABLE_COMPOSITING_MODE: "1", WEBKIT_DISABLE_DMABUF_RENDERER: "1" };
  delete env.KEYLINE_CA_PASSPHRASE;
  return env;
}

/** A screenshot kept in the artifacts and copied to docs/screenshots for the README. */
export async function docScreenshot(session, shots, root, name) {
  const file = await screenshot(session, shots, name);
  const docs = path.join(root, "docs/screenshots");
  mkdirSync(docs, { recursive: true });
  copyFileSync(file, path.join(docs, `${name}.png`));
}

/** Unlocks CA `name` from the Certificate authorities screen. */
export async function unlockCa(session, name, passphrase) {
  const item = `[data-testid="ca-item"][data-ca-name="${name}"]`;
  await session.waitFor(item, 30000);
  await session.click(`${item} > article [data-testid="ca-unlock"]`);
  await session.type('[data-testid="unlock-passphrase"]', passphrase);
  await session.click('[data-testid="unlock-submit"]');
  await session.waitGone('[data-testid="unlock-dialog"]', 30000);
}

/**
 * Answers the native GTK open dialog titled `title` (opened by the shell, not the page) with `file`, as a user
 * would: waits for its window, types the path into the location field (Ctrl+L) and presses Enter. Needs xdotool
 * (scripts/keyline-dev.sh setup installs it) and the X display the window runs on. A save dialog is answered with
 * `{ field: "ctrl+a" }`: the whole path typed over the offered file name.
 */
export async function answerOpenDialog(title, file, { timeoutMs = 20000, field = "ctrl+l" } = {}) {
  const xdotool = (...args) => run("xdotool", args, { timeout: 10000 }).then((r) => r.stdout.trim());
  let id = "";
  const deadline = Date.now() + timeoutMs;
  while (!id) {
    id = await xdotool("search", "--onlyvisible", "--name", `^${title}$`).catch(() => "");
    id = id.split("\n").filter(Boolean).pop() ?? "";
    if (!id) {
      if (Date.now() > deadline) throw new Error(`the open dialog "${title}" did not appear (is xdotool installed?)`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await xdotool("windowfocus", "--sync", id).catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 400));
  await xdotool("key", "--clearmodifiers", field);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await xdotool("type", "--delay", "5", file);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await xdotool("key", "Return");
  const gone = Date.now() + 10000;
  while ((await xdotool("search", "--onlyvisible", "--name", `^${title}$`).catch(() => "")) !== "") {
    if (Date.now() > gone) throw new Error(`the open dialog "${title}" stayed open after typing ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
