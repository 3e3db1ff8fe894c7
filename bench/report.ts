// Writes a run's figures as results.json (every number, for tools) and RESULTS.md (the figures with their units,
// the command, the machine, what each number means and how the operator compares with each goal). The
// analysis of what limits the operator is written by hand in analysis.md, next to this file, and copied in, so
// that a new run keeps it. The analysis names the run it was written for.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import type { RequestCounts, ServerConcurrency } from "./audit.js";
import type { ConvergenceTiming } from "./convergence.js";
import type { Comparison } from "./desired.js";
import type { DriftRepair } from "./drift.js";
import type { MachineInfo, SourceVersion } from "./machine.js";
import type { MemoryGrowth, MemoryPoint } from "./memory.js";
import { clusterSettleSeconds } from "./harness.js";
import type { BenchOptions } from "./options.js";
import type { ProfileSummary } from "./profile.js";
import type { RawTiming } from "./rawApply.js";
import type { SelfServiceFigure } from "./selfService.js";
import { round, type Percentiles, type Spread } from "./stats.js";
import type { Startup } from "./startup.js";
import type { SteadyState } from "./steadyState.js";

export interface OperatorConvergence extends Omit<ConvergenceTiming, "created"> {
  requests: RequestCounts;
  server: ServerConcurrency;
  /** Reconciles of the Tenant controller. */
  reconciles: number;
  retries: number;
  /** Mean time a Tenant key waited in the work queue before a worker took it. */
  meanQueueWaitMs: number;
  /** Mean time a worker spent on one Tenant key. */
  meanReconcileMs: number;
  cpuSeconds: number;
  eventLoopUtilization: number;
  eventLoopDelayMs: { mean: number; p50: number; p99: number; max: number };
  objects: Comparison;
  /** CPU profile of the operator over the convergence, with --cpu-prof. */
  profile?: ProfileSummary;
}

export interface RawConvergence extends RawTiming {
  requests: RequestCounts;
  server: ServerConcurrency;
}

export interface Emulation extends RawConvergence {
  name: string;
  description: string;
}

export interface BenchResults {
  command: string;
  date: string;
  durationSeconds: number;
  machine: MachineInfo;
  loadAverageAfter: [number, number, number];
  /** Absent in results written before the field existed. */
  source?: { atStart: SourceVersion; atEnd?: SourceVersion };
  options: BenchOptions;
  convergence: { operator: OperatorConvergence; raw: RawConvergence; emulations?: Emulation[] };
  spread?: {
    tenants: number;
    runs: { operatorSeconds: number; rawSeconds: number }[];
    operator: Spread;
    raw: Spread;
    ratio: Spread;
  };
  steadyState: SteadyState;
  drift: DriftRepair;
  memory: { points: MemoryPoint[]; growth?: MemoryGrowth };
  startup: { empty: Startup; withTenants: Startup };
  selfService: SelfServiceFigure;
}

export const convergenceGoal = 1.15;

const analysisFile = path.join(path.dirname(fileURLToPath(import.meta.url)), "analysis.md");

/**
 * Writes RESULTS.md and results.json into `outDir` and returns their paths. A run with another Tenant count than
 * the default writes RESULTS-<N>.md and results-<N>.json, so that it does not replace the default run's record.
 * The JSON is formatted by Prettier, so that `prettier --check .` passes whatever the file is called.
 */
export async function writeReport(results: BenchResults, outDir: string, defaultTenants: number): Promise<string[]> {
  const suffix = results.options.tenants === defaultTenants ? "" : `-${results.options.tenants}`;
  const json = path.join(outDir, `results${suffix}.json`);
  const markdown = path.join(outDir, `RESULTS${suffix}.md`);
  const text = JSON.stringify({ ...results, goals: goalsOf(results) }, null, 2);
  writeFileSync(json, await prettier.format(text, { parser: "json" }));
  writeFileSync(markdown, renderMarkdown(results));
  return [markdown, json];
}

interface Goal {
  figure: string;
  goal: string;
  measured: string;
  status: "met" | "missed" | "no goal set" | "not measured";
}

function goalsOf(results: BenchResults): Goal[] {
  const { operator, raw } = results.convergence;
  const ratio = operator.convergeSeconds / raw.totalSeconds;
  const steadyWrites = results.steadyState.requests.writes;
  return [
    {
      figure: "1. Convergence",
      goal: `operator time ≤ ${convergenceGoal} × raw limit`,
      measured: `${fixed(ratio)} × (${fixed(operator.convergeSeconds, 1)} s / ${fixed(raw.totalSeconds, 1)} s)`,
      status: ratio <= convergenceGoal ? "met" : "missed",
    },
    {
      figure: "2. Steady state",
      goal: "0 writes besides Lease renewals",
      measured: `${steadyWrites} writes in ${fixed(results.steadyState.windowSeconds, 0)} s`,
      status: steadyWrites === 0 ? "met" : "missed",
    },
    {
      figure: "3. Drift repair",
      goal: "none set",
      measured: `p50 ${ms(results.drift.repairSeconds.p50)}, p99 ${ms(results.drift.repairSeconds.p99)}`,
      status: "no goal set",
    },
    {
      figure: "4. Memory",
      goal: "none set",
      measured: results.memory.growth
        ? `${kib(results.memory.growth.heapAfterGcBytesPerTenant)} live heap per Tenant`
        : `RSS ${mib(results.memory.points[0]!.rssBytes)} at ${results.memory.points[0]!.tenants} Tenants`,
      status: "no goal set",
    },
    {
      figure: "5. Self-service API",
      goal: "none set",
      measured: results.selfService.measured
        ? results.selfService.kinds
            .map((kind) => `${kind.name} p99 ${fixed(kind.latencyMs.p99, 0)} ms, ${kind.errors} errors`)
            .join("; ")
        : results.selfService.reason,
      status: results.selfService.measured ? "no goal set" : "not measured",
    },
    {
      figure: "6. Startup",
      goal: "none set",
      measured: `${fixed(results.startup.withTenants.readySeconds)} s to /readyz with ${results.startup.withTenants.tenants} Tenants`,
      status: "no goal set",
    },
  ];
}

function renderMarkdown(results: BenchResults): string {
  const { machine, options } = results;
  const lines: string[] = [
    "# Benchmark results",
    "",
    `Produced by \`${results.command}\` (bench/run.ts) on ${results.date}; the run took ` +
      `${fixed(results.durationSeconds / 60, 1)} min. Every figure below comes from this one run; ratios compare ` +
      "phases of the same run, because the machine is shared and absolute times move with its load.",
    "",
    "## Machine",
    "",
    `- CPUs (nproc): ${machine.cpus}, model: ${machine.cpuModel}`,
    `- Memory: ${machine.memoryGiB} GiB`,
    `- Node ${machine.nodeVersion}, Linux ${machine.kernel}`,
    `- Load average (1, 5, 15 min) at the start: ${machine.loadAverage.map((value) => fixed(value)).join(", ")}; ` +
      `at the end: ${results.loadAverageAfter.map((value) => fixed(value)).join(", ")}`,
    "",
    "## Setup",
    "",
    ...sourceLines(results),
    "- Each phase runs on a fresh test cluster from test/cluster/cluster.ts (etcd, kube-apiserver with a",
    "  Metadata-level audit log, kube-controller-manager, kube-scheduler, kwok nodes), all on this machine.",
    `  Timed work starts ${clusterSettleSeconds} s after the cluster became ready, in every phase, so that no phase`,
    "  meets the controllers' start-up work, and after one dry-run Tenant creation that sets up the CRD's storage.",
    "- The operator runs as a real process (src/main.ts through tsx) as its service account, with the flags it",
    "  ships with; only `--log-level=warn` is set, and `--relist-interval=300` restores the shipped default that",
    "  the e2e helper shortens. A preload (bench/operatorPreload.js) samples event-loop delay every 20 ms and",
    "  takes snapshots on request" +
      (options.cpuProfile ? "; this run also profiled the convergence (see the CPU profile section)." : "."),
    `- Tenants are created by the admin with ${options.createConcurrency} creations in flight. Each has 2`,
    "  namespaces, 1 owner, a per-namespace quota, a tenant total, limits and ingress allowed from one platform",
    "  namespace (bench/tenants.ts).",
    `- Request counts come from the API server's audit log, user \`system:serviceaccount:tenant-operator-system:tenant-operator\`.`,
    "",
    "## Goals",
    "",
    "| figure | goal | measured | status |",
    "|---|---|---|---|",
    ...goalsOf(results).map((goal) => `| ${goal.figure} | ${goal.goal} | ${goal.measured} | ${goal.status} |`),
    "",
    ...convergenceSection(results),
    ...steadyStateSection(results.steadyState),
    ...driftSection(results.drift),
    ...memorySection(results),
    ...selfServiceSection(results.selfService),
    ...startupSection(results),
    ...(results.convergence.operator.profile ? profileSection(results.convergence.operator.profile) : []),
    ...analysisSection(),
  ];
  return lines.join("\n") + "\n";
}

function convergenceSection(results: BenchResults): string[] {
  const { operator, raw } = results.convergence;
  const tenants = operator.tenants;
  const lines = [
    "## 1. Convergence",
    "",
    `${tenants} Tenants created at once. Operator: from the first creation request until every Tenant reported`,
    "Ready=True for its generation, seen through a watch. Raw limit: from the first creation request (the same",
    `Tenants, created the same way) until a minimal client had server-side applied every object the operator`,
    `creates for them, as the operator's service account through the operator's KubeClient, ${results.options.rawConcurrency}`,
    "requests in flight, no client-side rate limit: Namespaces and ClusterRoles first, then the rest (bench/rawApply.ts).",
    "",
    "| | operator | raw limit |",
    "|---|---|---|",
    `| total time | ${fixed(operator.convergeSeconds, 1)} s | ${fixed(raw.totalSeconds, 1)} s |`,
    `| Tenant creation | ${fixed(operator.createSeconds, 1)} s | ${fixed(raw.createSeconds, 1)} s |`,
    `| requests by the operator's identity | ${operator.requests.total} | ${raw.requests.total} |`,
    `| of which writes (Lease aside) | ${operator.requests.writes} | ${raw.requests.writes} |`,
    `| requests per Tenant | ${fixed(operator.requests.total / tenants, 1)} | ${fixed(raw.requests.total / tenants, 1)} |`,
    `| mean requests in flight at the API server (sum of server-side latencies / span) | ${fixed(operator.server.meanInFlight, 1)} | ${fixed(raw.server.meanInFlight, 1)} |`,
    `| mean / p99 server-side latency | ${fixed(operator.server.meanLatencyMs, 1)} / ${fixed(operator.server.p99LatencyMs, 0)} ms | ` +
      `${fixed(raw.server.meanLatencyMs, 1)} / ${fixed(raw.server.p99LatencyMs, 0)} ms |`,
    "",
    `Ratio operator / raw: **${fixed(operator.convergeSeconds / raw.totalSeconds)}** (goal ≤ ${convergenceGoal}).`,
    "",
    `- Per Tenant, time from the first creation until it was first Ready: ${percentileText(operator.readySeconds, "s")}.`,
    `- Raw phase: ${raw.objects} objects applied in ${fixed(raw.applySeconds, 1)} s, ${fixed(raw.appliesPerSecond, 0)} applies/s.`,
    `- Operator: ${operator.reconciles} reconciles (${fixed(operator.reconciles / tenants, 1)} per Tenant), ` +
      `${operator.retries} work-queue retries; a key waited ${fixed(operator.meanQueueWaitMs, 0)} ms in the queue and a ` +
      `reconcile took ${fixed(operator.meanReconcileMs, 0)} ms on average; ${fixed(operator.cpuSeconds, 1)} s CPU over ` +
      `${fixed(operator.convergeSeconds, 1)} s (${fixed((operator.cpuSeconds / operator.convergeSeconds) * 100, 0)}% of one core), ` +
      `event-loop utilization ${fixed(operator.eventLoopUtilization)}, event-loop delay p50 ` +
      `${operator.eventLoopDelayMs.p50} ms, p99 ${operator.eventLoopDelayMs.p99} ms, max ${operator.eventLoopDelayMs.max} ms.`,
    `- Response codes to the operator: ${codesText(operator.requests)}; raw: ${codesText(raw.requests)}.`,
    `- Objects check: the operator's builders give ${operator.objects.desired} objects for these Tenants; the cluster ` +
      `holds ${operator.objects.managed} with the operator's managed-by label; missing ${operator.objects.missing.length}, ` +
      `unexpected ${operator.objects.unexpected.length}, different ${operator.objects.different.length}` +
      `${exampleText([...operator.objects.missing, ...operator.objects.unexpected, ...operator.objects.different])}. ` +
      (sameObjects(operator.objects)
        ? "So the raw phase applies the same objects."
        : "So the raw phase does NOT apply the same objects, and the ratio is not a fair comparison."),
    "",
    "Operator requests during convergence, by verb and resource:",
    "",
    ...requestTable(operator.requests, raw.requests),
    "",
  ];
  const emulations = results.convergence.emulations ?? [];
  if (emulations.length > 0) {
    lines.push(
      "### Emulated request patterns",
      "",
      "The raw client again, each on a fresh cluster, writing the same objects in patterns that separate the cost",
      "of the operator's request pattern from the cost of its extra requests and its own work. Only the objects",
      "are written: no Namespace POST before the apply, no Events, no finalizer or status writes.",
      "",
      "| pattern | what it does | time | / raw limit | operator / this | mean in flight | mean latency |",
      "|---|---|---|---|---|---|---|",
      ...[
        { ...raw, name: "raw limit", description: `${results.options.rawConcurrency} requests in flight` },
        ...emulations,
      ].map(
        (each) =>
          `| ${each.name} | ${each.description} | ${fixed(each.totalSeconds, 1)} s | ${fixed(each.totalSeconds / raw.totalSeconds)} | ` +
          `${fixed(operator.convergeSeconds / each.totalSeconds)} | ${fixed(each.server.meanInFlight, 1)} | ${fixed(each.server.meanLatencyMs, 1)} ms |`,
      ),
      "",
    );
  }
  const spread = results.spread;
  if (spread) {
    lines.push(
      `### Spread at ${spread.tenants} Tenants (${spread.runs.length} runs, a fresh cluster for every phase)`,
      "",
      "| run | operator | raw limit | ratio |",
      "|---|---|---|---|",
      ...spread.runs.map(
        (run, index) =>
          `| ${index + 1} | ${fixed(run.operatorSeconds, 1)} s | ${fixed(run.rawSeconds, 1)} s | ${fixed(run.operatorSeconds / run.rawSeconds)} |`,
      ),
      "",
      `Operator min / median / max: ${spreadText(spread.operator, "s")}; raw: ${spreadText(spread.raw, "s")}; ratio: ` +
        `${spreadText(spread.ratio, "")}.`,
      "",
    );
  }
  return lines;
}

function steadyStateSection(steady: SteadyState): string[] {
  const { requests } = steady;
  return [
    "## 2. Steady state",
    "",
    `After convergence the operator kept reconciling for ${fixed(steady.settleSeconds, 1)} s (late events such as`,
    `quota status updates); then its requests were counted over a quiet window of ${fixed(steady.windowSeconds, 0)} s.`,
    "",
    `- Writes, Lease renewals aside: **${requests.writes}**; Lease writes: ${requests.leaseWrites}.`,
    `- Reads (get, list, watch), Lease reads aside: ${requests.reads}; Lease reads: ${requests.leaseReads}.`,
    `- Reconciles in the window: ${steady.reconciles}.`,
    "",
    ...requestTable(requests),
    "",
  ];
}

function driftSection(drift: DriftRepair): string[] {
  return [
    "## 3. Drift repair",
    "",
    `${drift.deletions} deletions by the admin, one at a time, alternating the NetworkPolicy \`deny-other-tenants\` and the`,
    "RoleBinding `tenant-admin` in random tenant namespaces (fixed seed). Time from sending the DELETE until a",
    `watch delivered the recreated object. Percentiles are nearest-rank, so with ${drift.deletions} samples p99 is ` +
      `${drift.deletions <= 100 ? "the largest sample" : "close to the largest sample"}.`,
    "",
    `- All: ${percentileText(drift.repairSeconds, "ms")}`,
    ...Object.entries(drift.byKind).map(([kind, figures]) => `- ${kind}: ${percentileText(figures, "ms")}`),
    `- Operator requests during the drift phase: ${drift.requests.total} (${drift.requests.writes} writes, ` +
      `${fixed(drift.requests.writes / Math.max(1, drift.deletions), 1)} per deletion).`,
    "",
  ];
}

function memorySection(results: BenchResults): string[] {
  const { points, growth } = results.memory;
  const lines = [
    "## 4. Memory",
    "",
    "Operator process after convergence and idle: RSS from /proc/PID/status, heap used from its /metrics",
    "(`nodejs_heap_size_used_bytes`), and live heap and RSS after a full GC forced by the preload.",
    "",
    "| Tenants | RSS | heap used | heap after GC | RSS after GC |",
    "|---|---|---|---|---|",
    ...[...points]
      .sort((a, b) => a.tenants - b.tenants)
      .map(
        (point) =>
          `| ${point.tenants} | ${mib(point.rssBytes)} | ${mib(point.heapUsedBytes)} | ${mib(point.heapUsedAfterGcBytes)} | ${mib(point.rssAfterGcBytes)} |`,
      ),
    "",
  ];
  if (growth) {
    lines.push(
      `Growth from ${growth.from.tenants} to ${growth.to.tenants} Tenants: ${kib(growth.heapAfterGcBytesPerTenant)} of live heap ` +
        `and ${kib(growth.rssBytesPerTenant)} of RSS per Tenant (each Tenant brings 2 namespaces and 16 cached objects).`,
      "",
    );
  }
  return lines;
}

function selfServiceSection(figure: SelfServiceFigure): string[] {
  if (!figure.measured) return ["## 5. Self-service API", "", figure.reason + ".", ""];
  const { settings } = figure;
  return [
    "## 5. Self-service API",
    "",
    `The API as its own process (\`--api-only\`, HTTPS on 127.0.0.1), called by the owners of ${settings.tenants.length}`,
    `Tenants with ServiceAccount tokens. Fixed-rate load from a second process (bench/loadgen.ts) for ` +
      `${settings.durationSeconds} s, for each Tenant: status reads (\`GET /api/v1/tenants/{tenant}\`) at ${settings.readsPerSecond}/s and ` +
      `request creations (\`POST /api/v1/tenants/{tenant}/requests\`, a Quota request that stays Pending) at ${settings.createsPerSecond}/s.`,
    "Latency runs from each request's scheduled start to the end of its response; errors are responses other than",
    "2xx, failed connections and timeouts (10 s).",
    "",
    "| requests | sent | errors | p50 | p90 | p99 | max | responses |",
    "|---|---|---|---|---|---|---|---|",
    ...figure.kinds.map(
      (kind) =>
        `| ${kind.name} | ${kind.sent} | ${kind.errors} | ${fixed(kind.latencyMs.p50, 1)} ms | ` +
        `${fixed(kind.latencyMs.p90, 1)} ms | ${fixed(kind.latencyMs.p99, 1)} ms | ${fixed(kind.latencyMs.max, 1)} ms | ` +
        `${Object.entries(kind.byStatus)
          .map(([status, count]) => `${status}: ${count}`)
          .join(", ")} |`,
    ),
    "",
  ];
}

function startupSection(results: BenchResults): string[] {
  const { empty, withTenants } = results.startup;
  return [
    "## 6. Startup",
    "",
    "From spawning the operator process (node with the tsx loader, which compiles src/ on the way) until",
    "/readyz answered 200, polled every 20 ms; then until the new leader had reconciled every Tenant once.",
    "",
    "| Tenants present | to /readyz | to caught up | writes (Lease aside) | reads |",
    "|---|---|---|---|---|",
    ...[empty, withTenants].map(
      (startup) =>
        `| ${startup.tenants} | ${fixed(startup.readySeconds)} s | ${fixed(startup.caughtUpSeconds, 1)} s | ` +
        `${startup.requests.writes} | ${startup.requests.reads} |`,
    ),
    "",
  ];
}

function profileSection(profile: ProfileSummary): string[] {
  return [
    "## CPU profile of the operator during convergence",
    "",
    `\`${path.relative(process.cwd(), profile.file)}\`: ${fixed(profile.wallSeconds, 1)} s profiled, main thread ` +
      `busy ${fixed(profile.busySeconds, 1)} s. The V8 sampling profiler ran from just before the first Tenant was`,
    "created until all were Ready (started through node:inspector by the preload, because Node 20 rejects",
    "`--cpu-prof` in NODE_OPTIONS); the profiler adds some overhead, so this run's convergence time is a little",
    "high. Self time by source area:",
    "",
    "| area | self time |",
    "|---|---|",
    ...profile.areas.slice(0, 12).map((area) => `| ${area.area} | ${fixed(area.selfMs / 1000, 2)} s |`),
    "",
    "Top functions by self time:",
    "",
    "| function | location | self time |",
    "|---|---|---|",
    ...profile.functions
      .slice(0, 15)
      .map((entry) => `| ${entry.name} | ${entry.location} | ${fixed(entry.selfMs / 1000, 2)} s |`),
    "",
  ];
}

function analysisSection(): string[] {
  if (!existsSync(analysisFile)) return [];
  return [readFileSync(analysisFile, "utf8").trimEnd(), ""];
}

function requestTable(operator: RequestCounts, raw?: RequestCounts): string[] {
  const keys = [
    ...new Set([...Object.keys(operator.byVerbAndResource), ...Object.keys(raw?.byVerbAndResource ?? {})]),
  ].sort((a, b) => (operator.byVerbAndResource[b] ?? 0) - (operator.byVerbAndResource[a] ?? 0));
  if (keys.length === 0) return ["(no requests)"];
  return [
    raw ? "| verb resource | operator | raw |" : "| verb resource | requests |",
    raw ? "|---|---|---|" : "|---|---|",
    ...keys.map((key) =>
      raw
        ? `| ${key} | ${operator.byVerbAndResource[key] ?? 0} | ${raw.byVerbAndResource[key] ?? 0} |`
        : `| ${key} | ${operator.byVerbAndResource[key] ?? 0} |`,
    ),
  ];
}

function percentileText(figures: Percentiles, unit: "s" | "ms"): string {
  const value = (seconds: number): string => (unit === "ms" ? ms(seconds) : `${fixed(seconds, 1)} s`);
  return `p50 ${value(figures.p50)}, p90 ${value(figures.p90)}, p99 ${value(figures.p99)}, max ${value(figures.max)} (n = ${figures.count})`;
}

function spreadText(spread: Spread, unit: string): string {
  const suffix = unit ? ` ${unit}` : "";
  return `${fixed(spread.min)}${suffix} / ${fixed(spread.median)}${suffix} / ${fixed(spread.max)}${suffix} (range ${fixed(spread.relativeRange * 100, 0)}% of the median)`;
}

function codesText(requests: RequestCounts): string {
  return Object.entries(requests.byCode)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, count]) => `${code}: ${count}`)
    .join(", ");
}

function sourceLines(results: BenchResults): string[] {
  if (!results.source) return [];
  const describe = (version: SourceVersion): string =>
    `commit ${version.commit}${version.srcModified ? " with uncommitted changes in src/" : ""}`;
  const { atStart, atEnd } = results.source;
  const changed = atEnd && (atEnd.commit !== atStart.commit || atEnd.srcModified !== atStart.srcModified);
  return [
    `- Operator source: ${describe(atStart)} at the start` +
      (changed ? `; ${describe(atEnd)} at the end, so later phases may have run newer code.` : "."),
  ];
}

function sameObjects(comparison: Comparison): boolean {
  return comparison.missing.length + comparison.unexpected.length + comparison.different.length === 0;
}

function exampleText(keys: string[]): string {
  return keys.length === 0 ? "" : ` (for example ${keys.slice(0, 3).join(", ")})`;
}

function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? round(value, digits).toFixed(digits) : "n/a";
}

function ms(seconds: number): string {
  return `${fixed(seconds * 1000, 0)} ms`;
}

function mib(bytes: number): string {
  return `${fixed(bytes / 2 ** 20, 1)} MiB`;
}

function kib(bytes: number): string {
  return `${fixed(bytes / 1024, 1)} KiB`;
}
