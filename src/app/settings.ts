// The SharedApp spec with the CRD's defaults filled in, and the per-version settings derived from it, so that
// builders and the rollout planner never handle a missing field.

import type { SharedApp } from "../api/generated.js";

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface AppSettings {
  repository: string;
  pullPolicy: "Always" | "IfNotPresent" | "Never";
  channelVersion: string;
  supportedVersions: string[];
  replicas: number;
  resources: ResourceRequirements;
  port: number;
  config: Record<string, string>;
  platformNamespace: string;
  versionOverrides: Record<string, { resources?: ResourceRequirements; nodeSelector: Record<string, string> }>;
  rollout: { canaryTenants: string[]; waveSize: number; waveTimeoutMs: number };
}

/** Returns the settings of `app`, with the defaults the CRD schema declares for objects it has not defaulted. */
export function resolveSettings(app: SharedApp): AppSettings {
  const spec = app.spec;
  const overrides: AppSettings["versionOverrides"] = {};
  for (const [version, override] of Object.entries(spec.versionOverrides ?? {})) {
    overrides[version] = {
      resources: override.resources ? resourceStrings(override.resources) : undefined,
      nodeSelector: { ...override.nodeSelector },
    };
  }
  return {
    repository: spec.image.repository,
    pullPolicy: spec.image.pullPolicy ?? "IfNotPresent",
    channelVersion: spec.channelVersion,
    supportedVersions: [...spec.supportedVersions],
    replicas: spec.replicas ?? 2,
    resources: resourceStrings(spec.resources),
    port: spec.port ?? 8080,
    config: { ...spec.config },
    platformNamespace: spec.platformNamespace ?? "tenant-platform",
    versionOverrides: overrides,
    rollout: {
      canaryTenants: [...(spec.rollout?.canaryTenants ?? [])],
      waveSize: spec.rollout?.waveSize ?? 10,
      waveTimeoutMs: (spec.rollout?.waveTimeoutSeconds ?? 600) * 1000,
    },
  };
}

export function isSupported(settings: AppSettings, version: string): boolean {
  return settings.supportedVersions.includes(version);
}

/** The image of one version: the repository tagged with the version. */
export function imageOf(settings: AppSettings, version: string): string {
  return `${settings.repository}:${version}`;
}

/** Resources of one version's pods: the version's override if it has one, else the app's. */
export function resourcesOf(settings: AppSettings, version: string): ResourceRequirements {
  return settings.versionOverrides[version]?.resources ?? settings.resources;
}

/** Node selector that a version's override adds to its pods. */
export function nodeSelectorOf(settings: AppSettings, version: string): Record<string, string> {
  return { ...settings.versionOverrides[version]?.nodeSelector };
}

/** Converts a resources object (numbers allowed, as in Tenant.spec.app.resources) to string quantities. */
export function resourceStrings(resources: Record<string, unknown> | undefined): ResourceRequirements {
  const result: ResourceRequirements = {};
  for (const field of ["requests", "limits"] as const) {
    const list = resources?.[field];
    if (!list || typeof list !== "object") continue;
    result[field] = Object.fromEntries(Object.entries(list as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  return result;
}
