// Builds the platform objects of the shared tier: for each version in use a lane (Deployment, Service and
// PodDisruptionBudget named app-<version>), the config ConfigMap that every lane mounts, and nothing else.
//
// Deployments never carry spec.replicas: the operator sets replicas through the scale subresource, and only while
// no HorizontalPodAutoscaler targets the Deployment, so that it never fights an autoscaler over the count.

import type { V1ConfigMap, V1Deployment, V1PodDisruptionBudget, V1Service } from "@kubernetes/client-node";
import {
  components,
  componentLabel,
  configMapName,
  laneName,
  platformLabels,
  portName,
  registryConfigMapName,
  registryKey,
  registryMountPath,
  versionLabel,
} from "../names.js";
import { nodeSelectorOf, resourcesOf, type AppSettings } from "../settings.js";
import { buildPodTemplate } from "./podTemplate.js";

export interface Lane {
  version: string;
  deployment: V1Deployment;
  service: V1Service;
  podDisruptionBudget: V1PodDisruptionBudget;
}

/** Labels that select the pods of one lane; fixed for the lane's life, as a Deployment selector must be. */
export function laneSelector(version: string): Record<string, string> {
  return { [componentLabel]: components.shared, [versionLabel]: version };
}

export function buildLane(settings: AppSettings, version: string, sharedNodeSelector: string): Lane {
  const name = laneName(version);
  const namespace = settings.platformNamespace;
  const labels = { ...platformLabels(), [versionLabel]: version };
  const selector = laneSelector(version);
  const template = buildPodTemplate({
    settings,
    version,
    labels: { ...labels, "app.kubernetes.io/name": "app" },
    resources: resourcesOf(settings, version),
    nodeSelector: { ...parseSelector(sharedNodeSelector), ...nodeSelectorOf(settings, version) },
    env: { APP_MODE: "Shared", APP_VERSION: version, TENANT_REGISTRY: `${registryMountPath}/tenants.json` },
    volumes: [
      {
        name: "registry",
        configMap: {
          name: registryConfigMapName,
          optional: true,
          items: [{ key: registryKey(version), path: "tenants.json" }],
        },
      },
    ],
    mounts: [{ name: "registry", mountPath: registryMountPath, readOnly: true }],
  });
  return {
    version,
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace, labels },
      spec: {
        selector: { matchLabels: selector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template,
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace, labels },
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: portName, port: 80, targetPort: portName, protocol: "TCP" }],
      },
    },
    // One pod at a time may go for a node drain; a lane of one pod can then drain, rather than block it forever.
    podDisruptionBudget: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name, namespace, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    },
  };
}

/** Builds the config ConfigMap of the platform namespace, which every lane mounts. */
export function buildPlatformConfig(settings: AppSettings): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: configMapName, namespace: settings.platformNamespace, labels: platformLabels() },
    // The API server drops an empty data map, so an empty one would look changed on every comparison.
    ...(Object.keys(settings.config).length > 0 ? { data: { ...settings.config } } : {}),
  };
}

/** Parses a node selector written as `key=value,...`; an empty string gives none. */
export function parseSelector(selector: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of selector.split(",")) {
    const index = part.indexOf("=");
    if (index <= 0) continue;
    result[part.slice(0, index).trim()] = part.slice(index + 1).trim();
  }
  return result;
}
