// Builds the ResourceQuotas of each tenant namespace: `tenant-quota` from quota.perNamespace, and
// `tenant-total` holding the namespace's share of quota.total. Kubernetes enforces both; the shares come from
// planQuotaSplit, so their sum never exceeds the tenant total.

import type { V1ResourceQuota } from "@kubernetes/client-node";
import { ownershipLabels } from "../labels.js";
import type { TenantContext } from "./types.js";

export const perNamespaceQuotaName = "tenant-quota";
export const totalShareQuotaName = "tenant-total";

export function buildPerNamespaceQuotas(context: TenantContext): V1ResourceQuota[] {
  const hard = context.spec.quota.perNamespace;
  if (Object.keys(hard).length === 0) return [];
  return context.namespaces.map((namespace) => quota(context, namespace, perNamespaceQuotaName, hard));
}

/** One `tenant-total` quota for each namespace in `shares` (namespace name to hard list). */
export function buildTotalShareQuotas(
  context: TenantContext,
  shares: Record<string, Record<string, string>>,
): V1ResourceQuota[] {
  return Object.entries(shares).map(([namespace, hard]) => quota(context, namespace, totalShareQuotaName, hard));
}

function quota(context: TenantContext, namespace: string, name: string, hard: Record<string, string>): V1ResourceQuota {
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name, namespace, labels: ownershipLabels(context.tenant, context.tenantId) },
    spec: { hard: { ...hard } },
  };
}
