// The shared app's pure parts: lane and dedicated builders, the tenant's Service and EndpointSlice, the registry
// and its JSON Schema, the serving choice during moves, and the suspend planner.
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { SharedApp } from "../../src/api/generated.js";
import { buildDedicatedInstance } from "../../src/app/desired/dedicated.js";
import { buildTenantEndpointSlices, buildTenantServices, type ServingPod } from "../../src/app/desired/endpoints.js";
import { buildLane, buildPlatformConfig, parseSelector } from "../../src/app/desired/lanes.js";
import { buildRegistry, type RegistryTenant } from "../../src/app/desired/registry.js";
import { endpointSliceName, laneName } from "../../src/app/names.js";
import { chooseServing, type Candidate } from "../../src/app/serving.js";
import { resolveSettings } from "../../src/app/settings.js";
import { planScaleActions, type Workload } from "../../src/app/suspend.js";
import type { TenantContext } from "../../src/tenant/desired/types.js";
import { withDefaults } from "../../src/tenant/effective.js";

const sharedApp: SharedApp = {
  metadata: { name: "platform" },
  spec: {
    image: { repository: "registry.example/shop" },
    channelVersion: "1.1.0",
    supportedVersions: ["1.0.0", "1.1.0"],
    replicas: 3,
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
    config: { "log.level": "info" },
    versionOverrides: { "1.1.0": { resources: { requests: { cpu: "1" } }, nodeSelector: { disk: "ssd" } } },
  },
};
const settings = resolveSettings(sharedApp);

function context(overrides: Partial<TenantContext> = {}): TenantContext {
  return {
    tenant: "acme",
    tenantId: "t0123456789a",
    spec: withDefaults({ app: { mode: "Dedicated", replicas: 2 } }),
    namespaces: ["acme-dev", "acme-prod"],
    platform: {
      sharedNodeSelector: "tenancy.dev/pool=general",
      dnsNamespace: "kube-system",
      ownerClusterRoles: { admin: "a", edit: "e", view: "v" },
    },
    ...overrides,
  };
}

const pod = (name: string, ip: string, namespace = "tenant-platform"): ServingPod => ({
  name,
  namespace,
  uid: `uid-${name}`,
  ip,
  nodeName: "general-1",
});

describe("lane builder", () => {
  test("lane is named for its version and leaves replicas out", () => {
    const lane = buildLane(settings, "1.0.0", "tenancy.dev/pool=general");

    expect(laneName("1.0.0")).toBe("app-1-0-0");
    expect(lane.deployment.metadata).toMatchObject({ name: "app-1-0-0", namespace: "tenant-platform" });
    expect(lane.deployment.metadata!.labels).toEqual({
      "app.kubernetes.io/managed-by": "tenant-operator",
      "tenancy.dev/component": "shared-app",
      "tenancy.dev/app-version": "1.0.0",
    });
    expect(lane.deployment.spec!.replicas).toBeUndefined();
    expect(lane.deployment.spec!.selector.matchLabels).toEqual({
      "tenancy.dev/component": "shared-app",
      "tenancy.dev/app-version": "1.0.0",
    });
    const podSpec = lane.deployment.spec!.template.spec!;
    expect(podSpec.containers[0]!.image).toBe("registry.example/shop:1.0.0");
    expect(podSpec.nodeSelector).toEqual({ "tenancy.dev/pool": "general" });
    expect(podSpec.containers[0]!.resources).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { memory: "256Mi" },
    });
    expect(podSpec.volumes![1]!.configMap!.items).toEqual([{ key: "1.0.0.json", path: "tenants.json" }]);
    expect(lane.service.spec!.selector).toEqual(lane.deployment.spec!.selector.matchLabels);
    expect(lane.podDisruptionBudget.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: lane.deployment.spec!.selector.matchLabels },
    });
  });

  test("version override replaces resources and adds node selector", () => {
    const podSpec = buildLane(settings, "1.1.0", "tenancy.dev/pool=general").deployment.spec!.template.spec!;

    expect(podSpec.containers[0]!.resources).toEqual({ requests: { cpu: "1" } });
    expect(podSpec.nodeSelector).toEqual({ "tenancy.dev/pool": "general", disk: "ssd" });
  });

  test("lane pods pass Pod Security restricted", () => {
    const podSpec = buildLane(settings, "1.0.0", "").deployment.spec!.template.spec!;
    const container = podSpec.containers[0]!;

    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(podSpec.nodeSelector).toBeUndefined();
  });

  test("platform config holds the app config", () => {
    expect(buildPlatformConfig(settings).data).toEqual({ "log.level": "info" });
    expect(parseSelector("a=b, c=d,,bad")).toEqual({ a: "b", c: "d" });
  });
});

describe("dedicated instance builder", () => {
  test("instance goes in the first namespace with ownership labels", () => {
    const instance = buildDedicatedInstance(context(), settings, "1.0.0")!;

    expect(instance.namespace).toBe("acme-dev");
    expect(instance.deployment.metadata!.name).toBe("app-dedicated");
    expect(instance.deployment.metadata!.labels).toMatchObject({
      "app.kubernetes.io/managed-by": "tenant-operator",
      "tenancy.dev/tenant": "acme",
      "tenancy.dev/tenant-id": "t0123456789a",
      "tenancy.dev/component": "dedicated-app",
      "tenancy.dev/app-version": "1.0.0",
    });
    expect(instance.deployment.spec!.replicas).toBeUndefined();
    const podSpec = instance.deployment.spec!.template.spec!;
    expect(podSpec.nodeSelector).toBeUndefined();
    expect(podSpec.containers[0]!.env).toEqual([
      { name: "APP_MODE", value: "Dedicated" },
      { name: "APP_VERSION", value: "1.0.0" },
      { name: "TENANT_ID", value: "t0123456789a" },
      { name: "TENANT_NAME", value: "acme" },
    ]);
  });

  test("tenant resources win over the app's", () => {
    const spec = withDefaults({ app: { mode: "Dedicated", resources: { requests: { cpu: 2 } } } });
    const instance = buildDedicatedInstance(context({ spec }), settings, "1.1.0")!;

    expect(instance.deployment.spec!.template.spec!.containers[0]!.resources).toEqual({ requests: { cpu: "2" } });
    expect(instance.deployment.spec!.template.spec!.nodeSelector).toBeUndefined();
  });

  test("tenant without namespaces has no instance", () => {
    expect(buildDedicatedInstance(context({ namespaces: [] }), settings, "1.0.0")).toBeUndefined();
  });
});

describe("tenant endpoints builder", () => {
  test("one selectorless Service and one EndpointSlice per namespace", () => {
    const services = buildTenantServices(context(), 8080);
    const slices = buildTenantEndpointSlices(context(), 8080, { kind: "lane", version: "1.1.0" }, [
      pod("b", "10.244.0.2"),
      pod("a", "10.244.0.1"),
    ]);

    expect(services.map((service) => `${service.metadata!.namespace}/${service.metadata!.name}`)).toEqual([
      "acme-dev/app",
      "acme-prod/app",
    ]);
    expect(services[0]!.spec!.selector).toBeUndefined();
    expect(services[0]!.spec!.ports).toEqual([{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }]);
    expect(slices[0]!.metadata!.name).toBe(endpointSliceName("acme-dev"));
    expect(slices[0]!.metadata!.name).toMatch(/^app-[0-9a-f]{5}$/);
    expect(slices[0]!.metadata!.labels).toMatchObject({
      "kubernetes.io/service-name": "app",
      "endpointslice.kubernetes.io/managed-by": "tenant-operator",
      "tenancy.dev/tenant-id": "t0123456789a",
      "tenancy.dev/app-version": "1.1.0",
    });
    expect(slices[0]!.metadata!.annotations).toEqual({ "tenancy.dev/app-source": "lane" });
    expect(slices[0]!.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(slices[0]!.endpoints.map((endpoint) => endpoint.addresses[0])).toEqual(["10.244.0.1", "10.244.0.2"]);
    expect(slices[0]!.endpoints[0]!.targetRef).toEqual({
      kind: "Pod",
      namespace: "tenant-platform",
      name: "a",
      uid: "uid-a",
    });
  });
});

describe("serving choice", () => {
  const lane = (version: string, pods: ServingPod[], available: boolean): Candidate => ({
    source: { kind: "lane", version },
    pods,
    available,
  });

  test("available target takes the endpoints", () => {
    const choice = chooseServing(
      lane("1.1.0", [pod("new", "10.0.0.2")], true),
      lane("1.0.0", [pod("old", "10.0.0.1")], false),
    );
    expect(choice).toMatchObject({ source: { version: "1.1.0" }, onTarget: true });
  });

  test("endpoints stay on old pods until target is available", () => {
    const choice = chooseServing(
      lane("1.1.0", [pod("new", "10.0.0.2")], false),
      lane("1.0.0", [pod("old", "10.0.0.1")], false),
    );
    expect(choice).toMatchObject({ source: { version: "1.0.0" }, onTarget: false });
    expect(choice.pods.map((each) => each.name)).toEqual(["old"]);
  });

  test("target's ready pods serve when nothing else can", () => {
    const choice = chooseServing(lane("1.1.0", [pod("new", "10.0.0.2")], false), lane("1.0.0", [], false));
    expect(choice).toMatchObject({ source: { version: "1.1.0" }, onTarget: false });
    expect(choice.pods).toHaveLength(1);
  });

  test("dedicated target waits while the lane serves", () => {
    const dedicated: Candidate = { source: { kind: "dedicated", version: "1.1.0" }, pods: [], available: false };
    const choice = chooseServing(dedicated, lane("1.1.0", [pod("lane", "10.0.0.3")], false));
    expect(choice.source).toEqual({ kind: "lane", version: "1.1.0" });
  });
});

describe("tenant registry", () => {
  const schema = JSON.parse(readFileSync(new URL("../../docs/tenant-registry.schema.json", import.meta.url), "utf8"));
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
  const entry = (name: string, version: string): RegistryTenant => ({
    id: `t${name
      .padEnd(11, "0")
      .slice(0, 11)
      .replace(/[^0-9a-f]/g, "a")}`,
    name,
    version,
    mode: "Shared",
    namespaces: [`${name}-dev`],
    settings: { pinned: false, suspended: false, tier: "Shared" },
  });

  test("one key per lane, tenants sorted, valid against the schema", () => {
    const registry = buildRegistry(
      "tenant-platform",
      new Map([
        ["1.1.0", [entry("zed", "1.1.0"), entry("acme", "1.1.0")]],
        ["1.0.0", [entry("old", "1.0.0")]],
      ]),
    );

    expect(Object.keys(registry.data!)).toEqual(["1.0.0.json", "1.1.0.json"]);
    const document = JSON.parse(registry.data!["1.1.0.json"]!);
    expect(document.tenants.map((tenant: RegistryTenant) => tenant.name)).toEqual(["acme", "zed"]);
    for (const value of Object.values(registry.data!)) {
      expect(validate(JSON.parse(value))).toBe(true);
    }
  });

  test("schema rejects an entry without an id", () => {
    const { id: _id, ...withoutId } = entry("acme", "1.1.0");
    const valid = validate({ schemaVersion: 1, version: "1.1.0", tenants: [withoutId] });

    expect(valid).toBe(false);
    expect(validate.errors![0]!.message).toBe("must have required property 'id'");
  });

  test("empty registry has no data", () => {
    expect(buildRegistry("tenant-platform", new Map()).data).toBeUndefined();
  });
});

describe("suspend planner", () => {
  const workload = (name: string, replicas: number, recorded?: string): Workload => ({
    kind: "Deployment",
    namespace: "acme-dev",
    name,
    resourceVersion: "1",
    replicas,
    recorded,
  });

  test("suspend records counts before scaling to zero", () => {
    const actions = planScaleActions([workload("web", 3), workload("idle", 0), workload("again", 2, "5")], true);

    expect(
      actions.map((action) => [action.type, action.workload.name, "replicas" in action ? action.replicas : undefined]),
    ).toEqual([
      ["record", "web", 3],
      ["scale", "web", 0],
      ["record", "idle", 0],
      ["scale", "again", 0],
    ]);
  });

  test("resume restores the recorded count and forgets it", () => {
    const actions = planScaleActions([workload("web", 0, "3"), workload("idle", 0, "0"), workload("new", 4)], false);

    expect(
      actions.map((action) => [action.type, action.workload.name, "replicas" in action ? action.replicas : undefined]),
    ).toEqual([
      ["scale", "web", 3],
      ["forget", "web", undefined],
      ["forget", "idle", undefined],
    ]);
  });

  test("resume reports a recorded count that is not a number", () => {
    const actions = planScaleActions([workload("web", 0, "three")], false);

    expect(actions).toEqual([
      {
        type: "invalid",
        workload: workload("web", 0, "three"),
        reason: 'annotation tenancy.dev/suspended-replicas="three" is not a replica count',
      },
    ]);
  });
});
