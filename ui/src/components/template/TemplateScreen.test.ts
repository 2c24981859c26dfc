import { afterEach, describe, expect, test, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import TemplateScreen from "./TemplateScreen.svelte";
import { signerChoices } from "../../lib/template/profiles";
import type { CaSummary, DeviceTemplate } from "../../lib/backend/bindings";

afterEach(() => {
  cleanup();
  clearMocks();
});

function ca(name: string, role: "root" | "signer", issuerName: string | null): CaSummary {
  return {
    name, role, issuerName, subject: `O=Acme, CN=${name}`, issuer: `O=Acme, CN=${issuerName ?? name}`,
    notBefore: "2026-01-01T00:00:00Z", notAfter: "2031-01-01T00:00:00Z", daysUntilExpiry: 1800,
    sha256: "AA", sha1: "BB", keyStatus: "locked", keyCustody: { kind: "file" }, chain: [],
  };
}

const CAS = [ca("acme-root", "root", null), ca("zeta-signer", "signer", "acme-root"), ca("acme-signer", "signer", "acme-root")];

function template(ca: string, profile: string): DeviceTemplate {
  const constness = profile === "rainbowtype" ? "" : "const ";
  return {
    profile,
    signer: ca,
    certChainC: `/* cert_chain.c for ${profile} */\n#include "cert_chain.h"\n\n${constness}atcacert_def_t g_cert_def_2_device = {\n    .type = CERTTYPE_X509,\n    .template_id = 2,\n};\n`,
    certChainH: `#ifndef KEYLINE_CERT_CHAIN_H\nextern ${constness}atcacert_def_t g_cert_def_2_device;\n#endif\n`,
    slotMap: [
      { zone: "data", slot: 10, offset: 0, count: 72, contents: "device compressed certificate" },
      { zone: "data", slot: 14, offset: 22, count: 13, contents: "signer IssueDate" },
      { zone: "genkey", slot: 0, offset: 0, count: 64, contents: "device public key (from the private key via GenKey)" },
    ],
    templateFields: [
      { certificate: "signer", element: "STDCERT_PUBLIC_KEY", offset: 172, count: 64 },
      { certificate: "device", element: "STDCERT_PUBLIC_KEY", offset: 184, count: 64 },
      { certificate: "device", element: "common_name", offset: 139, count: 18 },
    ],
    deviceTemplateHex: "3082",
    signerTemplateHex: "3082",
    signerCertDefString: profile === "esp-cryptoauthlib" ? "0000 0001 3082" : null,
  };
}

interface Calls {
  templates: { ca: string; profile: string }[];
  clipboard: string[];
  saved: { path: string; contents: string }[];
}

/** A shell that lists CAS, generates templates (refusing trustflex like the station does for a plain signer). */
function mockShell(savePath: string | null = "/tmp/out/cert_chain.c"): Calls {
  const calls: Calls = { templates: [], clipboard: [], saved: [] };
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    switch (cmd) {
      case "list_cas":
        return CAS;
      case "device_template": {
        const request = { ca: a.ca as string, profile: a.profile as string };
        calls.templates.push(request);
        if (request.profile === "trustflex") {
          throw { code: "invalid_input", message: "invalid signer CA for the trustflex profile: rebuilding it differs at byte 15", hint: "Correct the value and try again." };
        }
        return template(request.ca, request.profile);
      }
      case "plugin:clipboard-manager|write_text":
        calls.clipboard.push(a.text as string);
        return null;
      case "save_text_file":
        // The shell opens the save dialog; the page only suggests a name.
        expect(a.path).toBeUndefined();
        if (savePath === null) return null;
        calls.saved.push({ path: savePath, contents: a.contents as string });
        return savePath;
      default:
        throw new Error(`unexpected command ${cmd}`);
    }
  });
  return calls;
}

const status = () => screen.getByTestId("template-status");

describe("Device template screen", () => {
  test("signer CAs come first, then roots, each by name", () => {
    expect(signerChoices(CAS).map((c) => c.name)).toEqual(["acme-signer", "zeta-signer", "acme-root"]);
  });

  test("the first signer is chosen and its cert_chain.c is shown highlighted with both tables", async () => {
    const calls = mockShell();
    render(TemplateScreen);
    await vi.waitFor(() => expect(status().dataset.tone).toBe("pass"));
    expect(calls.templates).toEqual([{ ca: "acme-signer", profile: "rainbowtype" }]);
    expect((screen.getByTestId("template-signer") as HTMLSelectElement).value).toBe("acme-signer");
    expect(status().textContent).toContain("rainbowtype");

    const code = screen.getByTestId("template-code");
    expect(code.textContent).toContain("atcacert_def_t g_cert_def_2_device");
    expect([...code.querySelectorAll(".tk-type")].map((e) => e.textContent)).toContain("atcacert_def_t");
    expect([...code.querySelectorAll(".tk-preprocessor")].map((e) => e.textContent)).toContain('#include "cert_chain.h"');
    expect([...code.querySelectorAll(".tk-constant")].map((e) => e.textContent)).toContain("CERTTYPE_X509");
    expect(code.querySelectorAll(".ln").length).toBe(7);

    const slots = screen.getAllByTestId("slot-row");
    expect(slots.map((r) => r.dataset.slot)).toEqual(["10", "14", "0"]);
    expect(slots[1].textContent).toContain("signer IssueDate");
    expect(slots[2].textContent).toContain("GenKey");
    expect(screen.getAllByTestId("field-row").map((r) => r.dataset.certificate)).toEqual(["signer", "device", "device"]);
    expect(screen.queryByTestId("template-certdef")).toBeNull();

    await fireEvent.click(screen.getByTestId("template-tab-header"));
    expect(screen.getByTestId("template-code").textContent).toContain("extern atcacert_def_t g_cert_def_2_device;");
  });

  test("changing the profile and the signer regenerates; Espressif also shows the cert-def string", async () => {
    const calls = mockShell();
    render(TemplateScreen);
    await vi.waitFor(() => expect(status().dataset.tone).toBe("pass"));
    await fireEvent.click(screen.getByTestId("template-profile-esp-cryptoauthlib").querySelector("input")!);
    await vi.waitFor(() => expect(screen.getByTestId("template-certdef").textContent).toContain("0000 0001 3082"));
    expect(screen.getByTestId("template-code").textContent).toContain("const atcacert_def_t g_cert_def_2_device");

    await fireEvent.change(screen.getByTestId("template-signer"), { target: { value: "zeta-signer" } });
    await vi.waitFor(() => expect(status().textContent).toContain("zeta-signer"));
    expect(calls.templates.slice(1)).toEqual([
      { ca: "acme-signer", profile: "esp-cryptoauthlib" },
      { ca: "zeta-signer", profile: "esp-cryptoauthlib" },
    ]);
  });

  test("a refusal is shown in three parts and the preview is cleared", async () => {
    mockShell();
    render(TemplateScreen);
    await vi.waitFor(() => expect(status().dataset.tone).toBe("pass"));
    await fireEvent.click(screen.getByTestId("template-profile-trustflex").querySelector("input")!);
    await vi.waitFor(() => expect(status().dataset.tone).toBe("fail"));
    const card = screen.getByTestId("template-error");
    expect(card.querySelector('[data-testid="error-code"]')!.textContent).toBe("invalid_input");
    expect(card.querySelector('[data-testid="error-message"]')!.textContent).toContain("trustflex");
    expect(card.querySelector('[data-testid="error-hint"]')!.textContent).toBe("Correct the value and try again.");
    expect(card.textContent).toContain("Generating the trustflex template for acme-signer");
    expect(screen.queryByTestId("template-preview")).toBeNull();
  });

  test("copy puts the shown file on the clipboard; save writes it where the dialog says", async () => {
    const calls = mockShell();
    render(TemplateScreen);
    await vi.waitFor(() => expect(status().dataset.tone).toBe("pass"));
    await fireEvent.click(screen.getByTestId("template-copy"));
    await vi.waitFor(() => expect(calls.clipboard).toHaveLength(1));
    expect(calls.clipboard[0]).toBe(template("acme-signer", "rainbowtype").certChainC);
    await vi.waitFor(() => expect(screen.getByTestId("template-notice").textContent).toContain("cert_chain.c copied"));

    await fireEvent.click(screen.getByTestId("template-save"));
    await vi.waitFor(() => expect(calls.saved).toHaveLength(1));
    expect(calls.saved[0]).toEqual({ path: "/tmp/out/cert_chain.c", contents: template("acme-signer", "rainbowtype").certChainC });
    await vi.waitFor(() => expect(screen.getByTestId("template-notice").textContent).toContain("/tmp/out/cert_chain.c"));
  });

  test("cancelling the save dialog writes nothing", async () => {
    const calls = mockShell(null);
    render(TemplateScreen);
    await vi.waitFor(() => expect(status().dataset.tone).toBe("pass"));
    await fireEvent.click(screen.getByTestId("template-save"));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls.saved).toEqual([]);
    expect(screen.queryByTestId("template-notice")).toBeNull();
  });

  test("a slow answer for an earlier choice does not replace the newer one", async () => {
    let releaseFirst: () => void = () => {};
    mockIPC((cmd, args) => {
      const a = args as { ca: string; profile: string };
      if (cmd === "list_cas") return CAS;
      if (cmd !== "device_template") throw new Error(`unexpected ${cmd}`);
      if (a.profile === "rainbowtype") return new Promise((resolve) => (releaseFirst = () => resolve(template(a.ca, a.profile))));
      return template(a.ca, a.profile);
    });
    render(TemplateScreen);
    await vi.waitFor(() => expect(status().dataset.tone).toBe("working"));
    await fireEvent.click(screen.getByTestId("template-profile-esp-cryptoauthlib").querySelector("input")!);
    await vi.waitFor(() => expect(status().textContent).toContain("esp-cryptoauthlib"));
    releaseFirst();
    await new Promise((r) => setTimeout(r, 20));
    expect(status().textContent).toContain("esp-cryptoauthlib");
    expect(screen.getByTestId("template-code").textContent).toContain("for esp-cryptoauthlib");
  });
});
