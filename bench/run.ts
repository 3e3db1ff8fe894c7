// `npm run bench`: every benchmark figure in one run, written to RESULTS.md and results.json.
//
// Phases, each on a fresh test cluster so that none inherits another's objects, caches or audit log:
// 1. operator, N Tenants: startup with none, convergence, memory, steady state, drift repair, startup with N,
//    then the self-service API under load (when the API exists);
// 2. raw limit, N Tenants: the same Tenants and objects applied by a minimal client, then (2b) the same client
//    in the operator's request patterns;
// 3. spread: `--spread-runs` pairs of operator and raw convergence at `--spread-tenants` (also the second
//    memory point).
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { readMetric } from "../test/e2e/support/operator.js";
import { countRequests, operatorUser, serverConcurrency } from "./audit.js";
import { createAndConverge, type ConvergenceTiming } from "./convergence.js";
import { compareWithCluster } from "./desired.js";
import { measureDriftRepair } from "./drift.js";
import { startBenchCluster, type BenchCluster, type BenchOperator } from "./harness.js";
import { describeMachine, describeSource, loadAverage } from "./machine.js";
import { growthBetween, measureMemory } from "./memory.js";
import { defaultTenants, parseOptions, usage, type BenchOptions } from "./options.js";
import { summarizeProfile, type ProfileSummary } from "./profile.js";
import { rawApply, type ApplyPattern } from "./rawApply.js";
import { writeReport, type BenchResults, type OperatorConvergence, type RawConvergence } from "./report.js";
import { measureSelfService } from "./selfService.js";
import { spreadOf } from "./stats.js";
import { measureStartup } from "./startup.js";
import { measureSteadyState, reconcileCount, waitUntilIdle } from "./steadyState.js";
import { tenantName } from "./tenants.js";

const startedAt = performance.now();

// startCluster and startOperator each add an exit listener that kills what they started. A full run starts about
// 16 clusters and operators, more than the 10 listeners after which Node warns of a leak.
process.setMaxListeners(64);

// The operator's default --workers (src/main.ts), so that the emulations have its concurrency.
const operatorWorkers = 16;

/** Request patterns that separate what the operator's reconcile costs from what its extra requests cost. */
const emulations: { name: string; description: string; pattern: ApplyPattern }[] = [
  {
    name: "serial per Tenant",
    description: `${operatorWorkers} Tenants at a time, each Tenant's objects one request at a time in the operator's step order`,
    pattern: { kind: "perTenant", workers: operatorWorkers, parallelSteps: false },
  },
  {
    name: "parallel steps",
    description: `${operatorWorkers} Tenants at a time; within one, setup, guard rails and access in order, each step's objects at once`,
    pattern: { kind: "perTenant", workers: operatorWorkers, parallelSteps: true },
  },
];

function log(line: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(7);
  process.stderr.write(`[${seconds} s] ${line}\n`);
}

async function withCluster<T>(work: (bench: BenchCluster) => Promise<T>): Promise<T> {
  const bench = await startBenchCluster(log);
  try {
    return await work(bench);
  } finally {
    await bench.stop();
  }
}

/** Sum of one counter over the label sets that contain `labels` (all when omitted), from the operator's /metrics. */
async function metricTotal(probeUrl: string, name: string, labels = ""): Promise<number> {
  return [...(await readMetric(probeUrl, name)).entries()]
    .filter(([rendered]) => rendered.includes(labels))
    .reduce((sum, [, value]) => sum + value, 0);
}

/** Reads the tenant work queue's summed waits and work times and their counts, to compare before and after. */
async function queueTimes(probeUrl: string): Promise<number[]> {
  const names = ["queue_duration_seconds_sum", "queue_duration_seconds_count", "work_duration_seconds_sum"];
  return Promise.all(
    [...names, "work_duration_seconds_count"].map((name) =>
      metricTotal(probeUrl, `workqueue_${name}`, 'controller="tenant"'),
    ),
  );
}

/** Converges `count` Tenants on a running operator and collects what the operator spent on it. */
async function convergeWithOperator(
  bench: BenchCluster,
  operator: BenchOperator,
  count: number,
  options: BenchOptions,
): Promise<OperatorConvergence> {
  const from = bench.audit.offset();
  const reconcilesBefore = await reconcileCount(operator.probeUrl, "tenant");
  const retriesBefore = await metricTotal(operator.probeUrl, "workqueue_retries_total");
  const queueBefore = await queueTimes(operator.probeUrl);
  await bench.settle();
  const before = await operator.snapshot(options.cpuProfile ? { profile: "start" } : {});
  let timing: ConvergenceTiming;
  try {
    timing = await createAndConverge(bench.admin, 0, count, {
      createConcurrency: options.createConcurrency,
      timeoutSeconds: options.convergenceTimeoutSeconds,
      failIf: () => operator.exitReason(),
    });
  } catch (error) {
    // The cluster folder goes when the phase ends, so a profile the operator left at exit is copied out first.
    for (const file of readdirSync(operator.snapshotDir).filter((name) => name.endsWith("-exit.cpuprofile"))) {
      const summary = keepProfile(path.join(operator.snapshotDir, file), options.outDir, count);
      log(`  the operator's profile up to its exit: ${summary.file}`);
    }
    throw error;
  }
  const after = await operator.snapshot(options.cpuProfile ? { profile: "stop" } : {});
  const profile = after.profileFile ? keepProfile(after.profileFile, options.outDir, count) : undefined;
  const to = bench.audit.offset();
  const events = await bench.audit.requestsOf(operatorUser, from, to);
  const [waitSum, waitCount, workSum, workCount] = (await queueTimes(operator.probeUrl)).map(
    (value, index) => value - queueBefore[index]!,
  );
  const { created, ...figures } = timing;
  return {
    ...figures,
    requests: countRequests(events),
    server: serverConcurrency(events),
    reconciles: (await reconcileCount(operator.probeUrl, "tenant")) - reconcilesBefore,
    retries: (await metricTotal(operator.probeUrl, "workqueue_retries_total")) - retriesBefore,
    meanQueueWaitMs: (waitSum! / waitCount!) * 1000,
    meanReconcileMs: (workSum! / workCount!) * 1000,
    cpuSeconds: (after.cpuMicros.user + after.cpuMicros.system - before.cpuMicros.user - before.cpuMicros.system) / 1e6,
    eventLoopUtilization: after.eventLoopUtilization,
    eventLoopDelayMs: after.eventLoopDelayMs,
    objects: await compareWithCluster(bench.admin, created),
    ...(profile ? { profile } : {}),
  };
}

/** Copies a profile out of the cluster folder (removed at the end of the phase) and summarizes it. */
function keepProfile(file: string, outDir: string, tenants: number): ProfileSummary {
  const directory = path.join(outDir, "profiles");
  mkdirSync(directory, { recursive: true });
  const copy = path.join(directory, `convergence-${tenants}-tenants.cpuprofile`);
  copyFileSync(file, copy);
  return summarizeProfile(copy);
}

async function rawConvergence(count: number, options: BenchOptions, pattern?: ApplyPattern): Promise<RawConvergence> {
  return withCluster(async (bench) => {
    await bench.settle();
    const from = bench.audit.offset();
    const timing = await rawApply(bench.admin, bench.asOperator, count, {
      createConcurrency: options.createConcurrency,
      pattern: pattern ?? { kind: "flat", inFlight: options.rawConcurrency },
    });
    const events = await bench.audit.requestsOf(operatorUser, from);
    return { ...timing, requests: countRequests(events), server: serverConcurrency(events) };
  });
}

/** Phase 1: everything measured on the operator with N Tenants, on one cluster. */
async function operatorPhase(options: BenchOptions, results: Partial<BenchResults>): Promise<void> {
  const n = options.tenants;
  await withCluster(async (bench) => {
    const first = await measureStartup(bench, "main", 0, { timeoutSeconds: 120 });
    let operator = first.operator;
    try {
      log(`  startup with no Tenants: ${first.startup.readySeconds.toFixed(2)} s to /readyz`);
      const convergence = await convergeWithOperator(bench, operator, n, options);
      log(`  converged ${n} Tenants in ${convergence.convergeSeconds.toFixed(1)} s`);

      await waitUntilIdle(operator.probeUrl);
      const memory = await measureMemory(operator, n);
      log(`  memory: RSS ${(memory.rssBytes / 2 ** 20).toFixed(0)} MiB`);

      const steadyState = await measureSteadyState(operator.probeUrl, bench.audit, options.quietSeconds);
      log(`  steady state: ${steadyState.requests.writes} writes in ${steadyState.windowSeconds.toFixed(0)} s`);

      const namespaces = Array.from({ length: n }, (_, index) => tenantName(index)).flatMap((tenant) => [
        `${tenant}-dev`,
        `${tenant}-prod`,
      ]);
      const drift = await measureDriftRepair(bench.admin, bench.audit, namespaces, options.driftDeletions);
      log(`  drift repair p50 ${drift.repairSeconds.p50.toFixed(3)} s`);

      await operator.stop();
      const restart = await measureStartup(bench, "restart", n, { timeoutSeconds: 600 });
      operator = restart.operator;
      log(`  startup with ${n} Tenants: ${restart.startup.readySeconds.toFixed(2)} s to /readyz`);

      const selfService = await measureSelfService(bench, {
        tenants: Array.from({ length: Math.min(4, n) }, (_, index) => tenantName(index)),
        durationSeconds: 30,
        readsPerSecond: 4,
        createsPerSecond: 1,
      });
      log(`  self-service API: ${selfService.measured ? "measured" : selfService.reason}`);

      Object.assign(results, {
        convergence: { operator: convergence },
        memory: { points: [memory] },
        steadyState,
        drift,
        startup: { empty: first.startup, withTenants: restart.startup },
        selfService,
      });
    } finally {
      await operator.stop();
    }
  });
}

/** Phase 3: repeated operator and raw convergence at the spread size; the first run adds a memory point. */
async function spreadPhase(options: BenchOptions, results: Partial<BenchResults>): Promise<void> {
  const runs: { operatorSeconds: number; rawSeconds: number }[] = [];
  for (let run = 0; run < options.spreadRuns; run++) {
    const operatorSeconds = await withCluster(async (bench) => {
      const { operator } = await measureStartup(bench, `spread-${run}`, 0, { timeoutSeconds: 120 });
      try {
        await bench.settle();
        const convergence = await createAndConverge(bench.admin, 0, options.spreadTenants, {
          createConcurrency: options.createConcurrency,
          timeoutSeconds: options.convergenceTimeoutSeconds,
          failIf: () => operator.exitReason(),
        });
        if (run === 0 && options.spreadTenants !== options.tenants) {
          await waitUntilIdle(operator.probeUrl);
          results.memory!.points.push(await measureMemory(operator, options.spreadTenants));
        }
        return convergence.convergeSeconds;
      } finally {
        await operator.stop();
      }
    });
    const rawSeconds = (await rawConvergence(options.spreadTenants, options)).totalSeconds;
    runs.push({ operatorSeconds, rawSeconds });
    log(`  run ${run + 1}: operator ${operatorSeconds.toFixed(1)} s, raw ${rawSeconds.toFixed(1)} s`);
  }

  results.spread = {
    tenants: options.spreadTenants,
    runs,
    operator: spreadOf(runs.map((run) => run.operatorSeconds)),
    raw: spreadOf(runs.map((run) => run.rawSeconds)),
    ratio: spreadOf(runs.map((run) => run.operatorSeconds / run.rawSeconds)),
  };
  const points = results.memory!.points;
  if (points.length === 2) results.memory!.growth = growthBetween(points[0]!, points[1]!);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    console.log(usage);
    return;
  }
  if (options.render) {
    const earlier = JSON.parse(readFileSync(options.render, "utf8")) as BenchResults;
    log(`rewrote ${(await writeReport(earlier, path.dirname(options.render), defaultTenants)).join(" and ")}`);
    return;
  }
  const results: Partial<BenchResults> = {
    command: ["npm run bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" "),
    date: new Date().toISOString(),
    machine: describeMachine(),
    source: { atStart: describeSource() },
    options: { ...options, outDir: path.relative(process.cwd(), options.outDir) || "." },
  };
  const n = options.tenants;

  log(`phase 1: operator with ${n} Tenants`);
  await operatorPhase(options, results);

  log(`phase 2: raw apply of the same objects for ${n} Tenants`);
  const raw = await rawConvergence(n, options);
  log(`  raw limit ${raw.totalSeconds.toFixed(1)} s`);
  results.convergence!.raw = raw;

  if (options.emulations) {
    log(`phase 2b: operator request patterns emulated for ${n} Tenants`);
    results.convergence!.emulations = [];
    for (const emulation of emulations) {
      const timing = await rawConvergence(n, options, emulation.pattern);
      results.convergence!.emulations.push({ ...emulation, ...timing });
      log(`  ${emulation.name}: ${timing.totalSeconds.toFixed(1)} s`);
    }
  }

  if (options.spreadRuns > 0) {
    log(`phase 3: ${options.spreadRuns} runs at ${options.spreadTenants} Tenants for the spread`);
    await spreadPhase(options, results);
  }

  results.durationSeconds = (performance.now() - startedAt) / 1000;
  results.loadAverageAfter = loadAverage();
  results.source!.atEnd = describeSource();
  const written = await writeReport(results as BenchResults, options.outDir, defaultTenants);
  log(`wrote ${written.join(" and ")}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
