// Builds a tenant's dedicated instance: the app's Deployment and config ConfigMap in the tenant's first
// namespace, carrying the tenant's ownership labels. Its pods get no node selector of their own: the namespace's
// node selector and tolerations (set by the PodNodeSelector and PodTolerationRestriction plugins) place them on
// the tenant's nodes, and the tenant's LimitRange and ResourceQuota count them like any of the tenant's pods.

import type { V1ConfigMap, V1Deployment } from "@kubernetes/client-node";
import type { TenantContext } from "../../tenant/desired/types.js";
import { ownershipLabels, tenantIdLabel } from "../../tenant/labels.js";
import { components, componentLabel, configMapName, dedicatedDeploymentName, versionLabel } from "../names.js";
import { resourceStrings, resourcesOf, type AppSettings } from "../settings.js";
import { buildPodTemplate } from "./podTemplate.js";

export interface DedicatedInstance {
  namespace: string;
  version: string;
  deployment: V1Deployment;
  config: V1ConfigMap;
}

/** Labels that select the pods of a tenant's dedicated instance; fixed for the Deployment's life. */
export function dedicatedSelector(tenantId: string): Record<string, string> {
  return { [componentLabel]: components.dedicated, [tenantIdLabel]: tenantId };
}

/**
 * Builds the dedicated instance of `context`'s tenant at `version`, or undefined when the tenant has no
 * namespace to hold it. Resources come from Tenant.spec.app.resources, else from the SharedApp.
 */
export function buildDedicatedInstance(
  context: TenantContext,
  settings: AppSettings,
  version: string,
): DedicatedInstance | undefined {
  const namespace = context.namespaces[0];
  if (!namespace) return undefined;
  const labels = {
    ...ownershipLabels(context.tenant, context.tenantId),
    [componentLabel]: components.dedicated,
    [versionLabel]: version,
  };
  const tenantResources = context.spec.app.resources;
  const template = buildPodTemplate({
    settings,
    version,
    labels: { ...labels, "app.kubernetes.io/name": "app" },
    resources: tenantResources ? resourceStrings(tenantResources) : resourcesOf(settings, version),
    nodeSelector: {},
    env: {
      APP_MODE: "Dedicated",
      APP_VERSION: version,
      TENANT_ID: context.tenantId,
      TENANT_NAME: context.tenant,
    },
  });
  return {
    namespace,
    version,
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: dedicatedDeploymentName, namespace, labels },
      spec: {
        selector: { matchLabels: dedicatedSelector(context.tenantId) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template,
      },
    },
    config: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: configMapName,
        namespace,
        labels: { ...ownershipLabels(context.tenant, context.tenantId), [componentLabel]: components.dedicated },
      },
      ...(Object.keys(settings.config).length > 0 ? { data: { ...settings.config } } : {}),
    },
  };
}
