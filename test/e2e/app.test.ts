// The shared app on the shared test cluster: shared, pinned, dedicated and dedicated-node tenants side by side,
// tier and lane moves that keep the tenant's endpoints ready, and suspend and resume. This file owns the one
// SharedApp "platform"; tenants of other files join its channel lane while it exists.
import { isDeepStrictEqual } from "node:util";
import * as k8s from "@kubernetes/client-node";
import type { Tenant } from "../../src/api/generated.js";
import { eventually, rejectionMessage, sharedCluster, statusOf, uniqueName } from "./support/cluster.js";
import {
  applySharedApp,
  deleteSharedApp,
  platformNamespace,
  readSharedApp,
  readyIps,
  recordSlices,
  registryValidator,
  waitForSliceOn,
} from "./support/app.js";
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
const apps = admin.makeApiClient(k8s.AppsV1Api);
const policy = admin.makeApiClient(k8s.PolicyV1Api);

const laneSelector = (version: string): string => `tenancy.dev/component=shared-app,tenancy.dev/app-version=${version}`;
const dedicatedSelector = (tenantId: string): string =>
  `tenancy.dev/component=dedicated-app,tenancy.dev/tenant-id=${tenantId}`;
const appResources = { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } };
const created: string[] = [];

async function tenant(name: string, spec: Parameters<typeof applyTenant>[2]): Promise<Tenant> {
  created.push(name);
  await applyTenant(cluster, name, spec);
  return waitForReady(cluster, name, 120_000);
}

async function waitForApp(name: string, mode: string, version: string, readyReplicas: number): Promise<Tenant> {
  return eventually(
    `Tenant ${name} app ${mode} ${version} with ${readyReplicas} ready`,
    async () => {
      const current = await readTenant(cluster, name);
      const app = current?.status?.app;
      const ok = app?.mode === mode && app.version === version && app.readyReplicas === readyReplicas;
      if (ok) return current;
      throw new Error(`status.app ${JSON.stringify(app)}; AppReady ${condition(current, "AppReady")?.message}`);
    },
    120_000,
  );
}

beforeAll(async () => {
  await applySharedApp(cluster, {
    image: { repository: "registry.example/shop" },
    channelVersion: "1.1.0",
    supportedVersions: ["1.0.0", "1.1.0"],
    replicas: 2,
    resources: appResources,
    config: { "log.level": "info" },
    rollout: { waveSize: 50, waveTimeoutSeconds: 120 },
  });
});

afterAll(async () => {
  for (const name of created) await deleteTenant(cluster, name);
  await deleteSharedApp(cluster);
});

describe("shared app", () => {
  test("tiers run side by side", async () => {
    const shared = uniqueName("app-shared");
    const pinned = uniqueName("app-pinned");
    const dedicated = uniqueName("app-dedi");
    const onNodes = uniqueName("app-nodes");
    const quota = { perNamespace: { pods: "6", "requests.cpu": "1", "limits.memory": "1Gi" } };
    await Promise.all([
      tenant(shared, { namespaces: [{ name: "dev" }, { name: "prod" }] }),
      tenant(pinned, { namespaces: [{ name: "dev" }], app: { version: "1.0.0" } }),
      tenant(dedicated, { namespaces: [{ name: "dev" }], quota, app: { mode: "Dedicated", replicas: 2 } }),
      tenant(onNodes, {
        namespaces: [{ name: "dev" }],
        quota,
        placement: { pool: "dedicated-c" },
        app: { mode: "Dedicated", replicas: 1, resources: appResources },
      }),
    ]);
    const ids = Object.fromEntries(
      await Promise.all(
        [shared, pinned, dedicated, onNodes].map(async (name) => [
          name,
          (await readTenant(cluster, name))!.status!.tenantId!,
        ]),
      ),
    ) as Record<string, string>;

    // Lanes: one for each version in use, with Service and PodDisruptionBudget, on the shared nodes.
    for (const version of ["1.0.0", "1.1.0"]) {
      const name = `app-${version.replace(/\./g, "-")}`;
      const lane = await apps.readNamespacedDeployment({ name, namespace: platformNamespace });
      expect(lane.metadata!.labels).toMatchObject({
        "app.kubernetes.io/managed-by": "tenant-operator",
        "tenancy.dev/component": "shared-app",
      });
      expect(lane.spec!.template.spec!.containers[0]!.image).toBe(`registry.example/shop:${version}`);
      expect(lane.spec!.replicas).toBe(2);
      expect((await core.readNamespacedService({ name, namespace: platformNamespace })).spec!.selector).toEqual(
        lane.spec!.selector.matchLabels,
      );
      expect(
        (await policy.readNamespacedPodDisruptionBudget({ name, namespace: platformNamespace })).spec!.maxUnavailable,
      ).toBe(1);
      const pods = await core.listNamespacedPod({ namespace: platformNamespace, labelSelector: laneSelector(version) });
      expect(new Set(pods.items.map((pod) => pod.spec!.nodeName!.replace(/-\d+$/, "")))).toEqual(new Set(["general"]));
    }

    // Endpoints: each tenant's `app` Service points at the pods that serve it, in every namespace.
    for (const namespace of [`${shared}-dev`, `${shared}-prod`]) {
      await waitForSliceOn(cluster, namespace, "1.1.0", platformNamespace, laneSelector("1.1.0"));
      const service = await core.readNamespacedService({ name: "app", namespace });
      expect(service.spec!.selector).toBeUndefined();
      expect(service.metadata!.labels).toMatchObject({
        "app.kubernetes.io/managed-by": "tenant-operator",
        "tenancy.dev/tenant": shared,
        "tenancy.dev/tenant-id": ids[shared],
      });
    }
    await waitForSliceOn(cluster, `${pinned}-dev`, "1.0.0", platformNamespace, laneSelector("1.0.0"));
    const dedicatedSlice = await waitForSliceOn(
      cluster,
      `${dedicated}-dev`,
      "1.1.0",
      `${dedicated}-dev`,
      dedicatedSelector(ids[dedicated]!),
    );
    expect(readyIps(dedicatedSlice)).toHaveLength(2);
    expect(dedicatedSlice.metadata!.labels).toMatchObject({
      "kubernetes.io/service-name": "app",
      "endpointslice.kubernetes.io/managed-by": "tenant-operator",
      "tenancy.dev/tenant-id": ids[dedicated],
    });
    await waitForSliceOn(cluster, `${onNodes}-dev`, "1.1.0", `${onNodes}-dev`, dedicatedSelector(ids[onNodes]!));

    // Status of each tenant.
    expect((await waitForApp(shared, "Shared", "1.1.0", 2)).status!.tier).toBe("Shared");
    await waitForApp(pinned, "Shared", "1.0.0", 2);
    await waitForApp(dedicated, "Dedicated", "1.1.0", 2);
    expect((await waitForApp(onNodes, "Dedicated", "1.1.0", 1)).status!.tier).toBe("DedicatedNodes");

    // Dedicated instances: restricted pods with resources, placed by the tenant's namespace.
    const dedicatedPods = await core.listNamespacedPod({
      namespace: `${dedicated}-dev`,
      labelSelector: dedicatedSelector(ids[dedicated]!),
    });
    const container = dedicatedPods.items[0]!.spec!.containers[0]!;
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(dedicatedPods.items[0]!.spec!.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.resources!.requests).toEqual({ cpu: "50m", memory: "32Mi" });
    const quotaUsed = await core.readNamespacedResourceQuota({ name: "tenant-quota", namespace: `${dedicated}-dev` });
    await eventually("dedicated pods counted in the quota", async () => {
      const current = await core.readNamespacedResourceQuota({ name: "tenant-quota", namespace: `${dedicated}-dev` });
      return current.status?.used?.pods === "2";
    });
    expect(quotaUsed.spec!.hard!.pods).toBe("6");
    const nodePods = await core.listNamespacedPod({
      namespace: `${onNodes}-dev`,
      labelSelector: dedicatedSelector(ids[onNodes]!),
    });
    expect(nodePods.items.map((pod) => pod.spec!.nodeName)).toEqual(["dedicated-c-1"]);

    // Registry: one key per lane, valid against the schema; Shared tenants in their lane's key.
    const validate = registryValidator();
    const registry = await eventually("registry lists the tenants", async () => {
      const configMap = await core.readNamespacedConfigMap({ name: "tenant-registry", namespace: platformNamespace });
      const lanes = Object.fromEntries(
        Object.entries(configMap.data ?? {}).map(([key, value]) => [
          key,
          JSON.parse(value) as { tenants: { name: string }[] },
        ]),
      );
      const names = (key: string): string[] => lanes[key]?.tenants.map((entry) => entry.name) ?? [];
      return names("1.1.0.json").includes(shared) && names("1.0.0.json").includes(pinned) ? configMap : undefined;
    });
    expect(registry.metadata!.labels).toMatchObject({ "tenancy.dev/component": "shared-app" });
    for (const [key, value] of Object.entries(registry.data!)) {
      const valid = validate(JSON.parse(value));
      expect([key, valid, validate.errors ?? []]).toEqual([key, true, []]);
    }
    const lane10 = JSON.parse(registry.data!["1.0.0.json"]!) as { version: string; tenants: Record<string, unknown>[] };
    expect(lane10.version).toBe("1.0.0");
    expect(lane10.tenants.find((entry) => entry.name === pinned)).toEqual({
      id: ids[pinned],
      name: pinned,
      version: "1.0.0",
      mode: "Shared",
      namespaces: [`${pinned}-dev`],
      settings: { pinned: true, suspended: false, tier: "Shared" },
    });
    const lane11 = JSON.parse(registry.data!["1.1.0.json"]!) as { tenants: { name: string; namespaces: string[] }[] };
    expect(lane11.tenants.find((entry) => entry.name === shared)!.namespaces).toEqual([
      `${shared}-dev`,
      `${shared}-prod`,
    ]);
    expect(lane11.tenants.some((entry) => entry.name === dedicated)).toBe(false);

    // SharedApp status: every tenant with its assigned and running version.
    const app = await eventually("SharedApp status lists the tenants", async () => {
      const current = await readSharedApp(cluster);
      const entry = current?.status?.tenants?.find((each) => each.name === onNodes);
      return entry?.runningVersion === "1.1.0" ? current : undefined;
    });
    expect(app.status!.tenants!.find((entry) => entry.name === pinned)).toMatchObject({
      tenantId: ids[pinned],
      pinned: true,
      assignedVersion: "1.0.0",
      runningVersion: "1.0.0",
    });
    expect(app.status!.laneVersions).toBe("1.0.0,1.1.0");

    for (const name of [shared, pinned, dedicated, onNodes]) await deleteTenant(cluster, name);
  });

  test("unsupported pin is reported in tenant status", async () => {
    const name = uniqueName("app-bad-pin");
    created.push(name);
    await applyTenant(cluster, name, { namespaces: [{ name: "dev" }], app: { version: "0.9.0" } });

    const reported = await waitForCondition(cluster, name, "AppReady", "False", 120_000);

    const appReady = condition(reported, "AppReady")!;
    expect(appReady.reason).toBe("UnsupportedVersion");
    expect(appReady.message).toContain('spec.app.version "0.9.0" is not supported by SharedApp "platform"');
    expect(appReady.message).toContain("(supported versions: 1.0.0, 1.1.0)");
    await waitForSliceOn(cluster, `${name}-dev`, "1.1.0", platformNamespace, laneSelector("1.1.0"));
    await deleteTenant(cluster, name);
  });

  test("tier and lane moves keep ready endpoints", async () => {
    const name = uniqueName("app-move");
    const namespace = `${name}-dev`;
    await tenant(name, { namespaces: [{ name: "dev" }], quota: { perNamespace: { pods: "4" } } });
    const tenantId = (await readTenant(cluster, name))!.status!.tenantId!;
    await waitForSliceOn(cluster, namespace, "1.1.0", platformNamespace, laneSelector("1.1.0"));
    const service = await core.readNamespacedService({ name: "app", namespace });
    const recording = await recordSlices(cluster, namespace);

    try {
      // Shared to Dedicated: the instance comes up, then the endpoints move to it.
      await applyTenant(cluster, name, {
        namespaces: [{ name: "dev" }],
        quota: { perNamespace: { pods: "4" } },
        app: { mode: "Dedicated", replicas: 2, resources: appResources },
      });
      await waitForSliceOn(cluster, namespace, "1.1.0", namespace, dedicatedSelector(tenantId));
      await waitForApp(name, "Dedicated", "1.1.0", 2);

      // Dedicated to Shared: the endpoints move to the lane, then the instance goes.
      await applyTenant(cluster, name, { namespaces: [{ name: "dev" }], quota: { perNamespace: { pods: "4" } } });
      await waitForSliceOn(cluster, namespace, "1.1.0", platformNamespace, laneSelector("1.1.0"));
      await eventually(
        "dedicated instance removed",
        async () => (await statusOf(apps.readNamespacedDeployment({ name: "app-dedicated", namespace }))) === 404,
      );

      // Lane to lane: pinned to 1.0.0 and back to the channel.
      await applyTenant(cluster, name, {
        namespaces: [{ name: "dev" }],
        quota: { perNamespace: { pods: "4" } },
        app: { version: "1.0.0" },
      });
      await waitForSliceOn(cluster, namespace, "1.0.0", platformNamespace, laneSelector("1.0.0"));
      await applyTenant(cluster, name, { namespaces: [{ name: "dev" }], quota: { perNamespace: { pods: "4" } } });
      await waitForSliceOn(cluster, namespace, "1.1.0", platformNamespace, laneSelector("1.1.0"));
      await waitForApp(name, "Shared", "1.1.0", 2);
    } finally {
      recording.stop();
    }

    // Every state the watch saw had ready endpoints, and the Service never changed.
    const { events } = recording;
    expect(events.length).toBeGreaterThan(3);
    expect(events.filter((event) => event.readyIps.length === 0)).toEqual([]);
    expect(new Set(events.map((event) => `${event.source}/${event.version}`))).toEqual(
      new Set(["lane/1.1.0", "dedicated/1.1.0", "lane/1.0.0"]),
    );
    const after = await core.readNamespacedService({ name: "app", namespace });
    expect([after.metadata!.uid, after.spec!.clusterIP]).toEqual([service.metadata!.uid, service.spec!.clusterIP]);

    // The 1.0.0 lane has no tenant left and goes.
    await eventually(
      "lane app-1-0-0 removed",
      async () =>
        (await statusOf(apps.readNamespacedDeployment({ name: "app-1-0-0", namespace: platformNamespace }))) === 404,
    );
    await deleteTenant(cluster, name);
  });

  test("suspend and resume round-trip replica counts", async () => {
    const name = uniqueName("app-pause");
    const owner = uniqueName("app-pause-owner");
    const namespace = `${name}-dev`;
    const spec = {
      owners: [{ kind: "User" as const, name: owner }],
      namespaces: [{ name: "dev" }],
      quota: { perNamespace: { pods: "10" } },
      app: { mode: "Dedicated" as const, replicas: 2, resources: appResources },
    };
    await tenant(name, spec);
    const workload = (kind: "web" | "idle", replicas: number): k8s.V1Deployment => ({
      metadata: { name: kind },
      spec: { replicas, selector: { matchLabels: { app: kind } }, template: restrictedPodTemplate(kind) },
    });
    await apps.createNamespacedDeployment({ namespace, body: workload("web", 3) });
    await apps.createNamespacedDeployment({ namespace, body: workload("idle", 0) });
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: "db" },
        spec: {
          replicas: 2,
          serviceName: "db",
          selector: { matchLabels: { app: "db" } },
          template: restrictedPodTemplate("db"),
        },
      },
    });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "data" }, data: { keep: "me" } } });

    await eventually(
      "tenant pods running",
      async () => (await core.listNamespacedPod({ namespace })).items.length === 7,
    );
    // Each workload's replicas and recorded count.
    const replicas = async (): Promise<Record<string, [number | undefined, string | undefined]>> => {
      const deployments = (await apps.listNamespacedDeployment({ namespace })).items;
      const statefulSets = (await apps.listNamespacedStatefulSet({ namespace })).items;
      return Object.fromEntries(
        [...deployments, ...statefulSets].map((each) => [
          each.metadata!.name!,
          [each.spec!.replicas, each.metadata!.annotations?.["tenancy.dev/suspended-replicas"]],
        ]),
      );
    };

    // Suspend: every workload at zero, its count recorded; new pods refused.
    await applyTenant(cluster, name, { ...spec, suspended: true });
    await eventually("workloads suspended", async () => {
      const current = await replicas();
      const expected = { "app-dedicated": [0, "2"], web: [0, "3"], idle: [0, "0"], db: [0, "2"] };
      if (isDeepStrictEqual(current, expected)) return true;
      throw new Error(JSON.stringify(current));
    });
    const suspended = await waitForReady(cluster, name);
    expect(suspended.status!.phase).toBe("Suspended");
    expect(condition(suspended, "SuspendApplied")).toMatchObject({ status: "True", reason: "Suspended" });
    const userCore = (await cluster.mintUser(owner)).kubeConfig.makeApiClient(k8s.CoreV1Api);
    const message = await eventually("owner's pod rejected as suspended", async () => {
      const text = await rejectionMessage(
        userCore.createNamespacedPod({
          namespace,
          body: { metadata: { name: "sneak" }, spec: restrictedPodTemplate("x").spec! },
        }),
      );
      return text.includes("suspended") ? text : undefined;
    });
    expect(message).toContain(`tenant "${name}" is suspended; no new pods start until it is resumed`);

    // A workload its owner scales up while suspended gets no pods: the ReplicaSet controller is refused too.
    const userApps = (await cluster.mintUser(owner)).kubeConfig.makeApiClient(k8s.AppsV1Api);
    await userApps.patchNamespacedDeploymentScale(
      { name: "web", namespace, body: { spec: { replicas: 3 } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const refused = await eventually("replica set refused while suspended", async () => {
      const events = await core.listNamespacedEvent({ namespace });
      return events.items.find((event) => event.reason === "FailedCreate" && event.message?.includes("is suspended"));
    });
    expect(refused.message).toContain(`tenant "${name}" is suspended; no new pods start until it is resumed`);
    expect(
      (await core.listNamespacedPod({ namespace })).items.filter((pod) => pod.metadata?.labels?.app === "web"),
    ).toEqual([]);

    // Resume: exactly the recorded counts, annotations gone, data kept.
    await applyTenant(cluster, name, spec);
    await eventually("workloads resumed", async () => {
      const current = await replicas();
      const expected = {
        "app-dedicated": [2, undefined],
        web: [3, undefined],
        idle: [0, undefined],
        db: [2, undefined],
      };
      if (isDeepStrictEqual(current, expected)) return true;
      throw new Error(JSON.stringify(current));
    });
    expect((await core.readNamespacedConfigMap({ name: "data", namespace })).data).toEqual({ keep: "me" });
    await waitForApp(name, "Dedicated", "1.1.0", 2);
    await deleteTenant(cluster, name);
  });

  test("invalid SharedApp is rejected naming the field", async () => {
    const failure = (spec: object, name = "platform"): Promise<string> =>
      cluster
        .kubectl(
          ["apply", "--dry-run=server", "-f", "-"],
          undefined,
          JSON.stringify({ apiVersion: "tenancy.dev/v1alpha1", kind: "SharedApp", metadata: { name }, spec }),
        )
        .then(
          () => "accepted",
          (error: { stderr: string }) => error.stderr,
        );
    const valid = {
      image: { repository: "registry.example/shop" },
      channelVersion: "1.1.0",
      supportedVersions: ["1.1.0"],
    };

    expect(await failure({ ...valid, channelVersion: "2.0.0" })).toContain(
      "spec.channelVersion must be one of spec.supportedVersions",
    );
    expect(await failure(valid, "second")).toContain('metadata.name must be "platform"');
    expect(await failure({ ...valid, supportedVersions: ["1.1.0", "1-1-0"] })).toContain(
      "spec.supportedVersions must stay distinct",
    );
    expect(await failure({ ...valid, versionOverrides: { "9.9": {} } })).toContain(
      "spec.versionOverrides keys must be listed in spec.supportedVersions",
    );
    expect(await failure({ ...valid, rollout: { waveSize: 0 } })).toContain("spec.rollout.waveSize");
  });
});
