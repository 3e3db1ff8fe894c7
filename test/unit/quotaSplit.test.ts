import { parseQuantity } from "../../src/tenant/quantity.js";
import {
  planQuotaSplit,
  sumWithin,
  type NamespaceQuotaState,
  type QuotaSplitPlan,
} from "../../src/tenant/quotaSplit.js";

type HardList = Record<string, string> | undefined;

// Applies the steps one write at a time and returns the hard lists after each write, starting with the current ones.
function applySteps(namespaces: NamespaceQuotaState[], plan: QuotaSplitPlan): HardList[][] {
  const hards = new Map<string, HardList>(namespaces.map((ns) => [ns.namespace, ns.hard]));
  const snapshots = [[...hards.values()]];
  for (const step of plan.steps) {
    hards.set(step.namespace, step.hard);
    snapshots.push([...hards.values()]);
  }
  return snapshots;
}

function sumOf(resource: string, hards: readonly HardList[]): bigint {
  return hards.reduce((sum, hard) => sum + parseQuantity(hard?.[resource] ?? "0"), 0n);
}

describe("planQuotaSplit", () => {
  test("planQuotaSplit splits equally without usage", () => {
    const plan = planQuotaSplit({ "requests.cpu": "4", pods: "20" }, [
      { namespace: "t-a-prod" },
      { namespace: "t-a-dev" },
    ]);

    expect(plan.targets).toEqual({
      "t-a-dev": { "requests.cpu": "2", pods: "10" },
      "t-a-prod": { "requests.cpu": "2", pods: "10" },
    });
    expect(plan.steps).toEqual([
      { phase: "raise", namespace: "t-a-dev", hard: { "requests.cpu": "2", pods: "10" } },
      { phase: "raise", namespace: "t-a-prod", hard: { "requests.cpu": "2", pods: "10" } },
    ]);
  });

  test("planQuotaSplit gives remainder to first names", () => {
    const plan = planQuotaSplit({ "requests.cpu": "1", pods: "10" }, [
      { namespace: "c" },
      { namespace: "a" },
      { namespace: "b" },
    ]);

    expect(plan.targets["a"]).toEqual({ "requests.cpu": "334m", pods: "4" });
    expect(plan.targets["b"]).toEqual({ "requests.cpu": "333m", pods: "3" });
    expect(plan.targets["c"]).toEqual({ "requests.cpu": "333m", pods: "3" });
  });

  test("planQuotaSplit splits memory in whole bytes", () => {
    const plan = planQuotaSplit({ "requests.memory": "8Gi" }, [
      { namespace: "a" },
      { namespace: "b" },
      { namespace: "c" },
    ]);

    expect(plan.targets["a"]).toEqual({ "requests.memory": "2863311531" });
    expect(plan.targets["b"]).toEqual({ "requests.memory": "2863311531" });
    expect(plan.targets["c"]).toEqual({ "requests.memory": "2863311530" });
    expect(sumWithin({ "requests.memory": "8Gi" }, Object.values(plan.targets))).toBe(true);
  });

  test("planQuotaSplit keeps binary style of total", () => {
    const plan = planQuotaSplit({ "limits.memory": "8Gi" }, [
      { namespace: "a", used: { "limits.memory": "1Gi" } },
      { namespace: "b", used: { "limits.memory": "1Gi" } },
    ]);

    expect(plan.targets["a"]).toEqual({ "limits.memory": "4Gi" });
    expect(plan.targets["b"]).toEqual({ "limits.memory": "4Gi" });
  });

  test("planQuotaSplit gives busy namespace usage plus share", () => {
    const plan = planQuotaSplit({ "requests.cpu": "4" }, [
      { namespace: "busy", hard: { "requests.cpu": "2" }, used: { "requests.cpu": "1500m" } },
      { namespace: "idle", hard: { "requests.cpu": "2" }, used: { "requests.cpu": "100m" } },
    ]);

    // Headroom is 4 - 1.6 = 2.4 cpu, so each namespace gets its usage plus 1.2 cpu.
    expect(plan.targets["busy"]).toEqual({ "requests.cpu": "2700m" });
    expect(plan.targets["idle"]).toEqual({ "requests.cpu": "1300m" });
    expect(plan.steps).toEqual([
      { phase: "lower", namespace: "idle", hard: { "requests.cpu": "1300m" } },
      { phase: "raise", namespace: "busy", hard: { "requests.cpu": "2700m" } },
    ]);
  });

  test("planQuotaSplit redistributes headroom as usage moves", () => {
    const total = { pods: "30" };
    const first = planQuotaSplit(total, [
      { namespace: "a", hard: { pods: "10" }, used: { pods: "10" } },
      { namespace: "b", hard: { pods: "10" }, used: { pods: "0" } },
      { namespace: "c", hard: { pods: "10" }, used: { pods: "0" } },
    ]);
    expect(first.targets).toEqual({ a: { pods: "17" }, b: { pods: "7" }, c: { pods: "6" } });

    // Namespace a scales down and b scales up, so b now gets a's unused share.
    const second = planQuotaSplit(total, [
      { namespace: "a", hard: first.targets["a"], used: { pods: "2" } },
      { namespace: "b", hard: first.targets["b"], used: { pods: "7" } },
      { namespace: "c", hard: first.targets["c"], used: { pods: "0" } },
    ]);
    expect(second.targets).toEqual({ a: { pods: "9" }, b: { pods: "14" }, c: { pods: "7" } });
    expect(second.steps).toEqual([
      { phase: "lower", namespace: "a", hard: { pods: "9" } },
      { phase: "raise", namespace: "b", hard: { pods: "14" } },
      { phase: "raise", namespace: "c", hard: { pods: "7" } },
    ]);
  });

  test("planQuotaSplit lowers first when total shrinks", () => {
    const namespaces: NamespaceQuotaState[] = [
      { namespace: "a", hard: { "requests.cpu": "4" }, used: { "requests.cpu": "1" } },
      { namespace: "b", hard: { "requests.cpu": "4" }, used: { "requests.cpu": "1" } },
    ];
    const plan = planQuotaSplit({ "requests.cpu": "4" }, namespaces);

    expect(plan.targets).toEqual({ a: { "requests.cpu": "2" }, b: { "requests.cpu": "2" } });
    expect(plan.steps.map((step) => step.phase)).toEqual(["lower", "lower"]);

    const sums = applySteps(namespaces, plan).map((hards) => sumOf("requests.cpu", hards));
    expect(sums).toEqual([8000n, 6000n, 4000n]);
  });

  test("planQuotaSplit splits a mixed change into lower and raise", () => {
    const namespaces: NamespaceQuotaState[] = [
      { namespace: "a", hard: { "requests.cpu": "3", pods: "2" }, used: { pods: "2" } },
      { namespace: "b", hard: { "requests.cpu": "1", pods: "8" }, used: { "requests.cpu": "1" } },
    ];
    const plan = planQuotaSplit({ "requests.cpu": "4", pods: "10" }, namespaces);

    expect(plan.targets).toEqual({
      a: { "requests.cpu": "1500m", pods: "6" },
      b: { "requests.cpu": "2500m", pods: "4" },
    });
    expect(plan.steps).toEqual([
      { phase: "lower", namespace: "a", hard: { "requests.cpu": "1500m", pods: "2" } },
      { phase: "lower", namespace: "b", hard: { "requests.cpu": "1", pods: "4" } },
      { phase: "raise", namespace: "a", hard: { "requests.cpu": "1500m", pods: "6" } },
      { phase: "raise", namespace: "b", hard: { "requests.cpu": "2500m", pods: "4" } },
    ]);
  });

  test("planQuotaSplit scales usage above total", () => {
    const plan = planQuotaSplit({ "requests.cpu": "2", pods: "3" }, [
      { namespace: "a", hard: { "requests.cpu": "3", pods: "4" }, used: { "requests.cpu": "3", pods: "4" } },
      { namespace: "b", hard: { "requests.cpu": "1", pods: "2" }, used: { "requests.cpu": "1", pods: "2" } },
    ]);

    // cpu: floors 2 * 3/4 = 1.5 and 2 * 1/4 = 0.5. pods: floors 3 * 4/6 = 2 and 3 * 2/6 = 1.
    expect(plan.targets).toEqual({
      a: { "requests.cpu": "1500m", pods: "2" },
      b: { "requests.cpu": "500m", pods: "1" },
    });
    expect(plan.steps.every((step) => step.phase === "lower")).toBe(true);
  });

  test("planQuotaSplit hands leftover units in name order", () => {
    const plan = planQuotaSplit({ pods: "4" }, [
      { namespace: "a", used: { pods: "3" } },
      { namespace: "b", used: { pods: "3" } },
      { namespace: "c", used: { pods: "3" } },
    ]);

    // Each floor is 4 * 3/9 rounded down to 1 pod, and the one pod left goes to the first name.
    expect(plan.targets).toEqual({ a: { pods: "2" }, b: { pods: "1" }, c: { pods: "1" } });
  });

  test("planQuotaSplit treats missing hard as raise", () => {
    const plan = planQuotaSplit({ "requests.cpu": "2", pods: "4" }, [
      { namespace: "a", hard: { "requests.cpu": "2" } },
      { namespace: "b" },
    ]);

    expect(plan.steps).toEqual([
      { phase: "lower", namespace: "a", hard: { "requests.cpu": "1" } },
      { phase: "raise", namespace: "a", hard: { "requests.cpu": "1", pods: "2" } },
      { phase: "raise", namespace: "b", hard: { "requests.cpu": "1", pods: "2" } },
    ]);
  });

  test("planQuotaSplit skips namespaces already at target", () => {
    const plan = planQuotaSplit({ "requests.cpu": "2" }, [
      { namespace: "a", hard: { "requests.cpu": "1000m" } },
      { namespace: "b", hard: { "requests.cpu": "1" } },
    ]);

    expect(plan.steps).toEqual([]);
  });

  test("planQuotaSplit drops resources outside total in raise", () => {
    const plan = planQuotaSplit({ pods: "2" }, [{ namespace: "a", hard: { pods: "2", services: "5" } }]);

    expect(plan.steps).toEqual([{ phase: "raise", namespace: "a", hard: { pods: "2" } }]);
  });

  test("planQuotaSplit with no namespaces is empty", () => {
    expect(planQuotaSplit({ pods: "2" }, [])).toEqual({ targets: {}, steps: [] });
  });

  test("planQuotaSplit rejects invalid input", () => {
    expect(() => planQuotaSplit({ pods: "many" }, [{ namespace: "a" }])).toThrow(
      'total["pods"]: invalid quantity "many"',
    );
    expect(() => planQuotaSplit({ pods: "-1" }, [{ namespace: "a" }])).toThrow('invalid total for "pods"');
    expect(() => planQuotaSplit({ pods: "1" }, [{ namespace: "a", used: { pods: "x" } }])).toThrow(
      'used["pods"] of namespace a: invalid quantity "x"',
    );
    expect(() => planQuotaSplit({ pods: "1" }, [{ namespace: "a" }, { namespace: "a" }])).toThrow(
      'duplicate namespace "a"',
    );
  });
});

describe("sumWithin", () => {
  test("sumWithin compares sums per resource", () => {
    const total = { "requests.cpu": "1", pods: "2" };

    expect(sumWithin(total, [{ "requests.cpu": "500m", pods: "1" }, { "requests.cpu": "0.5" }])).toBe(true);
    expect(sumWithin(total, [{ "requests.cpu": "501m" }, { "requests.cpu": "0.5" }])).toBe(false);
    expect(sumWithin(total, [{ pods: "3" }, undefined])).toBe(false);
    expect(sumWithin(total, [])).toBe(true);
  });
});

// Mulberry32, a small seeded PRNG, so a failing case can be replayed from its seed.
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("planQuotaSplit property", () => {
  const random = mulberry32(20240611);
  const integer = (max: number): number => Math.floor(random() * (max + 1));
  const pick = <T>(values: readonly T[]): T => values[integer(values.length - 1)] as T;

  // Each generator returns a random quantity string of one resource in a mix of notations.
  const generators: Record<string, () => string> = {
    "requests.cpu": () => pick([`${integer(8000)}m`, `${integer(8)}`, `${integer(80) / 10}`, `${integer(4)}e3`]),
    "limits.memory": () => pick([`${integer(16)}Gi`, `${integer(16384)}Mi`, `${integer(20)}G`, `${integer(10 ** 9)}`]),
    pods: () => `${integer(50)}`,
  };
  const resources = Object.keys(generators);

  function randomList(): Record<string, string> | undefined {
    if (integer(4) === 0) {
      return undefined;
    }
    const list: Record<string, string> = {};
    for (const resource of resources) {
      const generate = generators[resource];
      if (generate !== undefined && integer(5) > 0) {
        list[resource] = generate();
      }
    }
    return list;
  }

  const cases = Array.from({ length: 500 }, (_, index) => {
    const total: Record<string, string> = {};
    for (const resource of resources) {
      const generate = generators[resource];
      if (generate !== undefined && integer(3) > 0) {
        total[resource] = generate();
      }
    }
    const namespaces: NamespaceQuotaState[] = Array.from({ length: 1 + integer(4) }, (_, nsIndex) => ({
      namespace: `ns-${nsIndex}`,
      hard: randomList(),
      used: randomList(),
    }));
    return { index, total, namespaces };
  });

  test.each(cases)("planQuotaSplit random case $index stays within total", ({ total, namespaces }) => {
    const plan = planQuotaSplit(total, namespaces);

    expect(sumWithin(total, Object.values(plan.targets))).toBe(true);

    const snapshots = applySteps(namespaces, plan);
    const startsWithin = sumWithin(total, snapshots[0] ?? []);
    const lowerCount = plan.steps.filter((step) => step.phase === "lower").length;
    for (const resource of Object.keys(total)) {
      for (let write = 1; write < snapshots.length; write++) {
        const before = sumOf(resource, snapshots[write - 1] ?? []);
        const after = sumOf(resource, snapshots[write] ?? []);
        if (write <= lowerCount) {
          // A lower write never raises any sum.
          expect(after <= before).toBe(true);
        }
        if (startsWithin || write >= lowerCount) {
          expect(after <= parseQuantity(total[resource] ?? "0")).toBe(true);
        }
      }
    }

    const lowersFirst = plan.steps.findIndex((step) => step.phase === "raise");
    const raisesAfter = plan.steps.slice(lowersFirst < 0 ? plan.steps.length : lowersFirst);
    expect(raisesAfter.every((step) => step.phase === "raise")).toBe(true);

    // After every write, each namespace has exactly its targets.
    const final = new Map(namespaces.map((ns) => [ns.namespace, ns.hard]));
    for (const step of plan.steps) {
      final.set(step.namespace, step.hard);
    }
    for (const ns of namespaces) {
      const finalHard = final.get(ns.namespace) ?? {};
      const target = plan.targets[ns.namespace] ?? {};
      for (const resource of Object.keys(total)) {
        expect(parseQuantity(finalHard[resource] ?? "0")).toBe(parseQuantity(target[resource] ?? "0"));
      }
    }
  });
});
