// Decides, for each namespace a Tenant requests, whether the operator may provision it.
//
// A namespace name is never taken over: a namespace that exists and belongs to another tenant, or to no tenant,
// is a conflict. One left by an earlier Tenant of the same name (same tenant label, other id) is an orphan: it
// keeps its labels and data and is adopted only when the Tenant's adopt annotation names that old id.

import type { V1Namespace } from "@kubernetes/client-node";
import { adoptAnnotation, isOwnedBy, managedByLabel, managedByValue, tenantIdLabel, tenantLabel } from "./labels.js";

export type ClaimState = "owned" | "free" | "adoptable" | "orphan" | "conflict" | "terminating";

export interface NamespaceClaim {
  name: string;
  state: ClaimState;
  message?: string;
  existing?: V1Namespace;
}

/** Classifies one namespace name for `tenant` with id `tenantId`, given what the cache contains under that name. */
export function classifyNamespace(
  name: string,
  existing: V1Namespace | undefined,
  tenant: string,
  tenantId: string,
  adoptIds: ReadonlySet<string>,
): NamespaceClaim {
  if (!existing) return { name, state: "free" };
  const labels = existing.metadata?.labels ?? {};
  if (existing.metadata?.deletionTimestamp) {
    return {
      name,
      state: "terminating",
      existing,
      message: `namespace "${name}" is being deleted; it is recreated once it is gone`,
    };
  }
  if (isOwnedBy(labels, tenant, tenantId)) return { name, state: "owned", existing };

  const owner = labels[tenantLabel];
  const oldId = labels[tenantIdLabel];
  if (labels[managedByLabel] === managedByValue && owner === tenant && oldId) {
    if (adoptIds.has(oldId)) return { name, state: "adoptable", existing };
    return {
      name,
      state: "orphan",
      existing,
      message: `namespace "${name}" was left by an earlier tenant "${tenant}" with id ${oldId}; to adopt it with its data, annotate the Tenant ${adoptAnnotation}=${oldId}`,
    };
  }
  const holder = owner ? `tenant "${owner}"` : "no tenant";
  return {
    name,
    state: "conflict",
    existing,
    message: `namespace "${name}" already exists and belongs to ${holder}; choose another namespace name`,
  };
}

/** Parses the adopt annotation: a comma-separated list of old tenant ids. */
export function adoptIdsOf(annotations: Record<string, string> | undefined): Set<string> {
  const value = annotations?.[adoptAnnotation] ?? "";
  return new Set(
    value
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean),
  );
}
