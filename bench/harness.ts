// Starts what every benchmark phase needs: a fresh test cluster with the operator's CRDs, RBAC and policies, API
// clients for the admin and for the operator's identity, and the operator as a real process with the flags it
// ships with. Each phase gets a cluster of its own, so no phase inherits another's objects or audit log.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { silentLogger } from "../src/runtime/logger.js";
import { KubeClient } from "../src/runtime/client.js";
import { startCluster, type TestCluster } from "../test/cluster/cluster.js";
import {
  installOperator,
  operatorGroups,
  operatorUser,
  startOperator,
  type OperatorProcess,
} from "../test/e2e/support/operator.js";
import { AuditLog } from "./audit.js";
import { sleep } from "./concurrency.js";

const preload = path.join(path.dirname(fileURLToPath(import.meta.url)), "operatorPreload.js");

export interface BenchCluster {
  cluster: TestCluster;
  /** Client as the cluster admin (system:masters), for Tenants, deletions and watches. */
  admin: KubeClient;
  /** Client as the operator's service account, for the raw phase, so RBAC and admission cost the same. */
  asOperator: KubeClient;
  audit: AuditLog;
  /**
   * Waits until the cluster has run for a fixed time since it became ready. Every timed phase calls this before
   * its first Tenant, so that each starts on a cluster of the same age: a young cluster's controllers are still
   * busy with their own start-up work.
   */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** Age of a cluster, since its warm-up request, at which timed phases start. */
export const clusterSettleSeconds = 10;

export async function startBenchCluster(log: (line: string) => void): Promise<BenchCluster> {
  const cluster = await startCluster({ log: (line) => log(`  cluster: ${line}`) });
  try {
    await installWithRetry(cluster, log);
    const { kubeConfig } = await cluster.mintUser(operatorUser, operatorGroups);
    const admin = new KubeClient(cluster.adminKubeConfig(), { fieldManager: "bench" });
    await warmUp(admin);
    const readyAt = performance.now();
    return {
      cluster,
      admin,
      asOperator: new KubeClient(kubeConfig, { fieldManager: "tenant-operator" }),
      audit: new AuditLog(cluster.info.auditLog),
      settle: () => sleep(readyAt + clusterSettleSeconds * 1000 - performance.now()),
      stop: () => cluster.stop(),
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/**
 * Runs installOperator, and once more after a failure. Its `kubectl wait` can run before the API server has
 * written any status condition on a new CRD, and then fails with ".status.conditions accessor error". The
 * install is idempotent, so a second attempt is safe.
 */
async function installWithRetry(cluster: TestCluster, log: (line: string) => void): Promise<void> {
  try {
    await installOperator(cluster);
  } catch (error) {
    log(`  installing the operator failed, retrying once: ${(error as Error).message.split("\n")[0]}`);
    await sleep(1_000);
    await installOperator(cluster);
  }
}

/**
 * Sends one dry-run Tenant creation. The API server sets up a new CRD's storage on its first request, which took
 * about 2 s on this machine, so without this step that cost would land on whichever phase creates the first Tenant.
 */
async function warmUp(admin: KubeClient): Promise<void> {
  await admin.request("POST", "/apis/tenancy.dev/v1alpha1/tenants", {
    query: { dryRun: "All", fieldManager: "bench" },
    body: { apiVersion: "tenancy.dev/v1alpha1", kind: "Tenant", metadata: { name: "warm-up" }, spec: {} },
  });
}

/** One snapshot from the operator preload (see operatorPreload.js). */
export interface OperatorSnapshot {
  time: number;
  cpuMicros: { user: number; system: number };
  eventLoopUtilization: number;
  eventLoopDelayMs: { mean: number; p50: number; p99: number; max: number };
  memory: NodeJS.MemoryUsage;
  afterGc: NodeJS.MemoryUsage;
  profileFile?: string;
}

export interface BenchOperator {
  process: OperatorProcess;
  pid: number;
  probeUrl: string;
  /** performance.now() right after the process was spawned. */
  spawnedAt: number;
  /** Folder (inside the cluster folder) to which the preload writes snapshots and profiles. */
  snapshotDir: string;
  /** Returns why the process is gone (exit code or signal), or undefined while it runs. */
  exitReason(): string | undefined;
  /**
   * Asks the preload for a snapshot of the time since the previous one, then a full GC; `profile` starts or stops
   * the CPU profiler, and a stop returns the profile's file.
   */
  snapshot(request?: { profile?: "start" | "stop" }): Promise<OperatorSnapshot>;
  /** Resident set size of the operator's node process from /proc, in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

/**
 * Starts the operator from src/main.ts as its service account. Flags: the relist interval is put back to the
 * shipped default (startOperator shortens it for tests) and logs are kept to warnings.
 */
export async function startBenchOperator(bench: BenchCluster, name: string): Promise<BenchOperator> {
  // Inside the cluster folder, which cluster.stop() removes.
  const snapshotDir = path.join(bench.cluster.info.dir, `snapshots-${name}`);
  mkdirSync(snapshotDir, { recursive: true });

  // startOperator passes the current environment to the child; these two settings are for the child only.
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, BENCH_SNAPSHOT_DIR: process.env.BENCH_SNAPSHOT_DIR };
  process.env.NODE_OPTIONS = [saved.NODE_OPTIONS, `--import=${pathToFileURL(preload).href}`].filter(Boolean).join(" ");
  process.env.BENCH_SNAPSHOT_DIR = snapshotDir;
  let operator: OperatorProcess;
  try {
    operator = await startOperator(bench.cluster, name, ["--relist-interval=300", "--log-level=warn"]);
  } finally {
    restoreEnv("NODE_OPTIONS", saved.NODE_OPTIONS);
    restoreEnv("BENCH_SNAPSHOT_DIR", saved.BENCH_SNAPSHOT_DIR);
  }
  const spawnedAt = performance.now();
  const pid = operator.child.pid!;

  let snapshotsTaken = 0;
  return {
    process: operator,
    pid,
    probeUrl: operator.probeUrl,
    spawnedAt,
    snapshotDir,
    exitReason() {
      const { exitCode, signalCode } = operator.child;
      if (exitCode === null && signalCode === null) return undefined;
      return `operator ${pid} exited (${signalCode ?? `code ${exitCode}`}); see ${operator.logFile}`;
    },
    async snapshot(request = {}) {
      const file = path.join(snapshotDir, `${pid}-${snapshotsTaken}.json`);
      writeFileSync(path.join(snapshotDir, "request.json"), JSON.stringify(request));
      process.kill(pid, "SIGUSR2");
      const deadline = Date.now() + 30_000;
      while (!readdirSync(snapshotDir).includes(path.basename(file))) {
        if (Date.now() > deadline) throw new Error(`operator ${pid} wrote no snapshot to ${file} within 30 s`);
        await sleep(20);
      }
      const profileFile = file.replace(/\.json$/, ".cpuprofile");
      snapshotsTaken++;
      const snapshot = JSON.parse(readFileSync(file, "utf8")) as OperatorSnapshot;
      return existsSync(profileFile) ? { ...snapshot, profileFile } : snapshot;
    },
    rssBytes: () => rssOf(pid),
    stop: () => operator.stop(),
  };
}

/** Reads VmRSS of `pid` from /proc/PID/status, in bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kiB = status.match(/^VmRSS:\s+(\d+) kB/m)?.[1];
  if (!kiB) throw new Error(`no VmRSS in /proc/${pid}/status; is the process still running?`);
  return Number(kiB) * 1024;
}

/** A logger for operator runtime classes used inside the benchmark process. */
export const quietLog = silentLogger();

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
