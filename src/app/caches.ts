// The caches the shared-app code reads, and the facts it derives from them: which pods are ready, whether a
// Deployment is Available, and whether a HorizontalPodAutoscaler targets a Deployment.

import type {
  V1ConfigMap,
  V1Deployment,
  V1EndpointSlice,
  V1HorizontalPodAutoscaler,
  V1PodDisruptionBudget,
  V1Pod,
  V1Service,
} from "@kubernetes/client-node";
import type { SharedApp } from "../api/generated.js";
import type { Informer } from "../runtime/informer.js";
import type { ServingPod } from "./desired/endpoints.js";

export interface AppCaches {
  sharedApps: Informer<SharedApp>;
  /** Operator-managed objects only (managed-by label). */
  deployments: Informer<V1Deployment>;
  services: Informer<V1Service>;
  endpointSlices: Informer<V1EndpointSlice>;
  podDisruptionBudgets: Informer<V1PodDisruptionBudget>;
  configMaps: Informer<V1ConfigMap>;
  /** Pods of lanes and dedicated instances. */
  pods: Informer<V1Pod>;
  /** Every HorizontalPodAutoscaler, the tenants' own included. */
  autoscalers: Informer<V1HorizontalPodAutoscaler>;
}

/** Returns the pods matching `selector` in `namespace` that are Ready, not terminating and have an IP. */
export function readyPods(pods: Informer<V1Pod>, namespace: string, selector: Record<string, string>): ServingPod[] {
  return pods
    .listInNamespace(namespace)
    .filter((pod) => Object.entries(selector).every(([key, value]) => pod.metadata?.labels?.[key] === value))
    .filter((pod) => isPodReady(pod))
    .map((pod) => ({
      name: pod.metadata!.name!,
      namespace,
      uid: pod.metadata!.uid!,
      ip: pod.status!.podIP!,
      nodeName: pod.spec?.nodeName,
    }));
}

export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp || !pod.status?.podIP) return false;
  return pod.status.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
}

/**
 * Returns whether a Deployment has rolled out its current template to every replica and is Available: the
 * controller has seen the latest generation, every replica is updated and available, and none of an older
 * template is left.
 */
export function isRolledOut(deployment: V1Deployment | undefined): boolean {
  if (!deployment?.spec || !deployment.status) return false;
  const { status } = deployment;
  const replicas = deployment.spec.replicas ?? 1;
  return (
    (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    (status.updatedReplicas ?? 0) >= replicas &&
    (status.availableReplicas ?? 0) >= replicas &&
    (status.replicas ?? 0) <= replicas &&
    (status.conditions?.some((condition) => condition.type === "Available" && condition.status === "True") ??
      replicas === 0)
  );
}

/** Returns whether a HorizontalPodAutoscaler in the Deployment's namespace scales it. */
export function isAutoscaled(autoscalers: Informer<V1HorizontalPodAutoscaler>, deployment: V1Deployment): boolean {
  const namespace = deployment.metadata?.namespace ?? "";
  return autoscalers
    .listInNamespace(namespace)
    .some(
      (autoscaler) =>
        autoscaler.spec?.scaleTargetRef.kind === "Deployment" &&
        autoscaler.spec.scaleTargetRef.name === deployment.metadata?.name,
    );
}

/** Describes why a Deployment is not Available, for status messages: replica counts and a pod's scheduling error. */
export function describeUnavailable(deployment: V1Deployment | undefined, pods: V1Pod[]): string {
  if (!deployment) return "its Deployment does not exist yet";
  const name = `${deployment.metadata?.namespace}/${deployment.metadata?.name}`;
  const replicas = deployment.spec?.replicas ?? 1;
  const updated = deployment.status?.updatedReplicas ?? 0;
  const available = deployment.status?.availableReplicas ?? 0;
  const parts = [
    `Deployment ${name} has ${updated}/${replicas} updated and ${available}/${replicas} available replicas`,
  ];
  const unschedulable = pods
    .map((pod) => pod.status?.conditions?.find((each) => each.type === "PodScheduled" && each.status === "False"))
    .find((condition) => condition?.message);
  if (unschedulable) parts.push(`pods cannot be scheduled: ${unschedulable.message}`);
  const failure = deployment.status?.conditions?.find(
    (condition) => condition.type === "ReplicaFailure" && condition.status === "True",
  );
  if (failure?.message) parts.push(failure.message);
  return parts.join("; ");
}
