// The Tenant reconcile: a fixed list of steps that makes the cluster match one Tenant's effective spec.
//
// Each reconcile computes the whole desired state from the cached Tenant, its approved TenantRequests and the
// cached cluster objects, applies what differs with server-side apply, prunes what the operator owns but no
// longer wants, and writes status once at the end. Independent steps all run even when one fails, so the status
// shows every step's result; the failures are then thrown together so the key is retried with backoff.
//
// Guard rails come up before access: namespaces, then quotas, limits and network policies, and only then the
// RoleBindings that let owners in.

import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1LimitRange,
  V1Namespace,
  V1NetworkPolicy,
  V1ResourceQuota,
  V1RoleBinding,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Tenant, TenantRequest, TenantStatus } from "../api/generated.js";
import type { AppStepResult, TenantAppStep } from "../app/tenantStep.js";
import {
  WrittenStatuses,
  addFinalizer,
  applyIfChanged,
  removeFinalizer,
  updateStatusIfChanged,
} from "../runtime/apply.js";
import { ApiError, isConflict, type KubeClient, type KubeObject, type ResourceType } from "../runtime/client.js";
import { setCondition, type Condition } from "../runtime/conditions.js";
import type { ReconcileContext, ReconcileOutcome } from "../runtime/controller.js";
import type { EventRecorder } from "../runtime/events.js";
import type { Informer } from "../runtime/informer.js";
import { Resources } from "../runtime/resources.js";
import { buildLimitRanges } from "./desired/limitRanges.js";
import { buildNamespaces } from "./desired/namespaces.js";
import { buildNetworkPolicies } from "./desired/networkPolicies.js";
import { buildPerNamespaceQuotas, buildTotalShareQuotas, totalShareQuotaName } from "./desired/quotas.js";
import { buildClusterRbac, buildRoleBindings } from "./desired/rbac.js";
import type { PlatformSettings, TenantContext } from "./desired/types.js";
import { effectiveSpec, type EffectiveSpec } from "./effective.js";
import {
  isOwnedBy,
  managedByLabel,
  managedByValue,
  namespaceName,
  ownershipLabels,
  poolLabel,
  settingAnnotations,
  tenantFinalizer,
  tenantIdFromUid,
  tenantIndex,
  tenantIdLabel,
  tenantLabel,
} from "./labels.js";
import { evaluateIsolation } from "./networkIsolation.js";
import { adoptIdsOf, classifyNamespace, type NamespaceClaim } from "./namespaceClaims.js";
import { planQuotaSplit } from "./quotaSplit.js";
import { addQuantities, formatQuantity } from "./quantity.js";
import { tenantMetrics } from "./metrics.js";

export interface TenantCaches {
  tenants: Informer<Tenant>;
  requests: Informer<TenantRequest>;
  namespaces: Informer<V1Namespace>;
  roleBindings: Informer<V1RoleBinding>;
  resourceQuotas: Informer<V1ResourceQuota>;
  limitRanges: Informer<V1LimitRange>;
  /** Every NetworkPolicy in the cluster, the tenants' own included, for the isolation evaluator. */
  networkPolicies: Informer<V1NetworkPolicy>;
  clusterRoles: Informer<V1ClusterRole>;
  clusterRoleBindings: Informer<V1ClusterRoleBinding>;
}

type Namespaced = KubeObject & { metadata?: { namespace?: string } };

/** One kind of object the reconcile owns inside tenant namespaces or cluster-wide. */
interface OwnedKind {
  type: ResourceType;
  cache: Informer<Namespaced>;
}

class StepErrors {
  readonly errors: { step: string; error: unknown }[] = [];
  /** A 409 conflict means stale input, not a failed step: the reconcile is retried with fresh state. */
  conflict: unknown;

  async run(step: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (error) {
      if (isConflict(error)) this.conflict ??= error;
      else this.errors.push({ step, error });
      return false;
    }
  }

  messageOf(step: string): string | undefined {
    const failure = this.errors.find((entry) => entry.step === step);
    return failure ? errorMessage(failure.error) : undefined;
  }
}

export class TenantReconciler {
  private readonly writtenStatuses = new WrittenStatuses();

  constructor(
    private readonly client: KubeClient,
    private readonly caches: TenantCaches,
    private readonly platform: PlatformSettings,
    private readonly events: EventRecorder,
    private readonly app: TenantAppStep,
  ) {}

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileOutcome | void> {
    let tenant = this.caches.tenants.get(key);
    if (!tenant) {
      // Deleted: the finalizer already cleaned up; only the metric series are left to drop.
      tenantMetrics.forget(key);
      this.writtenStatuses.forget(`/${key}`);
      return;
    }
    const tenantId = tenantIdFromUid(tenant.metadata!.uid!);
    const tenantLog = log.child({ tenant: key, tenantId });

    if (tenant.metadata?.deletionTimestamp) return this.finalize(tenant, tenantId, tenantLog);
    // The finalizer goes on before anything is created, so that nothing can be left behind unnoticed. The
    // reconcile goes on with the patched object, whose resourceVersion the status write needs.
    tenant = await addFinalizer(this.client, Resources.tenant, tenant, tenantFinalizer);

    const { spec, applied, rejected } = effectiveSpec(tenant, this.requestsOf(key, tenantId));
    const placementConflict = this.claimPool(key, spec);
    const steps = new StepErrors();
    const now = new Date();

    // 1. Namespaces: classify every requested name, create the free ones, update the owned ones.
    const claims = this.claimNamespaces(key, tenantId, spec, tenant);
    await steps.run("namespaces", () => this.applyNamespaces(claims, key, tenantId, spec, tenantLog));
    const provisioned = claims.filter(
      (claim) => claim.state === "owned" || claim.state === "free" || claim.state === "adoptable",
    );
    const context: TenantContext = {
      tenant: key,
      tenantId,
      spec,
      namespaces: provisioned.map((claim) => claim.name),
      platform: this.platform,
    };

    // 2. Guard rails: quotas, limits and network policies, independent of each other, so applied together.
    const [quotaOk] = await Promise.all([
      steps.run("quotas", () => this.applyQuotas(context)),
      steps.run("limits", () =>
        this.applyAll(Resources.limitRange, this.caches.limitRanges, buildLimitRanges(context)),
      ),
      steps.run("network", () =>
        this.applyAll(Resources.networkPolicy, this.caches.networkPolicies, buildNetworkPolicies(context)),
      ),
    ]);

    // 3. Access, once the guard rails are in place. The ClusterRoleBinding waits for its ClusterRole, because
    // RBAC checks a binding against the role it names.
    if (steps.errors.length === 0) {
      await steps.run("rbac", async () => {
        const [clusterRole, clusterRoleBinding] = buildClusterRbac(context);
        await Promise.all([
          this.applyAll(Resources.roleBinding, this.caches.roleBindings, buildRoleBindings(context)),
          this.applyAll(Resources.clusterRole, this.caches.clusterRoles, clusterRole ? [clusterRole] : []),
        ]);
        await this.applyAll(
          Resources.clusterRoleBinding,
          this.caches.clusterRoleBindings,
          clusterRoleBinding ? [clusterRoleBinding] : [],
        );
      });
    }

    // 4. Prune what this tenant owns but no longer wants.
    await steps.run("prune", () => this.prune(context, spec, claims, tenantLog));

    // A conflict means some input was stale: retry with fresh state before reporting anything.
    if (steps.conflict) throw steps.conflict;

    // 5. Application: the tenant's app Service and endpoints, its dedicated instance, suspend and resume.
    const app = await this.app.reconcile(tenant, context, tenantLog);
    if (app.failure) steps.errors.push({ step: "app", error: app.failure });

    // 6. Status, written once.
    const status = this.buildStatus(
      tenant,
      tenantId,
      spec,
      claims,
      context,
      steps,
      quotaOk,
      applied,
      rejected,
      now,
      app,
      placementConflict,
    );
    await this.writeStatus(tenant, status, claims, tenantLog);
    tenantMetrics.record(key, status);

    if (steps.errors.length > 0) {
      throw new Error(
        `Tenant "${key}": ${steps.errors.map((entry) => `${entry.step}: ${errorMessage(entry.error)}`).join("; ")}`,
        { cause: steps.errors[0]!.error },
      );
    }
    // A terminating namespace is recreated once it is gone; its deletion event triggers that reconcile.
    return app.requeueAfterMs !== undefined ? { requeueAfterMs: app.requeueAfterMs } : undefined;
  }

  /**
   * Keeps a dedicated node pool to one tenant. When namespaces of other tenants select the pool too, the tenant
   * created first keeps it (ties broken by name, so every reconcile agrees); the others run on shared nodes and
   * get the returned message. Mutates `spec`.
   */
  private claimPool(tenant: string, spec: EffectiveSpec): string | undefined {
    const pool = spec.placement.pool;
    if (!pool) return undefined;
    const selector = `${poolLabel}=${pool}`;
    const rank = (name: string): [number, string] => {
      const created = this.caches.tenants.get(name)?.metadata?.creationTimestamp;
      return [created ? new Date(created).getTime() : Number.MAX_SAFE_INTEGER, name];
    };
    const [ourTime, ourName] = rank(tenant);
    for (const namespace of this.caches.namespaces.list()) {
      const holder = namespace.metadata?.labels?.[tenantLabel];
      const selects = namespace.metadata?.annotations?.[settingAnnotations.nodeSelector]?.split(",").includes(selector);
      if (!holder || holder === tenant || !selects) continue;
      const [theirTime, theirName] = rank(holder);
      if (theirTime < ourTime || (theirTime === ourTime && theirName < ourName)) {
        spec.placement = {
          nodeSelector: { ...spec.placement.nodeSelector },
          tolerations: [...spec.placement.tolerations],
        };
        return `node pool "${pool}" is dedicated to tenant "${holder}"; choose another pool or ask a platform engineer`;
      }
    }
    return undefined;
  }

  /** Approved requests of the tenant: those in namespaces that carry its id. */
  private requestsOf(tenant: string, tenantId: string): TenantRequest[] {
    return this.caches.namespaces
      .byIndex(tenantIndex, tenant)
      .filter((namespace) => namespace.metadata?.labels?.[tenantIdLabel] === tenantId)
      .flatMap((namespace) => this.caches.requests.listInNamespace(namespace.metadata!.name!));
  }

  private claimNamespaces(tenant: string, tenantId: string, spec: EffectiveSpec, object: Tenant): NamespaceClaim[] {
    const adoptIds = adoptIdsOf(object.metadata?.annotations);
    return spec.namespaces.slice(0, spec.maxNamespaces).map((namespace) => {
      const name = namespaceName(tenant, namespace.name);
      return classifyNamespace(name, this.caches.namespaces.get(name), tenant, tenantId, adoptIds);
    });
  }

  private async applyNamespaces(
    claims: NamespaceClaim[],
    tenant: string,
    tenantId: string,
    spec: EffectiveSpec,
    log: Logger,
  ): Promise<void> {
    const provisionable = claims.filter((claim) => ["owned", "free", "adoptable"].includes(claim.state));
    const desired = buildNamespaces({
      tenant,
      tenantId,
      spec,
      namespaces: provisionable.map((claim) => claim.name),
      platform: this.platform,
    });
    // Namespaces are independent of each other, so they are created and updated concurrently.
    await Promise.all(
      desired.map((namespace, index) => this.applyNamespace(namespace, provisionable[index]!, tenant, tenantId, log)),
    );
  }

  /** Creates one free namespace (POST first, so that a name taken meanwhile is never taken over) or updates an owned one. */
  private async applyNamespace(
    namespace: V1Namespace,
    claim: NamespaceClaim,
    tenant: string,
    tenantId: string,
    log: Logger,
  ): Promise<void> {
    const name = namespace.metadata!.name!;
    if (claim.state === "free") {
      // Create with a plain POST first: it fails if anyone created the name meanwhile, so nothing is taken over.
      try {
        await this.client.create(Resources.namespace, {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name, labels: ownershipLabels(tenant, tenantId) },
        });
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          claim.state = "conflict";
          claim.message = `namespace "${name}" was created by someone else at the same time; choose another namespace name`;
          return;
        }
        throw new Error(`creating namespace "${name}" failed`, { cause: error });
      }
      log.info({ namespace: name }, "namespace created");
      claim.state = "owned";
      await this.client.apply(Resources.namespace, namespace);
      return;
    }
    if (claim.state === "adoptable") {
      log.info(
        { namespace: name, oldTenantId: claim.existing?.metadata?.labels?.[tenantIdLabel] },
        "namespace adopted",
      );
      this.events.normal(this.tenantRef(tenant), "NamespaceAdopted", `adopted namespace ${name}`);
      claim.state = "owned";
    }
    try {
      await applyIfChanged(this.client, Resources.namespace, namespace, claim.existing);
    } catch (error) {
      throw new Error(`applying namespace "${name}" failed`, { cause: error });
    }
  }

  private async applyQuotas(context: TenantContext): Promise<void> {
    await this.applyAll(Resources.resourceQuota, this.caches.resourceQuotas, buildPerNamespaceQuotas(context));

    const total = context.spec.quota.total;
    if (Object.keys(total).length === 0) return;
    const states = context.namespaces.map((namespace) => {
      const current = this.caches.resourceQuotas.get(`${namespace}/${totalShareQuotaName}`);
      const owned = current && isOwnedBy(current.metadata?.labels, context.tenant, context.tenantId);
      return {
        namespace,
        hard: owned ? current.spec?.hard : undefined,
        used: owned ? current.status?.used : undefined,
      };
    });
    const plan = planQuotaSplit(total, states);

    // Lower first and only then raise, so that the sum of the namespace shares never exceeds the total.
    // ResourceQuota accepts a limit below current usage, so a lower carries the resourceVersion of the quota whose
    // usage it was planned from. If a pod was admitted since, the write fails with 409 and the reconcile is
    // retried with fresh usage, instead of leaving that namespace over its new share.
    for (const phase of ["lower", "raise"] as const) {
      const shares = Object.fromEntries(
        plan.steps.filter((step) => step.phase === phase).map((step) => [step.namespace, step.hard]),
      );
      for (const quota of buildTotalShareQuotas(context, shares)) {
        const name = `${quota.metadata!.namespace}/${quota.metadata!.name}`;
        const cached = this.caches.resourceQuotas.get(name);
        if (phase === "lower" && cached) quota.metadata!.resourceVersion = cached.metadata?.resourceVersion;
        try {
          await applyIfChanged(this.client, Resources.resourceQuota, quota, cached);
        } catch (error) {
          if (isConflict(error)) throw error;
          throw new Error(`applying ResourceQuota ${name} failed`, { cause: error });
        }
      }
    }
  }

  /**
   * Applies each desired object unless the cache already has it. An object under the same name that the
   * operator does not own for this tenant is left alone and reported.
   */
  private async applyAll<T extends Namespaced>(
    type: ResourceType,
    cache: Informer<T>,
    desired: KubeObject[],
  ): Promise<void> {
    // The objects of one kind do not depend on each other, so they are applied concurrently.
    const failures: string[] = [];
    const results = await Promise.allSettled(
      desired.map(async (object) => {
        const namespace = object.metadata?.namespace;
        const key = namespace ? `${namespace}/${object.metadata!.name}` : object.metadata!.name!;
        const cached = cache.get(key);
        const labels = object.metadata!.labels!;
        if (cached && !isOwnedBy(cached.metadata?.labels, labels[tenantLabel]!, labels[tenantIdLabel]!)) {
          failures.push(`${type.kind} ${key} exists and is not managed by this tenant; rename or remove it`);
          return;
        }
        try {
          await applyIfChanged(this.client, type, object, cached as KubeObject | undefined);
        } catch (error) {
          if (isConflict(error)) throw error;
          throw new Error(`applying ${type.kind} ${key} failed`, { cause: error });
        }
      }),
    );
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    const conflict = rejected.find((result) => isConflict(result.reason));
    if (conflict) throw conflict.reason;
    if (rejected.length > 0) throw rejected[0]!.reason;
    if (failures.length > 0) throw new Error(failures.join("; "));
  }

  /** Deletes objects carrying this tenant's ownership labels that the desired state no longer has. */
  private async prune(
    context: TenantContext,
    spec: EffectiveSpec,
    claims: NamespaceClaim[],
    log: Logger,
  ): Promise<void> {
    const desired = new Set<string>();
    const remember = (objects: KubeObject[]): void => {
      for (const object of objects)
        desired.add(`${object.kind}:${object.metadata?.namespace ?? ""}/${object.metadata?.name}`);
    };
    remember(buildRoleBindings(context));
    remember(buildClusterRbac(context));
    remember(buildPerNamespaceQuotas(context));
    if (Object.keys(spec.quota.total).length > 0) {
      remember(
        buildTotalShareQuotas(context, Object.fromEntries(context.namespaces.map((namespace) => [namespace, {}]))),
      );
    }
    remember(buildLimitRanges(context));
    remember(buildNetworkPolicies(context));

    for (const { type, cache } of this.ownedKinds()) {
      for (const object of cache.byIndex(tenantIndex, context.tenant)) {
        if (!isOwnedBy(object.metadata?.labels, context.tenant, context.tenantId)) continue;
        if (desired.has(`${type.kind}:${object.metadata?.namespace ?? ""}/${object.metadata?.name}`)) continue;
        await this.client.delete(type, object.metadata!.name!, object.metadata?.namespace, {
          uid: object.metadata?.uid,
        });
        log.info({ kind: type.kind, namespace: object.metadata?.namespace, name: object.metadata?.name }, "pruned");
      }
    }

    // Namespaces dropped from the spec: deleted under deletionPolicy Delete, otherwise kept with their data.
    const wanted = new Set(claims.map((claim) => claim.name));
    for (const namespace of this.caches.namespaces.byIndex(tenantIndex, context.tenant)) {
      const name = namespace.metadata!.name!;
      if (wanted.has(name) || namespace.metadata?.deletionTimestamp) continue;
      if (!isOwnedBy(namespace.metadata?.labels, context.tenant, context.tenantId)) continue;
      if (spec.deletionPolicy === "Delete") {
        await this.client.delete(Resources.namespace, name, undefined, { uid: namespace.metadata?.uid });
        log.info({ namespace: name }, "namespace deleted");
        this.events.normal(this.tenantRef(context.tenant), "NamespaceDeleted", `deleted namespace ${name}`);
      }
    }
  }

  private ownedKinds(): OwnedKind[] {
    const caches = this.caches;
    return [
      { type: Resources.roleBinding, cache: caches.roleBindings },
      { type: Resources.resourceQuota, cache: caches.resourceQuotas },
      { type: Resources.limitRange, cache: caches.limitRanges },
      { type: Resources.networkPolicy, cache: caches.networkPolicies },
      { type: Resources.clusterRoleBinding, cache: caches.clusterRoleBindings },
      { type: Resources.clusterRole, cache: caches.clusterRoles },
    ] as OwnedKind[];
  }

  /**
   * Deletion: with deletionPolicy Delete the tenant's namespaces go; with Retain the operator's objects go and
   * the namespaces stay with their labels and data. If the Tenant CRD itself is being deleted, everything stays:
   * uninstalling the CRDs must never delete a tenant's namespace.
   */
  private async finalize(tenant: Tenant, tenantId: string, log: Logger): Promise<void> {
    const name = tenant.metadata!.name!;
    if (!tenant.metadata?.finalizers?.includes(tenantFinalizer)) return;

    const crd = await this.client.get<KubeObject>(Resources.customResourceDefinition, "tenants.tenancy.dev");
    const crdDeleting = !crd || Boolean(crd.metadata?.deletionTimestamp);
    if (crdDeleting) {
      log.warn("Tenant CRD is being deleted; keeping every tenant object and namespace");
    } else {
      const deleteNamespaces = tenant.spec?.deletionPolicy === "Delete";
      for (const { type, cache } of this.ownedKinds()) {
        for (const object of cache.byIndex(tenantIndex, name)) {
          if (!isOwnedBy(object.metadata?.labels, name, tenantId)) continue;
          // Objects inside namespaces that are about to be deleted go with them.
          if (deleteNamespaces && object.metadata?.namespace) continue;
          await this.client.delete(type, object.metadata!.name!, object.metadata?.namespace, {
            uid: object.metadata?.uid,
          });
        }
      }
      if (deleteNamespaces) {
        for (const namespace of this.caches.namespaces.byIndex(tenantIndex, name)) {
          if (!isOwnedBy(namespace.metadata?.labels, name, tenantId) || namespace.metadata?.deletionTimestamp) continue;
          await this.client.delete(Resources.namespace, namespace.metadata!.name!, undefined, {
            uid: namespace.metadata?.uid,
          });
          log.info({ namespace: namespace.metadata!.name }, "namespace deleted");
        }
      }
    }

    await removeFinalizer(this.client, Resources.tenant, tenant, tenantFinalizer);
    tenantMetrics.forget(name);
    log.info({ deletionPolicy: tenant.spec?.deletionPolicy ?? "Retain" }, "tenant finalized");
  }

  private buildStatus(
    tenant: Tenant,
    tenantId: string,
    spec: EffectiveSpec,
    claims: NamespaceClaim[],
    context: TenantContext,
    steps: StepErrors,
    quotaOk: boolean,
    applied: string[],
    rejected: { request: string; reason: string }[],
    now: Date,
    app: AppStepResult,
    placementConflict: string | undefined,
  ): TenantStatus {
    const generation = tenant.metadata?.generation;
    let conditions: Condition[] = [...((tenant.status?.conditions as Condition[] | undefined) ?? [])];
    const set = (type: string, ok: boolean, reason: string, message: string): void => {
      conditions = setCondition(conditions, { type, status: ok ? "True" : "False", reason, message }, generation, now);
    };

    // Namespaces.
    const blocked = claims.filter((claim) => claim.state === "conflict" || claim.state === "orphan");
    const pending = claims.filter((claim) => claim.state === "terminating");
    const namespaceError = steps.messageOf("namespaces");
    const overCap = spec.namespaces.length > spec.maxNamespaces;
    const namespacesOk = blocked.length === 0 && pending.length === 0 && !namespaceError && !overCap;
    set(
      "NamespacesReady",
      namespacesOk,
      blocked.length > 0
        ? "NamespaceConflict"
        : namespaceError
          ? "ApplyFailed"
          : overCap
            ? "MaxNamespacesExceeded"
            : pending.length > 0
              ? "NamespaceTerminating"
              : "Provisioned",
      [
        ...blocked.map((claim) => claim.message!),
        ...pending.map((claim) => claim.message!),
        ...(namespaceError ? [namespaceError] : []),
        ...(overCap
          ? [`the tenant asks for ${spec.namespaces.length} namespaces but maxNamespaces is ${spec.maxNamespaces}`]
          : []),
      ].join("; ") || `namespaces provisioned: ${context.namespaces.length}`,
    );

    // Quotas.
    const usage = this.usageOf(context, spec);
    const quotaError = steps.messageOf("quotas");
    set("QuotaReady", quotaOk, quotaOk ? "Applied" : "ApplyFailed", quotaError ?? "quotas applied");
    set(
      "LimitsReady",
      !steps.messageOf("limits"),
      steps.messageOf("limits") ? "ApplyFailed" : "Applied",
      steps.messageOf("limits") ?? "limits applied",
    );

    // Network isolation, computed from every policy in the tenant's namespaces.
    const networkError = steps.messageOf("network");
    // Resolving selectors needs every namespace in the cluster, which costs as much as the cluster is large, so
    // the evaluator runs only when a policy the operator did not write is present. The operator's own policies
    // are isolated by construction (a unit test runs them through the same evaluator), and an edit to them is
    // rejected by admission and reverted.
    const policies = context.namespaces.flatMap((namespace) => this.caches.networkPolicies.listInNamespace(namespace));
    const foreign = policies.some((policy) => !isOwnedBy(policy.metadata?.labels, context.tenant, tenantId));
    const isolation = foreign
      ? evaluateIsolation({
          tenant: context.tenant,
          tenantId,
          tenantNamespaces: context.namespaces,
          platformNamespaces: spec.network.allowFromNamespaces,
          policies,
          namespaces: this.caches.namespaces.list().map((namespace) => ({
            name: namespace.metadata!.name!,
            labels: { ...namespace.metadata?.labels },
          })),
        })
      : {
          isolated: context.namespaces.every((namespace) =>
            policies.some((policy) => policy.metadata?.namespace === namespace),
          ),
          findings: [],
        };
    if (networkError) set("NetworkIsolated", false, "ApplyFailed", networkError);
    else if (isolation.isolated)
      set("NetworkIsolated", true, "Isolated", "no NetworkPolicy admits traffic from another tenant");
    else {
      set(
        "NetworkIsolated",
        false,
        "PolicyOpensPath",
        isolation.findings.map((finding) => `NetworkPolicy ${finding.policy} ${finding.reason}`).join("; "),
      );
    }

    const rbacError =
      steps.messageOf("rbac") ??
      (steps.errors.length > 0 && !steps.messageOf("rbac")
        ? "waiting for guard rails before granting access"
        : undefined);
    set(
      "OwnersBound",
      !rbacError,
      rbacError ? "NotBound" : "Bound",
      rbacError ?? `owners bound: ${spec.owners.length}`,
    );

    set(
      "PlacementReady",
      !placementConflict,
      placementConflict ? "PoolTaken" : "Placed",
      placementConflict ??
        (spec.placement.pool ? `pods run on node pool "${spec.placement.pool}"` : "pods run on shared nodes"),
    );

    const pruneError = steps.messageOf("prune");
    const requestsOk = rejected.length === 0;
    set(
      "RequestsApplied",
      requestsOk,
      requestsOk ? "Applied" : "GrantRejected",
      requestsOk
        ? `approved requests applied: ${applied.length}`
        : rejected.map((entry) => `${entry.request}: ${entry.reason}`).join("; "),
    );

    // The application's conditions (AppReady, SuspendApplied), computed by its step.
    for (const condition of app.conditions) conditions = setCondition(conditions, condition, generation, now);

    const failing = conditions.filter((condition) => condition.type !== "Ready" && condition.status !== "True");
    const ready = failing.length === 0 && !pruneError;
    set(
      "Ready",
      ready,
      ready ? "Reconciled" : "NotReady",
      ready
        ? "all tenant resources are in place"
        : [
            ...failing.map((condition) => `${condition.type}: ${condition.message}`),
            ...(pruneError ? [`prune: ${pruneError}`] : []),
          ].join("; "),
    );

    const wasReady = tenant.status?.phase === "Ready" || tenant.status?.phase === "Degraded";
    const phase: TenantStatus["phase"] = ready
      ? spec.suspended
        ? "Suspended"
        : "Ready"
      : wasReady || blocked.length > 0
        ? "Degraded"
        : "Provisioning";

    return {
      phase,
      observedGeneration: generation,
      tenantId,
      tier: spec.placement.pool ? "DedicatedNodes" : spec.app.mode,
      namespaceCount: context.namespaces.length,
      namespaces: claims.map((claim) => ({
        name: claim.name,
        state:
          claim.state === "owned" || claim.state === "adoptable"
            ? "Ready"
            : claim.state === "conflict"
              ? "Conflict"
              : claim.state === "orphan"
                ? "Orphaned"
                : claim.state === "terminating"
                  ? "Terminating"
                  : "Pending",
        ...(claim.message ? { message: claim.message } : {}),
      })),
      conditions,
      usage,
      app: app.status,
      requests: applied,
    };
  }

  /** Tenant-wide usage: the total-share quotas for quota.total, the per-namespace quotas for the rest. */
  private usageOf(context: TenantContext, spec: EffectiveSpec): Record<string, { used: string; hard: string }> {
    const usage: Record<string, { used: string; hard: string }> = {};
    const quotas = context.namespaces.flatMap((namespace) =>
      this.caches.resourceQuotas
        .listInNamespace(namespace)
        .filter((quota) => isOwnedBy(quota.metadata?.labels, context.tenant, context.tenantId)),
    );
    for (const [resource, hard] of Object.entries(spec.quota.total)) {
      const used = quotas
        .filter((quota) => quota.metadata?.name === totalShareQuotaName)
        .map((quota) => quota.status?.used?.[resource] ?? "0");
      usage[resource] = { used: formatQuantity(addQuantities("0", ...used), hard), hard };
    }
    for (const [resource, hard] of Object.entries(spec.quota.perNamespace)) {
      if (usage[resource]) continue;
      const used = quotas
        .filter((quota) => quota.metadata?.name !== totalShareQuotaName)
        .map((quota) => quota.status?.used?.[resource] ?? "0");
      const hards = context.namespaces.map(() => hard);
      usage[resource] = {
        used: formatQuantity(addQuantities("0", ...used), hard),
        hard: formatQuantity(addQuantities("0", ...hards), hard),
      };
    }
    return usage;
  }

  private async writeStatus(
    tenant: Tenant,
    status: TenantStatus,
    claims: NamespaceClaim[],
    log: Logger,
  ): Promise<void> {
    const previous = tenant.status ?? {};
    const changed = await updateStatusIfChanged(this.client, Resources.tenant, tenant, status, this.writtenStatuses);
    if (!changed) return;
    log.debug({ phase: status.phase }, "status updated");

    // Events for transitions only, so a steady tenant writes nothing.
    const before = new Map((previous.namespaces ?? []).map((entry) => [entry.name, entry.state]));
    for (const claim of claims) {
      const state = status.namespaces?.find((entry) => entry.name === claim.name)?.state;
      if ((state === "Conflict" || state === "Orphaned") && before.get(claim.name) !== state) {
        this.events.warning(
          this.tenantRef(tenant.metadata!.name!),
          state === "Conflict" ? "NamespaceConflict" : "NamespaceOrphaned",
          claim.message!,
        );
        log.warn({ namespace: claim.name, state }, claim.message!);
      }
    }
    if (previous.phase !== status.phase) {
      log.info({ phase: status.phase, previousPhase: previous.phase }, "tenant phase changed");
      const ready = status.conditions?.find((entry) => entry.type === "Ready");
      const reference = this.tenantRef(tenant.metadata!.name!);
      if (status.phase === "Ready") this.events.normal(reference, "TenantReady", ready?.message ?? "tenant is Ready");
      if (status.phase === "Degraded")
        this.events.warning(reference, "TenantDegraded", ready?.message ?? "tenant is degraded");
    }
  }

  private tenantRef(name: string): { kind: string; apiVersion: string; name: string; uid?: string } {
    const tenant = this.caches.tenants.get(name);
    return { kind: "Tenant", apiVersion: "tenancy.dev/v1alpha1", name, uid: tenant?.metadata?.uid };
  }
}

export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${errorMessage(error.cause)}` : "";
  return error.message + cause;
}

/** Maps an owned object to the key of its Tenant through the tenant label. */
export function tenantKeyOf(object: KubeObject): string[] {
  const labels = object.metadata?.labels;
  if (labels?.[managedByLabel] !== managedByValue || !labels[tenantLabel]) return [];
  return [labels[tenantLabel]];
}
