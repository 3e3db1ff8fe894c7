// Checks whether a CRD is served and not being deleted. Without a SharedApp the operator removes the app objects it
// made, and without a Tenant the app objects of that tenant. It does neither while the CRD itself is being deleted,
// because uninstalling the CRDs must not take the application away from tenants.

import type { KubeClient, KubeObject } from "../runtime/client.js";
import { Resources } from "../runtime/resources.js";

/** How long a result is reused, so that pruning for many objects sends one request to the API server. */
const cacheMs = 30_000;

export class CrdCheck {
  private answer: { served: boolean; at: number } | undefined;

  /** `name` is the CRD's name, for example sharedapps.tenancy.dev. */
  constructor(
    private readonly client: KubeClient,
    private readonly name: string,
  ) {}

  async isServed(): Promise<boolean> {
    if (this.answer && Date.now() - this.answer.at < cacheMs) return this.answer.served;
    const crd = await this.client.get<KubeObject>(Resources.customResourceDefinition, this.name);
    const served = crd !== undefined && !crd.metadata?.deletionTimestamp;
    this.answer = { served, at: Date.now() };
    return served;
  }
}
