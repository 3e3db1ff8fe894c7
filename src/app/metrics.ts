// The tenancy_rollout_* metrics: the rollout's phase and wave, waves completed and timed out, and how many tenants
// run each version. Series of a version that no tenant runs any more are removed.

import { Counter, Gauge } from "prom-client";
import { registry } from "../runtime/metrics.js";
import type { RolloutPhase } from "./rollout.js";

const phases: RolloutPhase[] = ["Progressing", "Halted", "Complete"];

const rolloutPhase = new Gauge({
  name: "tenancy_rollout_phase",
  help: "1 for the shared app rollout's current phase, 0 for the others.",
  labelNames: ["phase"] as const,
  registers: [registry],
});

const currentWave = new Gauge({
  name: "tenancy_rollout_current_wave",
  help: "Number of the latest wave of the current rollout; wave 0 contains the canary tenants.",
  registers: [registry],
});

const waveTenants = new Gauge({
  name: "tenancy_rollout_wave_tenants",
  help: "Tenants in the wave in progress; 0 when no wave is in progress.",
  registers: [registry],
});

export const rolloutWaves = new Counter({
  name: "tenancy_rollout_waves_total",
  help: "Rollout waves that ended, by result (completed or timed_out).",
  labelNames: ["result"] as const,
  registers: [registry],
});

const tenantsByVersion = new Gauge({
  name: "tenancy_rollout_tenants",
  help: "Tenants whose endpoints point at pods of each version.",
  labelNames: ["version"] as const,
  registers: [registry],
});

for (const phase of phases) rolloutPhase.set({ phase }, 0);
currentWave.set(0);
waveTenants.set(0);
rolloutWaves.inc({ result: "completed" }, 0);
rolloutWaves.inc({ result: "timed_out" }, 0);

class RolloutMetrics {
  private versions = new Set<string>();

  record(phase: RolloutPhase, wave: number, tenantsInWave: number, running: ReadonlyMap<string, number>): void {
    for (const each of phases) rolloutPhase.set({ phase: each }, each === phase ? 1 : 0);
    currentWave.set(wave);
    waveTenants.set(tenantsInWave);
    for (const stale of this.versions) if (!running.has(stale)) tenantsByVersion.remove({ version: stale });
    for (const [version, count] of running) tenantsByVersion.set({ version }, count);
    this.versions = new Set(running.keys());
  }

  /** Resets every series, for when no SharedApp exists. */
  clear(): void {
    this.record("Complete", 0, 0, new Map());
    rolloutPhase.set({ phase: "Complete" }, 0);
  }
}

export const rolloutMetrics = new RolloutMetrics();
