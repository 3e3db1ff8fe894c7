// The status of one TenantRequest, computed from the request, its tenant, the policy's decision and the check of a
// platform engineer's approval. Pure, so that every transition is unit-tested without a cluster.
//
// Phases: a new request is Pending, Approved or Denied. An approved grant becomes Provisioned once its Tenant lists
// it in status.requests and is Ready for its current generation. It becomes Failed when the Tenant's
// RequestsApplied condition names it as rejected. Cancelled and Failed are final: the Tenant overlay ignores both, so their grant
// is taken back, and a new request is the way to ask again.

import type { Tenant, TenantRequest, TenantRequestStatus } from "../api/generated.js";
import { requestKey } from "../tenant/effective.js";
import type { PolicyDecision } from "./policy.js";

/** Values of status.reason besides the policy's own (PolicyReason). */
export const RequestReason = {
  cancelled: "Cancelled",
  notATenantNamespace: "NotATenantNamespace",
  tenantNotFound: "TenantNotFound",
  approvedByPlatformEngineer: "ApprovedByPlatformEngineer",
  deniedByPlatformEngineer: "DeniedByPlatformEngineer",
  approverNotAuthorized: "ApproverNotAuthorized",
  grantRejected: "GrantRejected",
  provisioned: "Provisioned",
} as const;

/** status.decidedBy of decisions that the selfService policy made. */
export const policyDecider = "selfService policy";

/** The tenant a request belongs to, or why it has none. */
export type TenantResolution = { found: true; tenant: Tenant } | { found: false; reason: string; message: string };

/** Result of the SubjectAccessReview of spec.approval.by. */
export type ApprovalCheck = { allowed: true } | { allowed: false; message: string };

export interface StatusInput {
  request: TenantRequest;
  /** The request's tenant; may be left out for a request that is cancelled or Failed, whose status is final. */
  resolution?: TenantResolution;
  /** The policy's decision; set when the request is undecided (see isUndecided). */
  policyDecision?: PolicyDecision;
  /** Set when spec.approval is present. */
  approvalCheck?: ApprovalCheck;
  now: Date;
}

type Phase = NonNullable<TenantRequestStatus["phase"]>;

/** Computes the next status of `request`; equal to the current one when nothing changed but observedGeneration. */
export function computeStatus(input: StatusInput): TenantRequestStatus {
  const { request, resolution } = input;
  const current = request.status ?? {};
  const base: TenantRequestStatus = { ...current, observedGeneration: request.metadata?.generation };

  // 1. Cancelled and Failed are final.
  if (request.spec.cancelled === true) return cancelled(base);
  if (current.phase === "Failed") return base;

  // 2. A request outside a tenant's namespace cannot be granted.
  if (!resolution) throw new Error(`TenantRequest ${requestKey(request)}: computeStatus needs the request's tenant`);
  if (!resolution.found) return { ...base, phase: "Failed", reason: resolution.reason, message: resolution.message };
  const tenant = resolution.tenant;
  const decided = decide({ ...base, tenant: tenant.metadata?.name }, input);

  // 3. An approved grant is provisioned, or rejected, by the Tenant controller.
  if (decided.phase === "Approved" || decided.phase === "Provisioned")
    return provision(decided, request, tenant, input.now);
  return decided;
}

function cancelled(base: TenantRequestStatus): TenantRequestStatus {
  if (base.phase === "Cancelled") return base;
  const wasGranted = base.phase === "Approved" || base.phase === "Provisioned";
  return {
    ...base,
    phase: "Cancelled",
    reason: RequestReason.cancelled,
    message: wasGranted ? "cancelled; the Tenant takes its grant back" : "cancelled before it was granted",
  };
}

function decide(next: TenantRequestStatus, input: StatusInput): TenantRequestStatus {
  const { request, policyDecision, approvalCheck, now } = input;
  const current = request.status ?? {};
  const approval = request.spec.approval;

  // A platform engineer's decision counts only once a SubjectAccessReview confirms the approver; a decision made
  // before stays as it is.
  if (approval) {
    if (!approvalCheck?.allowed) {
      if (decisionOf(current.phase)) return next;
      return {
        ...withoutDecision(next),
        phase: "Pending",
        reason: RequestReason.approverNotAuthorized,
        message: approvalCheck?.message ?? `the approval by "${approval.by}" is not confirmed yet`,
      };
    }
    const same = current.decidedBy === approval.by && decisionOf(current.phase) === approval.decision;
    if (same) return next;
    const approved = approval.decision === "Approved";
    // An approval of a grant that is already provisioned keeps it provisioned.
    let phase: Phase = "Denied";
    if (approved) phase = current.phase === "Provisioned" ? "Provisioned" : "Approved";
    return {
      ...next,
      phase,
      reason: approved ? RequestReason.approvedByPlatformEngineer : RequestReason.deniedByPlatformEngineer,
      message: `${approved ? "approved" : "denied"} by ${approval.by}${approval.reason ? `: ${approval.reason}` : ""}`,
      decidedBy: approval.by,
      decidedAt: timestamp(now),
    };
  }

  // Decided earlier by the policy: the decision is kept.
  if (decisionOf(current.phase)) return next;

  const decision = policyDecision ?? {
    phase: "Pending",
    reason: "AwaitingApproval",
    message: "waiting for a platform engineer",
  };
  if (decision.phase === "Pending") {
    return { ...withoutDecision(next), phase: "Pending", reason: decision.reason, message: decision.message };
  }
  return {
    ...next,
    phase: decision.phase,
    reason: decision.reason,
    message: decision.message,
    decidedBy: policyDecider,
    decidedAt: timestamp(now),
  };
}

function provision(next: TenantRequestStatus, request: TenantRequest, tenant: Tenant, now: Date): TenantRequestStatus {
  const key = requestKey(request);
  const tenantName = tenant.metadata?.name;
  const rejection = rejectionOf(tenant, key);
  if (rejection !== undefined) {
    return {
      ...next,
      phase: "Failed",
      reason: RequestReason.grantRejected,
      message: `Tenant "${tenantName}" cannot apply this grant: ${rejection}`,
    };
  }
  if (next.phase === "Provisioned" || !isProvisionedBy(tenant, key)) return next;
  return {
    ...next,
    phase: "Provisioned",
    reason: RequestReason.provisioned,
    message: `Tenant "${tenantName}" applied the grant and is Ready`,
    provisionedAt: timestamp(now),
  };
}

/**
 * Returns whether the Tenant provisioned the request: its status.requests lists `key` and its Ready condition is
 * True for the Tenant's current generation.
 */
export function isProvisionedBy(tenant: Tenant, key: string): boolean {
  const generation = tenant.metadata?.generation;
  const ready = tenant.status?.conditions?.find((condition) => condition.type === "Ready");
  return (
    (tenant.status?.requests ?? []).includes(key) &&
    ready?.status === "True" &&
    ready.observedGeneration === generation &&
    tenant.status?.observedGeneration === generation
  );
}

// One entry of the RequestsApplied message: `namespace/name: reason`, entries joined by "; ". Reasons may contain
// "; " themselves, so an entry ends only where the next `namespace/name: ` starts.
const rejectionEntry = /(?:^|; )([a-z0-9](?:[-a-z0-9]*[a-z0-9])?\/[a-z0-9](?:[-.a-z0-9]*[a-z0-9])?): /g;

/** Returns the reason the Tenant's RequestsApplied condition gives for rejecting `key`, or undefined. */
export function rejectionOf(tenant: Tenant, key: string): string | undefined {
  const condition = tenant.status?.conditions?.find((each) => each.type === "RequestsApplied");
  if (!condition || condition.status !== "False") return undefined;
  const starts = [...condition.message.matchAll(rejectionEntry)];
  for (const [index, match] of starts.entries()) {
    if (match[1] !== key) continue;
    const end = starts[index + 1]?.index ?? condition.message.length;
    return condition.message.slice(match.index + match[0].length, end);
  }
  return undefined;
}

/** Returns whether the request's status already records the decision in spec.approval. */
export function isApprovalRecorded(request: TenantRequest): boolean {
  const approval = request.spec.approval;
  return (
    approval !== undefined &&
    request.status?.decidedBy === approval.by &&
    decisionOf(request.status.phase) === approval.decision
  );
}

/** Returns whether computeStatus can decide `request` without its tenant: it is cancelled or Failed. */
export function isFinal(request: TenantRequest): boolean {
  return request.spec.cancelled === true || request.status?.phase === "Failed";
}

function decisionOf(phase: Phase | undefined): "Approved" | "Denied" | undefined {
  if (phase === "Approved" || phase === "Provisioned") return "Approved";
  if (phase === "Denied") return "Denied";
  return undefined;
}

function withoutDecision(status: TenantRequestStatus): TenantRequestStatus {
  const { decidedBy: _decidedBy, decidedAt: _decidedAt, ...rest } = status;
  return rest;
}

function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z");
}
