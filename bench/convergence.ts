// Convergence: N Tenants created at once, timed until every one reports Ready=True for its current generation.
// A watch (the operator's own Informer, run here as the admin) delivers each status change as it lands, so the
// figure does not depend on a poll interval.
import type { Tenant } from "../src/api/generated.js";
import type { KubeClient } from "../src/runtime/client.js";
import { Informer } from "../src/runtime/informer.js";
import { Resources } from "../src/runtime/resources.js";
import { sleep } from "./concurrency.js";
import { quietLog } from "./harness.js";
import { percentiles, type Percentiles } from "./stats.js";
import { createTenants } from "./tenants.js";

export interface ConvergenceTiming {
  tenants: number;
  /** From the first creation request until the last one returned. */
  createSeconds: number;
  /** From the first creation request until every Tenant was Ready for its generation at the same moment. */
  convergeSeconds: number;
  /** For each Tenant, from the first creation request until it was first Ready. */
  readySeconds: Percentiles;
  created: Tenant[];
}

/** Returns whether `tenant` reports Ready=True for its current generation. */
export function isReady(tenant: Tenant): boolean {
  const generation = tenant.metadata?.generation;
  const ready = tenant.status?.conditions?.find((condition) => condition.type === "Ready");
  return (
    ready?.status === "True" &&
    ready.observedGeneration === generation &&
    tenant.status?.observedGeneration === generation
  );
}

/**
 * Creates Tenants `first` .. `first + count - 1` and waits until all of them are Ready. Tenants that exist
 * before the call are watched too but are not waited for.
 */
export async function createAndConverge(
  admin: KubeClient,
  first: number,
  count: number,
  options: {
    createConcurrency: number;
    timeoutSeconds: number;
    /** Polled while waiting; a returned reason (such as the operator having exited) ends the wait with an error. */
    failIf?: () => string | undefined;
  },
): Promise<ConvergenceTiming> {
  const watcher = new Informer<Tenant>(admin, Resources.tenant, quietLog, { relistIntervalMs: 0 });
  const readyNow = new Set<string>();
  const firstReadyAt = new Map<string, number>();
  let waitedFor = new Set<string>();
  let allReadyAt: number | undefined;
  const observe = (tenant: Tenant): void => {
    const name = tenant.metadata!.name!;
    if (!isReady(tenant)) {
      readyNow.delete(name);
      return;
    }
    readyNow.add(name);
    if (!firstReadyAt.has(name)) firstReadyAt.set(name, performance.now());
    if (allReadyAt === undefined && waitedFor.size > 0 && [...waitedFor].every((each) => readyNow.has(each))) {
      allReadyAt = performance.now();
    }
  };
  watcher.addHandlers({ onAdd: observe, onUpdate: (_old, tenant) => observe(tenant) });
  watcher.start();
  await watcher.waitForSync();

  try {
    const started = performance.now();
    const created = await createTenants(admin, first, count, options.createConcurrency);
    const createdAt = performance.now();
    waitedFor = new Set(created.map((tenant) => tenant.metadata!.name!));
    // A Tenant may have turned Ready before the last creation returned.
    for (const tenant of watcher.list()) observe(tenant);

    const deadline = started + options.timeoutSeconds * 1000;
    while (allReadyAt === undefined) {
      if (performance.now() > deadline) throw timeoutError(watcher, waitedFor, options.timeoutSeconds);
      const failure = options.failIf?.();
      if (failure) throw new Error(`${readyNow.size} of ${waitedFor.size} Tenants Ready when ${failure}`);
      await sleep(50);
    }
    const readyTimes = [...waitedFor].map((name) => (firstReadyAt.get(name)! - started) / 1000);
    return {
      tenants: count,
      createSeconds: (createdAt - started) / 1000,
      convergeSeconds: (allReadyAt - started) / 1000,
      readySeconds: percentiles(readyTimes),
      created,
    };
  } finally {
    await watcher.stop();
  }
}

function timeoutError(watcher: Informer<Tenant>, names: Set<string>, timeoutSeconds: number): Error {
  const pending = watcher.list().filter((tenant) => names.has(tenant.metadata!.name!) && !isReady(tenant));
  const examples = pending.slice(0, 3).map((tenant) => {
    const ready = tenant.status?.conditions?.find((condition) => condition.type === "Ready");
    return `${tenant.metadata!.name}: ${ready ? `${ready.status} ${ready.message}` : "no Ready condition"}`;
  });
  return new Error(
    `${pending.length} of ${names.size} Tenants not Ready after ${timeoutSeconds} s (for example ${examples.join("; ")}); ` +
      "raise --convergence-timeout or read the operator log",
  );
}
