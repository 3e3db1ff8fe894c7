// Builds the LimitRange of each tenant namespace from `spec.limits` (container defaults and bounds).
import type { V1LimitRange } from "@kubernetes/client-node";
import { ownershipLabels } from "../labels.js";
import type { TenantContext } from "./types.js";

export function buildLimitRanges(context: TenantContext): V1LimitRange[] {
  const { limits } = context.spec;
  const item: Record<string, unknown> = { type: "Container" };
  for (const field of ["default", "defaultRequest", "max", "min"] as const) {
    if (Object.keys(limits[field]).length > 0) item[field] = limits[field];
  }
  if (Object.keys(item).length === 1) return [];
  return context.namespaces.map((namespace) => ({
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "tenant-limits", namespace, labels: ownershipLabels(context.tenant, context.tenantId) },
    spec: { limits: [item as { type: string }] },
  }));
}
