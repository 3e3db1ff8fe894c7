// The tenancy_tenantrequest_* metrics: phase changes written by the TenantRequest controller, by request type and
// new phase. Every series exists from start-up at zero, so dashboards and rate() see no gaps.

import { Counter } from "prom-client";
import { registry } from "../runtime/metrics.js";

export const requestTypes = [
  "Namespace",
  "RemoveNamespace",
  "Quota",
  "DedicatedInstance",
  "SharedInstance",
  "DedicatedNodes",
  "ReleaseNodes",
  "Suspend",
  "Resume",
] as const;

export const requestPhases = ["Pending", "Approved", "Denied", "Provisioned", "Failed", "Cancelled"] as const;

export const requestTransitions = new Counter({
  name: "tenancy_tenantrequest_transitions_total",
  help: "TenantRequest phase changes written by the operator, by request type and new phase.",
  labelNames: ["type", "phase"] as const,
  registers: [registry],
});

for (const type of requestTypes) {
  for (const phase of requestPhases) requestTransitions.inc({ type, phase }, 0);
}
