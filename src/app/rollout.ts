// The rollout planner: which version each tenant is assigned, and how a change of the channel version moves the
// tenants that follow the channel, in waves. It is a pure function of the SharedApp's settings, its previous
// status and the tenants, so the operator can restart at any moment: everything it needs is in SharedApp.status.
//
// - A tenant pinned to a supported version is assigned that version and never moves.
// - A follower keeps its assigned version until a wave moves it to the channel version. Canary tenants move first,
//   in wave 0; then waves of at most waveSize followers, in name order.
// - A wave is done when each of its tenants runs the channel version (the Tenant controller reports the running
//   version once the tenant's endpoints point at pods of that version). A wave not done within waveTimeout
//   halts the rollout: its tenants stay assigned, the rest stay where they are, and nothing moves until the
//   SharedApp spec changes (a new generation resumes the wave with a fresh timeout, a new channel version starts
//   a new rollout).
// - A new follower joins the previous channel version while a rollout is not complete, so that it never lands on
//   a version still on trial; a later wave moves it.

import type { SharedAppStatus } from "../api/generated.js";
import type { AppSettings } from "./settings.js";

export type RolloutPhase = NonNullable<SharedAppStatus["phase"]>;

export interface PlannerTenant {
  name: string;
  tenantId: string;
  mode: "Shared" | "Dedicated";
  /** Tenant.spec.app.version, if set. */
  pinnedVersion?: string;
  /** The version the tenant's endpoints point at, from Tenant.status.app.version. */
  runningVersion?: string;
}

export interface Assignment {
  name: string;
  tenantId: string;
  mode: "Shared" | "Dedicated";
  pinned: boolean;
  assignedVersion: string;
  runningVersion?: string;
  /** Wave of the current rollout that moved the tenant. */
  wave?: number;
}

/** The rollout's part of SharedApp.status. */
export interface RolloutState {
  phase: RolloutPhase;
  targetVersion: string;
  previousVersion?: string;
  currentWave?: number;
  waveTenants: string[];
  waveStartedAt?: string;
  haltedGeneration?: number;
  message: string;
  tenants: Assignment[];
}

export type RolloutEvent =
  | { type: "RolloutStarted"; from?: string; to: string }
  | { type: "WaveStarted"; wave: number; tenants: string[] }
  | { type: "WaveCompleted"; wave: number }
  | { type: "WaveTimedOut"; wave: number; tenants: string[] }
  | { type: "RolloutResumed"; wave: number }
  | { type: "RolloutCompleted"; version: string };

export interface PlanInput {
  settings: AppSettings;
  generation: number;
  previous: SharedAppStatus | undefined;
  tenants: readonly PlannerTenant[];
  now: Date;
}

export interface Plan {
  state: RolloutState;
  events: RolloutEvent[];
  /** When the wave in progress times out, in ms from now; undefined when no wave is in progress. */
  requeueAfterMs?: number;
}

export function planRollout(input: PlanInput): Plan {
  const { settings, generation, now } = input;
  const previous = input.previous ?? {};
  const target = settings.channelVersion;
  const events: RolloutEvent[] = [];

  // 1. A new channel version starts a new rollout from the previous one.
  let state: Omit<RolloutState, "tenants">;
  if (previous.targetVersion === target && previous.phase) {
    state = {
      phase: previous.phase,
      targetVersion: target,
      previousVersion: previous.previousVersion,
      currentWave: previous.currentWave,
      waveTenants: [...(previous.waveTenants ?? [])],
      waveStartedAt: previous.waveStartedAt,
      haltedGeneration: previous.haltedGeneration,
      message: previous.message ?? "",
    };
  } else {
    const from = previous.targetVersion;
    state = { phase: "Progressing", targetVersion: target, previousVersion: from, waveTenants: [], message: "" };
    if (from !== undefined) events.push({ type: "RolloutStarted", from, to: target });
  }
  const newRollout = previous.targetVersion !== target;

  // 2. Assignments: pins first, then each follower's earlier version, then the join version for new tenants.
  const joinVersion = joinVersionOf(settings, { ...state, targetVersion: target });
  const earlier = new Map((previous.tenants ?? []).map((entry) => [entry.name, entry]));
  const tenants: Assignment[] = [...input.tenants]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((tenant) => {
      const before = earlier.get(tenant.name);
      const known = before && before.tenantId === tenant.tenantId ? before : undefined;
      const pin = tenant.pinnedVersion;
      const pinned = pin !== undefined && settings.supportedVersions.includes(pin);
      return {
        name: tenant.name,
        tenantId: tenant.tenantId,
        mode: tenant.mode,
        pinned,
        assignedVersion: pinned ? pin : (known?.assignedVersion ?? joinVersion),
        runningVersion: tenant.runningVersion,
        wave: newRollout || pinned ? undefined : known?.wave,
      };
    });
  const byName = new Map(tenants.map((tenant) => [tenant.name, tenant]));
  const isFollower = (name: string): boolean => byName.get(name)?.pinned === false;

  // 3. A halted rollout waits for a new generation of the spec, then retries its wave with a fresh timeout.
  if (state.phase === "Halted") {
    if (state.haltedGeneration === generation) return { state: { ...state, tenants }, events };
    state = { ...state, phase: "Progressing", haltedGeneration: undefined, waveStartedAt: now.toISOString() };
    events.push({ type: "RolloutResumed", wave: state.currentWave ?? 0 });
  }

  // 4. The wave in progress: done, timed out, or still waiting.
  const waveTenants = state.waveTenants.filter(isFollower);
  if (waveTenants.length > 0) {
    const waiting = waveTenants.filter((name) => byName.get(name)!.runningVersion !== target);
    const wave = state.currentWave ?? 0;
    if (waiting.length > 0) {
      const startedAt = state.waveStartedAt ? Date.parse(state.waveStartedAt) : now.getTime();
      const remainingMs = startedAt + settings.rollout.waveTimeoutMs - now.getTime();
      if (remainingMs > 0) {
        const message = `wave ${wave} is moving ${waveTenants.length} tenants to ${target}; waiting for ${waiting.join(", ")}`;
        return { state: { ...state, phase: "Progressing", message, tenants }, events, requeueAfterMs: remainingMs };
      }
      events.push({ type: "WaveTimedOut", wave, tenants: waiting });
      const seconds = Math.round(settings.rollout.waveTimeoutMs / 1000);
      const message =
        `rollout to ${target} halted: wave ${wave} did not become Available within ${seconds}s; ` +
        `tenants not running ${target}: ${waiting.join(", ")}`;
      return { state: { ...state, phase: "Halted", haltedGeneration: generation, message, tenants }, events };
    }
    events.push({ type: "WaveCompleted", wave });
  }

  // 5. The next wave: the canaries in wave 0, then waveSize followers at a time, in name order.
  const pending = tenants.filter((tenant) => !tenant.pinned && tenant.assignedVersion !== target);
  if (pending.length === 0) {
    const followers = tenants.filter((tenant) => !tenant.pinned).length;
    if (state.phase !== "Complete") events.push({ type: "RolloutCompleted", version: target });
    const message = `${followers} tenants follow the channel and are assigned ${target}`;
    return {
      state: { ...state, phase: "Complete", waveTenants: [], waveStartedAt: undefined, message, tenants },
      events,
    };
  }
  const wave = state.currentWave === undefined || newRollout ? 0 : state.currentWave + 1;
  const canaries = settings.rollout.canaryTenants.filter((name) => pending.some((tenant) => tenant.name === name));
  const members =
    wave === 0 && canaries.length > 0
      ? canaries
      : pending.slice(0, settings.rollout.waveSize).map((tenant) => tenant.name);
  for (const name of members) {
    const tenant = byName.get(name)!;
    tenant.assignedVersion = target;
    tenant.wave = wave;
  }
  events.push({ type: "WaveStarted", wave, tenants: members });
  const message = `wave ${wave} is moving ${members.length} tenants to ${target}; ${pending.length - members.length} tenants wait for later waves`;
  return {
    state: {
      ...state,
      phase: "Progressing",
      currentWave: wave,
      waveTenants: members,
      waveStartedAt: now.toISOString(),
      message,
      tenants,
    },
    events,
    requeueAfterMs: settings.rollout.waveTimeoutMs,
  };
}

/**
 * Returns the version a tenant is served at, as the planner would assign it: its pin when supported, else its
 * entry in SharedApp.status, else the version new tenants join. The Tenant controller uses it before the SharedApp
 * controller has recorded the tenant.
 */
export function assignedVersionOf(
  settings: AppSettings,
  status: SharedAppStatus | undefined,
  tenant: { name: string; tenantId: string; pinnedVersion?: string },
): string {
  const pin = tenant.pinnedVersion;
  if (pin !== undefined && settings.supportedVersions.includes(pin)) return pin;
  const entry = status?.tenants?.find((each) => each.name === tenant.name && each.tenantId === tenant.tenantId);
  if (entry) return entry.assignedVersion;
  return joinVersionOf(settings, status);
}

/**
 * Returns the version a new follower joins: the previous channel version while a rollout is not complete and
 * that version is still supported, else the channel version.
 */
export function joinVersionOf(settings: AppSettings, status: SharedAppStatus | undefined): string {
  const target = settings.channelVersion;
  const stable =
    status?.targetVersion !== target
      ? status?.targetVersion
      : status.phase === "Complete"
        ? undefined
        : status.previousVersion;
  return stable !== undefined && settings.supportedVersions.includes(stable) ? stable : target;
}
