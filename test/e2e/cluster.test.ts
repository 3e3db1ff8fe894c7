// Smoke tests that the test control plane is a real cluster: controllers run, admission is enforced,
// kwok pods schedule and run, and the audit log records who did what.
import * as k8s from "@kubernetes/client-node";
import { eventually, rejectionMessage, sharedCluster, statusOf, uniqueName } from "./support/cluster.js";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const apps = admin.makeApiClient(k8s.AppsV1Api);
const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
const admissionApi = admin.makeApiClient(k8s.AdmissionregistrationV1Api);

async function createNamespace(
  prefix: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): Promise<string> {
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name, labels, annotations } } });
  await eventually(`service account "default" in ${name}`, async () =>
    core.readNamespacedServiceAccount({ name: "default", namespace: name }),
  );
  return name;
}

function deployment(name: string, replicas: number): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
      },
    },
  };
}

describe("test cluster", () => {
  test("deployment becomes available on kwok pods", async () => {
    const namespace = await createNamespace("smoke-deploy");
    await apps.createNamespacedDeployment({ namespace, body: deployment("web", 3) });

    const available = await eventually("deployment web available", async () => {
      const current = await apps.readNamespacedDeployment({ name: "web", namespace });
      return current.status?.availableReplicas === 3 ? current : undefined;
    });
    expect(available.status?.readyReplicas).toBe(3);

    const pods = await core.listNamespacedPod({ namespace });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe("Running");
      expect(pod.spec?.nodeName).toMatch(/^general-/);
    }
  });

  test("deleted namespace with objects disappears", async () => {
    const namespace = await createNamespace("smoke-delete");
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "data" }, data: { a: "1" } } });
    await apps.createNamespacedDeployment({ namespace, body: deployment("web", 1) });

    await core.deleteNamespace({ name: namespace });

    await eventually(
      `namespace ${namespace} gone`,
      async () => (await statusOf(core.readNamespace({ name: namespace }))) === 404,
    );
  });

  test("object whose owner is deleted is garbage-collected", async () => {
    const namespace = await createNamespace("smoke-gc");
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "owner" } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: "dependent",
          ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata!.uid! }],
        },
      },
    });

    await core.deleteNamespacedConfigMap({ name: "owner", namespace });

    await eventually(
      "dependent collected",
      async () => (await statusOf(core.readNamespacedConfigMap({ name: "dependent", namespace }))) === 404,
    );
  });

  test("privileged pod rejected in restricted namespace", async () => {
    const namespace = await createNamespace("smoke-psa", { "pod-security.kubernetes.io/enforce": "restricted" });

    const message = await rejectionMessage(
      core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: "root" },
          spec: { containers: [{ name: "c", image: "registry.example/app:1", securityContext: { privileged: true } }] },
        },
      }),
    );

    expect(message).toContain('violates PodSecurity "restricted:latest"');
    expect(message).toContain("privileged");
  });

  test("minted user gets 403, then 200 after a RoleBinding", async () => {
    const namespace = await createNamespace("smoke-rbac");
    const user = uniqueName("user");
    const { kubeConfig } = await cluster.mintUser(user, ["smoke-group"]);
    const userCore = kubeConfig.makeApiClient(k8s.CoreV1Api);

    expect(await statusOf(userCore.listNamespacedConfigMap({ namespace }))).toBe(403);

    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "view" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "User", name: user, apiGroup: "rbac.authorization.k8s.io" }],
      },
    });

    await eventually(
      "list allowed",
      async () => (await statusOf(userCore.listNamespacedConfigMap({ namespace }))) === 200,
    );
    expect(await statusOf(userCore.listNamespacedConfigMap({ namespace: "default" }))).toBe(403);
  });

  test("validating admission policy rejects with its CEL message", async () => {
    const namespace = await createNamespace("smoke-vap");
    const policyName = uniqueName("smoke-policy");
    await admissionApi.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: policyName },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [
              { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] },
            ],
          },
          validations: [
            {
              expression: "!has(object.data) || !('forbidden' in object.data)",
              message: "key forbidden is not allowed",
            },
          ],
        },
      },
    });
    await admissionApi.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name: policyName },
        spec: {
          policyName,
          validationActions: ["Deny"],
          matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
        },
      },
    });

    try {
      const message = await eventually("policy enforced", async () => {
        try {
          await core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { generateName: "probe-" }, data: { forbidden: "1" } },
          });
          return undefined;
        } catch (error) {
          return rejectionMessage(Promise.reject(error));
        }
      });
      expect(message).toContain("key forbidden is not allowed");

      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "allowed" }, data: { fine: "1" } } });
    } finally {
      await admissionApi.deleteValidatingAdmissionPolicyBinding({ name: policyName });
      await admissionApi.deleteValidatingAdmissionPolicy({ name: policyName });
    }
  });

  test("namespace node selector lands pods on its pool", async () => {
    const namespace = await createNamespace(
      "smoke-pool",
      {},
      {
        "scheduler.alpha.kubernetes.io/node-selector": "tenancy.dev/pool=dedicated-a",
        "scheduler.alpha.kubernetes.io/defaultTolerations": JSON.stringify([
          { key: "tenancy.dev/pool", operator: "Equal", value: "dedicated-a", effect: "NoSchedule" },
        ]),
      },
    );
    await apps.createNamespacedDeployment({ namespace, body: deployment("pinned", 2) });

    const pods = await eventually("two running pods", async () => {
      const list = await core.listNamespacedPod({ namespace });
      const running = list.items.filter((pod) => pod.status?.phase === "Running");
      return running.length === 2 ? running : undefined;
    });
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toBe("dedicated-a-1");
      expect(pod.spec?.nodeSelector).toEqual({ "tenancy.dev/pool": "dedicated-a" });
    }
  });

  test("audit log records a minted user's requests", async () => {
    const user = uniqueName("audited");
    const { kubeConfig } = await cluster.mintUser(user);
    await statusOf(kubeConfig.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: "kube-system" }));

    const event = await eventually("audit event", async () =>
      cluster.readAuditEvents().find((candidate) => candidate.user.username === user),
    );
    expect(event.verb).toBe("list");
    expect(event.objectRef?.resource).toBe("secrets");
    expect(event.objectRef?.namespace).toBe("kube-system");
    expect(event.responseStatus?.code).toBe(403);
  });
});
