// End-to-end test of the Cloud connecting wizard in the real window (tauri-driver + WebKitWebDriver under Xvfb),
// in practice mode against the app's own ministack, up to a green connection test. Run it through
// tests/e2e/cloud.sh: ministack's MQTT listener binds every interface, so everything runs in a loopback-only
// network namespace. Each step is photographed into tests/artifacts/screenshots/cloud-*.png.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Session, waitFor } from "./webdriver.mjs";
import { Runner, assert, assertEqual, keylineJson, screenshot, startDriver, e2ePaths } from "./harness.mjs";

const { root, app, cli, driverBin, shots, logs } = e2ePaths();
const PASSPHRASE = "cloud wizard e2e passphrase";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "keyline-cloud-e2e-"));
const appEnv = {
  ...process.env,
  KEYLINE_DATA_DIR: dataDir,
  KEYLINE_PROJECT_DIR: root,
  WEBKIT_DISABLE_COMPOSITING_MODE: "1",
  WEBKIT_DISABLE_DMABUF_RENDERER: "1",
};
delete appEnv.KEYLINE_CA_PASSPHRASE;
delete appEnv.AWS_ENDPOINT_URL;
const runner = new Runner();

const step = (id) => `[data-testid="cloud-step-${id}"]`;

/** Waits until step `id` is done; fails early with the step's error card when it fails. */
async function stepDone(session, id, timeoutMs = 60000) {
  await waitFor(`step ${id} done`, async () => {
    const status = await (await session.find(step(id))).attribute("data-status");
    if (status === "failed") {
      const card = await session.findAll(`[data-testid="cloud-panel-${id}"] [data-testid="error-card"]`);
      throw new Error(`step ${id} failed: ${card.length ? await card[0].text() : "(no error card)"}`);
    }
    return status === "done";
  }, { timeoutMs, intervalMs: 250 });
}

/** Scrolls `css` into view (the log panel leaves little room at 1280×800), then photographs the window. */
async function shot(session, name, css) {
  if (css) await session.execute(`document.querySelector(${JSON.stringify(css)})?.scrollIntoView({ block: "end" })`);
  await screenshot(session, shots, name);
}

async function main() {
  console.log(`data dir ${dataDir}\napp ${app}`);
  await runner.test("the CLI creates a root and a signer CA", async () => {
    const env = { ...appEnv, KEYLINE_CA_PASSPHRASE: PASSPHRASE };
    // Practice mode keeps its own store in <data dir>/practice.
    await keylineJson(cli, ["ca", "create", "--name", "acme-root", "--org", "Acme", "--signer", "acme-signer", "--years", "5", "--data-dir", path.join(dataDir, "practice")], env);
  });

  const driver = await startDriver({ driver: driverBin, port: 4450, nativePort: 4451, env: appEnv, logFile: path.join(logs, "tauri-driver-cloud.log") });
  try {
    const session = await Session.start(driver.url, app, ["--practice"]);
    try {
      await wizard(session);
    } finally {
      await session.end().catch(() => {});
    }
  } finally {
    await driver.stop();
  }
}

async function wizard(session) {
  await runner.test("without AWS credentials the AWS target fails with what happened, the code and what to do", async () => {
    await session.click('[data-testid="nav-cloud"]');
    await session.click('[data-testid="cloud-target-aws"] input');
    await session.type('[data-testid="cloud-region"]', "eu-central-1");
    await session.click('[data-testid="cloud-connect"]');
    await waitFor("the connection step to fail", async () => (await (await session.find(step("connection"))).attribute("data-status")) === "failed", { timeoutMs: 90000, intervalMs: 250 });
    const card = '[data-testid="cloud-panel-connection"] [data-testid="error-card"]';
    const code = await session.text(`${card} [data-testid="error-code"]`);
    assert(["cloud_no_credentials", "cloud_unreachable"].includes(code.trim()), `error code ${code}`);
    assert((await session.text(`${card} [data-testid="error-hint"]`)).trim().length > 0, "the card says what to do");
    await shot(session, "cloud-1-aws-error", card);
    await session.click('[data-testid="cloud-target-emulator"] input');
    assertEqual(await (await session.find(step("connection"))).attribute("data-status"), "pending", "switching target starts over");
  });

  await runner.test("practice mode preselects the emulator, and the identity is flagged as not AWS", async () => {
    await session.click('[data-testid="nav-cloud"]');
    await session.waitFor('[data-testid="screen-cloud"]');
    assertEqual(await (await session.find('[data-testid="cloud-step-connection"]')).attribute("data-status"), "pending", "first step pending");
    await screenshot(session, shots, "cloud-1-connection");
    await waitFor("the practice emulator to run", async () => {
      const state = await (await session.find('[data-testid="cloud-practice-emulator"]')).attribute("data-state").catch(() => null);
      if (state === "failed" || state === "notInstalled") throw new Error(`emulator ${state}: ${await session.text('[data-testid="cloud-panel-connection"]')}`);
      return state === "running";
    }, { timeoutMs: 120000, intervalMs: 500 });
    await session.click('[data-testid="cloud-connect"]');
    await stepDone(session, "connection");
    assert((await session.text('[data-testid="cloud-emulator-flag"]')).includes("Local emulator"), "emulator flagged in the bar");
    assert(/^\d{12}$/.test((await session.text('[data-testid="cloud-account"]')).trim()), "12-digit account");
    await screenshot(session, shots, "cloud-1-connection-done");
  });

  await runner.test("the signer CA is preselected and looked up: not registered yet", async () => {
    await stepDone(session, "ca");
    await session.click(step("ca"));
    assertEqual(await (await session.find('[data-testid="cloud-ca"]')).attribute("value"), "acme-signer", "signer preselected");
    assert((await session.text('[data-testid="cloud-ca-registration"]')).includes("Not registered"), "not registered yet");
    await screenshot(session, shots, "cloud-2-ca");
  });

  await runner.test("the registration code and verification certificate need the CA unlocked", async () => {
    await session.click(step("verification"));
    await session.click('[data-testid="cloud-verification-fetch"]');
    await session.waitFor('[data-testid="unlock-dialog"]', 30000);
    await screenshot(session, shots, "cloud-3-unlock");
    await session.type('[data-testid="unlock-passphrase"]', PASSPHRASE);
    await session.click('[data-testid="unlock-submit"]');
    await session.waitGone('[data-testid="unlock-dialog"]', 30000);
    await stepDone(session, "verification");
    await session.click(step("verification"));
    assert(/^[0-9a-f]{64}$/.test((await session.text('[data-testid="cloud-registration-code"]')).trim()), "64-hex registration code");
    const pem = await session.execute('return document.querySelector("[data-testid=cloud-verification-pem]").value');
    assert(pem.startsWith("-----BEGIN CERTIFICATE-----"), "verification certificate PEM shown");
    await screenshot(session, shots, "cloud-3-verification");
  });

  await runner.test("registering the CA makes it ACTIVE with auto-registration", async () => {
    await session.click(step("register"));
    await session.click('[data-testid="cloud-register"]');
    await stepDone(session, "register");
    await session.click(step("register"));
    const outcome = await session.text('[data-testid="cloud-registration"]');
    assert(outcome.includes("ACTIVE") && outcome.includes("ENABLE"), `registration: ${outcome}`);
    await screenshot(session, shots, "cloud-4-register");
  });

  await runner.test("deploying JITR with the allow-list leaves every piece healthy", async () => {
    await session.click(step("deploy"));
    await session.waitFor('[data-testid="cloud-stack"]', 30000);
    await shot(session, "cloud-5-deploy-before", '[data-testid="cloud-stack"]');
    await session.click('[data-testid="cloud-deploy"]');
    await stepDone(session, "deploy", 120000);
    await session.click(step("deploy"));
    const health = await session.execute('return [...document.querySelectorAll("[data-testid=cloud-piece]")].map((r) => r.dataset.health)');
    assert(health.length >= 7 && health.every((h) => h === "ok"), `piece health: ${health}`);
    await shot(session, "cloud-5-deploy", '[data-testid="cloud-stack"]');
  });

  await runner.test("serials typed by hand land on the allow-list", async () => {
    await session.click(step("allowList"));
    await session.type('[data-testid="cloud-serials-input"]', "0123456789ABCDEF01, 0123456789ABCDEF02");
    await session.click('[data-testid="cloud-serials-add"]');
    await stepDone(session, "allowList");
    await session.click(step("allowList"));
    assert((await session.text('[data-testid="cloud-serial-count"]')).includes("2 serial"), "two serials listed");
    await shot(session, "cloud-6-allow-list", '[data-testid="cloud-serial-count"]');
  });

  await runner.test("the connection test is turned away by JITR first, then publishes and receives", async () => {
    await session.click(step("test"));
    await session.click('[data-testid="cloud-test-run"]');
    await session.waitFor('[data-testid="cloud-phase"]', 30000);
    await screenshot(session, shots, "cloud-7-test-running");
    await stepDone(session, "test", 120000);
    await session.click(step("test"));
    assert((await session.text('[data-testid="cloud-test-passed"]')).includes("connected, published and received"), "green result");
    const phases = await session.execute('return [...document.querySelectorAll("[data-testid=cloud-phase]")].map((r) => `${r.dataset.key}:${r.dataset.state}`)');
    assert(phases.includes("attempt:refused"), `first attempt turned away: ${phases}`);
    assertEqual(phases[phases.length - 1], "roundTrip:done", "ends with publish and receive");
    await shot(session, "cloud-7-test", '[data-testid="cloud-phases"]');
  });
}

main()
  .catch((error) => {
    console.log(`FAIL setup\n  ${error.stack ?? error}`);
    runner.failed += 1;
  })
  .finally(() => process.exit(runner.summary() ? 0 : 1));
