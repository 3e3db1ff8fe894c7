// Suspend and resume of a tenant's workloads: every Deployment and StatefulSet in the tenant's namespaces (the
// tenant's own and its dedicated instance) is scaled to zero while the tenant is suspended, and back to exactly
// its earlier count on resume. This is the one place where the operator changes objects it does not own, so it
// changes nothing on them but one annotation and the replica count:
//
// 1. suspend: record spec.replicas in the annotation tenancy.dev/suspended-replicas (a patch guarded by the
//    workload's resourceVersion, so a count changed meanwhile is never recorded), then scale to zero through the
//    scale subresource;
// 2. resume: scale back to the recorded count, then remove the annotation.
//
// Each step can be repeated, so a reconcile that fails or an operator that restarts between steps finishes the
// work on the next reconcile. New pods are refused meanwhile by the admission policy on suspended namespaces.

import type { Logger } from "pino";
import type { ConditionInput } from "../runtime/conditions.js";
import type { KubeClient, ResourceType } from "../runtime/client.js";
import { Resources } from "../runtime/resources.js";
import { suspendedReplicasAnnotation } from "./names.js";
import { objectPath, scaleTo } from "./writes.js";

export const suspendConditionType = "SuspendApplied";

/** One workload, with the fields the planner reads. */
export interface Workload {
  kind: "Deployment" | "StatefulSet";
  namespace: string;
  name: string;
  resourceVersion: string;
  replicas: number;
  /** The annotation's value, if the workload carries it. */
  recorded?: string;
}

export type ScaleAction =
  | { type: "record"; workload: Workload; replicas: number }
  | { type: "scale"; workload: Workload; replicas: number }
  | { type: "forget"; workload: Workload }
  | { type: "invalid"; workload: Workload; reason: string };

/** Plans the steps that bring `workloads` to the suspended or running state, in the order they must run. */
export function planScaleActions(workloads: readonly Workload[], suspended: boolean): ScaleAction[] {
  const actions: ScaleAction[] = [];
  for (const workload of workloads) {
    if (suspended) {
      if (workload.recorded === undefined) actions.push({ type: "record", workload, replicas: workload.replicas });
      if (workload.replicas !== 0) actions.push({ type: "scale", workload, replicas: 0 });
      continue;
    }
    if (workload.recorded === undefined) continue;
    const recorded = Number(workload.recorded);
    if (!/^\d+$/.test(workload.recorded) || !Number.isSafeInteger(recorded)) {
      actions.push({
        type: "invalid",
        workload,
        reason: `annotation ${suspendedReplicasAnnotation}="${workload.recorded}" is not a replica count`,
      });
      continue;
    }
    if (workload.replicas !== recorded) actions.push({ type: "scale", workload, replicas: recorded });
    actions.push({ type: "forget", workload });
  }
  return actions;
}

export interface SuspendResult {
  condition: ConditionInput;
  failure?: Error;
}

const workloadTypes: Record<Workload["kind"], ResourceType> = {
  Deployment: Resources.deployment,
  StatefulSet: Resources.statefulSet,
};

interface WorkloadObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { replicas?: number };
}

export class WorkloadSuspender {
  constructor(private readonly client: KubeClient) {}

  /**
   * Brings the workloads of `namespaces` to the state that `suspended` requests. `mayHaveRecords` is true when a
   * resume may find recorded counts (the tenant was suspended or a resume had failed); when it is false and the
   * tenant is not suspended, nothing is listed.
   */
  async reconcile(
    tenant: string,
    namespaces: readonly string[],
    suspended: boolean,
    mayHaveRecords: boolean,
    log: Logger,
  ): Promise<SuspendResult> {
    if (!suspended && !mayHaveRecords) {
      return { condition: condition(true, "NotSuspended", "the tenant is not suspended") };
    }
    try {
      const workloads = await this.listWorkloads(namespaces);
      const actions = planScaleActions(workloads, suspended);
      const problems: string[] = [];
      // A workload whose step failed gets no further step: it is never scaled to zero without a recorded count.
      const failed = new Set<string>();
      for (const action of actions) {
        const key = `${action.workload.kind}/${action.workload.namespace}/${action.workload.name}`;
        if (failed.has(key)) continue;
        const problem = await this.run(action, log.child({ tenant }));
        if (!problem) continue;
        problems.push(problem);
        failed.add(key);
      }
      if (problems.length > 0) {
        const message = problems.join("; ");
        return { condition: condition(false, "ScaleFailed", message), failure: new Error(message) };
      }
      const count = new Set(actions.map((action) => `${action.workload.namespace}/${action.workload.name}`)).size;
      return suspended
        ? {
            condition: condition(true, "Suspended", `${workloads.length} workloads held at zero replicas`),
          }
        : { condition: condition(true, "Resumed", `${count} workloads restored to their replica counts`) };
    } catch (error) {
      const message = `${suspended ? "suspending" : "resuming"} workloads of tenant "${tenant}" failed: ${String(
        error instanceof Error ? error.message : error,
      )}`;
      return { condition: condition(false, "ScaleFailed", message), failure: new Error(message, { cause: error }) };
    }
  }

  private async listWorkloads(namespaces: readonly string[]): Promise<Workload[]> {
    const workloads: Workload[] = [];
    for (const namespace of namespaces) {
      for (const kind of ["Deployment", "StatefulSet"] as const) {
        const list = await this.client.listAll<WorkloadObject>(workloadTypes[kind], { namespace });
        for (const item of list.items) {
          workloads.push({
            kind,
            namespace,
            name: item.metadata!.name!,
            resourceVersion: item.metadata!.resourceVersion!,
            replicas: item.spec?.replicas ?? 1,
            recorded: item.metadata?.annotations?.[suspendedReplicasAnnotation],
          });
        }
      }
    }
    return workloads;
  }

  /** Runs one action; returns what went wrong, or undefined. A conflict is left for the next reconcile. */
  private async run(action: ScaleAction, log: Logger): Promise<string | undefined> {
    const { workload } = action;
    const type = workloadTypes[workload.kind];
    const where = `${workload.kind} ${workload.namespace}/${workload.name}`;
    try {
      switch (action.type) {
        case "record":
          await this.client.request("PATCH", objectPath(type, workload.namespace, workload.name), {
            body: {
              metadata: {
                resourceVersion: workload.resourceVersion,
                annotations: { [suspendedReplicasAnnotation]: String(action.replicas) },
              },
            },
            contentType: "application/merge-patch+json",
            query: { fieldManager: this.client.fieldManager },
          });
          return undefined;
        case "scale":
          await scaleTo(this.client, type, workload.namespace, workload.name, action.replicas);
          log.info(
            { kind: workload.kind, namespace: workload.namespace, name: workload.name, replicas: action.replicas },
            "workload scaled",
          );
          return undefined;
        case "forget":
          await this.client.request("PATCH", objectPath(type, workload.namespace, workload.name), {
            body: { metadata: { annotations: { [suspendedReplicasAnnotation]: null } } },
            contentType: "application/merge-patch+json",
            query: { fieldManager: this.client.fieldManager },
          });
          return undefined;
        case "invalid":
          return `${where}: ${action.reason}; set it to the replica count to restore, or remove it`;
      }
    } catch (error) {
      return `${action.type === "record" ? "recording replicas of" : "scaling"} ${where} failed: ${
        error instanceof Error ? error.message : String(error)
      }`;
    }
  }
}

function condition(ok: boolean, reason: string, message: string): ConditionInput {
  return { type: suspendConditionType, status: ok ? "True" : "False", reason, message };
}
