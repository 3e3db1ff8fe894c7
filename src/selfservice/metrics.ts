// The self-service API's metrics on the operator's registry: HTTP requests by route template, method and code,
// their latency, and TenantRequest writes by request type, action and outcome. Route labels are templates
// (/api/v1/tenants/{tenant}), never raw paths, so a caller cannot create series.

import { Counter, Histogram } from "prom-client";
import { requestTypes } from "../requests/metrics.js";
import { registry } from "../runtime/metrics.js";

/** Route label of requests that match no route. */
export const unmatchedRoute = "unmatched";

export const writeActions = ["create", "cancel", "approve", "deny"] as const;
export type WriteAction = (typeof writeActions)[number];

/** Outcome label of a write, from the response status. */
export const WriteOutcome = {
  succeeded: "succeeded",
  rejected: "rejected",
  denied: "denied",
  failed: "failed",
} as const;
export type WriteOutcome = (typeof WriteOutcome)[keyof typeof WriteOutcome];

export const httpRequests = new Counter({
  name: "selfservice_http_requests_total",
  help: "Self-service API requests by route template, method and status code.",
  labelNames: ["route", "method", "code"] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: "selfservice_http_request_duration_seconds",
  help: "Self-service API request latency in seconds, by route template and method.",
  labelNames: ["route", "method"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const requestWrites = new Counter({
  name: "selfservice_tenantrequest_writes_total",
  help: "TenantRequest writes through the self-service API, by request type, action and outcome.",
  labelNames: ["type", "action", "outcome"] as const,
  registers: [registry],
});

for (const type of requestTypes) {
  for (const action of writeActions) requestWrites.inc({ type, action, outcome: WriteOutcome.succeeded }, 0);
}

/** Maps a response status to the outcome label: 2xx succeeded, 401/403/404 denied, other 4xx rejected, 5xx failed. */
export function outcomeOf(status: number): WriteOutcome {
  if (status < 400) return WriteOutcome.succeeded;
  if (status === 401 || status === 403 || status === 404) return WriteOutcome.denied;
  if (status < 500) return WriteOutcome.rejected;
  return WriteOutcome.failed;
}

/** Returns the type label of a write: a known request type, or "unknown" for bodies that name none. */
export function typeLabel(type: unknown): string {
  return typeof type === "string" && (requestTypes as readonly string[]).includes(type) ? type : "unknown";
}
