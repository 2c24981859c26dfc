// One user action from a dialog: a failure becomes the ErrorReport the dialog shows, copied into the log panel.
import { toReport, type ErrorReport } from "../backend/ipc";
import { logStore } from "../logs/logStore.svelte";

/** Runs `work`; null when it succeeded, else its report, logged as "`doing`: message" with the code. */
export async function attempt(doing: string, work: () => Promise<void>): Promise<ErrorReport | null> {
  try {
    await work();
    return null;
  } catch (error) {
    const failure = toReport(error);
    logStore.addLocal("ERROR", `${doing}: ${failure.message}`, { code: failure.code });
    return failure;
  }
}
