// Pure evaluator that decides whether the NetworkPolicies in a tenant's namespaces keep ingress from other tenants
// out. It follows Kubernetes NetworkPolicy semantics for ingress only: a pod is isolated for ingress once any
// policy of type Ingress selects it, and its allowed sources are the union of the ingress rules of all such
// policies. So one permissive rule in any policy opens the path, and every rule is checked on its own.
//
// A rule opens a path from outside the tenant when it has no peers (every source) or an ipBlock peer, because IP
// ranges can cover other tenants' pods. A namespaceSelector peer opens one when it matches a namespace that is
// neither the tenant's nor a platform namespace. A namespaceSelector that matches no such namespace today is
// still reported, because a tenant can put any label on its own namespaces. The exception is a selector that pins
// a trusted label: `kubernetes.io/metadata.name` to tenant or platform names, `tenancy.dev/tenant` to this tenant,
// or `tenancy.dev/tenant-id` to its id. The API server sets the first to the namespace name, and for the others
// this relies on the operator's admission policies that keep tenants from setting them. A podSelector-only peer
// selects pods in the policy's own namespace and is fine.
//
// Pods are not part of the input, so every policy is assumed to select some pod. A namespace counts as isolated
// only when an Ingress policy there has an empty podSelector, because pods that no policy selects accept ingress
// from every source.

import type {
  V1LabelSelector,
  V1LabelSelectorRequirement,
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
} from "@kubernetes/client-node";
import { namespaceNameLabel, tenantIdLabel, tenantLabel } from "./labels.js";

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface IsolationFinding {
  /** The policy as "namespace/name", or "namespace/*" when the namespace has no isolating policy. */
  policy: string;
  reason: string;
}

export interface IsolationResult {
  isolated: boolean;
  findings: IsolationFinding[];
}

export interface IsolationInput {
  /** Tenant name; the tenant's namespaces carry the label `tenancy.dev/tenant: <tenant>`. */
  tenant: string;
  /**
   * Tenant id from the `tenancy.dev/tenant-id` label. When set, a namespace is the tenant's by label only if both
   * labels match, so namespaces left by an earlier tenant of the same name count as foreign.
   */
  tenantId?: string;
  /** Names of this tenant's namespaces. */
  tenantNamespaces: string[];
  /** Namespaces allowed to reach the tenant, for example "ingress-nginx" or "monitoring". */
  platformNamespaces: string[];
  /** Every NetworkPolicy in the tenant's namespaces. Policies in other namespaces are ignored. */
  policies: V1NetworkPolicy[];
  /** Every namespace in the cluster with its labels, to resolve namespaceSelectors. */
  namespaces: NamespaceInfo[];
}

const MAX_NAMESPACES_IN_REASON = 3;

// The generated client types spell the wire field `from` as `_from`. Objects deserialized by the client carry
// `_from`, while raw JSON (watch events, YAML) carries `from`.
type IngressRule = V1NetworkPolicyIngressRule & { from?: V1NetworkPolicyPeer[] };

interface Scope {
  tenant: string;
  tenantId: string | undefined;
  trustedNamespaces: ReadonlySet<string>;
  foreignNamespaces: readonly NamespaceInfo[];
}

/** Evaluates every ingress rule of the tenant's policies and returns one finding per opening, sorted by policy. */
export function evaluateIsolation(input: IsolationInput): IsolationResult {
  const tenantNamespaces = new Set(input.tenantNamespaces);

  // A namespace labelled for this tenant is the tenant's even before it shows up in tenantNamespaces.
  const trustedNamespaces = new Set([...input.tenantNamespaces, ...input.platformNamespaces]);
  for (const namespace of input.namespaces) {
    const idMatches = input.tenantId === undefined || namespace.labels[tenantIdLabel] === input.tenantId;
    if (namespace.labels[tenantLabel] === input.tenant && idMatches) {
      trustedNamespaces.add(namespace.name);
    }
  }
  const foreignNamespaces = input.namespaces
    .filter((namespace) => !trustedNamespaces.has(namespace.name))
    .sort((a, b) => compareStrings(a.name, b.name));
  const scope: Scope = { tenant: input.tenant, tenantId: input.tenantId, trustedNamespaces, foreignNamespaces };

  const findings: IsolationFinding[] = [];
  const fullyIsolated = new Set<string>();
  const partlyIsolated = new Set<string>();
  for (const policy of input.policies) {
    const namespace = policy.metadata?.namespace;
    const name = policy.metadata?.name ?? "";
    if (namespace === undefined || namespace === "") {
      throw new Error(`NetworkPolicy "${name}" has no metadata.namespace, so the pods it governs are unknown`);
    }
    if (!tenantNamespaces.has(namespace) || !appliesToIngress(policy)) {
      continue;
    }

    if (isEmptySelector(policy.spec?.podSelector)) {
      fullyIsolated.add(namespace);
    } else {
      partlyIsolated.add(namespace);
    }
    const policyName = `${namespace}/${name}`;
    (policy.spec?.ingress ?? []).forEach((rule, index) => {
      for (const reason of evaluateRule(rule, `spec.ingress[${index}]`, scope)) {
        findings.push({ policy: policyName, reason });
      }
    });
  }

  for (const namespace of tenantNamespaces) {
    if (fullyIsolated.has(namespace)) {
      continue;
    }
    const reason = partlyIsolated.has(namespace)
      ? "no policy isolates ingress for every pod in this namespace, so pods outside the podSelectors accept ingress from every source"
      : "no policy isolates ingress in this namespace";
    findings.push({ policy: `${namespace}/*`, reason });
  }

  // Array.prototype.sort is stable, so findings of one policy keep their rule order.
  findings.sort((a, b) => compareStrings(a.policy, b.policy));
  return { isolated: findings.length === 0, findings };
}

// Kubernetes defaults an empty policyTypes to ["Ingress"], plus "Egress" when egress rules exist.
function appliesToIngress(policy: V1NetworkPolicy): boolean {
  const policyTypes = policy.spec?.policyTypes ?? [];
  return policyTypes.length === 0 || policyTypes.includes("Ingress");
}

function evaluateRule(rule: IngressRule, path: string, scope: Scope): string[] {
  const peers = rule._from ?? rule.from ?? [];
  if (peers.length === 0) {
    return [`${path} allows ingress from every source`];
  }

  const reasons: string[] = [];
  peers.forEach((peer, index) => {
    const reason = evaluatePeer(peer, `${path}.from[${index}]`, scope);
    if (reason !== undefined) {
      reasons.push(reason);
    }
  });
  return reasons;
}

function evaluatePeer(peer: V1NetworkPolicyPeer, path: string, scope: Scope): string | undefined {
  if (peer.ipBlock !== undefined) {
    return `${path} allows ingress from ipBlock ${peer.ipBlock.cidr}`;
  }
  if (peer.namespaceSelector !== undefined) {
    return evaluateNamespaceSelector(peer.namespaceSelector, path, scope);
  }
  if (peer.podSelector !== undefined) {
    return undefined;
  }
  // The API server rejects a peer without any selector, so this only comes from hand-built objects.
  return `${path} has an empty peer, which is treated as allowing ingress from every source`;
}

function evaluateNamespaceSelector(selector: V1LabelSelector, path: string, scope: Scope): string | undefined {
  const problem = selectorProblem(selector);
  if (problem !== undefined) {
    return `${path} has an invalid namespaceSelector (${problem}), so the namespaces it selects are unknown`;
  }

  const matched = scope.foreignNamespaces.filter((namespace) => matchesSelector(selector, namespaceLabels(namespace)));
  if (matched.length > 0) {
    const names = matched.slice(0, MAX_NAMESPACES_IN_REASON).map((namespace) => namespace.name);
    const more = matched.length - names.length;
    const suffix = more > 0 ? ` and ${more} more` : "";
    return `${path} allows ingress from namespaces outside the tenant: ${names.join(", ")}${suffix}`;
  }
  if (!pinsTrustedNamespaces(selector, scope)) {
    return `${path} selects namespaces by labels another tenant could set`;
  }
  return undefined;
}

// The API server sets kubernetes.io/metadata.name on every namespace, but callers may pass labels without it.
function namespaceLabels(namespace: NamespaceInfo): Record<string, string> {
  return { ...namespace.labels, [namespaceNameLabel]: namespace.name };
}

function requirementsOf(selector: V1LabelSelector): V1LabelSelectorRequirement[] {
  const fromLabels = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => ({
    key,
    operator: "In",
    values: [value],
  }));
  return [...fromLabels, ...(selector.matchExpressions ?? [])];
}

// Mirrors the checks of metav1.LabelSelectorAsSelector, which the API server applies to stored policies.
function selectorProblem(selector: V1LabelSelector): string | undefined {
  for (const requirement of selector.matchExpressions ?? []) {
    const valueCount = requirement.values?.length ?? 0;
    switch (requirement.operator) {
      case "In":
      case "NotIn":
        if (valueCount === 0) {
          return `operator ${requirement.operator} on "${requirement.key}" needs at least one value`;
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (valueCount > 0) {
          return `operator ${requirement.operator} on "${requirement.key}" takes no values`;
        }
        break;
      default:
        return `unknown operator "${requirement.operator}" on "${requirement.key}"`;
    }
  }
  return undefined;
}

// An empty selector matches everything, and all requirements must hold. NotIn also matches a missing label.
function matchesSelector(selector: V1LabelSelector, labels: Record<string, string>): boolean {
  return requirementsOf(selector).every((requirement) => {
    const present = Object.hasOwn(labels, requirement.key);
    const value = labels[requirement.key];
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case "In":
        return present && value !== undefined && values.includes(value);
      case "NotIn":
        return !present || value === undefined || !values.includes(value);
      case "Exists":
        return present;
      case "DoesNotExist":
        return !present;
      default:
        return false;
    }
  });
}

// True when one requirement limits the selector to trusted labels, so no namespace created later by another
// tenant can match it, whatever other labels that tenant sets.
function pinsTrustedNamespaces(selector: V1LabelSelector, scope: Scope): boolean {
  return requirementsOf(selector).some((requirement) => {
    if (requirement.operator !== "In") {
      return false;
    }
    const values = requirement.values ?? [];
    if (requirement.key === namespaceNameLabel) {
      return values.every((value) => scope.trustedNamespaces.has(value));
    }
    if (requirement.key === tenantLabel) {
      return values.every((value) => value === scope.tenant);
    }
    if (requirement.key === tenantIdLabel && scope.tenantId !== undefined) {
      return values.every((value) => value === scope.tenantId);
    }
    return false;
  });
}

function isEmptySelector(selector: V1LabelSelector | undefined): boolean {
  const labelCount = Object.keys(selector?.matchLabels ?? {}).length;
  const expressionCount = selector?.matchExpressions?.length ?? 0;
  return labelCount === 0 && expressionCount === 0;
}

// Compares by UTF-16 code units, so the order does not depend on the process locale.
function compareStrings(a: string, b: string): number {
  if (a < b) {
    return -1;
  }
  return a > b ? 1 : 0;
}
