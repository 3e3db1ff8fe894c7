// Self-service API figure: latency percentiles and errors for tenant status reads and request creation under a
// fixed-rate load sent by a second process (loadgen.ts) over loopback.
//
// The API runs as its own process (`--api-only`) with a serving certificate from the test cluster's CA. Callers
// are the owners of a few benchmark Tenants: ServiceAccounts whose tokens the API checks with a TokenReview.
// Each Tenant is loaded well under the API's default per-tenant rate limit (10 requests/s), so the figure shows
// latency rather than throttling. Created requests ask for the quota the Tenant already has, so they stay Pending
// and change no Tenant.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { KubeClient } from "../src/runtime/client.js";
import { Resources } from "../src/runtime/resources.js";
import { freePort } from "../test/cluster/cluster.js";
import { createServingCertificate } from "../test/cluster/pki.js";
import { startOperator, waitForReady } from "../test/e2e/support/operator.js";
import type { BenchCluster } from "./harness.js";
import { runLoad, type LoadPlan, type LoadResult, type LoadTarget } from "./loadgen.js";
import { percentiles, type Percentiles } from "./stats.js";
import { ownerName, ownerNamespace } from "./tenants.js";

const execFileAsync = promisify(execFile);
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, "..");

export interface SelfServiceSettings {
  /** Tenants whose owners call the API, each on its own schedule. */
  tenants: readonly string[];
  durationSeconds: number;
  /** Status reads per second for each Tenant. */
  readsPerSecond: number;
  /** Request creations per second for each Tenant. */
  createsPerSecond: number;
}

export interface LoadFigures {
  name: string;
  sent: number;
  /** Responses other than 2xx, connection errors and timeouts. */
  errors: number;
  byStatus: Record<string, number>;
  latencyMs: Percentiles;
}

export type SelfServiceFigure =
  { measured: false; reason: string } | { measured: true; settings: SelfServiceSettings; kinds: LoadFigures[] };

/** Returns why the API cannot be measured in this tree, or undefined when it can. */
export function selfServiceUnavailable(): string | undefined {
  const folder = path.join(root, "src", "selfservice");
  const sources = existsSync(folder) ? readdirSync(folder).filter((file) => file.endsWith(".ts")) : [];
  if (sources.length === 0) return "not measured: API not built (src/selfservice/ has no source files)";
  if (!readFileSync(path.join(root, "src", "main.ts"), "utf8").includes("--api-only")) {
    return "not measured: API not built (src/main.ts has no --api-only flag)";
  }
  return undefined;
}

export async function measureSelfService(
  bench: BenchCluster,
  settings: SelfServiceSettings,
): Promise<SelfServiceFigure> {
  const unavailable = selfServiceUnavailable();
  if (unavailable) return { measured: false, reason: unavailable };

  // 1. A serving certificate for 127.0.0.1 and a token for each calling owner.
  const directory = bench.cluster.info.dir;
  await createServingCertificate(directory, "selfservice-api");
  const ca = readFileSync(path.join(directory, "ca.crt"), "utf8");
  const tokens = await mintOwnerTokens(bench.admin, settings.tenants);

  // 2. The API as a process of its own, with the flags it ships with.
  const port = await freePort();
  const api = await startOperator(bench.cluster, "api", [
    "--api-only",
    `--api-address=127.0.0.1:${port}`,
    `--api-tls-cert=${path.join(directory, "selfservice-api.crt")}`,
    `--api-tls-key=${path.join(directory, "selfservice-api.key")}`,
    "--log-level=warn",
  ]);
  try {
    await waitForReady(api);
    const base = `https://127.0.0.1:${port}/api/v1/tenants`;
    const targets = settings.tenants.flatMap((tenant): LoadTarget[] => {
      const headers = { authorization: `Bearer ${tokens.get(tenant)}` };
      return [
        {
          name: "status read",
          ratePerSecond: settings.readsPerSecond,
          method: "GET",
          url: `${base}/${tenant}`,
          headers,
          ca,
        },
        {
          name: "request creation",
          ratePerSecond: settings.createsPerSecond,
          method: "POST",
          url: `${base}/${tenant}/requests`,
          headers,
          body: {
            spec: { type: "Quota", quota: { scope: "PerNamespace", hard: { pods: "20" } }, reason: "benchmark" },
          },
          ca,
        },
      ];
    });

    // 3. One request of each kind first, in this process: a setup fault shows as a reason, not as a figure.
    const check = await runLoad({
      targets: targets.slice(0, 2).map((t) => ({ ...t, ratePerSecond: 1 })),
      durationSeconds: 1,
      timeoutMs: 10_000,
    });
    const failed = check.find((result) => !Object.keys(result.byStatus).every((status) => /^2\d\d$/.test(status)));
    if (failed) {
      return {
        measured: false,
        reason: `not measured: the first ${failed.name} was answered ${JSON.stringify(failed.byStatus)}; see ${api.logFile}`,
      };
    }

    const plan: LoadPlan = { targets, durationSeconds: settings.durationSeconds, timeoutMs: 10_000 };
    return { measured: true, settings, kinds: summarizeLoad(await runLoadProcess(plan)) };
  } finally {
    await api.stop();
  }
}

/** Creates each Tenant's owner ServiceAccount and returns a one-hour token for each, by Tenant. */
async function mintOwnerTokens(admin: KubeClient, tenants: readonly string[]): Promise<Map<string, string>> {
  await admin.create(Resources.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: ownerNamespace } });
  const tokens = new Map<string, string>();
  for (const tenant of tenants) {
    const name = ownerName(tenant);
    await admin.create(Resources.serviceAccount, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace: ownerNamespace },
    });
    const review = await admin.post<{ status: { token: string } }>(
      `/api/v1/namespaces/${ownerNamespace}/serviceaccounts/${name}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
    );
    tokens.set(tenant, review.status.token);
  }
  return tokens;
}

/** Runs `plan` in a second Node process and returns its results. */
async function runLoadProcess(plan: LoadPlan): Promise<LoadResult> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ["--import", "tsx", path.join(benchDir, "loadgen.ts"), JSON.stringify(plan)],
    { cwd: root, timeout: (plan.durationSeconds + 60) * 1000, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as LoadResult;
}

/** Merges the per-Tenant results into one figure for each kind of request. */
function summarizeLoad(result: LoadResult): LoadFigures[] {
  const kinds = new Map<string, { sent: number; byStatus: Record<string, number>; latencies: number[] }>();
  for (const target of result) {
    const kind = kinds.get(target.name) ?? { sent: 0, byStatus: {}, latencies: [] };
    kind.sent += target.sent;
    for (const [status, count] of Object.entries(target.byStatus)) {
      kind.byStatus[status] = (kind.byStatus[status] ?? 0) + count;
    }
    kind.latencies.push(...target.latenciesMs);
    kinds.set(target.name, kind);
  }
  return [...kinds.entries()].map(([name, kind]) => ({
    name,
    sent: kind.sent,
    errors: Object.entries(kind.byStatus)
      .filter(([status]) => !/^2\d\d$/.test(status))
      .reduce((sum, [, count]) => sum + count, 0),
    byStatus: kind.byStatus,
    latencyMs: percentiles(kind.latencies),
  }));
}
