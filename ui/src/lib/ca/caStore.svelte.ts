// The CA screen's state: the CA list and the keyring status, refreshed from the station.
import { keyringStatus, listCas } from "../backend/services";
import type { CaSummary, KeyringStatus } from "../backend/bindings";
import { errorStore } from "../errors/errorStore.svelte";
import { t } from "../i18n";
import { buildTree, type CaNode } from "./tree";

class CaStore {
  cas = $state<CaSummary[]>([]);
  keyring = $state<KeyringStatus | null>(null);
  loading = $state(false);
  loaded = $state(false);
  tree: CaNode[] = $derived(buildTree(this.cas));

  async refresh() {
    this.loading = true;
    try {
      this.cas = await listCas();
      this.loaded = true;
    } catch (error) {
      errorStore.report(error, t.doing.listCas);
    } finally {
      this.loading = false;
    }
  }

  async refreshKeyring() {
    try {
      this.keyring = await keyringStatus();
    } catch (error) {
      errorStore.report(error, t.doing.keyring);
    }
  }

  /** Replaces one CA's entry after an action (unlock, lock) returned its new summary. */
  update(summary: CaSummary) {
    this.cas = this.cas.map((ca) => (ca.name === summary.name ? summary : ca));
  }
}

export const caStore = new CaStore();
