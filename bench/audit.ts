// Counts requests from the API server's audit log, so that request figures come from the server's side and
// include every request a client sent, whatever its own metrics report.
//
// A window is a byte range of the log: the test cluster writes the audit log in blocking mode, so a request's
// event is in the file before its response reaches the client. The file is streamed from an offset rather than
// read whole, because a 1000-tenant run writes hundreds of megabytes.
import { createReadStream, statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { AuditEvent } from "../test/cluster/cluster.js";
import { operatorUser } from "../test/e2e/support/operator.js";
import { percentile } from "./stats.js";

export { operatorUser };

export type BenchAuditEvent = AuditEvent & { auditID: string; requestReceivedTimestamp: string };

const writeVerbs = new Set(["create", "update", "patch", "delete", "deletecollection"]);
const readVerbs = new Set(["get", "list", "watch"]);

export interface RequestCounts {
  total: number;
  /** create, update, patch and delete, Lease renewals excluded. */
  writes: number;
  /** get, list and watch, Lease reads excluded. */
  reads: number;
  leaseWrites: number;
  leaseReads: number;
  /** Count per `verb resource[/subresource]`, Leases included. */
  byVerbAndResource: Record<string, number>;
  /** Count per HTTP status code. */
  byCode: Record<string, number>;
}

export class AuditLog {
  constructor(readonly file: string) {}

  /** Returns the current end of the log, to mark the start or end of a window. */
  offset(): number {
    try {
      return statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  /**
   * Returns the requests by `username` logged between the two offsets, one event per request: the start of a
   * watch (which may still be open), the completion of anything else.
   */
  async requestsOf(username: string, from: number, to = this.offset()): Promise<BenchAuditEvent[]> {
    if (to <= from) return [];
    const needle = `"username":${JSON.stringify(username)}`;
    const seen = new Set<string>();
    const events: BenchAuditEvent[] = [];
    const lines = createInterface({ input: createReadStream(this.file, { start: from, end: to - 1 }) });
    for await (const line of lines) {
      if (!line.includes(needle)) continue;
      const event = JSON.parse(line) as BenchAuditEvent;
      if (event.user.username !== username) continue;
      // A watch logs ResponseStarted when it opens; one rejected before streaming logs only ResponseComplete.
      const rejectedWatch = event.stage === "ResponseComplete" && (event.responseStatus?.code ?? 0) >= 400;
      const counted =
        event.verb === "watch"
          ? event.stage === "ResponseStarted" || rejectedWatch
          : event.stage === "ResponseComplete";
      if (!counted || seen.has(event.auditID)) continue;
      seen.add(event.auditID);
      events.push(event);
    }
    return events;
  }
}

export function countRequests(events: readonly BenchAuditEvent[]): RequestCounts {
  const counts: RequestCounts = {
    total: 0,
    writes: 0,
    reads: 0,
    leaseWrites: 0,
    leaseReads: 0,
    byVerbAndResource: {},
    byCode: {},
  };
  for (const event of events) {
    const resource = event.objectRef?.resource ?? event.requestURI.split("?")[0]!;
    const subresource = event.objectRef?.subresource ? `/${event.objectRef.subresource}` : "";
    const key = `${event.verb} ${resource}${subresource}`;
    const code = String(event.responseStatus?.code ?? "none");
    counts.total++;
    counts.byVerbAndResource[key] = (counts.byVerbAndResource[key] ?? 0) + 1;
    counts.byCode[code] = (counts.byCode[code] ?? 0) + 1;

    const lease = resource === "leases";
    if (writeVerbs.has(event.verb)) {
      if (lease) counts.leaseWrites++;
      else counts.writes++;
    } else if (readVerbs.has(event.verb)) {
      if (lease) counts.leaseReads++;
      else counts.reads++;
    }
  }
  return counts;
}

export interface ServerConcurrency {
  /** From the first request's arrival to the last response, in seconds. */
  spanSeconds: number;
  /** Mean number of this client's requests inside the API server over the span (sum of latencies / span). */
  meanInFlight: number;
  /** Server-side latency: request received until response complete. */
  meanLatencyMs: number;
  p99LatencyMs: number;
}

/** Computes how busy a client kept the API server from audit timestamps. Watches are left out because they stay open. */
export function serverConcurrency(events: readonly BenchAuditEvent[]): ServerConcurrency {
  const timed = events
    .filter((event) => event.verb !== "watch")
    .map((event) => ({ start: Date.parse(event.requestReceivedTimestamp), end: Date.parse(event.stageTimestamp) }));
  if (timed.length === 0)
    return { spanSeconds: 0, meanInFlight: 0, meanLatencyMs: Number.NaN, p99LatencyMs: Number.NaN };
  const latencies = timed.map((request) => request.end - request.start);
  // reduce, not Math.max(...), because a 1000-Tenant run has tens of thousands of requests.
  const lastEnd = timed.reduce((latest, request) => Math.max(latest, request.end), -Infinity);
  const firstStart = timed.reduce((earliest, request) => Math.min(earliest, request.start), Infinity);
  const spanMs = lastEnd - firstStart;
  const totalMs = latencies.reduce((sum, value) => sum + value, 0);
  return {
    spanSeconds: spanMs / 1000,
    meanInFlight: spanMs > 0 ? totalMs / spanMs : Number.NaN,
    meanLatencyMs: totalMs / latencies.length,
    p99LatencyMs: percentile(latencies, 99),
  };
}
