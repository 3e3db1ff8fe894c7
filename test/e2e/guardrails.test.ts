// The admission guard rails, each tried by a user whom RBAC allows everything (bound to cluster-admin, but not in
// system:masters), so that every rejection below comes from the ValidatingAdmissionPolicy and its own message.
import * as k8s from "@kubernetes/client-node";
import { eventually, rejectionMessage, sharedCluster, uniqueName } from "./support/cluster.js";
import { applyTenant, deleteTenant, waitForReady } from "./support/tenants.js";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const adminCore = admin.makeApiClient(k8s.CoreV1Api);
const adminRbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
const mergePatch = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

const tenantA = uniqueName("ga");
const tenantB = uniqueName("gb");
const nsA = `${tenantA}-app`;
let user: string;
let core: k8s.CoreV1Api;
let networking: k8s.NetworkingV1Api;
let tenantIdB: string;

beforeAll(async () => {
  await applyTenant(cluster, tenantA, {
    owners: [{ kind: "User", name: "owner-a" }],
    namespaces: [{ name: "app" }],
    services: { storageClasses: ["standard"] },
  });
  await applyTenant(cluster, tenantB, { owners: [{ kind: "User", name: "owner-b" }], namespaces: [{ name: "app" }] });
  await waitForReady(cluster, tenantA);
  tenantIdB = (await waitForReady(cluster, tenantB)).status!.tenantId!;

  user = uniqueName("mallory");
  await adminRbac.createClusterRoleBinding({
    body: {
      metadata: { name: user },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "User", name: user, apiGroup: "rbac.authorization.k8s.io" }],
    },
  });
  const { kubeConfig } = await cluster.mintUser(user);
  core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  networking = kubeConfig.makeApiClient(k8s.NetworkingV1Api);
  // RBAC caches settle within a moment; wait until the binding is in force.
  await eventually("cluster-admin binding active", async () => (await core.listNamespace()).items.length > 0);
});

afterAll(async () => {
  await adminRbac.deleteClusterRoleBinding({ name: user });
  await deleteTenant(cluster, tenantA);
  await deleteTenant(cluster, tenantB);
});

describe("admission guard rails", () => {
  test("relabelling a namespace into another tenant is rejected", async () => {
    const message = await rejectionMessage(
      core.patchNamespace(
        {
          name: nsA,
          body: { metadata: { labels: { "tenancy.dev/tenant": tenantB, "tenancy.dev/tenant-id": tenantIdB } } },
        },
        mergePatch,
      ),
    );
    expect(message).toContain("are set by tenant-operator and cannot be changed; change the Tenant instead");
    expect(message).toMatch(/namespace labels .*tenancy\.dev\/tenant-id/);
    expect(message).toMatch(/namespace labels .*tenancy\.dev\/tenant[,\s]/);
  });

  test("relabelling a namespace out of its tenant is rejected", async () => {
    const message = await rejectionMessage(
      core.patchNamespace(
        {
          name: nsA,
          body: { metadata: { labels: { "tenancy.dev/tenant": null, "pod-security.kubernetes.io/enforce": null } } },
        },
        mergePatch,
      ),
    );
    expect(message).toContain("are set by tenant-operator and cannot be changed");
    expect(message).toContain("tenancy.dev/tenant");
    expect(message).toContain("pod-security.kubernetes.io/enforce");
  });

  test("namespace labels cannot change through the status subresource", async () => {
    const message = await rejectionMessage(
      core.patchNamespaceStatus(
        { name: nsA, body: { metadata: { labels: { "pod-security.kubernetes.io/enforce": "privileged" } } } },
        mergePatch,
      ),
    );
    expect(message).toContain("namespace labels pod-security.kubernetes.io/enforce are set by tenant-operator");
  });

  test("node placement annotations of a tenant namespace are protected", async () => {
    const message = await rejectionMessage(
      core.patchNamespace(
        {
          name: nsA,
          body: {
            metadata: {
              annotations: { "scheduler.alpha.kubernetes.io/node-selector": "tenancy.dev/pool=dedicated-b" },
            },
          },
        },
        mergePatch,
      ),
    );
    expect(message).toContain(
      "namespace annotations scheduler.alpha.kubernetes.io/node-selector are set by tenant-operator",
    );
  });

  test("labelling another namespace into a tenant is rejected", async () => {
    const plain = uniqueName("plain");
    await adminCore.createNamespace({ body: { metadata: { name: plain } } });
    const message = await rejectionMessage(
      core.patchNamespace(
        { name: plain, body: { metadata: { labels: { "tenancy.dev/tenant": tenantA } } } },
        mergePatch,
      ),
    );
    expect(message).toContain("tenancy.dev/tenant");
    expect(message).toMatch(/reserved for tenant-operator|set by tenant-operator/);
    await adminCore.deleteNamespace({ name: plain });
  });

  test("tenant's own labels on its namespace stay editable", async () => {
    const patched = await core.patchNamespace(
      { name: nsA, body: { metadata: { labels: { team: "checkout" } } } },
      mergePatch,
    );
    expect(patched.metadata!.labels!.team).toBe("checkout");
  });

  test("editing a managed NetworkPolicy is rejected", async () => {
    const message = await rejectionMessage(
      networking.patchNamespacedNetworkPolicy(
        {
          name: "deny-other-tenants",
          namespace: nsA,
          body: { spec: { ingress: [{ _from: [{ namespaceSelector: {} }] }] } },
        },
        mergePatch,
      ),
    );
    expect(message).toContain(`this NetworkPolicy is managed by tenant-operator for tenant "${tenantA}"`);
  });

  test("deleting a managed RoleBinding is rejected", async () => {
    const rbac = (await cluster.mintUser(user)).kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    const message = await rejectionMessage(rbac.deleteNamespacedRoleBinding({ name: "tenant-admin", namespace: nsA }));
    expect(message).toContain(`this RoleBinding is managed by tenant-operator for tenant "${tenantA}"`);
  });

  test("forging ownership labels is rejected", async () => {
    const message = await rejectionMessage(
      core.createNamespacedConfigMap({
        namespace: nsA,
        body: {
          metadata: {
            name: "forged",
            labels: { "app.kubernetes.io/managed-by": "tenant-operator", "tenancy.dev/tenant": tenantB },
          },
        },
      }),
    );
    expect(message).toContain(
      "labels tenancy.dev/tenant, tenancy.dev/tenant-id and app.kubernetes.io/managed-by=tenant-operator are reserved for tenant-operator",
    );
  });

  test("other tools' managed-by label stays usable", async () => {
    const created = await core.createNamespacedConfigMap({
      namespace: nsA,
      body: { metadata: { name: "from-helm", labels: { "app.kubernetes.io/managed-by": "Helm" } } },
    });
    expect(created.metadata!.labels!["app.kubernetes.io/managed-by"]).toBe("Helm");
    const message = await rejectionMessage(
      core.patchNamespacedConfigMap(
        {
          name: "from-helm",
          namespace: nsA,
          body: { metadata: { labels: { "app.kubernetes.io/managed-by": "tenant-operator" } } },
        },
        mergePatch,
      ),
    );
    expect(message).toContain("are reserved for tenant-operator");
  });

  test("NodePort service is rejected", async () => {
    const message = await rejectionMessage(
      core.createNamespacedService({
        namespace: nsA,
        body: {
          metadata: { name: "exposed" },
          spec: { type: "NodePort", ports: [{ port: 80 }], selector: { app: "web" } },
        },
      }),
    );
    expect(message).toContain("Services of type NodePort are not allowed for this tenant");
  });

  test("LoadBalancer and externalIPs are rejected", async () => {
    const loadBalancer = await rejectionMessage(
      core.createNamespacedService({
        namespace: nsA,
        body: { metadata: { name: "lb" }, spec: { type: "LoadBalancer", ports: [{ port: 80 }] } },
      }),
    );
    expect(loadBalancer).toContain("Services of type LoadBalancer are not allowed for this tenant");
    const externalIPs = await rejectionMessage(
      core.createNamespacedService({
        namespace: nsA,
        body: { metadata: { name: "ext" }, spec: { ports: [{ port: 80 }], externalIPs: ["192.0.2.10"] } },
      }),
    );
    expect(externalIPs).toContain("spec.externalIPs is not allowed for this tenant");
  });

  test("disallowed StorageClass is rejected, allowed one accepted", async () => {
    const claim = (name: string, storageClassName: string): k8s.V1PersistentVolumeClaim => ({
      metadata: { name },
      spec: { storageClassName, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    });
    const message = await rejectionMessage(
      core.createNamespacedPersistentVolumeClaim({ namespace: nsA, body: claim("fast", "fast-ssd") }),
    );
    expect(message).toContain('StorageClass "fast-ssd" is not allowed for this tenant (allowed: standard)');
    await core.createNamespacedPersistentVolumeClaim({ namespace: nsA, body: claim("ok", "standard") });
  });

  test("pod bound to a node by name is rejected", async () => {
    const message = await rejectionMessage(
      core.createNamespacedPod({
        namespace: nsA,
        body: {
          metadata: { name: "pinned" },
          spec: {
            nodeName: "dedicated-b-1",
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "c",
                image: "registry.example/app:1",
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      }),
    );
    expect(message).toContain("spec.nodeName is not allowed in tenant namespaces");
  });

  test("toleration of another pool is rejected", async () => {
    const message = await rejectionMessage(
      core.createNamespacedPod({
        namespace: nsA,
        body: {
          metadata: { name: "escape" },
          spec: {
            tolerations: [{ key: "tenancy.dev/pool", operator: "Equal", value: "dedicated-b", effect: "NoSchedule" }],
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "c",
                image: "registry.example/app:1",
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      }),
    );
    expect(message).toContain(
      "pod tolerations (possibly merged with namespace default tolerations) conflict with its namespace whitelist",
    );
  });

  test("node selector of another pool conflicts with the namespace selector", async () => {
    const message = await rejectionMessage(
      core.createNamespacedPod({
        namespace: nsA,
        body: {
          metadata: { name: "elsewhere" },
          spec: {
            nodeSelector: { "tenancy.dev/pool": "dedicated-b" },
            securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "c",
                image: "registry.example/app:1",
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              },
            ],
          },
        },
      }),
    );
    expect(message).toContain("pod node label selector conflicts with its namespace node label selector");
  });
});
