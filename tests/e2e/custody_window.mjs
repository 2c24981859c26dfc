// CA key custody in the real window: a CA whose keys the CLI made in a SoftHSM2 token shows its token and unlocks
// with the PIN (a wrong PIN is said in words and by code); a root is taken offline to the file typed into the native
// save dialog and restored from it through the native open dialog. Used by window.e2e.mjs.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { waitFor } from "./webdriver.mjs";
import { answerOpenDialog, assert, assertEqual, keylineJson, screenshot } from "./harness.mjs";

const MODULES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"];
export const TOKEN_PIN = "271828";

/** A private SoftHSM2 store with the token "e2e"; its `SOFTHSM2_CONF` must be in the window's environment. */
export function softHsm() {
  const module = MODULES.find((candidate) => existsSync(candidate));
  if (!module) throw new Error(`SoftHSM2 is not installed (looked in ${MODULES.join(", ")}): apt-get install -y softhsm2`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "keyline-e2e-hsm-"));
  mkdirSync(path.join(dir, "tokens"));
  const conf = path.join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "e2e", "--pin", TOKEN_PIN, "--so-pin", "31415926"], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
  });
  return { module, conf, dir };
}

/** The custody tests, run in the window session after the CA tests (gui-root is unlocked with `passphrase`). */
export async function custodyTests({ session, runner, cli, cliEnv, dataDir, hsm, passphrase, shots, list }) {
  const item = (name) => `[data-testid="ca-item"][data-ca-name="${name}"]`;
  const card = (name) => `${item(name)} > article`;

  await runner.test("a CA whose keys are in a token shows the token and unlocks with its PIN", async () => {
    await keylineJson(cli, ["ca", "create", "--name", "tok-root", "--org", "Keyline Token", "--signer", "tok-signer",
      "--pkcs11-module", hsm.module, "--token", "e2e", "--data-dir", dataDir], { ...cliEnv, KEYLINE_TOKEN_PIN: TOKEN_PIN });
    await session.click('[data-testid="nav-cas"]');
    await session.click('[data-testid="ca-refresh"]');
    await session.waitFor(item("tok-signer"), 30000);
    assertEqual(await session.text(`${card("tok-signer")} [data-testid="ca-key-custody"]`), "Key in token e2e", "custody badge");
    await session.click(`${card("tok-signer")} [data-testid="ca-unlock"]`);
    assert((await session.text('[data-testid="unlock-dialog"]')).includes("Token PIN"), "the dialog asks for the token PIN");
    await session.type('[data-testid="unlock-passphrase"]', "000000");
    await session.click('[data-testid="unlock-submit"]');
    const error = await session.waitFor('[data-testid="unlock-dialog"] [data-testid="error-card"]', 30000);
    assertEqual(await error.attribute("data-code"), "token_wrong_pin", "error code");
    assert((await session.text('[data-testid="unlock-advice"]')).includes("refused this PIN"), "the refused PIN is said in words");
    await screenshot(session, shots, "unlock-token-wrong-pin");
    await session.type('[data-testid="unlock-passphrase"]', TOKEN_PIN);
    await session.click('[data-testid="unlock-submit"]');
    await session.waitGone('[data-testid="unlock-dialog"]', 30000);
    assertEqual(await (await session.find(`${card("tok-signer")} [data-testid="ca-key-status"]`)).attribute("data-tone"), "working", "unlocked");
  });

  await runner.test("a root is taken offline to the file typed in the save dialog and restored from it", async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), "keyline-e2e-offline-"));
    const exported = path.join(work, "gui-root-offline.key");
    if ((await session.findAll(`${card("gui-root")} [data-testid="ca-take-offline"]`)).length === 0) {
      await session.click(`${card("gui-root")} [data-testid="ca-details-toggle"]`);
    }
    await session.click(`${card("gui-root")} [data-testid="ca-take-offline"]`);
    await session.type('[data-testid="offline-passphrase"]', passphrase);
    await screenshot(session, shots, "take-root-offline-dialog");
    await session.click('[data-testid="offline-submit"]');
    await answerOpenDialog("Save the root CA key to keep offline", exported, { field: "ctrl+a" });
    await session.waitGone('[data-testid="offline-dialog"]', 30000);
    await waitFor("the offline card", async () => (await session.findAll(`${item("gui-root")}[data-custody="offline"]`)).length === 1);
    assert((await session.text(`${card("gui-root")} [data-testid="ca-offline-note"]`)).includes("signers still issue"), "the card says why");
    assertEqual((await session.findAll(`${card("gui-root")} [data-testid="ca-unlock"]`)).length, 0, "no Unlock for an offline root");
    assert(readFileSync(exported, "utf8").includes("ENCRYPTED PRIVATE KEY"), "the exported key is encrypted PKCS#8");
    assert(!existsSync(path.join(dataDir, "keys", "gui-root.key")), "the key left the station");
    assertEqual((await list()).find((ca) => ca.name === "gui-root").keyCustody.kind, "offline", "the CLI sees it offline");
    await screenshot(session, shots, "root-offline");

    await session.click(`${card("gui-root")} [data-testid="ca-restore"]`);
    await session.click('[data-testid="restore-choose"]');
    await answerOpenDialog("Choose the exported root CA key", exported);
    await waitFor("the chosen key file", async () => (await session.text('[data-testid="restore-file"]')).includes("gui-root-offline.key"));
    await session.type('[data-testid="restore-passphrase"]', passphrase);
    await session.click('[data-testid="restore-submit"]');
    await session.waitGone('[data-testid="restore-dialog"]', 30000);
    await waitFor("the restored card", async () => (await session.findAll(`${item("gui-root")}[data-custody="file"]`)).length === 1);
    assert(existsSync(path.join(dataDir, "keys", "gui-root.key")), "the key is back on the station");
  });
}
