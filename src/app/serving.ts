// Decides which pods a tenant's EndpointSlice points at while the tenant moves between lanes, or between a lane
// and its dedicated instance. The rule keeps the tenant's `app` Service with ready endpoints through every move:
// the endpoints change to the new pods only once the new Deployment is Available, and until then stay on the pods
// that served before.

import type { ServingPod, ServingSource } from "./desired/endpoints.js";

/** The pods of one source as the caches show them. */
export interface Candidate {
  source: ServingSource;
  /** Ready pods of the source that have an IP. */
  pods: ServingPod[];
  /** The source's Deployment exists, runs the source's version on every replica and is Available. */
  available: boolean;
}

export interface ServingChoice {
  source: ServingSource;
  pods: ServingPod[];
  /** True when the choice is the target; false while the tenant waits on the pods it had. */
  onTarget: boolean;
}

/**
 * Chooses the pods for a tenant: the target once it is Available (with ready pods, or with none because it is
 * scaled to zero); else the pods that served before while any is still ready; else whatever of the target is
 * ready, so that a tenant without earlier pods gets endpoints as soon as the first target pod is ready.
 */
export function chooseServing(target: Candidate, current: Candidate | undefined): ServingChoice {
  if (target.available) return { source: target.source, pods: target.pods, onTarget: true };
  if (current && !sameSource(current.source, target.source) && current.pods.length > 0) {
    return { source: current.source, pods: current.pods, onTarget: false };
  }
  return { source: target.source, pods: target.pods, onTarget: false };
}

export function sameSource(a: ServingSource, b: ServingSource): boolean {
  return a.kind === b.kind && a.version === b.version;
}
