// End-to-end test of the OTA screen in the real window (tauri-driver + WebKitWebDriver under Xvfb), in practice
// mode: the CLI makes the CAs and a Secure Boot v2 key and provisions a simulated board; the app (practice mode)
// starts that board again and, when the embedded server starts, boots a simulated bootloader for it with its chip's
// key and ledger certificate. From the OTA screen the image is inspected, signed and pushed until the device
// reports updatecompleted, and the simulated flash holds exactly what was uploaded. Run it through tests/e2e/ota.sh.
// Screenshots go to tests/artifacts/screenshots/ota-*.png and, for the README, docs/screenshots/.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Session, sleep, waitFor } from "./webdriver.mjs";
import { Runner, answerOpenDialog, assert, assertEqual, docScreenshot, keylineJson, practiceEnv, screenshot, startDriver, e2ePaths, unlockCa } from "./harness.mjs";
import { espImage } from "./esp_image.mjs";

const { root, app, cli, driverBin, shots, logs } = e2ePaths();
const PASSPHRASE = "ota screen e2e passphrase";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "keyline-ota-e2e-"));
const work = mkdtempSync(path.join(os.tmpdir(), "keyline-ota-e2e-files-"));
const appEnv = practiceEnv(dataDir, root);
// Practice mode keeps its own store in <data dir>/practice: the CLI works there too, so the app sees its CAs and boards.
const storeDir = path.join(dataDir, "practice");
const cliEnv = { ...appEnv, KEYLINE_CA_PASSPHRASE: PASSPHRASE };
const runner = new Runner();
const shot = (session, name) => docScreenshot(session, shots, root, name);

/** `keyline sim` with one instant board in the data directory, until provisioned; returns the device serial. */
async function provisionSimulatedBoard() {
  const sim = spawn(cli, ["sim", "--boards", "1", "--timing", "instant", "--derive-templates", "--data-dir", storeDir], { env: appEnv, stdio: ["ignore", "pipe", "pipe"] });
  const output = [];
  sim.stdout.on("data", (c) => output.push(c.toString()));
  sim.stderr.on("data", (c) => output.push(c.toString()));
  const list = path.join(storeDir, "sim/boards.json");
  try {
    await waitFor("the simulated board", async () => existsSync(list), { timeoutMs: 20000 });
    const [board] = JSON.parse(readFileSync(list, "utf8"));
    const result = await keylineJson(cli, ["provision", "--port", board.path, "--firmware", "rainbowtype", "--ca", "ota-signer", "--data-dir", storeDir], cliEnv);
    const serial = JSON.stringify(result).match(/"serial":"([0-9a-f]{18})"/)?.[1];
    assert(serial, `a serial in ${JSON.stringify(result)}`);
    return serial;
  } finally {
    sim.kill("SIGINT");
    await waitFor("keyline sim to stop", async () => sim.exitCode !== null || sim.signalCode !== null, { timeoutMs: 10000 }).catch(() => sim.kill("SIGKILL"));
    writeFileSync(path.join(logs, "ota-sim.log"), output.join(""));
  }
}

async function main() {
  console.log(`data dir ${dataDir}\napp ${app}`);
  let serial = "";
  const imageFile = path.join(work, "blink.bin");
  const keyFile = path.join(work, "sb.key");
  await runner.test("the CLI makes the CAs and a signing key, and provisions a simulated board", async () => {
    await keylineJson(cli, ["ca", "create", "--name", "ota-root", "--org", "Acme", "--signer", "ota-signer", "--years", "5", "--data-dir", storeDir], cliEnv);
    await keylineJson(cli, ["ota", "key", "create", "-o", keyFile, "--data-dir", storeDir], cliEnv);
    writeFileSync(imageFile, espImage("blink", "2.4.0", 180_000));
    serial = await provisionSimulatedBoard();
  });
  const driver = await startDriver({ driver: driverBin, port: 4470, nativePort: 4471, env: appEnv, logFile: path.join(logs, "tauri-driver-ota.log") });
  try {
    const session = await Session.start(driver.url, app, ["--practice"]);
    try {
      await otaScreen(session, serial, imageFile, keyFile);
    } finally {
      await session.end().catch(() => {});
    }
  } finally {
    await driver.stop();
  }
  process.exit(runner.summary() ? 0 : 1);
}

async function otaScreen(session, serial, imageFile, keyFile) {
  await runner.test("the signer CA is unlocked in the window", async () => {
    await unlockCa(session, "ota-signer", PASSPHRASE);
  });

  await runner.test("the embedded server starts, and the provisioned simulated board appears in the live device list", async () => {
    await session.click('[data-testid="nav-ota"]');
    await session.waitFor('[data-testid="screen-ota"]');
    await session.type('[data-testid="ota-listen"]', "127.0.0.1:0");
    await session.click('[data-testid="ota-server-start"]');
    await waitFor("the server running", async () => (await session.text('[data-testid="ota-server-state"]')).includes("Running"), { timeoutMs: 30000 });
    assert((await session.text('[data-testid="ota-server-url"]')).startsWith("https://127.0.0.1:"), "the server URL");
    await session.waitFor('[data-testid="ota-sim-devices"]', 15000);
    await session.waitFor(`[data-testid="ota-device-row"][data-serial="${serial}"]`, 30000);
    const row = await session.text(`[data-testid="ota-device-row"][data-serial="${serial}"]`);
    assert(row.includes("idle") && row.includes("provisioned here") && row.includes("s ago"), `the device row: ${row}`);
  });

  await runner.test("the image is inspected: project, version, chip and unsigned", async () => {
    // The shell opens the native open dialog; the page only gets a handle and the file name.
    await session.click('[data-testid="ota-choose-image"]');
    await answerOpenDialog("Choose an app image", imageFile);
    await session.waitFor('[data-testid="ota-image-report"]', 15000);
    assertEqual(await session.text('[data-testid="ota-image-name"]'), path.basename(imageFile), "the chosen file's name");
    assertEqual(await session.text('[data-testid="ota-image-project"]'), "blink", "project");
    assertEqual(await session.text('[data-testid="ota-image-version"]'), "2.4.0", "version");
    const signed = await (await session.find('[data-testid="ota-image-signed"]')).attribute("data-signed");
    assertEqual(signed, "unsigned", "signature state");
    await session.click('[data-testid="ota-choose-key"]');
    await answerOpenDialog("Choose the signing key", keyFile);
    await waitFor("the chosen key", async () => (await session.text('[data-testid="ota-sign-key-name"]')) === path.basename(keyFile), { timeoutMs: 10000 });
    await session.type('[data-testid="ota-sign-passphrase"]', PASSPHRASE);
    await session.click(`[data-testid="ota-device-row"][data-serial="${serial}"] input`);
    await shot(session, "ota-ready");
  });

  await runner.test("a push signs, uploads with byte progress and follows the device to COMPLETED", async () => {
    await session.click('[data-testid="ota-push-start"]');
    await session.waitFor('[data-testid="ota-push"]', 10000);
    let midShot = false;
    await waitFor("the push to complete", async () => {
      const phase = await (await session.find('[data-testid="ota-push"]')).attribute("data-phase");
      if (phase === "failed") throw new Error(`the push failed: ${await session.text('[data-testid="ota-push-error"]')}`);
      if (!midShot && (phase === "requested" || phase === "accepted")) {
        midShot = true;
        await session.reveal(await session.find('[data-testid="ota-push"]'));
        await shot(session, "ota-pushing");
      }
      return phase === "completed";
    }, { timeoutMs: 90000, intervalMs: 200 }).catch(async (error) => {
      await screenshot(session, shots, "ota-failed");
      throw new Error(`${error.message}\n${await session.text('[data-testid="screen-ota"]')}`);
    });
    assert((await session.text('[data-testid="ota-push-verdict"]')).includes("COMPLETED"), "the verdict word");
    const bytes = await session.text('[data-testid="ota-push-bytes"]');
    assert(bytes.includes("(100 %)"), `the byte counter: ${bytes}`);
    const steps = await session.findAll('[data-testid="ota-step"]');
    const tones = await Promise.all(steps.map((s) => s.attribute("data-tone")));
    assertEqual(tones, ["pass", "pass", "pass", "pass"], "every step done");
    // The simulated device's ota_0 holds exactly the uploaded (signed) image.
    const report = await session.text('[data-testid="ota-push-report"]');
    const sha = report.match(/[0-9a-f]{64}/)?.[0];
    assert(sha, `a SHA-256 in ${report}`);
    let simText = "";
    await waitFor("the simulated flash", async () => (simText = await session.text('[data-testid="ota-sim-devices"]')).includes(sha.slice(0, 16)), { timeoutMs: 10000 }).catch((error) => {
      throw new Error(`${error.message}: the panel says "${simText}", the push report "${report}"`);
    });
    await waitFor("the device idle again", async () => (await session.text(`[data-testid="ota-device-row"][data-serial="${serial}"]`)).includes("idle"), { timeoutMs: 10000 });
    await session.reveal(await session.find('[data-testid="ota-push"]'));
    await sleep(300);
    await shot(session, "ota-completed");
  });
}

main().catch((error) => {
  console.error(error);
  console.log("E2E: 0 passed, 1 failed");
  process.exit(1);
});
