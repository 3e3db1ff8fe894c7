// The raw limit: the least work that puts N Tenants' objects in place through the same client, without an
// operator. It creates the Tenants exactly as the operator phase does. Then it server-side applies every object
// that the operator's builders produce for them, as the operator's service account, with a fixed number of
// requests in flight and no client-side rate limit. Namespaces and ClusterRoles go first, then everything that
// lives in the Namespaces or binds the ClusterRoles.
//
// The same code also emulates request patterns of an operator, to put numbers on changes to it. In these, a
// fixed number of workers each handle one Tenant at a time. A worker writes the Tenant's objects either one
// request at a time, as the operator's reconcile does, or each step's objects at once (setup, then guard rails,
// then access).
import type { Tenant } from "../src/api/generated.js";
import type { KubeClient } from "../src/runtime/client.js";
import { forEachBounded } from "./concurrency.js";
import { desiredObjects, type DesiredObject, type TenantObjects } from "./desired.js";
import { createTenants } from "./tenants.js";

export type ApplyPattern =
  /** Every Tenant's setup objects, then all the rest, `inFlight` requests at a time: the raw limit. */
  | { kind: "flat"; inFlight: number }
  /** `workers` Tenants at a time; within one, the steps in order, their objects one by one or all at once. */
  | { kind: "perTenant"; workers: number; parallelSteps: boolean };

export interface RawTiming {
  tenants: number;
  objects: number;
  createSeconds: number;
  /** From the last Tenant creation until every object was applied. */
  applySeconds: number;
  /** From the first Tenant creation until the last apply returned; the counterpart of convergeSeconds. */
  totalSeconds: number;
  /** Applies per second over the apply part alone. */
  appliesPerSecond: number;
}

export async function rawApply(
  admin: KubeClient,
  asOperator: KubeClient,
  count: number,
  options: { createConcurrency: number; pattern: ApplyPattern },
): Promise<RawTiming> {
  const started = performance.now();
  const created: Tenant[] = await createTenants(admin, 0, count, options.createConcurrency);
  const createdAt = performance.now();

  const tenants = created.map(desiredObjects);
  const apply = async ({ type, object }: DesiredObject): Promise<void> => {
    try {
      await asOperator.apply(type, object);
    } catch (error) {
      const where = `${object.metadata?.namespace ? `${object.metadata.namespace}/` : ""}${object.metadata?.name}`;
      throw new Error(`raw apply of ${type.kind} ${where} failed`, { cause: error });
    }
  };
  const pattern = options.pattern;
  if (pattern.kind === "flat") {
    await forEachBounded(
      tenants.flatMap((each) => each.setup),
      pattern.inFlight,
      apply,
    );
    await forEachBounded(
      tenants.flatMap((each) => [...each.guardRails, ...each.access]),
      pattern.inFlight,
      apply,
    );
  } else {
    await forEachBounded(tenants, pattern.workers, (objects) => applyTenant(objects, pattern.parallelSteps, apply));
  }
  const finished = performance.now();

  const objects = tenants.reduce(
    (sum, each) => sum + each.setup.length + each.guardRails.length + each.access.length,
    0,
  );
  return {
    tenants: count,
    objects,
    createSeconds: (createdAt - started) / 1000,
    applySeconds: (finished - createdAt) / 1000,
    totalSeconds: (finished - started) / 1000,
    appliesPerSecond: objects / ((finished - createdAt) / 1000),
  };
}

async function applyTenant(
  objects: TenantObjects,
  parallelSteps: boolean,
  apply: (object: DesiredObject) => Promise<void>,
): Promise<void> {
  for (const step of [objects.setup, objects.guardRails, objects.access]) {
    if (parallelSteps) {
      await Promise.all(step.map(apply));
      continue;
    }
    for (const object of step) await apply(object);
  }
}
