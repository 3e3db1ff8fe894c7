// Startup: time from spawning the operator process until /readyz returns 200 (every informer cache has synced),
// and then until the new leader has reconciled every existing Tenant once and gone idle, with the requests that
// catch-up cost. With N converged Tenants present, the catch-up should read and write nothing but the Lease.
import { countRequests, operatorUser, type RequestCounts } from "./audit.js";
import { sleep } from "./concurrency.js";
import { startBenchOperator, type BenchCluster, type BenchOperator } from "./harness.js";
import { reconcileCount, waitUntilIdle } from "./steadyState.js";

export interface Startup {
  tenants: number;
  /** From spawn until the first 200 from /readyz, polled every 20 ms. */
  readySeconds: number;
  /** From spawn until every Tenant was reconciled once and the last reconcile ended (within 0.5 s). */
  caughtUpSeconds: number;
  /** The operator's requests from spawn until idle. */
  requests: RequestCounts;
}

export async function measureStartup(
  bench: BenchCluster,
  name: string,
  tenants: number,
  options: { timeoutSeconds: number },
): Promise<{ operator: BenchOperator; startup: Startup }> {
  const from = bench.audit.offset();
  const operator = await startBenchOperator(bench, name);
  const deadline = operator.spawnedAt + options.timeoutSeconds * 1000;

  let readyAt: number | undefined;
  while (readyAt === undefined) {
    if (performance.now() > deadline) throw new Error(`operator not ready; see ${operator.process.logFile}`);
    if (operator.process.child.exitCode !== null) {
      throw new Error(`operator exited with code ${operator.process.child.exitCode}; see ${operator.process.logFile}`);
    }
    try {
      const response = await fetch(`${operator.probeUrl}/readyz`);
      if (response.status === 200) readyAt = performance.now();
    } catch {
      // Not listening yet.
    }
    if (readyAt === undefined) await sleep(20);
  }

  while ((await reconcileCount(operator.probeUrl, "tenant")) < tenants) {
    if (performance.now() > deadline) throw new Error(`operator did not reconcile ${tenants} Tenants in time`);
    await sleep(100);
  }
  // The catch-up ended at the last reconcile that waitUntilIdle saw, within its 0.5 s poll interval.
  const idleFrom = performance.now();
  const caughtUpAt = idleFrom + (await waitUntilIdle(operator.probeUrl)) * 1000;

  return {
    operator,
    startup: {
      tenants,
      readySeconds: (readyAt - operator.spawnedAt) / 1000,
      caughtUpSeconds: (Math.max(readyAt, caughtUpAt) - operator.spawnedAt) / 1000,
      requests: countRequests(await bench.audit.requestsOf(operatorUser, from)),
    },
  };
}
