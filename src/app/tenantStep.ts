// The application step of the Tenant reconcile. It suspends or resumes the tenant's workloads, renders its dedicated
// instance and points the `app` Service of each tenant namespace at the pods that serve the tenant. Then it removes
// what the tenant no longer needs and reports Tenant.status.app with the AppReady and SuspendApplied conditions.
//
// Tier moves keep the tenant's endpoints ready throughout: Shared to Dedicated creates the instance, waits until it
// is Available and only then moves the endpoints; Dedicated to Shared moves the endpoints to the lane first and
// only then deletes the instance. Lane to lane moves work the same way (see serving.ts).

import type { V1Deployment } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { SharedApp, Tenant, TenantStatus } from "../api/generated.js";
import { isConflict, type KubeClient, type KubeObject, type ResourceType } from "../runtime/client.js";
import type { ConditionInput } from "../runtime/conditions.js";
import type { Informer } from "../runtime/informer.js";
import { Resources } from "../runtime/resources.js";
import type { TenantContext } from "../tenant/desired/types.js";
import { isOwnedBy, tenantIndex } from "../tenant/labels.js";
import { describeUnavailable, isAutoscaled, isRolledOut, readyPods, type AppCaches } from "./caches.js";
import { buildDedicatedInstance, dedicatedSelector, type DedicatedInstance } from "./desired/dedicated.js";
import { buildTenantEndpointSlices, buildTenantServices, type ServingSource } from "./desired/endpoints.js";
import { laneSelector } from "./desired/lanes.js";
import {
  components,
  componentLabel,
  endpointSliceName,
  laneName,
  sharedAppName,
  sourceAnnotation,
  suspendedReplicasAnnotation,
  versionLabel,
} from "./names.js";
import { assignedVersionOf } from "./rollout.js";
import { chooseServing, type Candidate, type ServingChoice } from "./serving.js";
import { resolveSettings, type AppSettings } from "./settings.js";
import { WorkloadSuspender, suspendConditionType } from "./suspend.js";
import type { CrdCheck } from "./crdCheck.js";
import { applyDeployment, applyObject, deleteCached, scaleTo } from "./writes.js";

export const appConditionType = "AppReady";

/** How often a suspended tenant's workloads are checked again, to catch workloads created meanwhile. */
const suspendedRecheckMs = 30_000;

export type AppStatus = NonNullable<TenantStatus["app"]>;

export interface AppStepResult {
  status: AppStatus;
  conditions: ConditionInput[];
  /** The error that makes the reconcile retry with backoff; the conditions already describe it. */
  failure?: Error;
  requeueAfterMs?: number;
}

type Owned = KubeObject & { metadata?: { namespace?: string } };

export class TenantAppStep {
  private readonly suspender: WorkloadSuspender;

  constructor(
    private readonly client: KubeClient,
    private readonly caches: AppCaches,
    private readonly crdCheck: CrdCheck,
  ) {
    this.suspender = new WorkloadSuspender(client);
  }

  async reconcile(tenant: Tenant, context: TenantContext, log: Logger): Promise<AppStepResult> {
    const { spec } = context;
    const failures: Error[] = [];

    // 1. Suspend or resume the tenant's workloads; this needs no SharedApp.
    const previous = tenant.status?.conditions?.find((condition) => condition.type === suspendConditionType);
    const mayHaveRecords =
      tenant.status?.phase === "Suspended" || previous?.reason === "Suspended" || previous?.reason === "ScaleFailed";
    const suspension = await this.suspender.reconcile(
      context.tenant,
      context.namespaces,
      spec.suspended,
      mayHaveRecords,
      log,
    );
    if (suspension.failure) failures.push(suspension.failure);
    const requeueAfterMs = spec.suspended ? suspendedRecheckMs : undefined;

    // 2. The application, if there is a SharedApp.
    const sharedApp = this.caches.sharedApps.get(sharedAppName);
    if (!sharedApp) {
      await this.pruneAll(context, log).catch((error: unknown) => failures.push(asError(error)));
      return {
        status: { mode: spec.app.mode, readyReplicas: 0 },
        conditions: [
          {
            type: appConditionType,
            status: "True",
            reason: "NoSharedApp",
            message: `no SharedApp "${sharedAppName}" exists, so the tenant is served no application`,
          },
          suspension.condition,
        ],
        failure: joinFailures(failures),
        requeueAfterMs,
      };
    }
    const app = await this.reconcileApp(sharedApp, context, log);
    if (app.failure) failures.push(app.failure);
    return {
      status: app.status,
      conditions: [app.condition, suspension.condition],
      failure: joinFailures(failures),
      requeueAfterMs,
    };
  }

  private async reconcileApp(
    sharedApp: SharedApp,
    context: TenantContext,
    log: Logger,
  ): Promise<{ status: AppStatus; condition: ConditionInput; failure?: Error }> {
    const { spec } = context;
    const settings = resolveSettings(sharedApp);
    const pin = spec.app.version;
    const version = assignedVersionOf(settings, sharedApp.status, {
      name: context.tenant,
      tenantId: context.tenantId,
      pinnedVersion: pin,
    });
    const problems: string[] = [];

    // 1. The dedicated instance, when the tenant has one.
    const instance = spec.app.mode === "Dedicated" ? buildDedicatedInstance(context, settings, version) : undefined;
    if (instance) {
      await this.applyDedicated(instance, context, log).catch((error: unknown) => problems.push(messageOf(error)));
    }

    // 2. Endpoints: the target once Available, else the pods that served before.
    const target = instance ? this.dedicatedCandidate(context, instance) : this.laneCandidate(settings, version);
    const current = this.currentCandidate(context, settings);
    const choice = chooseServing(target, current);
    const services = buildTenantServices(context, settings.port);
    const slices = buildTenantEndpointSlices(context, settings.port, choice.source, choice.pods);
    let slicesApplied = true;
    for (const [type, cache, objects] of [
      [Resources.service, this.caches.services, services],
      [Resources.endpointSlice, this.caches.endpointSlices, slices],
    ] as const) {
      for (const object of objects) {
        try {
          await this.applyOwned(type, cache as Informer<Owned>, object as Owned, context);
        } catch (error) {
          if (type === Resources.endpointSlice) slicesApplied = false;
          problems.push(messageOf(error));
        }
      }
    }

    // 3. Prune: the dedicated instance goes only once no endpoint points at it any more.
    const keep = new Set([...services, ...slices].map((object) => keyOf(object)));
    if (instance) keep.add(keyOf(instance.deployment)).add(keyOf(instance.config));
    const instanceReleased = slicesApplied && choice.source.kind === "lane";
    await this.prune(context, keep, instanceReleased, log).catch((error: unknown) => problems.push(messageOf(error)));

    // 4. Status.
    // The running version is the target's once it is Available, else that of the pods that served before.
    const status: AppStatus = {
      mode: spec.app.mode,
      version: choice.onTarget ? target.source.version : current?.source.version,
      readyReplicas: choice.pods.length,
    };
    const condition = this.appCondition(settings, context, target, choice, problems);
    const failure = problems.length > 0 ? new Error(problems.join("; ")) : undefined;
    return { status, condition, failure };
  }

  private async applyDedicated(instance: DedicatedInstance, context: TenantContext, log: Logger): Promise<void> {
    await this.applyOwned(Resources.configMap, this.caches.configMaps as Informer<Owned>, instance.config, context);
    const key = keyOf(instance.deployment);
    const cached = this.caches.deployments.get(key);
    this.checkOwned(cached, context, "Deployment", key);
    let deployment: V1Deployment | undefined;
    try {
      deployment = (await applyDeployment(this.client, Resources.deployment, instance.deployment, cached)) ?? cached;
    } catch (error) {
      throw new Error(`applying Deployment ${key} failed`, { cause: error });
    }
    if (!cached)
      log.info(
        { namespace: instance.namespace, name: instance.deployment.metadata!.name },
        "dedicated instance created",
      );

    // Replicas go through the scale subresource, and never while suspended or autoscaled (see lanes.ts).
    const replicas = context.spec.app.replicas;
    const current = deployment?.spec?.replicas;
    const held =
      context.spec.suspended || deployment?.metadata?.annotations?.[suspendedReplicasAnnotation] !== undefined;
    if (!deployment || held || current === replicas || isAutoscaled(this.caches.autoscalers, deployment)) return;
    try {
      await scaleTo(
        this.client,
        Resources.deployment,
        instance.namespace,
        instance.deployment.metadata!.name!,
        replicas,
      );
    } catch (error) {
      throw new Error(`scaling Deployment ${key} to ${replicas} replicas failed`, { cause: error });
    }
  }

  private laneCandidate(settings: AppSettings, version: string): Candidate {
    const namespace = settings.platformNamespace;
    const lane = this.caches.deployments.get(`${namespace}/${laneName(version)}`);
    const pods = readyPods(this.caches.pods, namespace, laneSelector(version));
    const available = isRolledOut(lane) && (pods.length > 0 || lane?.spec?.replicas === 0);
    return { source: { kind: "lane", version }, pods, available };
  }

  private dedicatedCandidate(context: TenantContext, instance: DedicatedInstance): Candidate {
    const deployment = this.caches.deployments.get(keyOf(instance.deployment));
    const pods = readyPods(this.caches.pods, instance.namespace, {
      ...dedicatedSelector(context.tenantId),
      [versionLabel]: instance.version,
    });
    const onVersion = deployment?.spec?.template.metadata?.labels?.[versionLabel] === instance.version;
    const available = onVersion && isRolledOut(deployment) && (pods.length > 0 || deployment?.spec?.replicas === 0);
    return { source: { kind: "dedicated", version: instance.version }, pods, available };
  }

  /** Returns the source the tenant's EndpointSlices point at now, read from the first one that exists. */
  private currentCandidate(context: TenantContext, settings: AppSettings): Candidate | undefined {
    const slice = context.namespaces
      .map((namespace) => this.caches.endpointSlices.get(`${namespace}/${endpointSliceName(namespace)}`))
      .find((each) => each && isOwnedBy(each.metadata?.labels, context.tenant, context.tenantId));
    const kind = slice?.metadata?.annotations?.[sourceAnnotation];
    const version = slice?.metadata?.labels?.[versionLabel];
    if (!version || (kind !== "lane" && kind !== "dedicated")) return undefined;
    if (kind === "lane") return { ...this.laneCandidate(settings, version), available: false };
    const pods = context.namespaces.flatMap((namespace) =>
      readyPods(this.caches.pods, namespace, { ...dedicatedSelector(context.tenantId), [versionLabel]: version }),
    );
    return { source: { kind, version }, pods, available: false };
  }

  private appCondition(
    settings: AppSettings,
    context: TenantContext,
    target: Candidate,
    choice: ServingChoice,
    problems: string[],
  ): ConditionInput {
    const { spec } = context;
    const set = (ok: boolean, reason: string, message: string): ConditionInput => ({
      type: appConditionType,
      status: ok ? "True" : "False",
      reason,
      message,
    });
    const pin = spec.app.version;
    if (pin !== undefined && !settings.supportedVersions.includes(pin)) {
      return set(
        false,
        "UnsupportedVersion",
        `spec.app.version "${pin}" is not supported by SharedApp "${sharedAppName}" (supported versions: ` +
          `${settings.supportedVersions.join(", ")}); the tenant stays on ${target.source.version} until it pins a ` +
          "supported version or removes the pin",
      );
    }
    if (problems.length > 0) return set(false, "ApplyFailed", problems.join("; "));
    if (context.namespaces.length === 0) return set(true, "NoNamespaces", "the tenant has no namespace to serve");
    if (spec.suspended) return set(true, "Suspended", "the tenant is suspended; its app Service stays in place");

    const served = describeSource(choice.source, settings, context);
    const waiting = choice.onTarget
      ? ""
      : `; moving to ${describeSource(target.source, settings, context)}: ${this.describeTarget(settings, context, target.source)}`;
    if (choice.pods.length > 0) {
      return set(true, "Serving", `served by ${served} with ${choice.pods.length} ready endpoints${waiting}`);
    }
    if (choice.onTarget) return set(true, "ScaledToZero", `served by ${served}, which is scaled to zero replicas`);
    return set(
      false,
      "NoReadyEndpoints",
      `no ready pod serves the tenant yet; waiting for ${describeSource(target.source, settings, context)}: ` +
        this.describeTarget(settings, context, target.source),
    );
  }

  private describeTarget(settings: AppSettings, context: TenantContext, source: ServingSource): string {
    if (source.kind === "lane") {
      const namespace = settings.platformNamespace;
      const selector = laneSelector(source.version);
      return describeUnavailable(
        this.caches.deployments.get(`${namespace}/${laneName(source.version)}`),
        this.caches.pods
          .listInNamespace(namespace)
          .filter((pod) => Object.entries(selector).every(([key, value]) => pod.metadata?.labels?.[key] === value)),
      );
    }
    const namespace = context.namespaces[0] ?? "";
    return describeUnavailable(
      this.caches.deployments
        .listInNamespace(namespace)
        .find((each) => each.metadata?.labels?.[componentLabel] === components.dedicated),
      this.caches.pods
        .listInNamespace(namespace)
        .filter((pod) => pod.metadata?.labels?.[componentLabel] === components.dedicated),
    );
  }

  /** Applies an object unless one of the same name exists that this tenant does not own. */
  private async applyOwned(
    type: ResourceType,
    cache: Informer<Owned>,
    object: Owned,
    context: TenantContext,
  ): Promise<void> {
    const key = keyOf(object);
    const cached = cache.get(key);
    this.checkOwned(cached, context, type.kind, key);
    try {
      await applyObject(this.client, type, object, cached);
    } catch (error) {
      if (isConflict(error)) throw error;
      throw new Error(`applying ${type.kind} ${key} failed`, { cause: error });
    }
  }

  private checkOwned(cached: KubeObject | undefined, context: TenantContext, kind: string, key: string): void {
    if (cached && !isOwnedBy(cached.metadata?.labels, context.tenant, context.tenantId)) {
      throw new Error(`${kind} ${key} exists and is not managed by this tenant; rename or remove it`);
    }
  }

  /**
   * Deletes the tenant's app objects that `keep` does not list. The dedicated Deployment and its ConfigMap go
   * only when `instanceReleased` is true, because no EndpointSlice points at them any more.
   */
  private async prune(
    context: TenantContext,
    keep: Set<string>,
    instanceReleased: boolean,
    log: Logger,
  ): Promise<void> {
    for (const { type, object } of this.ownedObjects(context)) {
      if (keep.has(keyOf(object))) continue;
      const dedicated = object.metadata?.labels?.[componentLabel] === components.dedicated;
      if (dedicated && !instanceReleased) continue;
      await deleteCached(this.client, type, object);
      log.info({ kind: type.kind, namespace: object.metadata?.namespace, name: object.metadata?.name }, "pruned");
    }
  }

  /** Without a SharedApp the tenant has no app objects; they go unless the SharedApp CRD itself is going. */
  private async pruneAll(context: TenantContext, log: Logger): Promise<void> {
    const owned = this.ownedObjects(context);
    if (owned.length === 0 || !(await this.crdCheck.isServed())) return;
    for (const { type, object } of owned) {
      await deleteCached(this.client, type, object);
      log.info({ kind: type.kind, namespace: object.metadata?.namespace, name: object.metadata?.name }, "pruned");
    }
  }

  private ownedObjects(context: TenantContext): { type: ResourceType; object: Owned }[] {
    const kinds: [ResourceType, Informer<Owned>][] = [
      [Resources.endpointSlice, this.caches.endpointSlices as Informer<Owned>],
      [Resources.service, this.caches.services as Informer<Owned>],
      [Resources.deployment, this.caches.deployments as Informer<Owned>],
      [Resources.configMap, this.caches.configMaps as Informer<Owned>],
    ];
    const result: { type: ResourceType; object: Owned }[] = [];
    for (const [type, cache] of kinds) {
      for (const object of cache.byIndex(tenantIndex, context.tenant)) {
        const component = object.metadata?.labels?.[componentLabel];
        if (component !== components.tenant && component !== components.dedicated) continue;
        if (!isOwnedBy(object.metadata?.labels, context.tenant, context.tenantId)) continue;
        result.push({ type, object });
      }
    }
    return result;
  }
}

function describeSource(source: ServingSource, settings: AppSettings, context: TenantContext): string {
  return source.kind === "lane"
    ? `lane ${settings.platformNamespace}/${laneName(source.version)} (version ${source.version})`
    : `dedicated instance ${context.namespaces[0] ?? ""}/app-dedicated (version ${source.version})`;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name}`;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${messageOf(error.cause)}` : error.message;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function joinFailures(failures: Error[]): Error | undefined {
  if (failures.length === 0) return undefined;
  if (failures.length === 1) return failures[0];
  return new Error(failures.map((failure) => messageOf(failure)).join("; "), { cause: failures[0] });
}
