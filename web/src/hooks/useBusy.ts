// The one task the studio runs at a time (importing, transforming, generating) and how long it has run so far.
import { useEffect, useState } from "preact/hooks";
import { showError } from "../state";

export interface BusyTask {
  what: string;
  startedMs: number;
}

export function useBusy() {
  const [busy, setBusy] = useState<BusyTask | null>(null);
  const [elapsedMs, setElapsedMs] = useState(0);

  useEffect(() => {
    if (!busy) return;
    const timer = window.setInterval(() => setElapsedMs(performance.now() - busy.startedMs), 100);
    return () => window.clearInterval(timer);
  }, [busy]);

  /** Run `task` as the studio's task called `what`, its failure shown as the page's message. */
  async function during(what: string, task: () => Promise<void>): Promise<void> {
    setBusy({ what, startedMs: performance.now() });
    setElapsedMs(0);
    try {
      await task();
    } catch (error) {
      showError(error);
    } finally {
      setBusy(null);
    }
  }

  return { busy, elapsedMs, during };
}

export type Busy = ReturnType<typeof useBusy>;
