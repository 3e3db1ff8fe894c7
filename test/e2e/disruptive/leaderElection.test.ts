// Operator processes competing for the Lease, killed, paused and stopped; readiness and metrics of one process.
// Runs on a cluster of its own, because it kills and pauses operators and the API server.
import * as k8s from "@kubernetes/client-node";
import { startCluster, writeVerbs, type TestCluster } from "../../cluster/cluster.js";
import { eventually, uniqueName } from "../support/cluster.js";
import {
  installOperator,
  metricValue,
  readMetric,
  startOperator,
  waitForReady,
  type OperatorProcess,
} from "../support/operator.js";
import { applyTenant, deleteTenant, waitForReady as waitForTenantReady } from "../support/tenants.js";

// Short timings so that a test takes seconds: lease 6 s, renew deadline 4 s, retry period 1 s.
const leaseArgs = ["--lease-duration=6", "--renew-deadline=4", "--retry-period=1", "--lease-name=election-test"];
const leaseDurationMs = 6000;
const retryPeriodMs = 1000;

let cluster: TestCluster;
let coordination: k8s.CoordinationV1Api;
const operators: OperatorProcess[] = [];

beforeAll(async () => {
  cluster = await startCluster();
  await installOperator(cluster);
  coordination = cluster.adminKubeConfig().makeApiClient(k8s.CoordinationV1Api);
});

afterEach(async () => {
  for (const operator of operators.splice(0)) {
    operator.child.kill("SIGCONT");
    await operator.stop();
  }
});

afterAll(async () => {
  await cluster?.stop();
});

async function start(name: string, extra: string[] = []): Promise<OperatorProcess> {
  const operator = await startOperator(cluster, name, [...leaseArgs, ...extra]);
  operators.push(operator);
  return operator;
}

async function leaderStatus(operator: OperatorProcess): Promise<number | undefined> {
  try {
    return await metricValue(operator.probeUrl, "leader_election_master_status", { name: "election-test" });
  } catch {
    return undefined;
  }
}

async function waitForLeader(candidates: OperatorProcess[]): Promise<OperatorProcess> {
  return eventually("a leader", async () => {
    for (const candidate of candidates) if ((await leaderStatus(candidate)) === 1) return candidate;
    return undefined;
  });
}

async function holder(): Promise<string | undefined> {
  const lease = await coordination.readNamespacedLease({ name: "election-test", namespace: "tenant-operator-system" });
  return lease.spec?.holderIdentity ?? undefined;
}

describe("leader election", () => {
  test("two operators elect one leader", async () => {
    const first = await start("first");
    const second = await start("second");
    await waitForReady(first);
    await waitForReady(second);

    const leader = await waitForLeader([first, second]);
    const standby = leader === first ? second : first;
    await new Promise((resolve) => setTimeout(resolve, 3 * retryPeriodMs));
    expect(await leaderStatus(leader)).toBe(1);
    expect(await leaderStatus(standby)).toBe(0);
  });

  test("standby leads within lease duration plus one retry after SIGKILL", async () => {
    const first = await start("kill-a");
    await waitForLeader([first]);
    const second = await start("kill-b");
    await waitForReady(second);
    const before = await holder();

    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    await eventually("standby leads", async () => (await leaderStatus(second)) === 1, 30_000, 50);
    const tookMs = Date.now() - killedAt;

    expect(await holder()).not.toBe(before);
    // Bound from the Lease rules, plus 1 s for polling and process scheduling on a loaded machine.
    expect(tookMs).toBeLessThanOrEqual(leaseDurationMs + retryPeriodMs + 1000);
  });

  test("graceful shutdown releases the lease for a quick takeover", async () => {
    const first = await start("term-a");
    await waitForLeader([first]);
    const second = await start("term-b");
    await waitForReady(second);

    const stoppedAt = Date.now();
    await first.stop();
    await eventually("standby leads", async () => (await leaderStatus(second)) === 1, 30_000, 50);

    expect(Date.now() - stoppedAt).toBeLessThan(leaseDurationMs);
  });

  test("leader paused past its deadline writes nothing after it resumes", async () => {
    const first = await start("pause-a");
    await waitForLeader([first]);
    const second = await start("pause-b");
    await waitForReady(second);

    first.child.kill("SIGSTOP");
    await eventually("standby leads", async () => (await leaderStatus(second)) === 1, 30_000, 100);
    // Work that the paused replica will see in its watch streams when it wakes.
    const tenant = uniqueName("paused");
    await applyTenant(cluster, tenant, { owners: [{ kind: "User", name: "erin" }], namespaces: [{ name: "a" }] });
    await waitForTenantReady(cluster, tenant);

    const resumedAt = new Date();
    first.child.kill("SIGCONT");
    const code = await first.exited;
    expect(code).toBe(1);

    const pausedPid = `pid ${first.child.pid})`;
    const writesAfterResume = cluster
      .readAuditEvents()
      .filter((event) => event.userAgent?.endsWith(pausedPid))
      .filter((event) => writeVerbs.has(event.verb))
      .filter((event) => new Date(event.requestReceivedTimestamp) >= resumedAt);
    expect(writesAfterResume).toEqual([]);
    await deleteTenant(cluster, tenant);
  });
});

describe("operator process", () => {
  test("readyz turns true only after the caches sync", async () => {
    cluster.signalComponent("kube-apiserver", "SIGSTOP");
    let operator: OperatorProcess;
    try {
      operator = await start("ready", ["--leader-elect=false"]);
      await eventually("probe server up", async () => (await fetch(`${operator.probeUrl}/healthz`)).status === 200);
      const notReady = await fetch(`${operator.probeUrl}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.text()).toContain("[-]informers-synced failed");
    } finally {
      cluster.signalComponent("kube-apiserver", "SIGCONT");
    }
    await waitForReady(operator!);
    expect((await fetch(`${operator!.probeUrl}/readyz`)).status).toBe(200);
  });

  test("metrics carry controller-runtime names and move", async () => {
    const operator = await start("metrics", ["--leader-elect=false", "--workers=1"]);
    await waitForReady(operator);
    const names = [
      "controller_runtime_reconcile_total",
      "controller_runtime_reconcile_errors_total",
      "controller_runtime_reconcile_time_seconds_bucket",
      "controller_runtime_active_workers",
      "workqueue_depth",
      "workqueue_adds_total",
      "workqueue_queue_duration_seconds_bucket",
      "workqueue_work_duration_seconds_bucket",
      "workqueue_retries_total",
      "rest_client_requests_total",
      "rest_client_request_duration_seconds_bucket",
      "tenancy_tenants",
    ];
    for (const name of names) expect((await readMetric(operator.probeUrl, name)).size).toBeGreaterThan(0);
    const tenantController = { controller: "tenant" };
    const errorsBefore = (await metricValue(
      operator.probeUrl,
      "controller_runtime_reconcile_errors_total",
      tenantController,
    ))!;

    // An admission policy that rejects the operator's LimitRanges makes reconciles fail.
    const admission = cluster.adminKubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
    const policy = uniqueName("reject-limits");
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: policy },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [
              { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["limitranges"] },
            ],
          },
          validations: [{ expression: "false", message: "limit ranges are frozen for this test" }],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: { metadata: { name: policy }, spec: { policyName: policy, validationActions: ["Deny"] } },
    });
    const core = cluster.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    await eventually("policy in force", async () => {
      const attempt = core.createNamespacedLimitRange({
        namespace: "default",
        dryRun: "All",
        body: { metadata: { name: "probe" }, spec: { limits: [] } },
      });
      return (
        await attempt.then(
          () => "created",
          (error: unknown) => String(error),
        )
      ).includes("limit ranges are frozen");
    });
    const failing = uniqueName("fails");
    await applyTenant(cluster, failing, { namespaces: [{ name: "a" }], limits: { max: { cpu: "1" } } });
    await eventually("reconcile error counted", async () => {
      const errors = (await metricValue(
        operator.probeUrl,
        "controller_runtime_reconcile_errors_total",
        tenantController,
      ))!;
      return errors > errorsBefore;
    });
    await admission.deleteValidatingAdmissionPolicyBinding({ name: policy });
    await admission.deleteValidatingAdmissionPolicy({ name: policy });
    await waitForTenantReady(cluster, failing);

    // Thirty tenants at once through one worker: the queue fills, then drains.
    const depths: number[] = [];
    const sampler = setInterval(() => {
      void metricValue(operator.probeUrl, "workqueue_depth", tenantController).then((depth) => depths.push(depth ?? 0));
    }, 20);
    const many = Array.from({ length: 30 }, () => uniqueName("depth"));
    await Promise.all(many.map((name) => applyTenant(cluster, name, { namespaces: [{ name: "a" }] })));
    for (const name of many) await waitForTenantReady(cluster, name);
    await eventually("queue drained", async () => depths.length > 0 && depths[depths.length - 1] === 0);
    clearInterval(sampler);
    expect(Math.max(...depths)).toBeGreaterThan(1);

    const adds = (await metricValue(operator.probeUrl, "workqueue_adds_total", tenantController))!;
    expect(adds).toBeGreaterThanOrEqual(30);
    const successes = (await metricValue(operator.probeUrl, "controller_runtime_reconcile_total", {
      ...tenantController,
      result: "success",
    }))!;
    expect(successes).toBeGreaterThanOrEqual(30);
    for (const name of [failing, ...many]) await deleteTenant(cluster, name);
    expect(await metricValue(operator.probeUrl, "tenancy_tenants", { phase: "Ready" })).toBe(0);
  });
});
