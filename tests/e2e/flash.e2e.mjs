// End-to-end test of the Flash tool in the real window (tauri-driver + WebKitWebDriver under Xvfb), in practice mode:
// a partition table and an app are chosen in the native open dialog (answered with xdotool, as a user types a path),
// each is checked (a corrupt app is refused first), then both are flashed into simulated board 1 with a byte bar,
// throughput and ETA, and the simulated flash (<store>/sim/board-0/flash.bin) holds them at their offsets.
// Run it through tests/e2e/flash.sh. Screenshots go to tests/artifacts/screenshots/flash-*.png and docs/screenshots/.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Session, sleep, waitFor } from "./webdriver.mjs";
import { Runner, answerOpenDialog, assert, assertEqual, docScreenshot, practiceEnv, screenshot, startDriver, e2ePaths } from "./harness.mjs";
import { espImage } from "./esp_image.mjs";

const { root, app, driverBin, shots, logs } = e2ePaths();
const dataDir = mkdtempSync(path.join(os.tmpdir(), "keyline-flash-e2e-"));
const work = mkdtempSync(path.join(os.tmpdir(), "keyline-flash-e2e-files-"));
const appEnv = practiceEnv(dataDir, root);
const storeDir = path.join(dataDir, "practice");
const runner = new Runner();
const shot = (session, name) => docScreenshot(session, shots, root, name);
const DIALOG = "Choose an image to flash";

/** An ESP-IDF partition table: nvs, phy_init, factory (256 KiB at 0x10000), then its MD5 entry, 0xFF to 0xC00. */
function partitionTable() {
  const entries = [
    ["nvs", 1, 2, 0x9000, 0x6000],
    ["phy_init", 1, 1, 0xf000, 0x1000],
    ["factory", 0, 0, 0x10000, 0x40000],
  ].map(([label, type, subtype, offset, size]) => {
    const e = Buffer.alloc(32);
    e[0] = 0xaa;
    e[1] = 0x50;
    e[2] = type;
    e[3] = subtype;
    e.writeUInt32LE(offset, 4);
    e.writeUInt32LE(size, 8);
    e.write(label, 12, "latin1");
    return e;
  });
  const body = Buffer.concat(entries);
  const md5 = Buffer.concat([Buffer.from([0xeb, 0xeb]), Buffer.alloc(14, 0xff), createHash("md5").update(body).digest()]);
  const table = Buffer.alloc(0xc00, 0xff);
  Buffer.concat([body, md5]).copy(table);
  return table;
}

async function selectValue(session, css, value) {
  await session.execute(
    "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
    [css, value],
  );
}

async function addImage(session, file) {
  const before = (await session.findAll('[data-testid="flash-image"]')).length;
  await session.click('[data-testid="flash-add-image"]');
  await answerOpenDialog(DIALOG, file);
  await waitFor("the picked image's row", async () => (await session.findAll('[data-testid="flash-image"]')).length === before + 1, { timeoutMs: 10000 });
}

async function setOffset(session, name, offset) {
  const input = `[data-testid="flash-image"][data-name="${name}"] [data-testid="flash-offset"]`;
  await session.type(input, offset);
}

async function checkState(session, name) {
  return (await session.find(`[data-testid="flash-image"][data-name="${name}"] [data-testid="flash-image-check"]`)).attribute("data-state");
}

async function main() {
  console.log(`data dir ${dataDir}\napp ${app}`);
  const table = partitionTable();
  const image = espImage("flash-e2e", "1.2.3", 200_000);
  const corrupt = Buffer.from(image);
  corrupt[corrupt.length - 1] ^= 0x40; // the appended SHA-256 no longer matches
  const files = { table: path.join(work, "partition-table.bin"), app: path.join(work, "product.bin"), corrupt: path.join(work, "product-corrupt.bin") };
  writeFileSync(files.table, table);
  writeFileSync(files.app, image);
  writeFileSync(files.corrupt, corrupt);

  const driver = await startDriver({ driver: driverBin, port: 4480, nativePort: 4481, env: appEnv, logFile: path.join(logs, "tauri-driver-flash.log") });
  try {
    const session = await Session.start(driver.url, app, ["--practice"]);
    try {
      await flashTool(session, files, table, image);
    } finally {
      await session.end().catch(() => {});
    }
  } finally {
    await driver.stop();
  }
  process.exit(runner.summary() ? 0 : 1);
}

async function flashTool(session, files, table, image) {
  await runner.test("the Flash tool lists simulated board 1 as a port", async () => {
    await session.click('[data-testid="nav-flash"]');
    await session.waitFor('[data-testid="screen-flash"]');
    await waitFor("simulated board 1 in the port list", async () => (await session.text('[data-testid="flash-port"]')).includes("Simulated board 1"), { timeoutMs: 30000 });
    const list = JSON.parse(readFileSync(path.join(storeDir, "sim/boards.json"), "utf8"));
    await selectValue(session, '[data-testid="flash-port"]', list[0].path);
    await selectValue(session, '[data-testid="flash-baud"]', "921600");
  });

  await runner.test("images chosen in the open dialog are checked: a corrupt app is refused before anything is written", async () => {
    await addImage(session, files.table);
    await setOffset(session, "partition-table.bin", "0x8000");
    await addImage(session, files.corrupt);
    await setOffset(session, "product-corrupt.bin", "0x10000");
    await waitFor("the corrupt app refused", async () => (await checkState(session, "product-corrupt.bin")) === "refused", { timeoutMs: 10000 });
    const why = await session.text('[data-testid="flash-image"][data-name="product-corrupt.bin"] [data-testid="flash-image-refusal"]');
    assert(why.includes("SHA-256") && why.includes("flash_bad_image"), `the refusal: ${why}`);
    const start = await session.find('[data-testid="flash-start"]');
    assertEqual(await start.property("disabled"), true, "Flash is disabled while an image is refused");
    await shot(session, "flash-refused");
    await session.click('[data-testid="flash-image"][data-name="product-corrupt.bin"] [data-testid="flash-remove"]');
  });

  await runner.test("the good app is checked valid: app, chip, version, against the factory partition", async () => {
    await addImage(session, files.app);
    await setOffset(session, "product.bin", "0x10000");
    await waitFor("both images valid", async () => (await checkState(session, "product.bin")) === "valid" && (await checkState(session, "partition-table.bin")) === "valid", { timeoutMs: 10000 });
    const row = await session.text('[data-testid="flash-image"][data-name="product.bin"]');
    assert(row.includes("app") && row.includes("esp32") && row.includes("v1.2.3"), `the app's check: ${row}`);
    await session.waitFor('[data-testid="flash-plan-ready"]', 10000);
    await shot(session, "flash-ready");
  });

  await runner.test("flashing shows byte progress and ends PASS, and the simulated flash holds both images", async () => {
    await session.click('[data-testid="flash-start"]');
    await session.waitFor('[data-testid="flash-run"]', 10000);
    let midShot = false;
    await waitFor("the write to finish", async () => {
      const state = await (await session.find('[data-testid="flash-run"]')).attribute("data-state");
      if (state === "fail") throw new Error(`the write failed: ${await session.text('[data-testid="flash-run"]')}`);
      const bar = await session.find('[data-testid="flash-run"] [role="progressbar"]');
      if (!midShot && state === "working" && Number(await bar.attribute("aria-valuenow")) >= 20) {
        midShot = true;
        await session.reveal(await session.find('[data-testid="flash-run"]'));
        await shot(session, "flash-writing");
      }
      return state === "pass";
    }, { timeoutMs: 120000, intervalMs: 200 }).catch(async (error) => {
      await screenshot(session, shots, "flash-failed");
      throw error;
    });
    const bytes = await session.text('[data-testid="flash-bytes"]');
    assert(bytes.includes("(100 %)"), `the byte counter: ${bytes}`);
    const outcome = await session.text('[data-testid="flash-outcome"]');
    assert(outcome.includes("esp32") && outcome.includes("read back equal"), `the result: ${outcome}`);
    await session.reveal(await session.find('[data-testid="flash-run"]'));
    await sleep(300);
    await shot(session, "flash-verified");
    const flash = path.join(storeDir, "sim/board-0/flash.bin");
    assert(existsSync(flash), `the simulated flash ${flash}`);
    const stored = readFileSync(flash);
    assert(stored.subarray(0x8000, 0x8000 + table.length).equals(table), "the partition table at 0x8000");
    assert(stored.subarray(0x10000, 0x10000 + image.length).equals(image), "the app at 0x10000");
  });

  await runner.test("the RAM-load helper mode asks for the helper image", async () => {
    await session.click('[data-testid="flash-mode-ram"]');
    await session.waitFor('[data-testid="flash-choose-helper"]');
    await shot(session, "flash-ram-mode");
  });
}

main().catch((error) => {
  console.error(error);
  console.log("E2E: 0 passed, 1 failed");
  process.exit(1);
});
