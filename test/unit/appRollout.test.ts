// The rollout planner: assignments, canary and regular waves, halting on timeout, resuming, and the version
// the Tenant controller derives for a tenant the planner has not recorded yet.
import type { SharedApp, SharedAppStatus } from "../../src/api/generated.js";
import { assignedVersionOf, planRollout, type PlannerTenant, type Plan } from "../../src/app/rollout.js";
import { resolveSettings, type AppSettings } from "../../src/app/settings.js";

function settings(spec: Partial<SharedApp["spec"]> = {}): AppSettings {
  return resolveSettings({
    metadata: { name: "platform" },
    spec: {
      image: { repository: "registry.example/shop" },
      channelVersion: "1.0.0",
      supportedVersions: ["1.0.0", "2.0.0"],
      rollout: { waveSize: 3, waveTimeoutSeconds: 60, canaryTenants: ["t01"] },
      ...spec,
    },
  });
}

function tenants(count: number, running?: (name: string) => string | undefined): PlannerTenant[] {
  return Array.from({ length: count }, (_, index) => {
    const name = `t${String(index + 1).padStart(2, "0")}`;
    return { name, tenantId: `id-${name}`, mode: "Shared", runningVersion: running?.(name) };
  });
}

/** Returns the status a plan would write, to feed the next plan. */
function statusOf(plan: Plan): SharedAppStatus {
  const { state } = plan;
  return { ...state, tenants: state.tenants.map((entry) => ({ ...entry })) };
}

const start = new Date("2026-01-01T00:00:00Z");
const later = (seconds: number): Date => new Date(start.getTime() + seconds * 1000);

describe("rollout planner", () => {
  test("first plan assigns every tenant the channel version", () => {
    const plan = planRollout({
      settings: settings(),
      generation: 1,
      previous: undefined,
      tenants: tenants(4),
      now: start,
    });

    expect(plan.state.phase).toBe("Complete");
    expect(plan.state.tenants.map((entry) => entry.assignedVersion)).toEqual(["1.0.0", "1.0.0", "1.0.0", "1.0.0"]);
    expect(plan.requeueAfterMs).toBeUndefined();
  });

  test("supported pin is assigned and never moves", () => {
    const list = tenants(2);
    list[1]!.pinnedVersion = "1.0.0";
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const second = planRollout({
      settings: settings({ channelVersion: "2.0.0" }),
      generation: 2,
      previous: statusOf(first),
      tenants: list,
      now: later(1),
    });

    const pinned = second.state.tenants.find((entry) => entry.name === "t02")!;
    expect(pinned).toMatchObject({ pinned: true, assignedVersion: "1.0.0" });
    expect(second.state.waveTenants).toEqual(["t01"]);
  });

  test("unsupported pin keeps the earlier version", () => {
    const list = tenants(1);
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    list[0]!.pinnedVersion = "0.9.0";
    const second = planRollout({
      settings: settings(),
      generation: 1,
      previous: statusOf(first),
      tenants: list,
      now: later(1),
    });

    expect(second.state.tenants[0]).toMatchObject({ pinned: false, assignedVersion: "1.0.0" });
  });

  test("new channel moves canaries first then waves of waveSize", () => {
    let list = tenants(10, () => "1.0.0");
    let plan = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const waves: string[][] = [];
    const target = settings({ channelVersion: "2.0.0" });

    for (let step = 1; step <= 10; step++) {
      plan = planRollout({
        settings: target,
        generation: 2,
        previous: statusOf(plan),
        tenants: list,
        now: later(step),
      });
      if (plan.state.phase === "Complete") break;
      if (plan.events.some((event) => event.type === "WaveStarted")) waves.push([...plan.state.waveTenants]);
      // Every tenant of the wave becomes Available on the new version before the next plan.
      const moved = new Set(plan.state.waveTenants);
      list = list.map((tenant) => (moved.has(tenant.name) ? { ...tenant, runningVersion: "2.0.0" } : tenant));
    }

    expect(waves).toEqual([["t01"], ["t02", "t03", "t04"], ["t05", "t06", "t07"], ["t08", "t09", "t10"]]);
    expect(plan.state.phase).toBe("Complete");
    expect(plan.state.tenants.every((entry) => entry.assignedVersion === "2.0.0")).toBe(true);
    expect(plan.state.tenants.map((entry) => entry.wave)).toEqual([0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  test("next wave waits until the current one runs the target", () => {
    const list = tenants(5, () => "1.0.0");
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const wave0 = planRollout({
      settings: settings({ channelVersion: "2.0.0" }),
      generation: 2,
      previous: statusOf(first),
      tenants: list,
      now: later(1),
    });
    const waiting = planRollout({
      settings: settings({ channelVersion: "2.0.0" }),
      generation: 2,
      previous: statusOf(wave0),
      tenants: list,
      now: later(30),
    });

    expect(waiting.state.phase).toBe("Progressing");
    expect(waiting.state.waveTenants).toEqual(["t01"]);
    expect(
      waiting.state.tenants.filter((entry) => entry.assignedVersion === "2.0.0").map((entry) => entry.name),
    ).toEqual(["t01"]);
    expect(waiting.requeueAfterMs).toBe(31_000);
  });

  test("wave past its timeout halts and leaves the rest", () => {
    const list = tenants(5, () => "1.0.0");
    const target = settings({ channelVersion: "2.0.0" });
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const wave0 = planRollout({
      settings: target,
      generation: 2,
      previous: statusOf(first),
      tenants: list,
      now: later(1),
    });
    const halted = planRollout({
      settings: target,
      generation: 2,
      previous: statusOf(wave0),
      tenants: list,
      now: later(62),
    });

    expect(halted.state.phase).toBe("Halted");
    expect(halted.state.currentWave).toBe(0);
    expect(halted.state.haltedGeneration).toBe(2);
    expect(halted.state.message).toBe(
      "rollout to 2.0.0 halted: wave 0 did not become Available within 60s; tenants not running 2.0.0: t01",
    );
    expect(halted.events).toEqual([{ type: "WaveTimedOut", wave: 0, tenants: ["t01"] }]);
    expect(halted.state.tenants.filter((entry) => entry.assignedVersion === "1.0.0")).toHaveLength(4);

    const still = planRollout({
      settings: target,
      generation: 2,
      previous: statusOf(halted),
      tenants: list,
      now: later(500),
    });
    expect(still.state.phase).toBe("Halted");
    expect(still.events).toEqual([]);
  });

  test("new spec generation resumes a halted wave", () => {
    const list = tenants(2, () => "1.0.0");
    const target = settings({ channelVersion: "2.0.0" });
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const wave0 = planRollout({
      settings: target,
      generation: 2,
      previous: statusOf(first),
      tenants: list,
      now: later(1),
    });
    const halted = planRollout({
      settings: target,
      generation: 2,
      previous: statusOf(wave0),
      tenants: list,
      now: later(62),
    });
    const resumed = planRollout({
      settings: target,
      generation: 3,
      previous: statusOf(halted),
      tenants: list,
      now: later(70),
    });

    expect(resumed.state.phase).toBe("Progressing");
    expect(resumed.events).toEqual([{ type: "RolloutResumed", wave: 0 }]);
    expect(resumed.state.waveStartedAt).toBe(later(70).toISOString());
  });

  test("rollback is a new rollout to the old version", () => {
    const list = tenants(4, () => "1.0.0");
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const wave0 = planRollout({
      settings: settings({ channelVersion: "2.0.0" }),
      generation: 2,
      previous: statusOf(first),
      tenants: list,
      now: later(1),
    });
    const back = planRollout({
      settings: settings(),
      generation: 3,
      previous: statusOf(wave0),
      tenants: list,
      now: later(5),
    });

    expect(back.events[0]).toEqual({ type: "RolloutStarted", from: "2.0.0", to: "1.0.0" });
    expect(back.state.previousVersion).toBe("2.0.0");
    expect(back.state.waveTenants).toEqual(["t01"]);
    expect(back.state.tenants[0]!.assignedVersion).toBe("1.0.0");
  });

  test("new tenant joins the previous version during a rollout", () => {
    const list = tenants(3, () => "1.0.0");
    const target = settings({ channelVersion: "2.0.0" });
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const wave0 = planRollout({
      settings: target,
      generation: 2,
      previous: statusOf(first),
      tenants: list,
      now: later(1),
    });
    const joined = planRollout({
      settings: target,
      generation: 2,
      previous: statusOf(wave0),
      tenants: [...list, { name: "t99", tenantId: "id-t99", mode: "Shared" }],
      now: later(2),
    });

    expect(joined.state.tenants.find((entry) => entry.name === "t99")!.assignedVersion).toBe("1.0.0");
    expect(assignedVersionOf(target, statusOf(wave0), { name: "t99", tenantId: "id-t99" })).toBe("1.0.0");
  });

  test("recreated tenant with a new id gets a fresh assignment", () => {
    const list = tenants(1);
    list[0]!.pinnedVersion = "2.0.0";
    const first = planRollout({ settings: settings(), generation: 1, previous: undefined, tenants: list, now: start });
    const again = planRollout({
      settings: settings(),
      generation: 1,
      previous: statusOf(first),
      tenants: [{ name: "t01", tenantId: "id-new", mode: "Shared" }],
      now: later(1),
    });

    expect(again.state.tenants[0]).toMatchObject({ tenantId: "id-new", pinned: false, assignedVersion: "1.0.0" });
  });

  test("assigned version follows pin, then status, then channel", () => {
    const app = settings();
    const status: SharedAppStatus = {
      phase: "Complete",
      targetVersion: "1.0.0",
      tenants: [{ name: "a", tenantId: "id-a", assignedVersion: "2.0.0" }],
    };

    expect(assignedVersionOf(app, status, { name: "a", tenantId: "id-a", pinnedVersion: "1.0.0" })).toBe("1.0.0");
    expect(assignedVersionOf(app, status, { name: "a", tenantId: "id-a" })).toBe("2.0.0");
    expect(assignedVersionOf(app, status, { name: "a", tenantId: "id-a", pinnedVersion: "9" })).toBe("2.0.0");
    expect(assignedVersionOf(app, status, { name: "b", tenantId: "id-b" })).toBe("1.0.0");
    expect(assignedVersionOf(app, undefined, { name: "b", tenantId: "id-b" })).toBe("1.0.0");
  });
});
