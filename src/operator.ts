// Wires the operator together: one API client, the informers, the controllers, leader election and the probe
// server. Every replica keeps its caches warm; only the leader runs controllers, and its writes pass a gate
// that closes the moment it may no longer lead.

import os from "node:os";
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Deployment,
  V1EndpointSlice,
  V1HorizontalPodAutoscaler,
  V1LimitRange,
  V1Namespace,
  V1NetworkPolicy,
  V1Pod,
  V1PodDisruptionBudget,
  V1ResourceQuota,
  V1RoleBinding,
  V1Service,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { SharedApp, Tenant, TenantRequest } from "./api/generated.js";
import type { AppCaches } from "./app/caches.js";
import { SharedAppReconciler } from "./app/controller.js";
import { CrdCheck } from "./app/crdCheck.js";
import { appPodSelector } from "./app/names.js";
import { TenantAppStep } from "./app/tenantStep.js";
import { registerAppWatches } from "./app/watches.js";
import { KubeClient, type KubeObject } from "./runtime/client.js";
import { Controller } from "./runtime/controller.js";
import { EventRecorder } from "./runtime/events.js";
import { Informer } from "./runtime/informer.js";
import { LeaderElector } from "./runtime/leaderElection.js";
import { ProbeServer } from "./runtime/probes.js";
import { Resources } from "./runtime/resources.js";
import type { PlatformSettings } from "./tenant/desired/types.js";
import { managedSelector, tenantIndex, tenantIndexKeys, tenantLabel } from "./tenant/labels.js";
import { TenantReconciler, tenantKeyOf, type TenantCaches } from "./tenant/reconciler.js";
import { createTenantRequestController } from "./requests/controller.js";
import { SelfServiceServer, type SelfServiceOptions } from "./selfservice/server.js";

export interface OperatorOptions {
  kubeConfig?: k8s.KubeConfig;
  probeAddress: { host: string; port: number };
  workers: number;
  leaderElection: {
    enabled: boolean;
    namespace: string;
    name: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  relistIntervalMs: number;
  platform: PlatformSettings;
  log: Logger;
  /** Called when this replica loses the Lease; the process exits there. */
  onLeadershipLost: () => void;
  /** The self-service API; served by every replica, leader or not. Off when undefined. */
  api?: Omit<SelfServiceOptions, "kubeConfig" | "log">;
}

export class Operator {
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly controllers: Controller[] = [];
  private elector: LeaderElector | undefined;
  private readonly probes: ProbeServer;
  private leading = false;
  probePort = 0;
  private api: SelfServiceServer | undefined;
  apiPort = 0;

  constructor(private readonly options: OperatorOptions) {
    this.probes = new ProbeServer(options.log);
  }

  async start(): Promise<void> {
    const { log } = this.options;
    const kubeConfig = this.options.kubeConfig ?? loadKubeConfig();
    const client = new KubeClient(kubeConfig, { fieldManager: "tenant-operator" });

    // 1. Caches: Tenants and TenantRequests, every Namespace and NetworkPolicy, and the operator's own objects.
    const informer = <T extends KubeObject>(
      type: (typeof Resources)[keyof typeof Resources],
      labelSelector?: string,
    ): Informer<T> => {
      const created = new Informer<T>(client, type, log, {
        labelSelector,
        relistIntervalMs: this.options.relistIntervalMs,
      });
      created.addIndex(tenantIndex, tenantIndexKeys);
      this.informers.push(created as Informer<KubeObject>);
      return created;
    };
    const caches: TenantCaches = {
      tenants: informer<Tenant>(Resources.tenant),
      requests: informer<TenantRequest>(Resources.tenantRequest),
      namespaces: informer<V1Namespace>(Resources.namespace),
      networkPolicies: informer<V1NetworkPolicy>(Resources.networkPolicy),
      roleBindings: informer<V1RoleBinding>(Resources.roleBinding, managedSelector),
      resourceQuotas: informer<V1ResourceQuota>(Resources.resourceQuota, managedSelector),
      limitRanges: informer<V1LimitRange>(Resources.limitRange, managedSelector),
      clusterRoles: informer<V1ClusterRole>(Resources.clusterRole, managedSelector),
      clusterRoleBindings: informer<V1ClusterRoleBinding>(Resources.clusterRoleBinding, managedSelector),
    };
    // The shared app: the SharedApp, the operator's Deployments, Services, EndpointSlices, PodDisruptionBudgets
    // and ConfigMaps, the pods of lanes and dedicated instances, and every HorizontalPodAutoscaler.
    const appCaches: AppCaches = {
      sharedApps: informer<SharedApp>(Resources.sharedApp),
      deployments: informer<V1Deployment>(Resources.deployment, managedSelector),
      services: informer<V1Service>(Resources.service, managedSelector),
      endpointSlices: informer<V1EndpointSlice>(Resources.endpointSlice, managedSelector),
      podDisruptionBudgets: informer<V1PodDisruptionBudget>(Resources.podDisruptionBudget, managedSelector),
      configMaps: informer<V1ConfigMap>(Resources.configMap, managedSelector),
      pods: informer<V1Pod>(Resources.pod, appPodSelector),
      autoscalers: informer<V1HorizontalPodAutoscaler>(Resources.horizontalPodAutoscaler),
    };

    // 2. The Tenant controller, fed by its own informer and by every owned object mapped back to its Tenant.
    const events = new EventRecorder(client, log);
    const sharedAppCrd = new CrdCheck(client, "sharedapps.tenancy.dev");
    const appStep = new TenantAppStep(client, appCaches, sharedAppCrd);
    const reconciler = new TenantReconciler(client, caches, this.options.platform, events, appStep);
    const tenants = new Controller({
      name: "tenant",
      workers: this.options.workers,
      reconcile: (key, context) => reconciler.reconcile(key, context),
      log,
    });
    tenants.watchPrimary(caches.tenants);
    // A change to any Tenant may free a dedicated node pool that another one is waiting for.
    // Only a Tenant that has a pool, or is going away, can free one, so the scan is skipped for all others.
    tenants.watch(caches.tenants, (changed) =>
      !changed.spec?.placement?.pool && !changed.metadata?.deletionTimestamp
        ? []
        : caches.tenants
            .list()
            .filter((waiting) => waiting.metadata?.name !== changed.metadata?.name)
            .filter((waiting) =>
              waiting.status?.conditions?.some((entry) => entry.type === "PlacementReady" && entry.status === "False"),
            )
            .map((waiting) => waiting.metadata!.name!),
    );
    for (const owned of [
      caches.roleBindings,
      caches.resourceQuotas,
      caches.limitRanges,
      caches.clusterRoles,
      caches.clusterRoleBindings,
    ]) {
      tenants.watch(owned as Informer<KubeObject>, tenantKeyOf);
    }
    const tenantOfNamespace = (namespace: string | undefined): string[] => {
      const label = caches.namespaces.get(namespace ?? "")?.metadata?.labels?.[tenantLabel];
      return label ? [label] : [];
    };
    tenants.watch(caches.networkPolicies, (policy) => tenantOfNamespace(policy.metadata?.namespace));
    tenants.watch(caches.requests, (request) => tenantOfNamespace(request.metadata?.namespace));
    // A namespace event concerns its tenant, and any tenant whose wanted name it blocks or frees.
    tenants.watch(caches.namespaces, (namespace) => {
      const name = namespace.metadata?.name ?? "";
      const keys = new Set(tenantKeyOf(namespace));
      // Tenants whose names are a prefix of this one up to a '-': a lookup per dash, not a scan of all Tenants.
      for (let dash = name.indexOf("-"); dash > 0; dash = name.indexOf("-", dash + 1)) {
        if (caches.tenants.get(name.slice(0, dash))) keys.add(name.slice(0, dash));
      }
      return [...keys];
    });
    this.controllers.push(tenants);

    // The SharedApp controller (one key, so one worker), and the watches that connect it with the Tenants.
    const sharedAppReconciler = new SharedAppReconciler({
      client,
      caches: appCaches,
      tenants: caches.tenants,
      requests: caches.requests,
      namespaces: caches.namespaces,
      events,
      sharedNodeSelector: this.options.platform.sharedNodeSelector,
      sharedAppCrd,
      tenantCrd: new CrdCheck(client, "tenants.tenancy.dev"),
    });
    const sharedApps = new Controller({
      name: "sharedapp",
      workers: 1,
      reconcile: (key, context) => sharedAppReconciler.reconcile(key, context),
      log,
    });
    registerAppWatches({
      caches: appCaches,
      tenants: caches.tenants,
      namespaces: caches.namespaces,
      tenantController: tenants,
      sharedAppController: sharedApps,
      tenantKeyOf,
    });
    this.controllers.push(sharedApps);

    // Self-service: the TenantRequest controller, and the API when configured.
    this.controllers.push(
      createTenantRequestController({ client, caches, events, workers: this.options.workers, log }),
    );
    if (this.options.api) {
      this.api = new SelfServiceServer({ ...this.options.api, kubeConfig, log });
      this.apiPort = await this.api.start();
    }

    // 3. Probes: ready once every cache has synced.
    this.probes.addReadyCheck("informers-synced", () => this.informers.every((each) => each.hasSynced()));
    this.probePort = await this.probes.listen(this.options.probeAddress.port, this.options.probeAddress.host);
    for (const each of this.informers) each.start();

    // 4. Leader election; controllers run only while leading, and every write checks the Lease first.
    if (!this.options.leaderElection.enabled) {
      await this.startControllers();
      return;
    }
    const settings = this.options.leaderElection;
    const identity = `${os.hostname()}-${randomBytes(4).toString("hex")}`;
    this.elector = new LeaderElector(new KubeClient(kubeConfig, { fieldManager: "tenant-operator" }), log, {
      namespace: settings.namespace,
      name: settings.name,
      identity,
      leaseDurationMs: settings.leaseDurationMs,
      renewDeadlineMs: settings.renewDeadlineMs,
      retryPeriodMs: settings.retryPeriodMs,
      onStartedLeading: () => void this.startControllers(),
      onStoppedLeading: () => this.options.onLeadershipLost(),
    });
    client.setWriteGate(() => this.elector!.isLeader());
    this.elector.start();
  }

  /** Stops controllers (draining in-flight reconciles), releases the Lease, stops informers and probes. */
  async stop(): Promise<void> {
    await Promise.all(this.controllers.map((controller) => controller.stop(10_000)));
    await this.api?.stop();
    await this.elector?.release();
    await Promise.all(this.informers.map((each) => each.stop()));
    await this.probes.close();
  }

  private async startControllers(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    await Promise.all(this.informers.map((each) => each.waitForSync()));
    for (const controller of this.controllers) controller.start();
  }
}

function loadKubeConfig(): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}
