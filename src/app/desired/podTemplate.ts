// Builds the pod template that lanes and dedicated instances share: one container running the version's image,
// hardened to pass Pod Security "restricted", with the app config mounted read-only.

import { createHash } from "node:crypto";
import type { V1PodTemplateSpec, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { configMapName, configMountPath, portName } from "../names.js";
import { imageOf, type AppSettings, type ResourceRequirements } from "../settings.js";

export interface PodTemplateInput {
  settings: AppSettings;
  version: string;
  labels: Record<string, string>;
  resources: ResourceRequirements;
  /** Node selector of the pods; a dedicated instance leaves placement to its namespace's node selector. */
  nodeSelector: Record<string, string>;
  env: Record<string, string>;
  /** Extra volumes and mounts (the lane mounts its registry). */
  volumes?: V1Volume[];
  mounts?: V1VolumeMount[];
}

/** Pod annotation holding the config's hash, so that a config change rolls the pods. */
export const configHashAnnotation = "tenancy.dev/config-hash";

export function buildPodTemplate(input: PodTemplateInput): V1PodTemplateSpec {
  const { settings, version, nodeSelector } = input;
  return {
    metadata: {
      labels: input.labels,
      annotations: { [configHashAnnotation]: configHash(settings.config) },
    },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
      ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
      containers: [
        {
          name: "app",
          image: imageOf(settings, version),
          imagePullPolicy: settings.pullPolicy,
          ports: [{ name: portName, containerPort: settings.port, protocol: "TCP" }],
          env: Object.entries(input.env)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, value]) => ({ name, value })),
          resources: input.resources,
          readinessProbe: { tcpSocket: { port: portName }, periodSeconds: 5 },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
          volumeMounts: [{ name: "config", mountPath: configMountPath, readOnly: true }, ...(input.mounts ?? [])],
        },
      ],
      volumes: [{ name: "config", configMap: { name: configMapName, optional: true } }, ...(input.volumes ?? [])],
    },
  };
}

/** 16 hex characters of the SHA-256 of the config, keys sorted. */
export function configHash(config: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(config).sort(([a], [b]) => a.localeCompare(b)));
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex").slice(0, 16);
}
