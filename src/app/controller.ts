// The SharedApp reconcile, for one key: the SharedApp "platform". Each reconcile plans the rollout from the
// SharedApp's status and the tenants, and keeps one lane for each version in use in the platform namespace. It then
// rewrites the tenant registry, removes app objects of tenants that are gone, and writes the status once at the end.
//
// The Tenant controller does the per-tenant half (endpoints, dedicated instances); the two meet in the API: this
// reconcile records each tenant's assigned version in SharedApp.status, and the Tenant controller reports the
// version it runs in Tenant.status.app.version.

import type { V1Namespace } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { SharedApp, SharedAppStatus, Tenant, TenantRequest } from "../api/generated.js";
import { WrittenStatuses, updateStatusIfChanged } from "../runtime/apply.js";
import { isConflict, type KubeClient, type KubeObject, type ResourceType } from "../runtime/client.js";
import { setCondition, type Condition } from "../runtime/conditions.js";
import type { ReconcileContext, ReconcileOutcome } from "../runtime/controller.js";
import type { EventRecorder } from "../runtime/events.js";
import type { Informer } from "../runtime/informer.js";
import { Resources } from "../runtime/resources.js";
import { effectiveSpec, type EffectiveSpec } from "../tenant/effective.js";
import { managedByLabel, managedByValue, tenantIdFromUid, tenantIdLabel, tenantLabel } from "../tenant/labels.js";
import { describeUnavailable, isAutoscaled, isRolledOut, type AppCaches } from "./caches.js";
import type { CrdCheck } from "./crdCheck.js";
import { buildLane, buildPlatformConfig, laneSelector, type Lane } from "./desired/lanes.js";
import { buildRegistry, type RegistryTenant } from "./desired/registry.js";
import { rolloutMetrics, rolloutWaves } from "./metrics.js";
import {
  components,
  componentLabel,
  configMapName,
  laneName,
  platformLabels,
  registryConfigMapName,
  sharedAppName,
  sourceAnnotation,
  versionLabel,
} from "./names.js";
import { planRollout, type Plan, type PlannerTenant, type RolloutEvent } from "./rollout.js";
import { resolveSettings, type AppSettings } from "./settings.js";
import { applyDeployment, applyObject, deleteCached, scaleTo } from "./writes.js";

export interface SharedAppReconcilerOptions {
  client: KubeClient;
  caches: AppCaches;
  tenants: Informer<Tenant>;
  requests: Informer<TenantRequest>;
  namespaces: Informer<V1Namespace>;
  events: EventRecorder;
  /** Node selector of the lanes' pods, as `key=value,...`: the shared nodes. */
  sharedNodeSelector: string;
  sharedAppCrd: CrdCheck;
  tenantCrd: CrdCheck;
}

/** A tenant with the facts this reconcile uses: its effective spec and where its endpoints point now. */
interface ActiveTenant {
  tenant: Tenant;
  name: string;
  tenantId: string;
  spec: EffectiveSpec;
  namespaces: string[];
  /** Lane versions the tenant's EndpointSlices point at. */
  laneSources: Set<string>;
}

type Namespaced = KubeObject & { metadata?: { namespace?: string } };

export class SharedAppReconciler {
  private readonly writtenStatuses = new WrittenStatuses();

  constructor(private readonly options: SharedAppReconcilerOptions) {}

  async reconcile(key: string, { log }: ReconcileContext): Promise<ReconcileOutcome | void> {
    if (key !== sharedAppName) return;
    const sharedApp = this.options.caches.sharedApps.get(sharedAppName);
    const appLog = log.child({ kind: "SharedApp", name: sharedAppName });

    // Deleted (or never created): the platform objects go, unless the CRD itself is going.
    if (!sharedApp || sharedApp.metadata?.deletionTimestamp) {
      if (await this.options.sharedAppCrd.isServed()) await this.prunePlatform(undefined, new Set(), appLog);
      await this.collectOrphans(appLog);
      rolloutMetrics.clear();
      return;
    }

    const settings = resolveSettings(sharedApp);
    const now = new Date();
    const tenants = this.activeTenants();

    // 1. The rollout: assignments and waves.
    const plan = planRollout({
      settings,
      generation: sharedApp.metadata?.generation ?? 0,
      previous: sharedApp.status,
      tenants: tenants.map((each) => plannerTenant(each)),
      now,
    });
    this.report(sharedApp, settings, plan, appLog);

    // 2. Lanes: one for each version a Shared tenant is assigned, kept while an EndpointSlice still points at it.
    const failures: string[] = [];
    const run = async (what: string, work: () => Promise<void>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        if (isConflict(error)) throw error;
        failures.push(`${what}: ${messageOf(error)}`);
      }
    };
    const assignedOf = new Map(plan.state.tenants.map((entry) => [entry.name, entry.assignedVersion]));
    const laneVersions = new Set<string>();
    for (const each of tenants) {
      if (each.spec.app.mode === "Shared") laneVersions.add(assignedOf.get(each.name)!);
      for (const version of each.laneSources) laneVersions.add(version);
    }
    const lanes = [...laneVersions]
      .sort()
      .map((version) => buildLane(settings, version, this.options.sharedNodeSelector));
    await run("platform namespace", () => this.ensureNamespace(settings.platformNamespace, appLog));
    await run("config", () =>
      this.apply(Resources.configMap, this.options.caches.configMaps, buildPlatformConfig(settings)),
    );
    for (const lane of lanes) await run(`lane ${laneName(lane.version)}`, () => this.applyLane(lane, settings, appLog));

    // 3. The registry: each lane lists the tenants it may receive traffic for.
    const registry = new Map<string, RegistryTenant[]>(lanes.map((lane) => [lane.version, []]));
    for (const each of tenants) {
      const assigned = assignedOf.get(each.name)!;
      const entry = registryEntry(each, assigned, plan);
      const versions = new Set(each.laneSources);
      if (each.spec.app.mode === "Shared") versions.add(assigned);
      for (const version of versions) registry.get(version)?.push(entry);
    }
    await run("registry", () =>
      this.apply(
        Resources.configMap,
        this.options.caches.configMaps,
        buildRegistry(settings.platformNamespace, registry),
      ),
    );

    // 4. Prune lanes that no tenant uses, and app objects of tenants that are gone.
    await run("prune", () =>
      this.prunePlatform(settings, new Set(lanes.map((lane) => laneName(lane.version))), appLog),
    );
    await run("orphans", () => this.collectOrphans(appLog));

    // 5. Status, written once.
    const status = this.buildStatus(sharedApp, settings, plan, lanes, failures, now);
    await updateStatusIfChanged(this.options.client, Resources.sharedApp, sharedApp, status, this.writtenStatuses);
    const running = new Map<string, number>();
    for (const entry of plan.state.tenants) {
      if (entry.runningVersion) running.set(entry.runningVersion, (running.get(entry.runningVersion) ?? 0) + 1);
    }
    rolloutMetrics.record(plan.state.phase, plan.state.currentWave ?? 0, plan.state.waveTenants.length, running);

    if (failures.length > 0) throw new Error(`SharedApp "${sharedAppName}": ${failures.join("; ")}`);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: Math.max(plan.requeueAfterMs, 100) } : undefined;
  }

  /** Tenants that exist and are not being deleted, with their effective spec and current endpoints. */
  private activeTenants(): ActiveTenant[] {
    const { tenants, requests, namespaces, caches } = this.options;
    const requestsByTenantId = new Map<string, TenantRequest[]>();
    for (const request of requests.list()) {
      const id = namespaces.get(request.metadata?.namespace ?? "")?.metadata?.labels?.[tenantIdLabel];
      if (!id) continue;
      requestsByTenantId.set(id, [...(requestsByTenantId.get(id) ?? []), request]);
    }
    const sourcesById = new Map<string, Set<string>>();
    for (const slice of caches.endpointSlices.list()) {
      const labels = slice.metadata?.labels;
      if (labels?.[componentLabel] !== components.tenant || slice.metadata?.annotations?.[sourceAnnotation] !== "lane")
        continue;
      const id = labels[tenantIdLabel];
      const version = labels[versionLabel];
      if (!id || !version) continue;
      sourcesById.set(id, (sourcesById.get(id) ?? new Set()).add(version));
    }
    return tenants
      .list()
      .filter((tenant) => !tenant.metadata?.deletionTimestamp && tenant.metadata?.uid)
      .map((tenant) => {
        const tenantId = tenantIdFromUid(tenant.metadata!.uid!);
        const { spec } = effectiveSpec(tenant, requestsByTenantId.get(tenantId) ?? []);
        const namespaceNames = (tenant.status?.namespaces ?? [])
          .filter((entry) => entry.state === "Ready")
          .map((entry) => entry.name);
        return {
          tenant,
          name: tenant.metadata!.name!,
          tenantId,
          spec,
          namespaces: namespaceNames,
          laneSources: sourcesById.get(tenantId) ?? new Set<string>(),
        };
      });
  }

  private async ensureNamespace(name: string, log: Logger): Promise<void> {
    if (this.options.namespaces.get(name)) return;
    try {
      await this.options.client.create(Resources.namespace, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name,
          labels: {
            ...platformLabels(),
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      });
      log.info({ namespace: name }, "platform namespace created");
    } catch (error) {
      if ((error as { status?: number }).status === 409) return;
      throw new Error(`creating namespace "${name}" failed`, { cause: error });
    }
  }

  private async applyLane(lane: Lane, settings: AppSettings, log: Logger): Promise<void> {
    const { caches, client } = this.options;
    const key = `${settings.platformNamespace}/${laneName(lane.version)}`;
    const cached = caches.deployments.get(key);
    assertPlatformObject(cached, "Deployment", key);
    const deployment = (await applyDeployment(client, Resources.deployment, lane.deployment, cached)) ?? cached;
    if (!cached) log.info({ namespace: settings.platformNamespace, name: laneName(lane.version) }, "lane created");
    await this.apply(Resources.service, caches.services, lane.service);
    await this.apply(Resources.podDisruptionBudget, caches.podDisruptionBudgets, lane.podDisruptionBudget);

    // Replicas through the scale subresource, never against an autoscaler (see lanes.ts).
    if (!deployment || deployment.spec?.replicas === settings.replicas) return;
    if (isAutoscaled(caches.autoscalers, deployment)) return;
    await scaleTo(client, Resources.deployment, settings.platformNamespace, laneName(lane.version), settings.replicas);
  }

  private async apply<T extends Namespaced>(type: ResourceType, cache: Informer<T>, desired: T): Promise<void> {
    const key = `${desired.metadata!.namespace}/${desired.metadata!.name}`;
    const cached = cache.get(key);
    assertPlatformObject(cached, type.kind, key);
    try {
      await applyObject(this.options.client, type, desired, cached);
    } catch (error) {
      if (isConflict(error)) throw error;
      throw new Error(`applying ${type.kind} ${key} failed`, { cause: error });
    }
  }

  /**
   * Deletes platform objects (managed, component shared-app, no tenant) that are not wanted: lanes not in
   * `laneNames`, and everything outside the platform namespace. Without `settings` (no SharedApp) all go.
   */
  private async prunePlatform(settings: AppSettings | undefined, laneNames: Set<string>, log: Logger): Promise<void> {
    const { caches } = this.options;
    const kinds: [ResourceType, Informer<Namespaced>][] = [
      [Resources.deployment, caches.deployments as Informer<Namespaced>],
      [Resources.service, caches.services as Informer<Namespaced>],
      [Resources.podDisruptionBudget, caches.podDisruptionBudgets as Informer<Namespaced>],
      [Resources.configMap, caches.configMaps as Informer<Namespaced>],
    ];
    for (const [type, cache] of kinds) {
      for (const object of cache.list()) {
        if (!isPlatformObject(object)) continue;
        const name = object.metadata?.name ?? "";
        const wanted =
          settings !== undefined &&
          object.metadata?.namespace === settings.platformNamespace &&
          (type === Resources.configMap
            ? name === configMapName || name === registryConfigMapName
            : laneNames.has(name));
        if (wanted) continue;
        await deleteCached(this.options.client, type, object);
        log.info({ kind: type.kind, namespace: object.metadata?.namespace, name }, "pruned");
      }
    }
  }

  /** Deletes the app objects (in tenant namespaces) of tenants that no longer exist, unless the Tenant CRD is going. */
  private async collectOrphans(log: Logger): Promise<void> {
    const { caches, tenants } = this.options;
    const live = new Set(
      tenants.list().map((tenant) => `${tenant.metadata?.name}/${tenantIdFromUid(tenant.metadata?.uid ?? "")}`),
    );
    const orphans: [ResourceType, Namespaced][] = [];
    const kinds: [ResourceType, Informer<Namespaced>][] = [
      [Resources.endpointSlice, caches.endpointSlices as Informer<Namespaced>],
      [Resources.service, caches.services as Informer<Namespaced>],
      [Resources.deployment, caches.deployments as Informer<Namespaced>],
      [Resources.configMap, caches.configMaps as Informer<Namespaced>],
    ];
    for (const [type, cache] of kinds) {
      for (const object of cache.list()) {
        const labels = object.metadata?.labels ?? {};
        const component = labels[componentLabel];
        if (component !== components.tenant && component !== components.dedicated) continue;
        if (labels[managedByLabel] !== managedByValue || !labels[tenantLabel]) continue;
        if (!live.has(`${labels[tenantLabel]}/${labels[tenantIdLabel]}`)) orphans.push([type, object]);
      }
    }
    if (orphans.length === 0 || !(await this.options.tenantCrd.isServed())) return;
    for (const [type, object] of orphans) {
      await deleteCached(this.options.client, type, object);
      log.info(
        {
          kind: type.kind,
          namespace: object.metadata?.namespace,
          name: object.metadata?.name,
          tenant: object.metadata?.labels?.[tenantLabel],
        },
        "app object of a deleted tenant removed",
      );
    }
  }

  /** Logs the rollout's events, records them as Kubernetes Events on the SharedApp, and counts waves. */
  private report(sharedApp: SharedApp, settings: AppSettings, plan: Plan, log: Logger): void {
    const ref = {
      kind: "SharedApp",
      apiVersion: "tenancy.dev/v1alpha1",
      name: sharedAppName,
      uid: sharedApp.metadata?.uid,
    };
    for (const event of plan.events) {
      const message = describeEvent(event);
      if (event.type === "WaveTimedOut") {
        plan.state.message += `; ${this.describeWaveFailure(settings, plan, event.tenants)}`;
        rolloutWaves.inc({ result: "timed_out" });
        log.warn({ wave: event.wave, tenants: event.tenants }, "rollout wave timed out");
        this.options.events.warning(ref, event.type, plan.state.message);
        continue;
      }
      if (event.type === "WaveCompleted") rolloutWaves.inc({ result: "completed" });
      log.info({ event: event.type, ...eventFields(event) }, message);
      this.options.events.normal(ref, event.type, message);
    }
  }

  /** Why the tenants of a timed-out wave do not run the target: the target lane's state, or the tenants' own. */
  private describeWaveFailure(settings: AppSettings, plan: Plan, waiting: string[]): string {
    const { caches, tenants } = this.options;
    const target = plan.state.targetVersion;
    const reasons = new Set<string>();
    for (const name of waiting) {
      const tenant = tenants.get(name);
      const mode = plan.state.tenants.find((entry) => entry.name === name)?.mode;
      if (mode === "Shared") {
        const namespace = settings.platformNamespace;
        const selector = laneSelector(target);
        const pods = caches.pods
          .listInNamespace(namespace)
          .filter((pod) => Object.entries(selector).every(([key, value]) => pod.metadata?.labels?.[key] === value));
        reasons.add(
          `lane ${laneName(target)}: ${describeUnavailable(caches.deployments.get(`${namespace}/${laneName(target)}`), pods)}`,
        );
        continue;
      }
      const appReady = tenant?.status?.conditions?.find((condition) => condition.type === "AppReady");
      reasons.add(`tenant ${name}: ${appReady?.message ?? "its dedicated instance reports no state yet"}`);
    }
    return [...reasons].join("; ");
  }

  private buildStatus(
    sharedApp: SharedApp,
    settings: AppSettings,
    plan: Plan,
    lanes: Lane[],
    failures: string[],
    now: Date,
  ): SharedAppStatus {
    const { caches } = this.options;
    const { state } = plan;
    const generation = sharedApp.metadata?.generation;
    const laneStatus = lanes.map((lane) => {
      const deployment = caches.deployments.get(`${settings.platformNamespace}/${laneName(lane.version)}`);
      return {
        version: lane.version,
        name: laneName(lane.version),
        tenants: state.tenants.filter((entry) => entry.mode === "Shared" && entry.assignedVersion === lane.version)
          .length,
        replicas: deployment?.spec?.replicas ?? 0,
        readyReplicas: deployment?.status?.readyReplicas ?? 0,
        available: isRolledOut(deployment),
      };
    });
    let conditions = [...((sharedApp.status?.conditions as Condition[] | undefined) ?? [])];
    const unavailable = laneStatus.filter((lane) => !lane.available).map((lane) => lane.name);
    conditions = setCondition(
      conditions,
      failures.length > 0
        ? { type: "Available", status: "False", reason: "ApplyFailed", message: failures.join("; ") }
        : unavailable.length > 0
          ? {
              type: "Available",
              status: "False",
              reason: "LaneUnavailable",
              message: `lanes not Available: ${unavailable.join(", ")}`,
            }
          : {
              type: "Available",
              status: "True",
              reason: "LanesAvailable",
              message: `${laneStatus.length} lanes Available`,
            },
      generation,
      now,
    );
    conditions = setCondition(
      conditions,
      state.phase === "Halted"
        ? { type: "RolloutHalted", status: "True", reason: "WaveTimedOut", message: state.message }
        : { type: "RolloutHalted", status: "False", reason: state.phase, message: state.message },
      generation,
      now,
    );
    return {
      observedGeneration: generation,
      phase: state.phase,
      targetVersion: state.targetVersion,
      previousVersion: state.previousVersion,
      currentWave: state.currentWave,
      waveTenants: state.waveTenants,
      waveStartedAt: state.waveStartedAt,
      haltedGeneration: state.haltedGeneration,
      message: state.message,
      tenantCount: state.tenants.length,
      laneVersions: laneStatus.map((lane) => lane.version).join(","),
      lanes: laneStatus,
      tenants: state.tenants.map((entry) => ({
        name: entry.name,
        tenantId: entry.tenantId,
        mode: entry.mode,
        pinned: entry.pinned,
        assignedVersion: entry.assignedVersion,
        ...(entry.runningVersion ? { runningVersion: entry.runningVersion } : {}),
        ...(entry.wave !== undefined ? { wave: entry.wave } : {}),
      })),
      conditions,
    };
  }
}

function plannerTenant(each: ActiveTenant): PlannerTenant {
  const status = each.tenant.status;
  const own = status?.tenantId === each.tenantId;
  return {
    name: each.name,
    tenantId: each.tenantId,
    mode: each.spec.app.mode,
    pinnedVersion: each.spec.app.version,
    runningVersion: own ? status?.app?.version : undefined,
  };
}

function registryEntry(each: ActiveTenant, assigned: string, plan: Plan): RegistryTenant {
  const entry = plan.state.tenants.find((tenant) => tenant.name === each.name);
  return {
    id: each.tenantId,
    name: each.name,
    version: assigned,
    mode: each.spec.app.mode,
    namespaces: [...each.namespaces].sort(),
    settings: {
      pinned: entry?.pinned ?? false,
      suspended: each.spec.suspended,
      tier: each.spec.placement.pool ? "DedicatedNodes" : each.spec.app.mode,
    },
  };
}

function isPlatformObject(object: KubeObject): boolean {
  const labels = object.metadata?.labels;
  return (
    labels?.[managedByLabel] === managedByValue && labels[componentLabel] === components.shared && !labels[tenantLabel]
  );
}

function assertPlatformObject(cached: KubeObject | undefined, kind: string, key: string): void {
  if (cached && !isPlatformObject(cached)) {
    throw new Error(`${kind} ${key} exists and is not a platform object of tenant-operator; rename or remove it`);
  }
}

function describeEvent(event: RolloutEvent): string {
  switch (event.type) {
    case "RolloutStarted":
      return `rollout from ${event.from} to ${event.to} started`;
    case "WaveStarted":
      return `wave ${event.wave} started: ${event.tenants.join(", ")}`;
    case "WaveCompleted":
      return `wave ${event.wave} completed`;
    case "WaveTimedOut":
      return `wave ${event.wave} timed out`;
    case "RolloutResumed":
      return `rollout resumed at wave ${event.wave}`;
    case "RolloutCompleted":
      return `rollout to ${event.version} completed`;
  }
}

function eventFields(event: RolloutEvent): Record<string, unknown> {
  const { type: _type, ...fields } = event;
  return fields;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${messageOf(error.cause)}` : error.message;
}
