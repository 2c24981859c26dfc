// End-to-end test of the real Keyline window (tauri-driver + WebKitWebDriver under Xvfb):
// CAs made with the CLI show in the window, CAs made in the window show in the CLI, and
// every screen is photographed into tests/artifacts/screenshots/.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Session, waitFor } from "./webdriver.mjs";
import { Runner, assert, assertEqual, freePort, keylineJson, screenshot, startDriver, e2ePaths } from "./harness.mjs";
import { custodyTests, softHsm } from "./custody_window.mjs";

const { root, app, cli, driverBin, shots, logs } = e2ePaths();

const dataDir = mkdtempSync(path.join(os.tmpdir(), "keyline-e2e-"));
// A SoftHSM2 token of this run, seen by the window and the CLI alike.
const hsm = softHsm();
const CLI_PASSPHRASE = "cli passphrase for e2e";
const GUI_PASSPHRASE = "gui passphrase for e2e";

// The window gets no passphrase from the environment: the UI must supply it.
const appEnv = { ...process.env, KEYLINE_DATA_DIR: dataDir, SOFTHSM2_CONF: hsm.conf, WEBKIT_DISABLE_COMPOSITING_MODE: "1", WEBKIT_DISABLE_DMABUF_RENDERER: "1" };
delete appEnv.KEYLINE_CA_PASSPHRASE;
delete appEnv.KEYLINE_PRACTICE;
const cliEnv = { ...appEnv, KEYLINE_CA_PASSPHRASE: CLI_PASSPHRASE };

const runner = new Runner();
const list = async () => {
  const out = await keylineJson(cli, ["ca", "list", "--data-dir", dataDir], cliEnv);
  return Array.isArray(out) ? out : out.cas;
};
const item = (name) => `[data-testid="ca-item"][data-ca-name="${name}"]`;

async function withDriver(name, body, extraEnv = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  const env = { ...appEnv, ...extraEnv };
  const driver = await startDriver({ driver: driverBin, port, nativePort, env, logFile: path.join(logs, `tauri-driver-${name}.log`) });
  try {
    await body(driver);
  } finally {
    await driver.stop();
  }
}

async function main() {
  console.log(`data dir ${dataDir}\napp ${app}\ncli ${cli}`);
  await runner.test("the CLI creates a root and signer CA before the window starts", async () => {
    await keylineJson(cli, ["ca", "create", "--name", "cli-root", "--org", "Keyline CLI", "--signer", "cli-signer", "--years", "5", "--data-dir", dataDir], cliEnv);
    const names = (await list()).map((ca) => ca.name).sort();
    assertEqual(names, ["cli-root", "cli-signer"], "CLI list after CLI create");
  });

  await withDriver("window", async (driver) => {
    const session = await Session.start(driver.url, app);
    try {
      await windowTests(session);
    } finally {
      await session.end().catch(() => {});
    }
  });

  // The practice session also runs under a dark GTK theme: the UI follows the OS theme.
  await withDriver("practice", async (driver) => {
    const session = await Session.start(driver.url, app, ["--practice"]);
    try {
      await runner.test("a dark OS theme gives the dark palette, and the log panel loads the lines logged before the window", async () => {
        // Practice mode has its own store (<data dir>/practice): the production CAs made above are not listed.
        await session.waitFor('[data-testid="ca-empty"], [data-testid="ca-list"]');
        assertEqual((await session.findAll(item("gui-root"))).length, 0, "production CAs in practice mode");
        const [dark, background] = await session.execute(
          `return [matchMedia("(prefers-color-scheme: dark)").matches, getComputedStyle(document.body).backgroundColor]`,
        );
        assert(dark, "prefers-color-scheme: dark under GTK_THEME=Adwaita:dark");
        assertEqual(background, "rgb(18, 22, 28)", "dark background");
        await waitFor("the start-up line from get_logs", async () => {
          const lines = await session.findAll('[data-testid="log-line"]');
          for (const line of lines) if ((await line.text()).includes("Keyline started")) return true;
          return false;
        });
        await screenshot(session, shots, "certificate-authorities-dark");
      });
      await runner.test("practice mode shows the persistent banner", async () => {
        const banner = await session.text('[data-testid="practice-banner"]');
        const practiceDir = path.join(dataDir, "practice");
        assertEqual(banner.trim(), `Practice mode: simulated boards, local AWS emulator; separate data in ${practiceDir}`, "banner text");
        await session.click('[data-testid="nav-settings"]');
        assert((await session.text('[data-testid="settings-practice"]')).includes("On"), "settings say practice is on");
        await screenshot(session, shots, "practice-mode");
      });
    } finally {
      await session.end().catch(() => {});
    }
  }, { GTK_THEME: "Adwaita:dark" });
}

async function windowTests(session) {
  runner.afterFailure = async () => {
    await screenshot(session, logs, `failure-${Date.now()}`);
    await session.execute(`window.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }))`);
  };
  await runner.test("the window lists the CAs the CLI created, signer under its root", async () => {
    await session.waitFor(item("cli-root"));
    const rootItem = await session.find(item("cli-root"));
    const nested = await rootItem.findAll(item("cli-signer"));
    assertEqual(nested.length, 1, "cli-signer is nested inside cli-root");
    assertEqual(await (await rootItem.find('[data-testid="ca-key-status"]')).attribute("data-tone"), "neutral", "CLI CA is locked in the window");
    assert((await rootItem.text()).includes("Keyline CLI"), "subject shows the organization");
    assert((await session.findAll('[data-testid="practice-banner"]')).length === 0, "no practice banner without --practice");
  });

  await runner.test("a root CA with a signer is created through the dialog", async () => {
    await session.click('[data-testid="ca-create-open"]');
    await session.type('[data-testid="create-name"]', "gui-root");
    await session.type('[data-testid="create-org"]', "Keyline GUI");
    await session.type('[data-testid="create-signer"]', "gui-signer");
    await session.type('[data-testid="create-years"]', "7");
    await session.type('[data-testid="create-passphrase"]', GUI_PASSPHRASE);
    await session.type('[data-testid="create-confirm"]', GUI_PASSPHRASE);
    await screenshot(session, shots, "create-ca-dialog");
    await session.click('[data-testid="create-submit"]');
    await session.waitGone('[data-testid="create-ca-dialog"]', 60000);
    const rootItem = await session.waitFor(item("gui-root"));
    assertEqual((await rootItem.findAll(item("gui-signer"))).length, 1, "gui-signer nested inside gui-root");
    assertEqual(await (await rootItem.find('[data-testid="ca-key-status"]')).attribute("data-tone"), "working", "new CA is unlocked");
    assertEqual(await (await session.find('[data-testid="ca-list"]')).attribute("data-count"), "4", "four CAs listed");
    await screenshot(session, shots, "certificate-authorities");
  });

  await runner.test("the CLI lists the CAs created in the window", async () => {
    const cas = await list();
    const byName = Object.fromEntries(cas.map((ca) => [ca.name, ca]));
    assert(byName["gui-root"]?.role === "root", "gui-root is a root CA in the CLI list");
    assert(byName["gui-signer"]?.role === "signer", "gui-signer is a signer CA in the CLI list");
    assertEqual(byName["gui-signer"].issuerName, "gui-root", "gui-signer is issued by gui-root");
    const shown = await session.text(`${item("gui-root")} > article [data-testid="ca-sha256"]`);
    assertEqual(shown, byName["gui-root"].sha256, "window and CLI show the same SHA-256 fingerprint");
  });

  await runner.test("details and the exported PEM match the certificate on disk", async () => {
    await session.click(`${item("gui-root")} > article [data-testid="ca-details-toggle"]`);
    await session.waitFor(`${item("gui-root")} > article [data-testid="ca-details"] dl`);
    await session.click(`${item("gui-root")} > article [data-testid="ca-export"]`);
    const pem = await (await session.waitFor('[data-testid="pem-text"]')).property("value");
    const onDisk = readFileSync(path.join(dataDir, "certs", "gui-root.crt"), "utf8");
    assert(pem.includes("-----BEGIN CERTIFICATE-----"), "export is PEM");
    assert(pem.includes(onDisk.trim()), "export contains certs/gui-root.crt");
    await screenshot(session, shots, "export-pem-dialog");
    await session.click('[data-testid="pem-close"]');
    await session.waitGone('[data-testid="pem-dialog"]');
  });

  await runner.test("a wrong passphrase shows what happened, the code and what to do", async () => {
    await session.click(`${item("gui-root")} > article [data-testid="ca-lock"]`);
    await session.click(`${item("gui-root")} > article [data-testid="ca-unlock"]`);
    await session.type('[data-testid="unlock-passphrase"]', "not the passphrase");
    await session.click('[data-testid="unlock-submit"]');
    const card = await session.waitFor('[data-testid="unlock-dialog"] [data-testid="error-card"]', 30000);
    assertEqual(await card.attribute("data-code"), "wrong_passphrase", "error code");
    assert((await (await card.find('[data-testid="error-hint"]')).text()).length > 10, "a hint says what to do");
    await screenshot(session, shots, "unlock-wrong-passphrase");
    await session.type('[data-testid="unlock-passphrase"]', GUI_PASSPHRASE);
    await session.click('[data-testid="unlock-submit"]');
    await session.waitGone('[data-testid="unlock-dialog"]', 30000);
    const tone = await (await session.find(`${item("gui-root")} > article [data-testid="ca-key-status"]`)).attribute("data-tone");
    assertEqual(tone, "working", "unlocked again");
  });

  await runner.test("a CLI-made CA is unlocked with its passphrase remembered in the OS keyring, then forgotten", async () => {
    await session.click(`${item("cli-root")} > article [data-testid="ca-unlock"]`);
    await session.type('[data-testid="unlock-passphrase"]', CLI_PASSPHRASE);
    const remember = await session.waitFor('[data-testid="unlock-remember"]');
    if (await remember.property("disabled")) {
      // No Secret Service here: the UI must say why instead of pretending.
      const reason = await session.text('[data-testid="unlock-dialog"] small.reason');
      assert(reason.includes("keyring is unavailable"), `reason shown: ${reason}`);
      await session.click('[data-testid="unlock-submit"]');
      await session.waitGone('[data-testid="unlock-dialog"]', 30000);
      return;
    }
    await remember.click();
    await screenshot(session, shots, "unlock-dialog");
    await session.click('[data-testid="unlock-submit"]');
    await session.waitGone('[data-testid="unlock-dialog"]', 30000);
    const badge = `${item("cli-root")} > article [data-testid="ca-key-status"]`;
    assertEqual(await (await session.find(badge)).attribute("data-tone"), "pass", "remembered (green)");
    const fromCli = (await list()).find((ca) => ca.name === "cli-root");
    assertEqual(fromCli.keyStatus, "remembered", "the CLI sees the passphrase in the same keyring");
    await session.click(`${item("cli-root")} > article [data-testid="ca-forget"]`);
    await waitFor("cli-root locked again", async () => (await (await session.find(badge)).attribute("data-tone")) === "neutral");
    assertEqual((await list()).find((ca) => ca.name === "cli-root").keyStatus, "locked", "forgotten in the keyring too");
  });

  await runner.test("an openssl-made CA is imported from a certificate file and a pasted key", async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), "keyline-e2e-import-"));
    const keyFile = path.join(work, "legacy.key");
    const certFile = path.join(work, "legacy.crt");
    execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
    execFileSync("openssl", ["req", "-x509", "-new", "-key", keyFile, "-subj", "/O=Legacy Works/CN=legacy-root", "-days", "400",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", certFile]);
    await session.click('[data-testid="nav-cas"]');
    await session.click('[data-testid="ca-import-open"]');
    await session.type('[data-testid="import-name"]', "legacy");
    // The certificate through the file picker's <input type=file>, the key pasted as text.
    await (await session.find('[data-testid="import-cert-file"]')).sendKeys(certFile);
    await waitFor("the chosen certificate in the text area", async () =>
      (await (await session.find('[data-testid="import-cert"]')).property("value")).includes("BEGIN CERTIFICATE"));
    await session.paste('[data-testid="import-key"]', readFileSync(keyFile, "utf8"));
    await session.type('[data-testid="import-passphrase"]', GUI_PASSPHRASE);
    await session.type('[data-testid="import-confirm"]', GUI_PASSPHRASE);
    await screenshot(session, shots, "import-ca-dialog");
    await session.click('[data-testid="import-submit"]');
    await session.waitGone('[data-testid="import-ca-dialog"]', 60000);
    const legacy = await session.waitFor(item("legacy"));
    assert((await legacy.text()).includes("Legacy Works"), "imported subject shown");
    const fromCli = (await list()).find((ca) => ca.name === "legacy");
    assertEqual(fromCli?.role, "root", "the CLI lists the imported CA as a root");
    const fingerprint = execFileSync("openssl", ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"]).toString();
    assertEqual(fromCli.sha256, fingerprint.trim().split("=")[1], "same SHA-256 as openssl computes");
    rmSync(work, { recursive: true, force: true });
  });

  await runner.test("the log panel carries the UI error and station events, and filters by text", async () => {
    await session.type('[data-testid="log-filter"]', "wrong_passphrase");
    await waitFor("a log line with the error code", async () => {
      const lines = await session.findAll('[data-testid="log-line"][data-level="ERROR"]');
      return lines.length > 0;
    });
    await session.type('[data-testid="log-filter"]', "");
    await waitFor("station log lines", async () => (await session.findAll('[data-testid="log-line"]')).length >= 2);
  });

  await custodyTests({ session, runner, cli, cliEnv, dataDir, hsm, passphrase: GUI_PASSPHRASE, shots, list });

  const screens = [
    ["template", "device-template"],
    ["factory", "factory-line"],
    ["cloud", "cloud-connecting"],
    ["ota", "ota"],
    ["devices", "devices"],
    ["settings", "settings"],
  ];
  for (const [id, file] of screens) {
    await runner.test(`the ${file} screen renders`, async () => {
      await session.click(`[data-testid="nav-${id}"]`);
      await session.waitFor(`[data-testid="app"][data-screen="${id}"] main`);
      if (id === "settings") {
        await waitFor("the data directory", async () => (await session.text('[data-testid="settings-data-dir"]')) === dataDir);
      }
      if (id === "template") {
        // The first signer CA is preselected: its rainbowtype cert_chain.c, slot map and fields show.
        await session.waitFor('[data-testid="template-status"][data-tone="pass"]', 30000);
        assert((await session.text('[data-testid="template-code"]')).includes("g_cert_def_2_device"), "cert_chain.c preview");
        assert((await session.findAll('[data-testid="slot-row"]')).length > 0, "slot map rows");
      }
      await screenshot(session, shots, file);
    });
  }
}

try {
  await main();
} catch (error) {
  runner.failed += 1;
  console.log(`FAIL harness\n  ${error.stack ?? error}`);
} finally {
  if (!process.env.KEEP_E2E_DATA) for (const dir of [dataDir, hsm.dir]) rmSync(dir, { recursive: true, force: true });
}
process.exit(runner.summary() ? 0 : 1);
