// Builds the tenant's Namespace objects: ownership and Pod Security labels, the labels and annotations that
// carry per-tenant settings to the admission policies, and the node placement annotations read by the
// PodNodeSelector and PodTolerationRestriction admission plugins.

import type { V1Namespace, V1Toleration } from "@kubernetes/client-node";
import type { EffectiveSpec, Toleration } from "../effective.js";
import { ownershipLabels, poolLabel, settingAnnotations, settingLabels } from "../labels.js";
import type { TenantContext } from "./types.js";

// Tolerations that admission adds to pods, which the whitelist must allow: DefaultTolerationSeconds adds the first
// two to every pod, and PodTolerationRestriction itself adds memory-pressure to every pod that is not BestEffort.
const defaultTolerations: V1Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
];

export function buildNamespaces(context: TenantContext): V1Namespace[] {
  const { spec } = context;
  return context.namespaces.map((name) => {
    const short = name.slice(context.tenant.length + 1);
    const extraLabels = spec.namespaces.find((namespace) => namespace.name === short)?.labels ?? {};
    return {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: { ...extraLabels, ...namespaceLabels(context) },
        annotations: namespaceAnnotations(context),
      },
    };
  });
}

function namespaceLabels(context: TenantContext): Record<string, string> {
  const { spec } = context;
  const level = spec.podSecurity;
  return {
    ...ownershipLabels(context.tenant, context.tenantId),
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": level,
    "pod-security.kubernetes.io/audit": level,
    [settingLabels.allowNodePort]: String(spec.services.allowNodePort),
    [settingLabels.allowLoadBalancer]: String(spec.services.allowLoadBalancer),
    [settingLabels.allowExternalIPs]: String(spec.services.allowExternalIPs),
    [settingLabels.suspended]: String(spec.suspended),
  };
}

function namespaceAnnotations(context: TenantContext): Record<string, string> {
  const { spec } = context;
  const placement = placementOf(spec, context.platform.sharedNodeSelector);
  const annotations: Record<string, string> = {
    [settingAnnotations.storageClasses]: spec.services.storageClasses.join(","),
    [settingAnnotations.priorityClasses]: spec.services.priorityClasses.join(","),
    [settingAnnotations.tolerationsWhitelist]: JSON.stringify([...defaultTolerations, ...placement.tolerations]),
    [settingAnnotations.defaultTolerations]: JSON.stringify(placement.tolerations),
  };
  if (placement.nodeSelector) annotations[settingAnnotations.nodeSelector] = placement.nodeSelector;
  return annotations;
}

/** The node selector (`key=value,...`) and tolerations that pin the tenant's pods to its nodes. */
export function placementOf(
  spec: EffectiveSpec,
  sharedNodeSelector: string,
): { nodeSelector: string; tolerations: V1Toleration[] } {
  const selector: Record<string, string> = { ...spec.placement.nodeSelector };
  const tolerations: V1Toleration[] = spec.placement.tolerations.map((toleration: Toleration) => ({ ...toleration }));
  if (spec.placement.pool) {
    selector[poolLabel] = spec.placement.pool;
    tolerations.push({ key: poolLabel, operator: "Equal", value: spec.placement.pool, effect: "NoSchedule" });
  }
  if (Object.keys(selector).length === 0) return { nodeSelector: sharedNodeSelector, tolerations };
  const nodeSelector = Object.entries(selector)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
  return { nodeSelector, tolerations };
}
