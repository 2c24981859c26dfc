// End-to-end test of the Factory line and Devices screens in the real window (tauri-driver + WebKitWebDriver under
// Xvfb), in practice mode: a shift on the simulated boards, every card reaches PASS, then the devices are found on
// the Devices screen and one device page is opened; a shift that flashes a product image; a shift in RAM-load mode
// on new simulated esp-helper boards, the published helper loaded into each. Run it through tests/e2e/line.sh. Screenshots go to
// tests/artifacts/screenshots/line-*.png and, for the README, docs/screenshots/.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Session, waitFor } from "./webdriver.mjs";
import { espImage, mergedImage, publishedHelper } from "./esp_image.mjs";
import { Runner, answerOpenDialog, assert, assertEqual, docScreenshot, keylineJson, practiceEnv, startDriver, e2ePaths, unlockCa } from "./harness.mjs";

const { root, app, cli, driverBin, shots, logs } = e2ePaths();
const PASSPHRASE = "factory line e2e passphrase";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "keyline-line-e2e-"));
const appEnv = practiceEnv(dataDir, root);
const runner = new Runner();
const shot = (session, name) => docScreenshot(session, shots, root, name);

async function cardStates(session) {
  const cards = await session.findAll('[data-testid="board-card"]');
  return Promise.all(cards.map((card) => card.attribute("data-status")));
}

/** Opens the Factory line's shift set-up; a screen still locked from the last shift is unlocked, a deliberate action. */
async function openShiftSetup(session) {
  await session.click('[data-testid="nav-factory"]');
  await session.waitFor('[data-testid="screen-factory"]');
  if ((await session.findAll('[data-testid="unlock"]')).length) {
    await session.click('[data-testid="unlock"]');
    await session.click('[data-testid="confirm-unlock"]');
  }
  await session.waitFor('[data-testid="shift-setup"]');
}

/** Picks `value` in the select `css` as an operator would (one change event). */
async function choose(session, css, value) {
  await session.waitFor(css);
  await session.execute(`const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event("change", { bubbles: true }));`, [css, value]);
}

/** The state of every card's byte bar for `step`. */
async function byteBars(session, step) {
  const bars = await session.findAll(`[data-testid="byte-progress"][data-step="${step}"]`);
  return Promise.all(bars.map((bar) => bar.attribute("data-state")));
}

/** Waits until the `ports` cards are PASS and their `step` byte bars done; fails at once with a failed card's text. */
async function everyCardPassed(session, ports, step) {
  await waitFor(`every card PASS with its ${step} done`, async () => {
    const states = await cardStates(session);
    if (states.includes("fail")) throw new Error(`a board failed: ${await session.text('[data-testid="card-failure"]')}`);
    const bars = await byteBars(session, step);
    return states.length === ports && states.every((s) => s === "pass") && bars.length === ports && bars.every((s) => s === "done");
  }, { timeoutMs: 180000, intervalMs: 500 });
  for (const bar of await session.findAll(`[data-testid="byte-progress"][data-step="${step}"] progress`)) {
    assertEqual(await bar.attribute("value"), await bar.attribute("max"), `the ${step} byte bar is full`);
  }
  for (const bar of await session.findAll(`[data-testid="byte-progress"][data-step="${step}"]`)) {
    assert((await bar.text()).includes("KiB/s"), `the ${step} throughput shows`);
  }
}

async function main() {
  console.log(`data dir ${dataDir}\napp ${app}`);
  await runner.test("the CLI creates a root and a signer CA", async () => {
    const env = { ...appEnv, KEYLINE_CA_PASSPHRASE: PASSPHRASE };
    // Practice mode keeps its own store in <data dir>/practice.
    await keylineJson(cli, ["ca", "create", "--name", "line-root", "--org", "Acme", "--signer", "line-signer", "--years", "5", "--data-dir", path.join(dataDir, "practice")], env);
  });
  const driver = await startDriver({ driver: driverBin, port: 4460, nativePort: 4461, env: appEnv, logFile: path.join(logs, "tauri-driver-line.log") });
  try {
    const session = await Session.start(driver.url, app, ["--practice"]);
    try {
      await shift(session);
    } finally {
      await session.end().catch(() => {});
    }
  } finally {
    await driver.stop();
  }
  process.exit(runner.summary() ? 0 : 1);
}

async function shift(session) {
  await runner.test("the signer CA is unlocked in the window", async () => {
    await unlockCa(session, "line-signer", PASSPHRASE);
  });

  let ports = 0;
  await runner.test("each simulated board gets a card, and a shift takes every card to PASS", async () => {
    await session.click('[data-testid="nav-factory"]');
    await session.waitFor('[data-testid="screen-factory"]');
    await waitFor("cards for the simulated boards", async () => (await cardStates(session)).length > 0, { timeoutMs: 60000, intervalMs: 500 });
    ports = (await cardStates(session)).length;
    assert((await cardStates(session)).every((s) => s === "waiting"), "cards wait before the shift");
    assert((await session.text('[data-testid="board-card"]')).includes("Simulated"), "a simulated board says so");
    await session.click('[data-testid="start-shift"]');
    await session.waitFor('[data-testid="shift-summary"]');
    assert((await session.text('[data-testid="shift-summary"]')).includes("line-signer"), "the summary bar shows the locked CA");
    await waitFor("a card at work", async () => (await cardStates(session)).some((s) => s === "working" || s === "pass"), { timeoutMs: 30000, intervalMs: 100 });
    await shot(session, "line-factory-mid-shift");
    await waitFor("every card PASS", async () => {
      const states = await cardStates(session);
      if (states.includes("fail")) throw new Error(`a board failed: ${await session.text('[data-testid="card-failure"]')}`);
      return states.length === ports && states.every((s) => s === "pass");
    }, { timeoutMs: 180000, intervalMs: 500 });
    assertEqual((await session.text('[data-testid="count-passed"]')).trim(), String(ports), "passed counter");
    assertEqual((await session.text('[data-testid="count-failed"]')).trim(), "0", "failed counter");
    await shot(session, "line-factory-passed");
  });

  await runner.test("a card's serial log shows both directions", async () => {
    await session.click('[data-testid="open-log"]');
    const log = await session.text('[data-testid="serial-log"]');
    assert(log.includes("→") && log.includes("←"), "both directions in the log");
    await session.click('[data-testid="serial-log"] button.primary');
    await session.click('[data-testid="stop-shift"]');
  });

  let serial = "";
  await runner.test("the provisioned devices are on the Devices screen, and a device page shows its certificate", async () => {
    serial = (await session.text('[data-testid="card-serial"]')).trim();
    await session.click('[data-testid="nav-devices"]');
    await session.waitFor('[data-testid="screen-devices"]');
    await waitFor("the devices", async () => (await session.text('[data-testid="device-total"]')).startsWith(`${ports} device`), { timeoutMs: 15000 });
    await session.type('[data-testid="device-search"]', serial.slice(0, 12));
    await session.click('[data-testid="device-search-go"]');
    await waitFor("the search", async () => (await session.findAll('[data-testid="device-row"]')).length >= 1, { timeoutMs: 15000 });
    await shot(session, "line-devices");
    await session.click('[data-testid="device-row"]');
    await session.waitFor('[data-testid="device-page"]');
    await waitFor("the device", async () => (await session.text('[data-testid="device-status-value"]').catch(() => "")) === "verified", { timeoutMs: 15000 });
    assert((await session.text('[data-testid="device-timeline"]')).length > 0, "a timeline");
    await shot(session, "line-device-page");
  });

  await runner.test("a shift with a product image flashes the verified boards: each card's flash step reaches PASS with a byte bar", async () => {
    const product = path.join(mkdtempSync(path.join(os.tmpdir(), "keyline-line-e2e-fw-")), "product-merged.bin");
    writeFileSync(product, mergedImage(espImage("product", "3.1.0", 120_000)));
    await openShiftSetup(session);
    // The shell opens the native open dialog; it is answered as an operator would, by typing the path.
    await session.click('[data-testid="add-product-image"]');
    await answerOpenDialog("Choose an image to flash", product);
    await waitFor("the picked image", async () => (await session.findAll('[data-testid="product-image"]')).length === 1, { timeoutMs: 20000 });
    assert((await session.text('[data-testid="product-image"]')).includes("product-merged.bin"), "the image is listed");
    await shot(session, "line-factory-firmware-setup");
    await session.click('[data-testid="start-shift"]');
    await session.waitFor('[data-testid="shift-summary"]');
    assert((await session.text('[data-testid="summary-product"]')).includes("product-merged.bin@0x0"), "the summary bar shows the product image");
    await waitFor("a product flash under way", async () => (await byteBars(session, "product_flash")).some((s) => s === "running" || s === "done"), { timeoutMs: 60000, intervalMs: 100 });
    await shot(session, "line-factory-product-flash");
    await everyCardPassed(session, ports, "product_flash");
    await shot(session, "line-factory-product-flashed");
    await session.click('[data-testid="stop-shift"]');
  });

  await runner.test("a shift in RAM-load mode on new esp-helper boards loads the published helper into each (byte bar full) and every card reaches PASS", async () => {
    const helper = publishedHelper(root);
    // New boards on the bench: the simulated boards stop, their chips go, and esp-helper boards with blank chips start.
    await session.click('[data-testid="nav-settings"]');
    await session.waitFor('[data-testid="practice-boards"]');
    await session.click('[data-testid="boards-stop"]');
    await waitFor("the boards stopped", async () => (await session.findAll('[data-testid="board-row"]')).length === 0, { timeoutMs: 20000 });
    const simDir = path.join(dataDir, "practice", "sim");
    for (const entry of readdirSync(simDir)) if (entry.startsWith("board-")) rmSync(path.join(simDir, entry), { recursive: true, force: true });
    await choose(session, '[data-testid="boards-firmware"]', "esp-helper");
    await session.click('[data-testid="boards-start"]');
    await waitFor("the esp-helper boards", async () => {
      const rows = await session.findAll('[data-testid="board-row"]');
      const texts = await Promise.all(rows.map((row) => row.text()));
      return texts.length === ports && texts.every((text) => text.includes("Espressif helper"));
    }, { timeoutMs: 30000, intervalMs: 300 });

    await openShiftSetup(session);
    await waitFor("a waiting card per new board", async () => {
      const states = await cardStates(session);
      return states.length === ports && states.every((s) => s === "waiting");
    }, { timeoutMs: 30000, intervalMs: 300 });
    await choose(session, '[data-testid="setup-firmware"]', "esp-helper");
    while ((await session.findAll('[data-testid="product-image"] button')).length) await session.click('[data-testid="product-image"] button');
    await session.click('[data-testid="pick-helper"]');
    await answerOpenDialog("Choose the helper to load into RAM", helper);
    await waitFor("the picked helper", async () => (await session.text('[data-testid="helper-file"]')).includes("secure_cert_mfg_esp32.bin"), { timeoutMs: 20000 });
    assert((await session.text('[data-testid="helper-file"]')).includes("esp32"), "the helper is described with its chip");
    await shot(session, "line-factory-ram-load-setup");
    await session.click('[data-testid="start-shift"]');
    await session.waitFor('[data-testid="shift-summary"]');
    await waitFor("a RAM load under way", async () => (await byteBars(session, "load_firmware")).some((s) => s === "running" || s === "done"), { timeoutMs: 60000, intervalMs: 100 });
    await shot(session, "line-factory-ram-loading");
    await everyCardPassed(session, ports, "load_firmware");
    assertEqual((await session.text('[data-testid="count-failed"]')).trim(), "0", "failed counter");
    await shot(session, "line-factory-ram-loaded");
    await session.click('[data-testid="stop-shift"]');
  });
}

main().catch((error) => {
  console.error(error);
  console.log("E2E: 0 passed, 1 failed");
  process.exit(1);
});
