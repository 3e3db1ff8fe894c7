// Helpers for e2e tests that work with Tenants: apply one with kubectl, wait for a condition, read its status.
import * as k8s from "@kubernetes/client-node";
import type { Tenant, TenantSpec } from "../../../src/api/generated.js";
import type { TestCluster } from "../../cluster/cluster.js";
import { eventually } from "./cluster.js";

export const group = "tenancy.dev";
export const version = "v1alpha1";

/** Applies a Tenant with kubectl, as a platform engineer would. */
export async function applyTenant(
  cluster: TestCluster,
  name: string,
  spec: TenantSpec,
  annotations: Record<string, string> = {},
): Promise<void> {
  const manifest = { apiVersion: `${group}/${version}`, kind: "Tenant", metadata: { name, annotations }, spec };
  await cluster.kubectl(["apply", "-f", "-"], undefined, JSON.stringify(manifest));
}

export async function readTenant(cluster: TestCluster, name: string): Promise<Tenant | undefined> {
  const api = cluster.adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  try {
    return (await api.getClusterCustomObject({ group, version, plural: "tenants", name })) as Tenant;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw error;
  }
}

export function condition(
  tenant: Tenant | undefined,
  type: string,
): { status: string; reason: string; message: string } | undefined {
  return tenant?.status?.conditions?.find((entry) => entry.type === type);
}

/** Waits until the Tenant's condition `type` has `status` for its current generation; returns the Tenant. */
export async function waitForCondition(
  cluster: TestCluster,
  name: string,
  type: string,
  status: "True" | "False",
  timeoutMs = 90_000,
): Promise<Tenant> {
  return eventually(
    `Tenant ${name} condition ${type}=${status}`,
    async () => {
      const tenant = await readTenant(cluster, name);
      const found = condition(tenant, type);
      const current = tenant?.status?.observedGeneration === tenant?.metadata?.generation;
      return found?.status === status && current ? tenant : undefined;
    },
    timeoutMs,
  );
}

export async function waitForReady(cluster: TestCluster, name: string, timeoutMs = 90_000): Promise<Tenant> {
  return waitForCondition(cluster, name, "Ready", "True", timeoutMs);
}

export async function deleteTenant(cluster: TestCluster, name: string): Promise<void> {
  await cluster.kubectl(["delete", "tenant", name, "--ignore-not-found", "--wait=false"]);
  await eventually(`Tenant ${name} gone`, async () => (await readTenant(cluster, name)) === undefined, 90_000);
}

/** A pod template that passes Pod Security "restricted". */
export function restrictedPodTemplate(app: string, resources?: k8s.V1ResourceRequirements): k8s.V1PodTemplateSpec {
  return {
    metadata: { labels: { app } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "app",
          image: "registry.example/app:1",
          resources,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        },
      ],
    },
  };
}
