// Builds the TenantRequest controller: requests are its primary objects, and Tenants and Namespaces map to the
// requests they concern, so phases move as soon as the Tenant controller reports progress.

import type { Logger } from "pino";
import type { KubeClient } from "../runtime/client.js";
import { Controller } from "../runtime/controller.js";
import type { EventRecorder } from "../runtime/events.js";
import { TenantRequestReconciler, type RequestCaches } from "./reconciler.js";

export interface TenantRequestControllerOptions {
  client: KubeClient;
  caches: RequestCaches;
  events: EventRecorder;
  workers: number;
  log: Logger;
}

/** Creates the controller named `tenantrequest` with its watches; the caller starts it with the others. */
export function createTenantRequestController(options: TenantRequestControllerOptions): Controller {
  const { caches } = options;
  const reconciler = new TenantRequestReconciler(options.client, caches, options.events);
  const controller = new Controller({
    name: "tenantrequest",
    workers: options.workers,
    reconcile: (key, context) => reconciler.reconcile(key, context),
    log: options.log,
  });
  controller.watch(caches.requests, (request) => reconciler.requestKeysRelatedTo(request));
  controller.watch(caches.tenants, (tenant) => reconciler.requestKeysOfTenant(tenant));
  controller.watch(caches.namespaces, (namespace) => reconciler.requestKeysInNamespace(namespace));
  return controller;
}
