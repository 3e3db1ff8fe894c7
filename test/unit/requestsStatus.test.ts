// Unit tests of the TenantRequest status transitions.
import { describe, expect, test } from "@jest/globals";
import type { Tenant, TenantRequest, TenantRequestStatus } from "../../src/api/generated.js";
import {
  computeStatus,
  isApprovalRecorded,
  isProvisionedBy,
  policyDecider,
  rejectionOf,
  type StatusInput,
} from "../../src/requests/status.js";

const now = new Date("2025-03-01T10:00:00.123Z");
const earlier = "2025-03-01T09:00:00Z";
const key = "acme-dev/more";

function request(status?: TenantRequestStatus, spec: Partial<TenantRequest["spec"]> = {}): TenantRequest {
  return {
    metadata: { name: "more", namespace: "acme-dev", generation: 3 },
    spec: { type: "Namespace", namespaceName: "qa", ...spec },
    ...(status ? { status } : {}),
  };
}

function tenant(
  options: { requests?: string[]; ready?: boolean; applied?: { status: "True" | "False"; message: string } } = {},
): Tenant {
  const conditions: NonNullable<Tenant["status"]>["conditions"] = [
    {
      type: "Ready",
      status: options.ready === false ? "False" : "True",
      observedGeneration: 7,
      lastTransitionTime: earlier,
      reason: "Reconciled",
      message: "",
    },
  ];
  if (options.applied) {
    conditions.push({
      type: "RequestsApplied",
      ...options.applied,
      lastTransitionTime: earlier,
      reason: "GrantRejected",
    });
  }
  return {
    metadata: { name: "acme", uid: "u", generation: 7 },
    spec: {},
    status: { observedGeneration: 7, requests: options.requests ?? [], conditions },
  };
}

function compute(input: Partial<StatusInput> & { request: TenantRequest }): TenantRequestStatus {
  return computeStatus({ resolution: { found: true, tenant: tenant() }, now, ...input });
}

describe("computeStatus", () => {
  test("new request approved by policy", () => {
    const status = compute({
      request: request(),
      policyDecision: { phase: "Approved", reason: "WithinPolicy", message: "fits" },
    });

    expect(status).toEqual({
      observedGeneration: 3,
      tenant: "acme",
      phase: "Approved",
      reason: "WithinPolicy",
      message: "fits",
      decidedBy: policyDecider,
      decidedAt: "2025-03-01T10:00:00Z",
    });
  });

  test("new request waiting has no decider", () => {
    const status = compute({
      request: request(),
      policyDecision: { phase: "Pending", reason: "AwaitingApproval", message: "wait" },
    });

    expect(status.phase).toBe("Pending");
    expect(status.decidedBy).toBeUndefined();
    expect(status.decidedAt).toBeUndefined();
  });

  test("request outside a tenant fails with the resolution's reason", () => {
    const status = compute({
      request: request(),
      resolution: { found: false, reason: "NotATenantNamespace", message: "use a tenant namespace" },
    });

    expect(status.phase).toBe("Failed");
    expect(status.reason).toBe("NotATenantNamespace");
    expect(status.message).toBe("use a tenant namespace");
  });

  test("approved request becomes provisioned once the tenant lists it and is ready", () => {
    const status = compute({
      request: request({ phase: "Approved", reason: "WithinPolicy", decidedBy: policyDecider, decidedAt: earlier }),
      resolution: { found: true, tenant: tenant({ requests: [key] }) },
    });

    expect(status.phase).toBe("Provisioned");
    expect(status.provisionedAt).toBe("2025-03-01T10:00:00Z");
    expect(status.decidedAt).toBe(earlier);
  });

  test("approved request waits while the tenant is not ready", () => {
    const status = compute({
      request: request({ phase: "Approved", decidedBy: policyDecider, decidedAt: earlier }),
      resolution: { found: true, tenant: tenant({ requests: [key], ready: false }) },
    });

    expect(status.phase).toBe("Approved");
    expect(status.provisionedAt).toBeUndefined();
  });

  test("approved request waits while the tenant's ready condition is for an older generation", () => {
    const stale = tenant({ requests: [key] });
    stale.metadata!.generation = 8;

    const status = compute({
      request: request({ phase: "Approved", decidedBy: policyDecider }),
      resolution: { found: true, tenant: stale },
    });

    expect(status.phase).toBe("Approved");
  });

  test("rejected grant fails with the tenant's reason", () => {
    const status = compute({
      request: request({ phase: "Approved", decidedBy: policyDecider }),
      resolution: {
        found: true,
        tenant: tenant({
          applied: {
            status: "False",
            message: `other-ns/x: first reason; ${key}: the tenant already has maxNamespaces (2) namespaces`,
          },
        }),
      },
    });

    expect(status.phase).toBe("Failed");
    expect(status.reason).toBe("GrantRejected");
    expect(status.message).toBe(
      'Tenant "acme" cannot apply this grant: the tenant already has maxNamespaces (2) namespaces',
    );
  });

  test("provisioned request keeps its provisionedAt", () => {
    const current: TenantRequestStatus = {
      phase: "Provisioned",
      tenant: "acme",
      reason: "Provisioned",
      provisionedAt: earlier,
      decidedBy: policyDecider,
      decidedAt: earlier,
      observedGeneration: 3,
    };

    const status = compute({
      request: request(current),
      resolution: { found: true, tenant: tenant({ requests: [key] }) },
    });

    expect(status).toEqual(current);
  });

  test("cancelled grant is cancelled and says the grant goes", () => {
    const status = compute({ request: request({ phase: "Provisioned" }, { cancelled: true }) });

    expect(status.phase).toBe("Cancelled");
    expect(status.message).toBe("cancelled; the Tenant takes its grant back");
  });

  test("cancelled request needs no tenant", () => {
    const status = computeStatus({ request: request({ phase: "Pending" }, { cancelled: true }), now });

    expect(status.phase).toBe("Cancelled");
    expect(status.message).toBe("cancelled before it was granted");
  });

  test("failed request stays failed", () => {
    const status = computeStatus({
      request: request({ phase: "Failed", reason: "GrantRejected" }, { approval: { decision: "Approved", by: "pe" } }),
      approvalCheck: { allowed: true },
      now,
    });

    expect(status.phase).toBe("Failed");
  });

  test("confirmed approval approves with the approver's name", () => {
    const status = compute({
      request: request({ phase: "Pending" }, { approval: { decision: "Approved", by: "pe", reason: "ok for Q3" } }),
      approvalCheck: { allowed: true },
    });

    expect(status.phase).toBe("Approved");
    expect(status.reason).toBe("ApprovedByPlatformEngineer");
    expect(status.decidedBy).toBe("pe");
    expect(status.decidedAt).toBe("2025-03-01T10:00:00Z");
    expect(status.message).toBe("approved by pe: ok for Q3");
  });

  test("confirmed denial denies", () => {
    const status = compute({
      request: request({ phase: "Pending" }, { approval: { decision: "Denied", by: "pe" } }),
      approvalCheck: { allowed: true },
    });

    expect(status.phase).toBe("Denied");
    expect(status.reason).toBe("DeniedByPlatformEngineer");
  });

  test("unconfirmed approval leaves the request pending", () => {
    const status = compute({
      request: request({ phase: "Pending" }, { approval: { decision: "Approved", by: "mallory" } }),
      approvalCheck: { allowed: false, message: "mallory may not approve" },
    });

    expect(status.phase).toBe("Pending");
    expect(status.reason).toBe("ApproverNotAuthorized");
    expect(status.message).toBe("mallory may not approve");
  });

  test("unconfirmed approval does not undo an earlier decision", () => {
    const status = compute({
      request: request(
        { phase: "Approved", decidedBy: policyDecider, decidedAt: earlier },
        { approval: { decision: "Denied", by: "mallory" } },
      ),
      approvalCheck: { allowed: false, message: "no" },
    });

    expect(status.phase).toBe("Approved");
    expect(status.decidedBy).toBe(policyDecider);
  });

  test("approval recorded twice keeps decidedAt", () => {
    const current: TenantRequestStatus = {
      phase: "Provisioned",
      tenant: "acme",
      reason: "Provisioned",
      decidedBy: "pe",
      decidedAt: earlier,
      provisionedAt: earlier,
      observedGeneration: 3,
    };

    const status = compute({
      request: request(current, { approval: { decision: "Approved", by: "pe" } }),
      approvalCheck: { allowed: true },
      resolution: { found: true, tenant: tenant({ requests: [key] }) },
    });

    expect(status).toEqual(current);
  });

  test("denial of a provisioned request denies it", () => {
    const status = compute({
      request: request(
        { phase: "Provisioned", decidedBy: policyDecider, provisionedAt: earlier },
        { approval: { decision: "Denied", by: "pe" } },
      ),
      approvalCheck: { allowed: true },
    });

    expect(status.phase).toBe("Denied");
    expect(status.decidedBy).toBe("pe");
  });

  test("approval of a policy-denied request approves it", () => {
    const status = compute({
      request: request(
        { phase: "Denied", reason: "TooManyPending", decidedBy: policyDecider },
        { approval: { decision: "Approved", by: "pe" } },
      ),
      approvalCheck: { allowed: true },
    });

    expect(status.phase).toBe("Approved");
  });
});

describe("rejectionOf", () => {
  test("reason containing a semicolon is kept whole", () => {
    const message =
      `${key}: namespace "dev" is part of the Tenant spec; only a platform engineer can remove it there; ` +
      "acme-qa/other: too many";

    expect(rejectionOf(tenant({ applied: { status: "False", message } }), key)).toBe(
      'namespace "dev" is part of the Tenant spec; only a platform engineer can remove it there',
    );
    expect(rejectionOf(tenant({ applied: { status: "False", message } }), "acme-qa/other")).toBe("too many");
  });

  test("true condition rejects nothing", () => {
    expect(rejectionOf(tenant({ applied: { status: "True", message: `${key}: stale` } }), key)).toBeUndefined();
  });

  test("key that is a suffix of another is not matched", () => {
    const message = `x${key}: not this one`;

    expect(rejectionOf(tenant({ applied: { status: "False", message } }), key)).toBeUndefined();
  });
});

describe("isProvisionedBy", () => {
  test("needs the key in status.requests", () => {
    expect(isProvisionedBy(tenant({ requests: [] }), key)).toBe(false);
    expect(isProvisionedBy(tenant({ requests: [key] }), key)).toBe(true);
  });
});

describe("isApprovalRecorded", () => {
  test("same approver and decision is recorded", () => {
    expect(
      isApprovalRecorded(
        request({ phase: "Provisioned", decidedBy: "pe" }, { approval: { decision: "Approved", by: "pe" } }),
      ),
    ).toBe(true);
  });

  test("other approver is not recorded", () => {
    expect(
      isApprovalRecorded(
        request({ phase: "Approved", decidedBy: "policy" }, { approval: { decision: "Approved", by: "pe" } }),
      ),
    ).toBe(false);
  });
});
