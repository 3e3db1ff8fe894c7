// The Tenant controller on the real test cluster: objects appear, change and go with the Tenant, and the
// tenant's owners can work in their namespaces and nowhere else.
import * as k8s from "@kubernetes/client-node";
import { eventually, rejectionMessage, sharedCluster, statusOf, uniqueName } from "./support/cluster.js";
import {
  applyTenant,
  condition,
  deleteTenant,
  readTenant,
  restrictedPodTemplate,
  waitForCondition,
  waitForReady,
} from "./support/tenants.js";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const networking = admin.makeApiClient(k8s.NetworkingV1Api);
const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);

const ownership = (tenant: string, tenantId: string): Record<string, string> => ({
  "app.kubernetes.io/managed-by": "tenant-operator",
  "tenancy.dev/tenant": tenant,
  "tenancy.dev/tenant-id": tenantId,
});

describe("Tenant controller", () => {
  test("tenant objects appear, change and go", async () => {
    const name = uniqueName("life");
    const owner = uniqueName("alice");
    await applyTenant(cluster, name, {
      owners: [{ kind: "User", name: owner }],
      namespaces: [{ name: "dev" }, { name: "prod", labels: { team: "payments" } }],
      quota: { perNamespace: { pods: "10", "requests.cpu": "2" }, total: { "requests.memory": "4Gi" } },
      limits: { defaultRequest: { cpu: "100m", memory: "64Mi" }, max: { cpu: "2" } },
      network: { allowFromNamespaces: ["monitoring"] },
      deletionPolicy: "Delete",
    });

    const ready = await waitForReady(cluster, name);
    const tenantId = ready.status!.tenantId!;
    expect(tenantId).toMatch(/^t[0-9a-f]{11}$/);
    expect(ready.status!.phase).toBe("Ready");
    expect(ready.status!.namespaceCount).toBe(2);
    expect(ready.status!.namespaces).toEqual([
      { name: `${name}-dev`, state: "Ready" },
      { name: `${name}-prod`, state: "Ready" },
    ]);
    expect(ready.status!.usage!["requests.memory"]!.hard).toBe("4Gi");
    expect(ready.metadata!.finalizers).toContain("tenancy.dev/finalizer");

    for (const namespace of [`${name}-dev`, `${name}-prod`]) {
      const ns = await core.readNamespace({ name: namespace });
      expect(ns.metadata!.labels).toMatchObject({
        ...ownership(name, tenantId),
        "pod-security.kubernetes.io/enforce": "restricted",
      });
      expect(ns.metadata!.annotations!["scheduler.alpha.kubernetes.io/node-selector"]).toBe("tenancy.dev/pool=general");

      const binding = await rbac.readNamespacedRoleBinding({ name: "tenant-admin", namespace });
      expect(binding.roleRef.name).toBe("tenancy:tenant-admin");
      expect(binding.subjects).toEqual([{ kind: "User", name: owner, apiGroup: "rbac.authorization.k8s.io" }]);

      const quota = await core.readNamespacedResourceQuota({ name: "tenant-quota", namespace });
      expect(quota.spec!.hard).toEqual({ pods: "10", "requests.cpu": "2" });
      const share = await core.readNamespacedResourceQuota({ name: "tenant-total", namespace });
      expect(share.metadata!.labels).toMatchObject(ownership(name, tenantId));

      const limits = await core.readNamespacedLimitRange({ name: "tenant-limits", namespace });
      expect(limits.spec!.limits[0]!.defaultRequest).toEqual({ cpu: "100m", memory: "64Mi" });

      const deny = await networking.readNamespacedNetworkPolicy({ name: "deny-other-tenants", namespace });
      expect(deny.spec!.ingress![0]!._from![0]!.namespaceSelector!.matchLabels).toEqual({
        "tenancy.dev/tenant-id": tenantId,
      });
      await networking.readNamespacedNetworkPolicy({ name: "allow-platform", namespace });
    }
    const prodLabels = (await core.readNamespace({ name: `${name}-prod` })).metadata!.labels!;
    expect(prodLabels.team).toBe("payments");

    // The two namespace shares of the tenant total add up to at most 4Gi.
    const shares = await Promise.all(
      [`${name}-dev`, `${name}-prod`].map((namespace) =>
        core.readNamespacedResourceQuota({ name: "tenant-total", namespace }),
      ),
    );
    expect(shares.map((share) => share.spec!.hard!["requests.memory"])).toEqual(["2Gi", "2Gi"]);

    // Update: drop prod and allow-platform, add qa, change the per-namespace quota.
    await applyTenant(cluster, name, {
      owners: [{ kind: "User", name: owner, role: "edit" }],
      namespaces: [{ name: "dev" }, { name: "qa" }],
      quota: { perNamespace: { pods: "5" } },
      deletionPolicy: "Delete",
    });
    await eventually("update applied", async () => {
      const tenant = await readTenant(cluster, name);
      const ok =
        tenant?.status?.observedGeneration === tenant?.metadata?.generation &&
        condition(tenant, "Ready")?.status === "True";
      return ok ? tenant : undefined;
    });
    await eventually("prod namespace deleted", async () => {
      const ns = await core.readNamespace({ name: `${name}-prod` }).catch(() => undefined);
      return ns === undefined || ns.metadata?.deletionTimestamp !== undefined;
    });
    const devQuota = await core.readNamespacedResourceQuota({ name: "tenant-quota", namespace: `${name}-dev` });
    expect(devQuota.spec!.hard).toEqual({ pods: "5" });
    expect(await statusOf(core.readNamespacedResourceQuota({ name: "tenant-total", namespace: `${name}-dev` }))).toBe(
      404,
    );
    expect(
      await statusOf(networking.readNamespacedNetworkPolicy({ name: "allow-platform", namespace: `${name}-dev` })),
    ).toBe(404);
    expect(await statusOf(rbac.readNamespacedRoleBinding({ name: "tenant-admin", namespace: `${name}-qa` }))).toBe(404);
    const editBinding = await rbac.readNamespacedRoleBinding({ name: "tenant-edit", namespace: `${name}-qa` });
    expect(editBinding.subjects![0]!.name).toBe(owner);

    // Delete with deletionPolicy Delete: the namespaces and the cluster-scoped RBAC go.
    await deleteTenant(cluster, name);
    await eventually("namespaces deleted", async () => {
      const states = await Promise.all(
        [`${name}-dev`, `${name}-qa`].map((namespace) =>
          core.readNamespace({ name: namespace }).catch(() => undefined),
        ),
      );
      return states.every((ns) => ns === undefined || ns.metadata?.deletionTimestamp !== undefined);
    });
    expect(await statusOf(rbac.readClusterRole({ name: `tenancy:tenant:${name}:${tenantId}` }))).toBe(404);
  });

  test("retain keeps namespaces and reports them to a new tenant", async () => {
    const name = uniqueName("keep");
    await applyTenant(cluster, name, { owners: [{ kind: "User", name: "bob" }], namespaces: [{ name: "data" }] });
    const first = await waitForReady(cluster, name);
    const oldId = first.status!.tenantId!;
    const namespace = `${name}-data`;
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "precious" }, data: { keep: "me" } } });

    await deleteTenant(cluster, name);
    const kept = await core.readNamespace({ name: namespace });
    expect(kept.metadata!.deletionTimestamp).toBeUndefined();
    expect(kept.metadata!.labels).toMatchObject(ownership(name, oldId));
    expect(await statusOf(rbac.readNamespacedRoleBinding({ name: "tenant-admin", namespace }))).toBe(404);
    expect(await statusOf(networking.readNamespacedNetworkPolicy({ name: "deny-other-tenants", namespace }))).toBe(404);

    // A new Tenant with the same name gets a new id and does not silently take the old namespace.
    await applyTenant(cluster, name, { owners: [{ kind: "User", name: "bob" }], namespaces: [{ name: "data" }] });
    const second = await waitForCondition(cluster, name, "NamespacesReady", "False");
    expect(second.status!.tenantId).not.toBe(oldId);
    expect(condition(second, "NamespacesReady")!.message).toContain(`tenancy.dev/adopt-tenant-ids=${oldId}`);
    expect(second.status!.namespaces).toEqual([expect.objectContaining({ name: namespace, state: "Orphaned" })]);
    expect((await core.readNamespace({ name: namespace })).metadata!.labels!["tenancy.dev/tenant-id"]).toBe(oldId);

    // Explicit adoption by annotation.
    await applyTenant(
      cluster,
      name,
      { owners: [{ kind: "User", name: "bob" }], namespaces: [{ name: "data" }] },
      { "tenancy.dev/adopt-tenant-ids": oldId },
    );
    const adopted = await waitForReady(cluster, name);
    expect((await core.readNamespace({ name: namespace })).metadata!.labels!["tenancy.dev/tenant-id"]).toBe(
      adopted.status!.tenantId,
    );
    expect((await core.readNamespacedConfigMap({ name: "precious", namespace })).data).toEqual({ keep: "me" });
    await deleteTenant(cluster, name);
  });

  test("namespace of another owner is never taken over", async () => {
    const name = uniqueName("grab");
    const foreign = `${name}-x`;
    await core.createNamespace({ body: { metadata: { name: foreign, labels: { owner: "someone-else" } } } });

    await applyTenant(cluster, name, { owners: [{ kind: "User", name: "carol" }], namespaces: [{ name: "x" }] });
    const tenant = await waitForCondition(cluster, name, "NamespacesReady", "False");
    expect(condition(tenant, "NamespacesReady")!.message).toBe(
      `namespace "${foreign}" already exists and belongs to no tenant; choose another namespace name`,
    );
    const untouched = await core.readNamespace({ name: foreign });
    expect(untouched.metadata!.labels).toEqual({ owner: "someone-else", "kubernetes.io/metadata.name": foreign });
    expect(await statusOf(rbac.readNamespacedRoleBinding({ name: "tenant-admin", namespace: foreign }))).toBe(404);
    await deleteTenant(cluster, name);
    expect((await core.readNamespace({ name: foreign })).metadata!.deletionTimestamp).toBeUndefined();
  });

  test("invalid tenant is rejected naming the field", async () => {
    const manifest = (spec: object): string =>
      JSON.stringify({
        apiVersion: "tenancy.dev/v1alpha1",
        kind: "Tenant",
        metadata: { name: uniqueName("bad") },
        spec,
      });
    const failure = (input: string): Promise<string> =>
      cluster.kubectl(["apply", "-f", "-"], undefined, input).then(
        () => "accepted",
        (error: { stderr: string }) => error.stderr,
      );

    expect(await failure(manifest({ owners: [{ kind: "ServiceAccount", name: "ci" }] }))).toContain(
      "owners[].namespace is required for kind ServiceAccount",
    );
    expect(await failure(manifest({ podSecurity: "lax" }))).toContain('spec.podSecurity: Unsupported value: "lax"');
    expect(await failure(manifest({ quota: { total: { pods: "ten" } } }))).toContain("spec.quota.total.pods");
    expect(await failure(manifest({ maxNamespaces: 1, namespaces: [{ name: "a" }, { name: "b" }] }))).toContain(
      "spec.namespaces lists more namespaces than spec.maxNamespaces allows",
    );
    expect(await failure(manifest({ namespaces: [{ name: "x".repeat(60) }] }))).toContain("must fit in 63 characters");
  });

  test("owner cannot reach another tenant or loosen its guard rails", async () => {
    const a = uniqueName("ta");
    const b = uniqueName("tb");
    const ownerA = uniqueName("owner-a");
    await applyTenant(cluster, a, {
      owners: [{ kind: "User", name: ownerA }],
      namespaces: [{ name: "app" }],
      quota: { perNamespace: { pods: "3" } },
    });
    await applyTenant(cluster, b, {
      owners: [{ kind: "User", name: uniqueName("owner-b") }],
      namespaces: [{ name: "app" }],
    });
    await waitForReady(cluster, a);
    await waitForReady(cluster, b);
    const nsA = `${a}-app`;
    const nsB = `${b}-app`;

    const { kubeConfig } = await cluster.mintUser(ownerA, ["tenants"]);
    const userCore = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const userObjects = kubeConfig.makeApiClient(k8s.CustomObjectsApi);

    // Its own namespace works.
    await eventually("owner can create in its namespace", async () =>
      userCore.createNamespacedConfigMap({ namespace: nsA, body: { metadata: { name: "mine" } } }),
    );
    expect(await statusOf(userCore.readNamespace({ name: nsA }))).toBe(200);
    expect(
      await statusOf(
        userObjects.getClusterCustomObject({ group: "tenancy.dev", version: "v1alpha1", plural: "tenants", name: a }),
      ),
    ).toBe(200);

    // Tenant B's namespace, B's Tenant and cluster-wide lists are out of reach.
    expect(await statusOf(userCore.listNamespacedConfigMap({ namespace: nsB }))).toBe(403);
    expect(await statusOf(userCore.listNamespacedPod({ namespace: nsB }))).toBe(403);
    expect(await statusOf(userCore.readNamespacedSecret({ name: "anything", namespace: nsB }))).toBe(403);
    expect(await statusOf(userCore.readNamespace({ name: nsB }))).toBe(403);
    expect(await statusOf(userCore.listNamespace())).toBe(403);
    expect(
      await statusOf(
        userObjects.getClusterCustomObject({ group: "tenancy.dev", version: "v1alpha1", plural: "tenants", name: b }),
      ),
    ).toBe(403);

    // Its own quota and limits are read-only, its Tenant cannot be edited.
    expect(
      await statusOf(
        userCore.patchNamespacedResourceQuota(
          { name: "tenant-quota", namespace: nsA, body: { spec: { hard: { pods: "100" } } } },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        ),
      ),
    ).toBe(403);
    expect(await statusOf(userCore.deleteNamespacedResourceQuota({ name: "tenant-quota", namespace: nsA }))).toBe(403);
    expect(
      await statusOf(
        userObjects.patchClusterCustomObject(
          {
            group: "tenancy.dev",
            version: "v1alpha1",
            plural: "tenants",
            name: a,
            body: { spec: { maxNamespaces: 50 } },
          },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        ),
      ),
    ).toBe(403);

    // Pod Security: no privileged pod.
    const message = await rejectionMessage(
      userCore.createNamespacedPod({
        namespace: nsA,
        body: {
          metadata: { name: "root" },
          spec: { containers: [{ name: "c", image: "registry.example/app:1", securityContext: { privileged: true } }] },
        },
      }),
    );
    expect(message).toContain('violates PodSecurity "restricted:latest"');

    // A restricted pod runs, on the shared pool.
    await userCore.createNamespacedPod({
      namespace: nsA,
      body: { metadata: { name: "ok" }, spec: restrictedPodTemplate("ok").spec! },
    });
    const pod = await eventually("pod scheduled", async () => {
      const current = await core.readNamespacedPod({ name: "ok", namespace: nsA });
      return current.spec?.nodeName ? current : undefined;
    });
    expect(pod.spec!.nodeName).toMatch(/^general-/);

    await deleteTenant(cluster, a);
    await deleteTenant(cluster, b);
  });

  test("tenant policy admitting another tenant turns NetworkIsolated false", async () => {
    const name = uniqueName("net");
    const owner = uniqueName("net-owner");
    await applyTenant(cluster, name, { owners: [{ kind: "User", name: owner }], namespaces: [{ name: "web" }] });
    await waitForCondition(cluster, name, "NetworkIsolated", "True");
    const namespace = `${name}-web`;
    const { kubeConfig } = await cluster.mintUser(owner);
    const userNetworking = kubeConfig.makeApiClient(k8s.NetworkingV1Api);

    await eventually("owner creates an open policy", async () =>
      userNetworking.createNamespacedNetworkPolicy({
        namespace,
        body: {
          metadata: { name: "open-to-all" },
          spec: { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: {} }] }] },
        },
      }),
    );
    const open = await waitForCondition(cluster, name, "NetworkIsolated", "False");
    expect(condition(open, "NetworkIsolated")!.message).toContain(`NetworkPolicy ${namespace}/open-to-all`);
    expect(condition(open, "Ready")!.status).toBe("False");

    await userNetworking.deleteNamespacedNetworkPolicy({ name: "open-to-all", namespace });
    await waitForCondition(cluster, name, "NetworkIsolated", "True");
    await deleteTenant(cluster, name);
  });

  test("managed network policy deleted by hand comes back", async () => {
    const name = uniqueName("drift");
    await applyTenant(cluster, name, { owners: [{ kind: "User", name: "dave" }], namespaces: [{ name: "svc" }] });
    await waitForReady(cluster, name);
    const namespace = `${name}-svc`;
    const before = await networking.readNamespacedNetworkPolicy({ name: "deny-other-tenants", namespace });

    await networking.deleteNamespacedNetworkPolicy({ name: "deny-other-tenants", namespace });

    const after = await eventually("policy recreated", async () => {
      const policy = await networking
        .readNamespacedNetworkPolicy({ name: "deny-other-tenants", namespace })
        .catch(() => undefined);
      return policy && policy.metadata!.uid !== before.metadata!.uid ? policy : undefined;
    });
    expect(after.spec).toEqual(before.spec);

    // An edit by an admin is reverted too.
    await networking.patchNamespacedNetworkPolicy(
      { name: "deny-other-tenants", namespace, body: { spec: { ingress: [{ _from: [{ namespaceSelector: {} }] }] } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await eventually("edit reverted", async () => {
      const policy = await networking.readNamespacedNetworkPolicy({ name: "deny-other-tenants", namespace });
      return (
        policy.spec!.ingress![0]!._from![0]!.namespaceSelector!.matchLabels?.["tenancy.dev/tenant-id"] !== undefined
      );
    });
    await deleteTenant(cluster, name);
  });
});
