// Drift repair: the admin deletes one managed object in a random tenant namespace, and a watch times how long it
// takes until the operator has created it again. Deletions alternate between the NetworkPolicy
// `deny-other-tenants` (mapped to its Tenant through the namespace) and the RoleBinding `tenant-admin` (mapped
// through its tenant label), one at a time, so each repair is timed alone.
import type { KubeClient, KubeObject, ResourceType } from "../src/runtime/client.js";
import { Informer } from "../src/runtime/informer.js";
import { Resources } from "../src/runtime/resources.js";
import { managedSelector } from "../src/tenant/labels.js";
import { countRequests, operatorUser, type AuditLog, type RequestCounts } from "./audit.js";
import { sleep } from "./concurrency.js";
import { quietLog } from "./harness.js";
import { percentiles, type Percentiles } from "./stats.js";

export interface DriftRepair {
  deletions: number;
  /** Seconds from sending the DELETE until the watch delivered the recreated object. */
  repairSeconds: Percentiles;
  byKind: Record<string, Percentiles>;
  /** Operator requests over the whole drift phase, to show what one repair costs. */
  requests: RequestCounts;
}

const targets: { type: ResourceType; name: string }[] = [
  { type: Resources.networkPolicy, name: "deny-other-tenants" },
  { type: Resources.roleBinding, name: "tenant-admin" },
];

const repairTimeoutMs = 60_000;

export async function measureDriftRepair(
  admin: KubeClient,
  audit: AuditLog,
  namespaces: readonly string[],
  deletions: number,
): Promise<DriftRepair> {
  const watchers = targets.map(({ type }) => {
    const informer = new Informer<KubeObject>(admin, type, quietLog, { labelSelector: managedSelector });
    return informer;
  });
  const addedAt = new Map<string, number>();
  watchers.forEach((informer, index) => {
    const kind = targets[index]!.type.kind;
    informer.addHandlers({ onAdd: (object) => addedAt.set(`${kind} ${keyOf(object)}`, performance.now()) });
    informer.start();
  });
  await Promise.all(watchers.map((informer) => informer.waitForSync()));

  const random = seededRandom(42);
  const samples: { kind: string; seconds: number }[] = [];
  const from = audit.offset();
  try {
    for (let index = 0; index < deletions; index++) {
      const target = targets[index % targets.length]!;
      const watcher = watchers[index % targets.length]!;
      const namespace = namespaces[Math.floor(random() * namespaces.length)]!;
      const key = `${namespace}/${target.name}`;
      const existing = watcher.get(key);
      if (!existing) throw new Error(`${target.type.kind} ${key} is missing before its deletion; is the tenant Ready?`);

      const id = `${target.type.kind} ${key}`;
      addedAt.delete(id);
      // Timed from sending the DELETE: the operator can see the deletion before its response reaches this process.
      const deletedAt = performance.now();
      await admin.delete(target.type, target.name, namespace, { uid: existing.metadata?.uid });
      while (!addedAt.has(id)) {
        if (performance.now() - deletedAt > repairTimeoutMs) {
          throw new Error(`${id} not recreated within ${repairTimeoutMs / 1000} s of its deletion`);
        }
        await sleep(5);
      }
      samples.push({ kind: target.type.kind, seconds: (addedAt.get(id)! - deletedAt) / 1000 });
      // Let the repair's own follow-up events settle before the next deletion.
      await sleep(200 + random() * 300);
    }
  } finally {
    await Promise.all(watchers.map((informer) => informer.stop()));
  }

  const byKind: Record<string, Percentiles> = {};
  for (const { type } of targets) {
    byKind[type.kind] = percentiles(samples.filter((sample) => sample.kind === type.kind).map((each) => each.seconds));
  }
  return {
    deletions,
    repairSeconds: percentiles(samples.map((sample) => sample.seconds)),
    byKind,
    requests: countRequests(await audit.requestsOf(operatorUser, from)),
  };
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace}/${object.metadata?.name}`;
}

/** Mulberry32: a small deterministic generator, so every run deletes in the same namespaces. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}
