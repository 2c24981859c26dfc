// Writes a small, well-formed ESP32 application image (header, a DROM segment starting with the app
// descriptor, a code segment, checksum and appended SHA-256), the same layout keyline_ota's ImageBuilder makes.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

function fixed(text, size) {
  const out = Buffer.alloc(size);
  out.write(text, "latin1");
  return out;
}

/** An esp_app_desc_t (256 bytes). */
function appDesc(project, version) {
  const desc = Buffer.alloc(256);
  desc.writeUInt32LE(0xabcd5432, 0);
  fixed(version, 32).copy(desc, 16);
  fixed(project, 32).copy(desc, 48);
  fixed("12:00:00", 16).copy(desc, 80);
  fixed("Dec  5 2026", 16).copy(desc, 96);
  fixed("v4.2", 32).copy(desc, 112);
  Buffer.alloc(32, 0x5a).copy(desc, 144);
  return desc;
}

/** The image bytes: project/version in the descriptor, `codeBytes` of code (ESP32, chip id 0). */
export function espImage(project, version, codeBytes) {
  const code = Buffer.alloc(Math.ceil(codeBytes / 4) * 4);
  for (let i = 0; i < code.length; i++) code[i] = (i * 7) & 0xff;
  const segments = [
    [0x3f400020, Buffer.concat([appDesc(project, version), Buffer.alloc(32)])],
    [0x40080000, code],
  ];
  const header = Buffer.alloc(24);
  header[0] = 0xe9;
  header[1] = segments.length;
  header[2] = 2; // DIO
  header[3] = 0x20; // 4 MB, 40 MHz
  header.writeUInt32LE(0x40080400, 4);
  header[8] = 0xee;
  header.writeUInt16LE(0, 12); // ESP32
  header.writeUInt16LE(399, 17);
  header[23] = 1; // SHA-256 appended
  const parts = [header];
  let checksum = 0xef;
  for (const [addr, data] of segments) {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(addr, 0);
    head.writeUInt32LE(data.length, 4);
    parts.push(head, data);
    for (const b of data) checksum ^= b;
  }
  let body = Buffer.concat(parts);
  body = Buffer.concat([body, Buffer.alloc((body.length | 15) - body.length), Buffer.from([checksum])]);
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
}

/** A partition table entry (32 bytes). */
function partition(label, type, subtype, offset, size) {
  const entry = Buffer.alloc(32);
  entry[0] = 0xaa;
  entry[1] = 0x50;
  entry[2] = type;
  entry[3] = subtype;
  entry.writeUInt32LE(offset, 4);
  entry.writeUInt32LE(size, 8);
  fixed(label, 16).copy(entry, 12);
  return entry;
}

/** A merged flash image written at 0: 0xFF up to the partition table at 0x8000 (nvs, a 1 MiB factory app), `app` at 0x10000. */
export function mergedImage(app) {
  const out = Buffer.alloc(0x10000 + app.length, 0xff);
  Buffer.concat([partition("nvs", 1, 2, 0x9000, 0x6000), partition("factory", 0, 0, 0x10000, 0x100000)]).copy(out, 0x8000);
  app.copy(out, 0x10000);
  return out;
}

/** The pinned sdist that carries the published Espressif helper, and the helper's SHA-256 (as board/tests/common/helper_bin.rs). */
const HELPER_PIN = "esp-cryptoauth-utility==1.2.0";
const HELPER_SHA256 = "14c301ebf6b8bccf378033ec5ee6a4ba3ff918336e8e61ab9450d63667bdbfb0";

/**
 * The published ESP32 helper image (`secure_cert_mfg_esp32.bin`), fetched once per machine into the temp dir with
 * the project venv's pip (the same place the Rust tests keep it) and checked against its pinned SHA-256. A missing
 * pip or no network fails with what to do.
 */
export function publishedHelper(root) {
  const dir = path.join(os.tmpdir(), "keyline-esp-cryptoauth-utility-1.2.0");
  const bin = path.join(dir, "esp_cryptoauth_utility-1.2.0/sample_bins/esp32/secure_cert_mfg_esp32.bin");
  if (!existsSync(bin)) {
    const pip = path.join(process.env.KEYLINE_VENV ?? path.join(root, ".venv"), "bin/pip");
    if (!existsSync(pip)) throw new Error(`pip not found at ${pip}: create the venv with \`python3 -m venv .venv\` (or set KEYLINE_VENV)`);
    mkdirSync(dir, { recursive: true });
    execFileSync(pip, ["download", "--no-deps", "--no-binary", ":all:", "--disable-pip-version-check", HELPER_PIN, "-d", dir], { stdio: "inherit" });
    execFileSync("tar", ["xzf", path.join(dir, "esp_cryptoauth_utility-1.2.0.tar.gz"), "-C", dir]);
  }
  const hash = createHash("sha256").update(readFileSync(bin)).digest("hex");
  if (hash !== HELPER_SHA256) throw new Error(`${bin} is not the published helper (SHA-256 ${hash})`);
  return bin;
}
