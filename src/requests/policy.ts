// The self-service approval policy: which TenantRequests the operator approves on its own, from the Tenant's
// spec.selfService, and which wait for a platform engineer.
//
// The policy decides the undecided requests of one tenant together, in creation order, so that every reconcile of
// any of them reaches the same decision: the first requests that fit the policy are approved, later ones wait. A
// request waits in phase Pending and is decided again on every reconcile, so it is approved on its own as soon as it
// fits (a namespace slot freed by a cancelled request, a raised ceiling).
//
// Quota requests with scope PerNamespace are compared with the ceiling as the tenant total they can reach without a
// platform engineer: the per-namespace value times the namespaces the tenant has plus the self-service namespaces it
// may still add, capped by maxNamespaces.

import type { Tenant, TenantRequest, TenantSpec } from "../api/generated.js";
import { effectiveSpec, requestKey, type EffectiveSpec } from "../tenant/effective.js";
import { compareQuantities, parseQuantity } from "../tenant/quantity.js";

/** spec.selfService with the defaults of the CRD schema filled in. */
export interface SelfServicePolicy {
  maxExtraNamespaces: number;
  quotaCeiling: Record<string, string>;
  dedicatedInstance: boolean;
  dedicatedNodes: boolean;
  suspend: boolean;
  maxPendingRequests: number;
}

/** Values of status.reason that the policy sets. */
export const PolicyReason = {
  withinPolicy: "WithinPolicy",
  giveBack: "GiveBack",
  awaitingApproval: "AwaitingApproval",
  tooManyPending: "TooManyPending",
} as const;

export type PolicyDecision =
  | { phase: "Approved"; reason: typeof PolicyReason.withinPolicy | typeof PolicyReason.giveBack; message: string }
  | { phase: "Pending"; reason: typeof PolicyReason.awaitingApproval; message: string }
  | { phase: "Denied"; reason: typeof PolicyReason.tooManyPending; message: string };

export function selfServicePolicyOf(spec: TenantSpec): SelfServicePolicy {
  const selfService = spec.selfService ?? {};
  const quotaCeiling: Record<string, string> = {};
  for (const [resource, value] of Object.entries(selfService.quotaCeiling ?? {}))
    quotaCeiling[resource] = String(value);
  return {
    maxExtraNamespaces: selfService.maxExtraNamespaces ?? 0,
    quotaCeiling,
    dedicatedInstance: selfService.dedicatedInstance ?? false,
    dedicatedNodes: selfService.dedicatedNodes ?? false,
    suspend: selfService.suspend ?? true,
    maxPendingRequests: selfService.maxPendingRequests ?? 10,
  };
}

/**
 * Returns whether the policy decides `request`: it is not cancelled or being deleted, carries no platform
 * engineer's decision, and has no phase yet or is Pending.
 */
export function isUndecided(request: TenantRequest): boolean {
  const phase = request.status?.phase;
  return (
    (phase === undefined || phase === "Pending") &&
    !request.spec.approval &&
    request.spec.cancelled !== true &&
    !request.metadata?.deletionTimestamp
  );
}

/** The tenant's namespaces as the policy walks its undecided requests. */
interface PolicyState {
  spec: EffectiveSpec;
  policy: SelfServicePolicy;
  /** Short names of all the tenant's namespaces. */
  namespaces: Set<string>;
  /** Short names of the namespaces that requests added. */
  extraNamespaces: Set<string>;
}

/**
 * Decides every undecided request of one tenant (see isUndecided), given all of the tenant's requests. Returns the
 * decision for each, keyed by `namespace/name`.
 *
 * Requests are decided in creation order against the Tenant's effective spec (its spec plus granted requests), and
 * each approval counts for the requests after it. A new request that would wait is Denied once the tenant already
 * has selfService.maxPendingRequests requests Pending; a request that is Pending already stays Pending.
 */
export function decideByPolicy(tenant: Tenant, requests: readonly TenantRequest[]): Map<string, PolicyDecision> {
  const { spec } = effectiveSpec(tenant, requests);
  const state: PolicyState = {
    spec,
    policy: selfServicePolicyOf(tenant.spec ?? {}),
    namespaces: new Set(spec.namespaces.map((namespace) => namespace.name)),
    extraNamespaces: new Set(spec.namespaces.filter((namespace) => namespace.grantedBy).map((each) => each.name)),
  };

  // Pending requests that a platform engineer has yet to decide count against the limit too.
  let pending = requests.filter(
    (request) => request.status?.phase === "Pending" && !isUndecided(request) && isOpen(request),
  ).length;

  // NOTE: a request that the cache has not yet seen is missing from this pass. Under a burst of creations, a later
  // request can be approved before an earlier one, so maxExtraNamespaces can be passed by the requests in flight.
  // The Tenant overlay still caps namespaces at maxNamespaces and fails the grants beyond it.
  const decisions = new Map<string, PolicyDecision>();
  const undecided = requests.filter(isUndecided).sort(byCreation);
  for (const request of undecided) {
    let decision = decideOne(request, state);
    if (decision.phase === "Approved") {
      recordApproval(request, state);
    } else if (request.status?.phase !== "Pending" && pending >= state.policy.maxPendingRequests) {
      decision = {
        phase: "Denied",
        reason: PolicyReason.tooManyPending,
        message:
          `tenant "${tenant.metadata?.name}" already has ${pending} requests waiting for a platform engineer ` +
          `(selfService.maxPendingRequests ${state.policy.maxPendingRequests}); wait for a decision or cancel ` +
          `one, then create a new request`,
      };
    } else {
      pending++;
    }
    decisions.set(requestKey(request), decision);
  }
  return decisions;
}

/** Decides one request by the policy alone, without the limit on pending requests. */
function decideOne(request: TenantRequest, state: PolicyState): PolicyDecision {
  const { spec: parameters } = request;
  const { policy } = state;
  switch (parameters.type) {
    case "Namespace":
      return decideNamespace(parameters.namespaceName ?? "", state);
    case "Quota":
      return decideQuota(parameters.quota, state);
    case "DedicatedInstance":
      return policy.dedicatedInstance
        ? approved(PolicyReason.withinPolicy, "selfService.dedicatedInstance allows a dedicated instance")
        : pending("selfService.dedicatedInstance is false; a platform engineer must approve a dedicated instance");
    case "DedicatedNodes":
      return policy.dedicatedNodes
        ? approved(PolicyReason.withinPolicy, "selfService.dedicatedNodes allows dedicated nodes")
        : pending("selfService.dedicatedNodes is false; a platform engineer must approve dedicated nodes");
    case "Suspend":
      return policy.suspend
        ? approved(PolicyReason.withinPolicy, "selfService.suspend allows the tenant to suspend itself")
        : pending("selfService.suspend is false; a platform engineer must approve suspending the tenant");
    case "RemoveNamespace":
    case "SharedInstance":
    case "ReleaseNodes":
    case "Resume":
      return approved(PolicyReason.giveBack, `${parameters.type} gives a grant back and is always approved`);
  }
}

function decideNamespace(name: string, state: PolicyState): PolicyDecision {
  const { policy, spec } = state;
  if (state.namespaces.has(name)) {
    return approved(PolicyReason.withinPolicy, `namespace "${name}" is already part of the tenant`);
  }
  if (state.extraNamespaces.size >= policy.maxExtraNamespaces) {
    return pending(
      `the tenant already has ${state.extraNamespaces.size} self-service namespaces ` +
        `(selfService.maxExtraNamespaces ${policy.maxExtraNamespaces}); a platform engineer must approve more`,
    );
  }
  if (state.namespaces.size >= spec.maxNamespaces) {
    return pending(
      `the tenant already has ${state.namespaces.size} namespaces (maxNamespaces ${spec.maxNamespaces}); ` +
        `a platform engineer must raise maxNamespaces on the Tenant before approving`,
    );
  }
  return approved(
    PolicyReason.withinPolicy,
    `self-service namespace ${state.extraNamespaces.size + 1} of ${policy.maxExtraNamespaces} ` +
      `(selfService.maxExtraNamespaces)`,
  );
}

/**
 * Decides a Quota request. It is a give-back when no value raises the tenant's current limit (a resource without a limit counts
 * as unlimited, so any value lowers it), and within policy when every raised value fits selfService.quotaCeiling.
 */
function decideQuota(quota: TenantRequest["spec"]["quota"], state: PolicyState): PolicyDecision {
  if (!quota) return pending("spec.quota is missing; a platform engineer must decide");
  const current = quota.scope === "Total" ? state.spec.quota.total : state.spec.quota.perNamespace;
  const multiplier = quota.scope === "Total" ? 1n : BigInt(reachableNamespaces(state));
  const overCeiling: string[] = [];
  let raises = false;

  for (const [resource, raw] of Object.entries(quota.hard)) {
    const value = String(raw);
    const limit = current[resource];
    if (limit !== undefined && safeCompare(value, limit) <= 0) continue;
    if (limit === undefined && isQuantity(value)) continue;
    raises = true;

    const ceiling = state.policy.quotaCeiling[resource];
    if (ceiling === undefined) {
      overCeiling.push(`${resource}: selfService.quotaCeiling has no value for it`);
      continue;
    }
    if (!isQuantity(value) || !isQuantity(ceiling)) {
      overCeiling.push(`${resource}: "${value}" or its ceiling "${ceiling}" is not a valid quantity`);
      continue;
    }
    const reached = parseQuantity(value) * multiplier;
    if (compareQuantities(reached, ceiling) > 0) {
      overCeiling.push(
        quota.scope === "Total"
          ? `${resource}: ${value} exceeds selfService.quotaCeiling ${ceiling}`
          : `${resource}: ${value} per namespace times ${multiplier} reachable namespaces exceeds ` +
              `selfService.quotaCeiling ${ceiling}`,
      );
    }
  }

  if (overCeiling.length > 0) {
    return pending(`above the self-service ceiling (${overCeiling.join("; ")}); a platform engineer must approve`);
  }
  if (!raises) return approved(PolicyReason.giveBack, "no value raises the current quota, so it gives a grant back");
  return approved(PolicyReason.withinPolicy, "every raised value is within selfService.quotaCeiling");
}

/** Namespaces the tenant can reach without a platform engineer: at least 1, at most maxNamespaces. */
function reachableNamespaces(state: PolicyState): number {
  const freeSlots = Math.max(0, state.policy.maxExtraNamespaces - state.extraNamespaces.size);
  return Math.max(1, Math.min(state.spec.maxNamespaces, state.namespaces.size + freeSlots));
}

/** Counts an approval of this pass for the requests decided after it. */
function recordApproval(request: TenantRequest, state: PolicyState): void {
  const name = request.spec.namespaceName;
  if (!name) return;
  if (request.spec.type === "Namespace" && !state.namespaces.has(name)) {
    state.namespaces.add(name);
    state.extraNamespaces.add(name);
  }
  if (request.spec.type === "RemoveNamespace" && state.extraNamespaces.has(name)) {
    state.namespaces.delete(name);
    state.extraNamespaces.delete(name);
  }
}

function approved(reason: typeof PolicyReason.withinPolicy | typeof PolicyReason.giveBack, message: string) {
  return { phase: "Approved", reason, message } as const;
}

function pending(message: string) {
  return { phase: "Pending", reason: PolicyReason.awaitingApproval, message } as const;
}

function isOpen(request: TenantRequest): boolean {
  return request.spec.cancelled !== true && !request.metadata?.deletionTimestamp;
}

function isQuantity(value: string): boolean {
  try {
    parseQuantity(value);
    return true;
  } catch {
    return false;
  }
}

/** Compares two quantities; an invalid one compares as larger, so it never counts as lowering a limit. */
function safeCompare(a: string, b: string): number {
  if (!isQuantity(a)) return 1;
  if (!isQuantity(b)) return -1;
  return compareQuantities(a, b);
}

function byCreation(a: TenantRequest, b: TenantRequest): number {
  const time = (request: TenantRequest): number => {
    const created = request.metadata?.creationTimestamp;
    return created ? new Date(created).getTime() : 0;
  };
  return time(a) - time(b) || requestKey(a).localeCompare(requestKey(b));
}
