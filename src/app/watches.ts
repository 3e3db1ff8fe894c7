// Maps events of the shared app's objects to the keys that must be reconciled: lane and dedicated objects to the
// Tenants they serve, tenant events to the SharedApp, and a SharedApp change only to the Tenants it concerns, so
// that recording one new tenant does not reconcile every other.

import type { V1Namespace } from "@kubernetes/client-node";
import type { KubeObject } from "../runtime/client.js";
import type { Controller } from "../runtime/controller.js";
import type { Informer } from "../runtime/informer.js";
import type { SharedApp, Tenant } from "../api/generated.js";
import { tenantLabel } from "../tenant/labels.js";
import type { AppCaches } from "./caches.js";
import { components, componentLabel, sharedAppName, versionLabel } from "./names.js";

export interface AppWatchOptions {
  caches: AppCaches;
  tenants: Informer<Tenant>;
  namespaces: Informer<V1Namespace>;
  tenantController: Controller;
  sharedAppController: Controller;
  /** Maps an object carrying the ownership labels to its Tenant's key. */
  tenantKeyOf: (object: KubeObject) => string[];
}

export function registerAppWatches(options: AppWatchOptions): void {
  const { caches, tenantController, sharedAppController } = options;
  const toSharedApp = (): string[] => [sharedAppName];

  // The SharedApp controller: its own object, every tenant, and the platform objects and tenant endpoints.
  sharedAppController.watchPrimary(caches.sharedApps);
  sharedAppController.watch(options.tenants, toSharedApp);
  for (const informer of [caches.deployments, caches.services, caches.podDisruptionBudgets, caches.configMaps]) {
    sharedAppController.watch(informer as Informer<KubeObject>, (object) =>
      isAppObject(object) ? [sharedAppName] : [],
    );
  }
  sharedAppController.watch(caches.endpointSlices, (slice) =>
    slice.metadata?.labels?.[componentLabel] === components.tenant ? [sharedAppName] : [],
  );
  sharedAppController.watch(caches.autoscalers, (autoscaler) =>
    autoscaler.metadata?.namespace === platformNamespace(caches) ? [sharedAppName] : [],
  );
  sharedAppController.watch(options.namespaces, (namespace) =>
    namespace.metadata?.name === platformNamespace(caches) ? [sharedAppName] : [],
  );

  // The Tenant controller: dedicated and tenant-app objects by their labels; lane objects to the lane's tenants.
  const laneOrOwner = (object: KubeObject): string[] => {
    const labels = object.metadata?.labels;
    if (labels?.[componentLabel] === components.shared && labels[versionLabel]) {
      return tenantsOfVersion(caches, labels[versionLabel]);
    }
    return labels?.[tenantLabel] ? options.tenantKeyOf(object) : [];
  };
  for (const informer of [caches.deployments, caches.pods, caches.services, caches.endpointSlices, caches.configMaps]) {
    tenantController.watch(informer as Informer<KubeObject>, laneOrOwner);
  }
  tenantController.watch(caches.autoscalers, (autoscaler) => {
    const namespace = options.namespaces.get(autoscaler.metadata?.namespace ?? "");
    const tenant = namespace?.metadata?.labels?.[tenantLabel];
    return tenant ? [tenant] : [];
  });
  caches.sharedApps.addHandlers({
    onAdd: (app) => enqueue(tenantController, allTenants(options.tenants, app)),
    onDelete: (app) => enqueue(tenantController, allTenants(options.tenants, app)),
    onUpdate: (oldApp, newApp) => enqueue(tenantController, changedTenants(options.tenants, oldApp, newApp)),
  });
}

/** Tenants assigned to `version` or running it, as the SharedApp status lists them. */
export function tenantsOfVersion(caches: AppCaches, version: string): string[] {
  const entries = caches.sharedApps.get(sharedAppName)?.status?.tenants ?? [];
  return entries
    .filter((entry) => entry.assignedVersion === version || entry.runningVersion === version)
    .map((entry) => entry.name);
}

/**
 * Tenants a SharedApp update concerns: every tenant when the spec changed (a new generation), else those whose
 * entry in status.tenants was added, removed or changed.
 */
export function changedTenants(tenants: Informer<Tenant>, oldApp: SharedApp, newApp: SharedApp): string[] {
  if (oldApp.metadata?.generation !== newApp.metadata?.generation) return allTenants(tenants, newApp);
  const before = new Map((oldApp.status?.tenants ?? []).map((entry) => [entry.name, JSON.stringify(entry)]));
  const after = new Map((newApp.status?.tenants ?? []).map((entry) => [entry.name, JSON.stringify(entry)]));
  const changed = new Set<string>();
  for (const [name, entry] of after) if (before.get(name) !== entry) changed.add(name);
  for (const name of before.keys()) if (!after.has(name)) changed.add(name);
  return [...changed];
}

function allTenants(tenants: Informer<Tenant>, app: SharedApp): string[] {
  if (app.metadata?.name !== sharedAppName) return [];
  return tenants.list().map((tenant) => tenant.metadata!.name!);
}

function enqueue(controller: Controller, keys: string[]): void {
  for (const key of keys) controller.queue.add(key);
}

function isAppObject(object: KubeObject): boolean {
  const component = object.metadata?.labels?.[componentLabel];
  return component === components.shared || component === components.tenant || component === components.dedicated;
}

function platformNamespace(caches: AppCaches): string {
  return caches.sharedApps.get(sharedAppName)?.spec.platformNamespace ?? "tenant-platform";
}
