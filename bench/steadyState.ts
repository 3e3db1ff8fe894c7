// Steady state: what the operator sends while nothing changes. After convergence it waits until the operator
// has stopped reconciling (late events such as quota status updates settle first), then counts the operator's
// requests in the audit log over a quiet window. Writes other than Lease renewals should be zero.
import { readMetric } from "../test/e2e/support/operator.js";
import { countRequests, operatorUser, type AuditLog, type RequestCounts } from "./audit.js";
import { sleep } from "./concurrency.js";

export interface SteadyState {
  /** How long the operator kept reconciling after convergence before the window opened. */
  settleSeconds: number;
  windowSeconds: number;
  requests: RequestCounts;
  /** Reconciles of every controller inside the window, from controller_runtime_reconcile_total. */
  reconciles: number;
}

/** Sum of controller_runtime_reconcile_total over every result, of one controller or of all. */
export async function reconcileCount(probeUrl: string, controller?: string): Promise<number> {
  const samples = await readMetric(probeUrl, "controller_runtime_reconcile_total");
  const label = `controller="${controller}"`;
  return [...samples.entries()]
    .filter(([labels]) => controller === undefined || labels.includes(label))
    .reduce((sum, [, value]) => sum + value, 0);
}

/** Waits until no reconcile has finished for `quietMs` or `maxMs` passed; returns the seconds waited. */
export async function waitUntilIdle(probeUrl: string, quietMs = 5_000, maxMs = 120_000): Promise<number> {
  const started = performance.now();
  let last = await reconcileCount(probeUrl);
  let lastChange = performance.now();
  while (performance.now() - lastChange < quietMs && performance.now() - started < maxMs) {
    await sleep(500);
    const now = await reconcileCount(probeUrl);
    if (now !== last) {
      last = now;
      lastChange = performance.now();
    }
  }
  return (lastChange - started) / 1000;
}

export async function measureSteadyState(probeUrl: string, audit: AuditLog, seconds: number): Promise<SteadyState> {
  const settleSeconds = await waitUntilIdle(probeUrl);
  const reconcilesBefore = await reconcileCount(probeUrl);
  const from = audit.offset();
  const started = performance.now();
  await sleep(seconds * 1000);
  const to = audit.offset();
  const windowSeconds = (performance.now() - started) / 1000;
  const reconciles = (await reconcileCount(probeUrl)) - reconcilesBefore;
  return {
    settleSeconds,
    windowSeconds,
    requests: countRequests(await audit.requestsOf(operatorUser, from, to)),
    reconciles,
  };
}
