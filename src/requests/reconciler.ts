// The TenantRequest reconcile: find the request's tenant, let the selfService policy or a confirmed platform
// engineer decide it, follow the Tenant controller's progress, and write the resulting status once.
//
// It never provisions anything itself: the Tenant controller lays approved requests over Tenant.spec. This
// controller only moves status.phase, so that the tenant can read what happened to its request.

import type { V1Namespace } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Tenant, TenantRequest } from "../api/generated.js";
import { WrittenStatuses, updateStatusIfChanged } from "../runtime/apply.js";
import type { KubeClient } from "../runtime/client.js";
import type { ReconcileContext, ReconcileOutcome } from "../runtime/controller.js";
import type { EventRecorder } from "../runtime/events.js";
import type { Informer } from "../runtime/informer.js";
import { Resources } from "../runtime/resources.js";
import { requestKey } from "../tenant/effective.js";
import { managedByLabel, managedByValue, tenantIdFromUid, tenantIdLabel, tenantLabel } from "../tenant/labels.js";
import { ApproverCheck, groupsImpliedBy } from "./approvers.js";
import { requestTransitions } from "./metrics.js";
import { decideByPolicy, isUndecided } from "./policy.js";
import {
  RequestReason,
  computeStatus,
  isApprovalRecorded,
  isFinal,
  type ApprovalCheck,
  type TenantResolution,
} from "./status.js";

export interface RequestCaches {
  tenants: Informer<Tenant>;
  requests: Informer<TenantRequest>;
  namespaces: Informer<V1Namespace>;
}

/** How long a request whose approver is not confirmed waits before the SubjectAccessReview is asked again. */
const approverRecheckMs = 60_000;

export class TenantRequestReconciler {
  private readonly writtenStatuses = new WrittenStatuses();

  constructor(
    private readonly client: KubeClient,
    private readonly caches: RequestCaches,
    private readonly events: EventRecorder,
    private readonly approvers: ApproverCheck = new ApproverCheck(client),
    private readonly now: () => Date = () => new Date(),
  ) {}

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileOutcome | void> {
    const request = this.caches.requests.get(key);
    if (!request) {
      // Deleted: the Tenant overlay no longer lists it, so its grant is already being taken back.
      this.writtenStatuses.forget(key);
      return;
    }
    // Being deleted: the overlay ignores it from now on, and nothing is left to report.
    if (request.metadata?.deletionTimestamp) return;
    const namespace = request.metadata!.namespace!;
    const requestLog = log.child({ namespace, name: request.metadata?.name, type: request.spec.type });

    // 1. The tenant, from the namespace's ownership labels.
    const resolution = isFinal(request) ? undefined : await this.resolveTenant(namespace);

    // 2. The decision: the policy for undecided requests, a SubjectAccessReview for a platform engineer's.
    let policyDecision;
    let approvalCheck: ApprovalCheck | undefined;
    if (resolution?.found) {
      if (isUndecided(request)) {
        const tenantId = tenantIdFromUid(resolution.tenant.metadata!.uid!);
        policyDecision = decideByPolicy(resolution.tenant, this.requestsOf(tenantId)).get(key);
      } else if (request.spec.approval) {
        approvalCheck = isApprovalRecorded(request) ? { allowed: true } : await this.checkApprover(request);
      }
    }

    // 3. Status, written once.
    const status = computeStatus({ request, resolution, policyDecision, approvalCheck, now: this.now() });
    const changed = await updateStatusIfChanged(
      this.client,
      Resources.tenantRequest,
      request,
      status,
      this.writtenStatuses,
    );
    if (changed && status.phase && status.phase !== request.status?.phase) {
      this.reportTransition(request, status.phase, status.reason ?? "", status.message ?? "", requestLog);
    }

    if (status.reason === RequestReason.approverNotAuthorized) return { requeueAfterMs: approverRecheckMs };
    return;
  }

  /** Returns the keys of the requests in the namespaces of `tenant`, for the watch on Tenants. */
  requestKeysOfTenant(tenant: Tenant): string[] {
    const uid = tenant.metadata?.uid;
    if (!uid) return [];
    return this.requestsOf(tenantIdFromUid(uid)).map(requestKey);
  }

  /**
   * Returns the keys to reconcile when `request` changes: itself and the undecided requests of the same tenant, whose policy
   * decision may depend on it (a freed namespace slot, a pending request fewer).
   */
  requestKeysRelatedTo(request: TenantRequest): string[] {
    const tenantId = this.caches.namespaces.get(request.metadata?.namespace ?? "")?.metadata?.labels?.[tenantIdLabel];
    const related = tenantId ? this.requestsOf(tenantId).filter(isUndecided).map(requestKey) : [];
    return [requestKey(request), ...related];
  }

  /** Returns the keys of the requests in `namespace`, for the watch on Namespaces (labels decide the tenant). */
  requestKeysInNamespace(namespace: V1Namespace): string[] {
    return this.caches.requests.listInNamespace(namespace.metadata?.name ?? "").map(requestKey);
  }

  /** Lists the requests of the tenant with id `tenantId`: those in namespaces that carry the id. */
  private requestsOf(tenantId: string): TenantRequest[] {
    return this.caches.requests.list().filter((request) => {
      const namespace = this.caches.namespaces.get(request.metadata?.namespace ?? "");
      return namespace?.metadata?.labels?.[tenantIdLabel] === tenantId;
    });
  }

  /**
   * Finds the Tenant that owns `namespace`. A cache miss is read from the API server, so a cache that lags behind a
   * new namespace or Tenant does not fail the request.
   */
  private async resolveTenant(namespace: string): Promise<TenantResolution> {
    const object =
      this.caches.namespaces.get(namespace) ?? (await this.client.get<V1Namespace>(Resources.namespace, namespace));
    const labels = object?.metadata?.labels ?? {};
    const tenantName = labels[tenantLabel];
    const tenantId = labels[tenantIdLabel];
    if (labels[managedByLabel] !== managedByValue || !tenantName || !tenantId) {
      return {
        found: false,
        reason: RequestReason.notATenantNamespace,
        message:
          `namespace "${namespace}" does not belong to a tenant; create the TenantRequest in one of the ` +
          `tenant's namespaces (listed in the Tenant's status.namespaces)`,
      };
    }

    const tenant = this.caches.tenants.get(tenantName) ?? (await this.client.get<Tenant>(Resources.tenant, tenantName));
    if (!tenant?.metadata?.uid || tenantIdFromUid(tenant.metadata.uid) !== tenantId) {
      return {
        found: false,
        reason: RequestReason.tenantNotFound,
        message:
          `namespace "${namespace}" belongs to tenant "${tenantName}" with id ${tenantId}, which no longer ` +
          `exists; create the request in a namespace of a current tenant`,
      };
    }
    return { found: true, tenant };
  }

  private async checkApprover(request: TenantRequest): Promise<ApprovalCheck> {
    const by = request.spec.approval!.by;
    // NOTE: spec.approval records only the username, so the review cannot include the approver's own groups. An
    // approver allowed only through a group other than those every such user has stays unconfirmed here.
    const allowed = await this.approvers.canApprove({ username: by, groups: groupsImpliedBy(by) });
    if (allowed) return { allowed: true };
    return {
      allowed: false,
      message:
        `"${by}" set spec.approval but is not allowed to approve tenantrequests in group tenancy.dev; ` +
        `bind the ClusterRole tenancy:platform-engineer to that user, or have a platform engineer decide`,
    };
  }

  private reportTransition(request: TenantRequest, phase: string, reason: string, message: string, log: Logger): void {
    requestTransitions.inc({ type: request.spec.type, phase });
    log.info({ phase, previousPhase: request.status?.phase, reason }, "request phase changed");
    const reference = {
      kind: "TenantRequest",
      apiVersion: "tenancy.dev/v1alpha1",
      name: request.metadata!.name!,
      namespace: request.metadata?.namespace,
      uid: request.metadata?.uid,
    };
    if (phase === "Denied" || phase === "Failed") this.events.warning(reference, reason, message);
    else this.events.normal(reference, reason || phase, message);
  }
}
