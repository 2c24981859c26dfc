// The Device template screen's state: the signer and profile choice, and the generated template.
// One instance per screen; a newer request always wins over a slower older one.
import { toReport } from "../backend/ipc";
import { deviceTemplate, listCas } from "../backend/services";
import type { CaSummary, DeviceTemplate } from "../backend/bindings";
import type { ErrorReport } from "../backend/ipc";
import { logStore } from "../logs/logStore.svelte";
import { format, t } from "../i18n";
import { defaultSigner, signerChoices, type ProfileId } from "./profiles";

export type TemplateStatus = "idle" | "working" | "ready" | "failed";

export class TemplateModel {
  cas = $state<CaSummary[]>([]);
  loaded = $state(false);
  signer = $state<string | null>(null);
  profile = $state<ProfileId>("rainbowtype");
  status = $state<TemplateStatus>("idle");
  template = $state<DeviceTemplate | null>(null);
  /** Why the last load or generation failed (shown as an ErrorCard until the next attempt). */
  error = $state<{ report: ErrorReport; context: string } | null>(null);
  choices: CaSummary[] = $derived(signerChoices(this.cas));
  private request = 0;

  /** Lists the CAs, keeps or picks a signer, and generates for it. */
  async load(): Promise<void> {
    try {
      this.cas = await listCas();
      this.loaded = true;
    } catch (error) {
      this.fail(error, t.doing.listCas);
      return;
    }
    this.signer = defaultSigner(this.cas, this.signer);
    await this.generate();
  }

  async choose(signer: string | null, profile: ProfileId): Promise<void> {
    this.signer = signer;
    this.profile = profile;
    await this.generate();
  }

  /** Asks the station for the current signer and profile; stale answers are dropped. */
  async generate(): Promise<void> {
    const id = ++this.request;
    const signer = this.signer;
    const profile = this.profile;
    if (!signer) {
      this.template = null;
      this.status = "idle";
      return;
    }
    this.status = "working";
    this.error = null;
    try {
      const template = await deviceTemplate(signer, profile);
      if (id !== this.request) return;
      this.template = template;
      this.status = "ready";
    } catch (error) {
      if (id !== this.request) return;
      this.template = null;
      this.fail(error, format(t.doing.deviceTemplate, { profile, name: signer }));
    }
  }

  private fail(error: unknown, context: string) {
    const report = toReport(error);
    this.status = "failed";
    this.error = { report, context };
    logStore.addLocal("ERROR", `${context}: ${report.message}`, { code: report.code, ...(report.hint ? { hint: report.hint } : {}) });
  }
}
