// Helpers for e2e tests of TenantRequests: create them as a user with kubectl, read them, wait for a phase, and
// make platform engineers (users bound to tenancy:platform-engineer).
import * as k8s from "@kubernetes/client-node";
import type { TenantRequest, TenantRequestSpec } from "../../../src/api/generated.js";
import type { TestCluster } from "../../cluster/cluster.js";
import { eventually, uniqueName } from "./cluster.js";
import { group, version } from "./tenants.js";

type Phase = NonNullable<NonNullable<TenantRequest["status"]>["phase"]>;

export function requestManifest(namespace: string, name: string, spec: TenantRequestSpec): string {
  return JSON.stringify({
    apiVersion: `${group}/${version}`,
    kind: "TenantRequest",
    metadata: { name, namespace },
    spec,
  });
}

/** Creates a TenantRequest with kubectl as the user of `kubeconfig`, recording that user in spec.requestedBy. */
export async function createRequestAs(
  cluster: TestCluster,
  kubeconfig: string,
  username: string,
  namespace: string,
  name: string,
  spec: Omit<TenantRequestSpec, "requestedBy">,
): Promise<void> {
  await cluster.kubectl(
    ["create", "-f", "-"],
    kubeconfig,
    requestManifest(namespace, name, { ...spec, requestedBy: { username } }),
  );
}

export async function readRequest(cluster: TestCluster, namespace: string, name: string): Promise<TenantRequest> {
  const api = cluster.adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
  return (await api.getNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: "tenantrequests",
    name,
  })) as TenantRequest;
}

/** Waits until the request reaches `phase`; returns it. */
export async function waitForPhase(
  cluster: TestCluster,
  namespace: string,
  name: string,
  phase: Phase,
  timeoutMs = 90_000,
): Promise<TenantRequest> {
  return eventually(
    `TenantRequest ${namespace}/${name} phase ${phase}`,
    async () => {
      const request = await readRequest(cluster, namespace, name);
      if (request.status?.phase === phase) return request;
      // Thrown so that a timeout reports the phase last seen.
      const { phase: seen, reason, message } = request.status ?? {};
      throw new Error(`phase ${seen} (${reason}: ${message})`);
    },
    timeoutMs,
  );
}

/** Returns the rejection message of a kubectl call that must fail. */
export async function kubectlRejection(call: Promise<string>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return (error as { stderr?: string }).stderr ?? String(error);
  }
  throw new Error("expected kubectl to fail, but it succeeded");
}

export interface PlatformEngineer {
  username: string;
  kubeconfigPath: string;
  /** Removes the ClusterRoleBinding. */
  remove(): Promise<void>;
}

/** Mints a user bound to the ClusterRole tenancy:platform-engineer and waits until RBAC lets it approve. */
export async function createPlatformEngineer(
  cluster: TestCluster,
  username = uniqueName("pe"),
): Promise<PlatformEngineer> {
  const rbac = cluster.adminKubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
  const bindingName = `e2e-platform-engineer-${username.replace(/[^a-z0-9-]/g, "-")}`;
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: bindingName },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "tenancy:platform-engineer" },
      subjects: [{ kind: "User", name: username, apiGroup: "rbac.authorization.k8s.io" }],
    },
  });
  await waitUntilAllowed(cluster, username, "approve");
  const { kubeconfigPath } = await cluster.mintUser(username);
  return {
    username,
    kubeconfigPath,
    remove: async () => {
      await rbac.deleteClusterRoleBinding({ name: bindingName });
    },
  };
}

/** Waits until a SubjectAccessReview allows `username` the verb on tenantrequests. */
export async function waitUntilAllowed(cluster: TestCluster, username: string, verb: string): Promise<void> {
  const authorization = cluster.adminKubeConfig().makeApiClient(k8s.AuthorizationV1Api);
  await eventually(`${username} allowed ${verb} on tenantrequests`, async () => {
    const review = await authorization.createSubjectAccessReview({
      body: {
        spec: {
          user: username,
          groups: ["system:authenticated"],
          resourceAttributes: { group, resource: "tenantrequests", verb },
        },
      },
    });
    return review.status?.allowed === true;
  });
}

/** Patches spec.approval with kubectl as the user of `kubeconfig`. */
export async function approveWithKubectl(
  cluster: TestCluster,
  kubeconfig: string,
  namespace: string,
  name: string,
  approval: { decision: "Approved" | "Denied"; by: string; reason?: string },
): Promise<string> {
  return cluster.kubectl(
    ["patch", "tenantrequest", name, "-n", namespace, "--type=merge", "-p", JSON.stringify({ spec: { approval } })],
    kubeconfig,
  );
}
