// The Tenant controller under a killed operator, in a quiet cluster and under concurrent edits. Runs on a cluster
// and operator of its own, because it counts every request the operator makes.
import * as k8s from "@kubernetes/client-node";
import { startCluster, writeVerbs, type TestCluster } from "../../cluster/cluster.js";
import { eventually, uniqueName } from "../support/cluster.js";
import {
  installOperator,
  metricValue,
  operatorUser,
  startOperator,
  waitForReady,
  type OperatorProcess,
} from "../support/operator.js";
import { applyTenant, condition, readTenant, waitForReady as waitForTenantReady } from "../support/tenants.js";

let cluster: TestCluster;
let operator: OperatorProcess | undefined;
const managed = "app.kubernetes.io/managed-by=tenant-operator";

beforeAll(async () => {
  cluster = await startCluster();
  await installOperator(cluster);
});

afterAll(async () => {
  await operator?.stop();
  await cluster?.stop();
});

function tenantSpec(index: number): Parameters<typeof applyTenant>[2] {
  return {
    owners: [{ kind: "User", name: `owner-${index}` }],
    namespaces: [{ name: "a" }, { name: "b" }],
    quota: { perNamespace: { pods: "10" }, total: { "requests.cpu": "4" } },
    limits: { defaultRequest: { cpu: "100m" } },
    network: { allowFromNamespaces: ["monitoring"] },
  };
}

/** Counts the operator's objects of one kind by tenant label, cluster-wide. */
async function countByTenant(kind: string): Promise<Map<string, number>> {
  const output = await cluster.kubectl([
    "get",
    kind,
    "-A",
    "-l",
    managed,
    "-o",
    'jsonpath={range .items[*]}{.metadata.labels.tenancy\\.dev/tenant}{"\\n"}{end}',
  ]);
  const counts = new Map<string, number>();
  for (const tenant of output.split("\n").filter(Boolean)) counts.set(tenant, (counts.get(tenant) ?? 0) + 1);
  return counts;
}

describe("tenant controller recovery", () => {
  test("operator killed mid-reconcile converges without duplicates or orphans", async () => {
    operator = await startOperator(cluster, "before-kill", ["--leader-elect=false"]);
    await waitForReady(operator);
    const names = Array.from({ length: 50 }, (_, index) => `kill-${index}`);
    await Promise.all(names.map((name, index) => applyTenant(cluster, name, tenantSpec(index))));

    // Kill it once some tenants have namespaces and others do not.
    await eventually("reconciling under way", async () => (await countByTenant("namespaces")).size >= 5, 60_000, 20);
    operator.child.kill("SIGKILL");
    await operator.exited;

    operator = await startOperator(cluster, "after-kill", ["--leader-elect=false"]);
    await waitForReady(operator);
    for (const name of names) await waitForTenantReady(cluster, name, 180_000);

    const expected: Record<string, number> = {
      namespaces: 2,
      rolebindings: 2,
      resourcequotas: 4,
      limitranges: 2,
      networkpolicies: 4,
      clusterroles: 1,
      clusterrolebindings: 1,
    };
    for (const [kind, perTenant] of Object.entries(expected)) {
      const counts = await countByTenant(kind);
      expect([...counts.keys()].sort()).toEqual([...names].sort());
      for (const name of names) expect(`${kind} ${name}: ${counts.get(name)}`).toBe(`${kind} ${name}: ${perTenant}`);
    }
  });

  test("converged operator makes no writes while nothing changes", async () => {
    // Let the previous test's tenants settle, then watch the audit log for a quiet period.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const start = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const end = new Date();

    const requests = cluster
      .readAuditEvents()
      .filter((event) => event.user.username === operatorUser)
      .filter((event) => {
        const received = new Date(event.requestReceivedTimestamp);
        return received >= start && received < end;
      });
    const writes = requests.filter((event) => writeVerbs.has(event.verb) && event.objectRef?.resource !== "leases");
    expect(writes.map((event) => `${event.verb} ${event.requestURI}`)).toEqual([]);
  });

  test("deleting and reinstalling the CRDs keeps every tenant namespace", async () => {
    const name = uniqueName("crd");
    await applyTenant(cluster, name, { ...tenantSpec(7), deletionPolicy: "Delete" });
    const before = await waitForTenantReady(cluster, name);
    const core = cluster.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: `${name}-a`,
      body: { metadata: { name: "data" }, data: { keep: "yes" } },
    });

    await cluster.kubectl(["delete", "crd", "tenants.tenancy.dev", "tenantrequests.tenancy.dev", "--timeout=120s"]);
    await installOperator(cluster);

    for (const namespace of [`${name}-a`, `${name}-b`]) {
      const kept = await core.readNamespace({ name: namespace });
      expect(kept.metadata!.deletionTimestamp).toBeUndefined();
      expect(kept.metadata!.labels!["tenancy.dev/tenant-id"]).toBe(before.status!.tenantId);
    }
    expect((await core.readNamespacedConfigMap({ name: "data", namespace: `${name}-a` })).data).toEqual({
      keep: "yes",
    });

    // The Tenant applied again is a new object with a new id: it reports the namespaces instead of taking them.
    await applyTenant(cluster, name, { ...tenantSpec(7), deletionPolicy: "Delete" });
    const again = await eventually("orphans reported", async () => {
      const tenant = await readTenant(cluster, name);
      return condition(tenant, "NamespacesReady")?.reason === "NamespaceConflict" ? tenant : undefined;
    });
    expect(again.status!.tenantId).not.toBe(before.status!.tenantId);
    expect(again.status!.namespaces!.map((entry) => entry.state)).toEqual(["Orphaned", "Orphaned"]);
    expect(condition(again, "OwnersBound")!.status).toBe("True");
  });

  test("annotating a tenant while it reconciles ends with a correct status", async () => {
    const name = uniqueName("busy");
    const errorsBefore = (await metricValue(operator!.probeUrl, "controller_runtime_reconcile_errors_total", {
      controller: "tenant",
    }))!;
    const retriesBefore = (await metricValue(operator!.probeUrl, "workqueue_retries_total", { controller: "tenant" }))!;
    const api = cluster.adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
    await applyTenant(cluster, name, tenantSpec(99));

    // Spec changes every ten rounds keep the status moving, so status writes race the annotations.
    const extra = ["c", "d", "e", "f"];
    for (let round = 0; round < 40; round++) {
      if (round % 10 === 0) {
        const spec = tenantSpec(99);
        spec.namespaces = [...spec.namespaces!, { name: extra[round / 10]! }];
        await applyTenant(cluster, name, spec);
      }
      await api.patchClusterCustomObject(
        {
          group: "tenancy.dev",
          version: "v1alpha1",
          plural: "tenants",
          name,
          body: { metadata: { annotations: { round: String(round) } } },
        },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
    }

    const tenant = await waitForTenantReady(cluster, name);
    expect(tenant.status!.namespaceCount).toBe(3);
    expect(tenant.status!.namespaces!.map((entry) => entry.name)).toEqual([`${name}-a`, `${name}-b`, `${name}-f`]);
    expect(tenant.status!.phase).toBe("Ready");
    expect(condition(tenant, "NamespacesReady")!.status).toBe("True");
    expect(tenant.metadata!.annotations!.round).toBe("39");
    const errorsAfter = (await metricValue(operator!.probeUrl, "controller_runtime_reconcile_errors_total", {
      controller: "tenant",
    }))!;
    const retriesAfter = (await metricValue(operator!.probeUrl, "workqueue_retries_total", { controller: "tenant" }))!;
    expect(errorsAfter).toBe(errorsBefore);
    expect(retriesAfter).toBeGreaterThan(retriesBefore);
    expect((await readTenant(cluster, name))!.status!.observedGeneration).toBe(tenant.metadata!.generation);
  });
});
