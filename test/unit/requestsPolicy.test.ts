// Unit tests of the selfService approval policy.
import { describe, expect, test } from "@jest/globals";
import type { Tenant, TenantRequest, TenantRequestSpec, TenantSpec } from "../../src/api/generated.js";
import { decideByPolicy, isUndecided, selfServicePolicyOf } from "../../src/requests/policy.js";

const namespace = "acme-dev";

function tenant(spec: TenantSpec): Tenant {
  return { metadata: { name: "acme", uid: "uid-1", generation: 1 }, spec };
}

let sequence = 0;
type Phase = NonNullable<TenantRequest["status"]>["phase"];

function request(spec: TenantRequestSpec, phase?: Phase): TenantRequest {
  sequence++;
  return {
    metadata: {
      name: `r${String(sequence).padStart(3, "0")}`,
      namespace,
      creationTimestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, sequence)).toISOString(),
    },
    spec,
    ...(phase ? { status: { phase } } : {}),
  };
}

function decisionOf(owner: Tenant, requests: TenantRequest[], target: TenantRequest) {
  return decideByPolicy(owner, requests).get(`${namespace}/${target.metadata!.name}`);
}

describe("selfServicePolicyOf", () => {
  test("defaults match the CRD schema", () => {
    expect(selfServicePolicyOf({})).toEqual({
      maxExtraNamespaces: 0,
      quotaCeiling: {},
      dedicatedInstance: false,
      dedicatedNodes: false,
      suspend: true,
      maxPendingRequests: 10,
    });
  });

  test("quota ceiling values become strings", () => {
    expect(
      selfServicePolicyOf({ selfService: { quotaCeiling: { pods: 20, "requests.cpu": "8" } } }).quotaCeiling,
    ).toEqual({
      pods: "20",
      "requests.cpu": "8",
    });
  });
});

describe("namespace requests", () => {
  const spec: TenantSpec = { namespaces: [{ name: "dev" }], maxNamespaces: 4, selfService: { maxExtraNamespaces: 2 } };

  test("within maxExtraNamespaces is approved", () => {
    const ask = request({ type: "Namespace", namespaceName: "qa" });

    const decision = decisionOf(tenant(spec), [ask], ask);

    expect(decision?.phase).toBe("Approved");
    expect(decision?.reason).toBe("WithinPolicy");
  });

  test("beyond maxExtraNamespaces waits", () => {
    const first = request({ type: "Namespace", namespaceName: "qa" });
    const second = request({ type: "Namespace", namespaceName: "perf" });
    const third = request({ type: "Namespace", namespaceName: "demo" });
    const all = [third, first, second];

    const decisions = decideByPolicy(tenant(spec), all);

    expect(decisions.get(`${namespace}/${first.metadata!.name}`)?.phase).toBe("Approved");
    expect(decisions.get(`${namespace}/${second.metadata!.name}`)?.phase).toBe("Approved");
    expect(decisions.get(`${namespace}/${third.metadata!.name}`)?.phase).toBe("Pending");
    expect(decisions.get(`${namespace}/${third.metadata!.name}`)?.message).toContain(
      "selfService.maxExtraNamespaces 2",
    );
  });

  test("granted namespaces count against the limit", () => {
    const granted = request({ type: "Namespace", namespaceName: "qa" }, "Provisioned");
    const grantedToo = request({ type: "Namespace", namespaceName: "perf" }, "Approved");
    const ask = request({ type: "Namespace", namespaceName: "demo" });

    expect(decisionOf(tenant(spec), [granted, grantedToo, ask], ask)?.phase).toBe("Pending");
  });

  test("cancelled grant frees its slot", () => {
    const cancelled = { ...request({ type: "Namespace", namespaceName: "qa" }, "Provisioned") };
    cancelled.spec = { ...cancelled.spec, cancelled: true };
    const granted = request({ type: "Namespace", namespaceName: "perf" }, "Provisioned");
    const ask = request({ type: "Namespace", namespaceName: "demo" }, "Pending");

    expect(decisionOf(tenant(spec), [cancelled, granted, ask], ask)?.phase).toBe("Approved");
  });

  test("maxNamespaces reached waits even with free extra slots", () => {
    const full: TenantSpec = {
      namespaces: [{ name: "a" }, { name: "b" }],
      maxNamespaces: 2,
      selfService: { maxExtraNamespaces: 3 },
    };
    const ask = request({ type: "Namespace", namespaceName: "c" });

    const decision = decisionOf(tenant(full), [ask], ask);

    expect(decision?.phase).toBe("Pending");
    expect(decision?.message).toContain("maxNamespaces 2");
  });

  test("namespace already in the tenant is approved without a slot", () => {
    const ask = request({ type: "Namespace", namespaceName: "dev" });
    const noExtras: TenantSpec = { namespaces: [{ name: "dev" }], selfService: { maxExtraNamespaces: 0 } };

    expect(decisionOf(tenant(noExtras), [ask], ask)?.phase).toBe("Approved");
  });

  test("no self-service namespaces by default", () => {
    const ask = request({ type: "Namespace", namespaceName: "qa" });

    expect(decisionOf(tenant({ namespaces: [{ name: "dev" }] }), [ask], ask)?.phase).toBe("Pending");
  });
});

describe("quota requests", () => {
  const spec: TenantSpec = {
    namespaces: [{ name: "dev" }, { name: "prod" }],
    maxNamespaces: 5,
    quota: {
      total: { "requests.cpu": "4", "requests.memory": "8Gi", "limits.cpu": "8" },
      perNamespace: { pods: "10" },
    },
    selfService: { maxExtraNamespaces: 1, quotaCeiling: { "requests.cpu": "16", "requests.memory": "32Gi", pods: 60 } },
  };

  test("total at the ceiling is approved", () => {
    const ask = request({ type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "16" } } });

    const decision = decisionOf(tenant(spec), [ask], ask);

    expect(decision?.phase).toBe("Approved");
    expect(decision?.reason).toBe("WithinPolicy");
  });

  test("total above the ceiling waits naming the resource", () => {
    const ask = request({ type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "16500m" } } });

    const decision = decisionOf(tenant(spec), [ask], ask);

    expect(decision?.phase).toBe("Pending");
    expect(decision?.message).toContain("requests.cpu: 16500m exceeds selfService.quotaCeiling 16");
  });

  test("resource without a ceiling waits", () => {
    const ask = request({ type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "5", "limits.cpu": "9" } } });

    const decision = decisionOf(tenant(spec), [ask], ask);

    expect(decision?.phase).toBe("Pending");
    expect(decision?.message).toContain("limits.cpu: selfService.quotaCeiling has no value for it");
  });

  test("lower quota is a give-back", () => {
    const ask = request({
      type: "Quota",
      quota: { scope: "Total", hard: { "requests.cpu": "2", "requests.memory": "1Gi" } },
    });
    const noCeiling: TenantSpec = { ...spec, selfService: {} };

    const decision = decisionOf(tenant(noCeiling), [ask], ask);

    expect(decision?.phase).toBe("Approved");
    expect(decision?.reason).toBe("GiveBack");
  });

  test("new limit on an unlimited resource is a give-back", () => {
    const ask = request({ type: "Quota", quota: { scope: "Total", hard: { "limits.memory": "1Gi" } } });

    expect(decisionOf(tenant({ ...spec, selfService: {} }), [ask], ask)?.reason).toBe("GiveBack");
  });

  test("per-namespace value counts for every reachable namespace", () => {
    // 2 namespaces plus 1 free self-service slot: 3 reachable, so 20 pods each reach 60, the ceiling.
    const atCeiling = request({ type: "Quota", quota: { scope: "PerNamespace", hard: { pods: "20" } } });
    const above = request({ type: "Quota", quota: { scope: "PerNamespace", hard: { pods: 21 } } });

    expect(decisionOf(tenant(spec), [atCeiling], atCeiling)?.phase).toBe("Approved");
    const decision = decisionOf(tenant(spec), [above], above);
    expect(decision?.phase).toBe("Pending");
    expect(decision?.message).toContain("pods: 21 per namespace times 3 reachable namespaces exceeds");
  });

  test("approved quota raise becomes the new baseline", () => {
    const granted = request(
      { type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "10" } } },
      "Provisioned",
    );
    const ask = request({ type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "8" } } });

    expect(decisionOf(tenant({ ...spec, selfService: {} }), [granted, ask], ask)?.reason).toBe("GiveBack");
  });
});

describe("isolation and suspension requests", () => {
  test("dedicated instance follows selfService.dedicatedInstance", () => {
    const ask = request({ type: "DedicatedInstance" });

    expect(decisionOf(tenant({ selfService: { dedicatedInstance: true } }), [ask], ask)?.phase).toBe("Approved");
    expect(decisionOf(tenant({}), [ask], ask)?.phase).toBe("Pending");
  });

  test("dedicated nodes follow selfService.dedicatedNodes", () => {
    const ask = request({ type: "DedicatedNodes", pool: "gpu" });

    expect(decisionOf(tenant({ selfService: { dedicatedNodes: true } }), [ask], ask)?.phase).toBe("Approved");
    expect(decisionOf(tenant({}), [ask], ask)?.phase).toBe("Pending");
  });

  test("suspend follows selfService.suspend", () => {
    const ask = request({ type: "Suspend" });

    expect(decisionOf(tenant({}), [ask], ask)?.phase).toBe("Approved");
    expect(decisionOf(tenant({ selfService: { suspend: false } }), [ask], ask)?.phase).toBe("Pending");
  });

  test.each(["RemoveNamespace", "SharedInstance", "ReleaseNodes", "Resume"] as const)(
    "%s is always approved",
    (type) => {
      const ask = request(type === "RemoveNamespace" ? { type, namespaceName: "dev" } : { type });
      const strict: TenantSpec = { selfService: { suspend: false, maxExtraNamespaces: 0 } };

      const decision = decisionOf(tenant(strict), [ask], ask);

      expect(decision?.phase).toBe("Approved");
      expect(decision?.reason).toBe("GiveBack");
    },
  );
});

describe("pending limit", () => {
  const spec: TenantSpec = { selfService: { maxPendingRequests: 2 } };

  test("new request beyond maxPendingRequests is denied", () => {
    const pending = [
      request({ type: "DedicatedInstance" }, "Pending"),
      request({ type: "DedicatedInstance" }, "Pending"),
    ];
    const ask = request({ type: "DedicatedInstance" });

    const decision = decisionOf(tenant(spec), [...pending, ask], ask);

    expect(decision?.phase).toBe("Denied");
    expect(decision?.reason).toBe("TooManyPending");
    expect(decision?.message).toContain("selfService.maxPendingRequests 2");
  });

  test("new requests in one batch fill the limit in creation order", () => {
    const asks = [
      request({ type: "DedicatedInstance" }),
      request({ type: "DedicatedInstance" }),
      request({ type: "DedicatedInstance" }),
    ];

    const decisions = decideByPolicy(tenant(spec), [...asks].reverse());

    expect(asks.map((ask) => decisions.get(`${namespace}/${ask.metadata!.name}`)?.phase)).toEqual([
      "Pending",
      "Pending",
      "Denied",
    ]);
  });

  test("approved requests do not count as pending", () => {
    const asks = [request({ type: "Suspend" }), request({ type: "Suspend" }), request({ type: "Suspend" })];

    const decisions = decideByPolicy(tenant(spec), asks);

    expect([...decisions.values()].map((decision) => decision.phase)).toEqual(["Approved", "Approved", "Approved"]);
  });

  test("pending request already admitted stays pending", () => {
    const pending = [
      request({ type: "DedicatedInstance" }, "Pending"),
      request({ type: "DedicatedInstance" }, "Pending"),
      request({ type: "DedicatedInstance" }, "Pending"),
    ];

    const decisions = decideByPolicy(tenant(spec), pending);

    expect([...decisions.values()].map((decision) => decision.phase)).toEqual(["Pending", "Pending", "Pending"]);
  });

  test("request waiting for an approver counts as pending", () => {
    const waiting = request({ type: "DedicatedInstance" }, "Pending");
    waiting.spec = { ...waiting.spec, approval: { decision: "Approved", by: "nobody" } };
    const other = request({ type: "DedicatedInstance" }, "Pending");
    const ask = request({ type: "DedicatedInstance" });

    expect(decisionOf(tenant(spec), [waiting, other, ask], ask)?.phase).toBe("Denied");
  });
});

describe("isUndecided", () => {
  test("new and pending requests are undecided", () => {
    expect(isUndecided(request({ type: "Suspend" }))).toBe(true);
    expect(isUndecided(request({ type: "Suspend" }, "Pending"))).toBe(true);
  });

  test("decided, cancelled and approved-by-hand requests are not", () => {
    const cancelled = request({ type: "Suspend" });
    cancelled.spec = { ...cancelled.spec, cancelled: true };
    const decided = request({ type: "Suspend" });
    decided.spec = { ...decided.spec, approval: { decision: "Denied", by: "pe" } };

    expect(isUndecided(request({ type: "Suspend" }, "Approved"))).toBe(false);
    expect(isUndecided(request({ type: "Suspend" }, "Denied"))).toBe(false);
    expect(isUndecided(cancelled)).toBe(false);
    expect(isUndecided(decided)).toBe(false);
  });
});
