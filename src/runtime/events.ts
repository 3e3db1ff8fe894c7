// Records Kubernetes Events (core/v1) about the operator's objects.
//
// Events are best effort: a failure is logged and never fails a reconcile. The same reason and message for the
// same object is sent at most once every 10 minutes, so a flapping condition cannot flood the API server.

import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { KubeClient } from "./client.js";
import { Resources } from "./resources.js";

export interface ObjectReference {
  kind: string;
  apiVersion: string;
  name: string;
  namespace?: string;
  uid?: string;
}

const repeatWindowMs = 10 * 60_000;

export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly component = "tenant-operator",
  ) {}

  normal(object: ObjectReference, reason: string, message: string): void {
    this.record(object, "Normal", reason, message);
  }

  warning(object: ObjectReference, reason: string, message: string): void {
    this.record(object, "Warning", reason, message);
  }

  private record(object: ObjectReference, type: "Normal" | "Warning", reason: string, message: string): void {
    const key = `${object.kind}/${object.namespace ?? ""}/${object.name}/${reason}/${message}`;
    const now = Date.now();
    if ((this.recent.get(key) ?? 0) > now - repeatWindowMs) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) this.recent.clear();

    // Events about cluster-scoped objects live in the default namespace, as kubectl describe expects.
    const namespace = object.namespace ?? "default";
    const timestamp = new Date(now).toISOString();
    const event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${object.name}.${randomBytes(8).toString("hex")}`, namespace },
      involvedObject: object,
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: this.component },
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      count: 1,
      reportingComponent: this.component,
    };
    this.client.create(Resources.event, event).catch((error: unknown) => {
      this.log.warn({ err: error, kind: object.kind, name: object.name, reason }, "recording event failed");
    });
  }
}
