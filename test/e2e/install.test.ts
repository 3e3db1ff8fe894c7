// The two ways a platform engineer installs the operator: the Helm chart in helm/tenant-operator and the plain
// manifests in crds/ and manifests/. With default values the chart renders the same objects, and both pass the
// API server's validation. globalSetup applies manifests/, operator Deployment included, whose pods land on kwok
// nodes and run nothing. The last test checks that they do not disturb the operator process that the tests run.
//
// helm is built from its Go module by `bash test/cluster/tools/build.sh helm` into the same cache folder as the
// cluster's binaries; this file does not build it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import yaml from "js-yaml";
import { eventually, sharedCluster } from "./support/cluster.js";

const execFileAsync = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const chart = path.join(root, "helm", "tenant-operator");
const operatorNamespace = "tenant-operator-system";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const helmPath = path.join(cluster.info.binDir, "helm");

interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}

let helmHome: string;

beforeAll(async () => {
  if (!existsSync(helmPath)) {
    throw new Error(`${helmPath} is missing: build it once with \`bash test/cluster/tools/build.sh helm\``);
  }
  // Helm's cache, config and data folders, so that the tests never touch the user's own.
  helmHome = await mkdtemp(path.join(os.tmpdir(), "tenant-operator-helm-"));
});

afterAll(async () => {
  if (helmHome) await rm(helmHome, { recursive: true, force: true });
});

async function helm(args: readonly string[]): Promise<string> {
  const env = {
    ...process.env,
    HELM_CACHE_HOME: path.join(helmHome, "cache"),
    HELM_CONFIG_HOME: path.join(helmHome, "config"),
    HELM_DATA_HOME: path.join(helmHome, "data"),
  };
  try {
    const { stdout } = await execFileAsync(helmPath, args, { env, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`helm ${args.join(" ")} failed:\n${stderr ?? ""}${stdout ?? ""}`, { cause: error });
  }
}

/** `helm template` of the chart, CRDs included, with `values` written to a values file. */
async function renderChart(values: Record<string, unknown> = {}): Promise<string> {
  const valuesFile = path.join(helmHome, `values-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(valuesFile, JSON.stringify(values));
  return helm(["template", "tenant-operator", chart, "--include-crds", "--values", valuesFile]);
}

function parseAll(text: string): KubeManifest[] {
  return yaml.loadAll(text).filter((document): document is KubeManifest => document !== null && document !== undefined);
}

function keyOf(object: KubeManifest): string {
  return `${object.kind} ${object.metadata.namespace ? object.metadata.namespace + "/" : ""}${object.metadata.name}`;
}

function byKey(objects: KubeManifest[]): Map<string, KubeManifest> {
  const map = new Map<string, KubeManifest>();
  for (const object of objects) {
    if (map.has(keyOf(object))) throw new Error(`${keyOf(object)} appears twice`);
    map.set(keyOf(object), object);
  }
  return map;
}

/** Reads every object in crds/ and manifests/, as `kubectl apply -f crds/ -f manifests/` sends them. */
async function plainManifests(): Promise<KubeManifest[]> {
  const objects: KubeManifest[] = [];
  for (const folder of ["crds", "manifests"]) {
    for (const file of (await readdir(path.join(root, folder))).filter((name) => name.endsWith(".yaml")).sort()) {
      objects.push(...parseAll(await readFile(path.join(root, folder, file), "utf8")));
    }
  }
  return objects;
}

function deploymentOf(objects: KubeManifest[]): k8s.V1Deployment {
  const deployment = objects.find(
    (object) => object.kind === "Deployment" && object.metadata.name === "tenant-operator",
  );
  if (!deployment) throw new Error("Deployment tenant-operator not found in the rendered objects");
  return deployment as unknown as k8s.V1Deployment;
}

/** Builds a Pod from the Deployment's template, to check the template against Pod Security admission. */
function podFromTemplate(deployment: k8s.V1Deployment, name: string): k8s.V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: deployment.metadata!.namespace, labels: { "install-test": "true" } },
    spec: deployment.spec!.template.spec!,
  };
}

const selfServiceValues = {
  selfService: {
    enabled: true,
    tlsSecretName: "operator-api-tls",
    oidc: { issuerUrl: "https://issuer.example", clientId: "tenant-api", caConfigMap: "oidc-ca" },
  },
  sharedNodeSelector: "tenancy.dev/pool=general",
};

describe("install with Helm", () => {
  test("lint passes with default and API values", async () => {
    const output = await helm(["lint", "--strict", chart]);
    expect(output).toContain("0 chart(s) failed");

    const valuesFile = path.join(helmHome, "lint-values.json");
    await writeFile(valuesFile, JSON.stringify(selfServiceValues));
    expect(await helm(["lint", "--strict", chart, "--values", valuesFile])).toContain("0 chart(s) failed");
  });

  test("default values render crds/ and manifests/", async () => {
    const rendered = byKey(parseAll(await renderChart()));
    const plain = byKey(await plainManifests());

    // The same kinds and names, and then the same content, object by object, so a failure names the object.
    const missing = [...plain.keys()].filter((key) => !rendered.has(key));
    const extra = [...rendered.keys()].filter((key) => !plain.has(key));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `the chart and crds/ + manifests/ differ: missing from the chart [${missing.join(", ")}], only in the chart ` +
          `[${extra.join(", ")}]; copy crds/*.yaml to helm/tenant-operator/crds/ and carry manifests/ changes over ` +
          "to helm/tenant-operator/templates/",
      );
    }
    for (const [key, object] of plain) {
      expect({ [key]: rendered.get(key) }).toEqual({ [key]: object });
    }
  });

  test("namespace value reaches every object", async () => {
    const namespace = "platform-tenancy";
    const text = await renderChart({ ...selfServiceValues, namespace: { name: namespace } });
    const objects = parseAll(text);

    expect(text).not.toContain(operatorNamespace);
    expect(objects.find((object) => object.kind === "Namespace")?.metadata.name).toBe(namespace);
    const namespaced = objects.filter((object) => object.metadata.namespace !== undefined);
    expect(namespaced.map(keyOf).sort()).toEqual([
      `Deployment ${namespace}/tenant-operator`,
      `PodDisruptionBudget ${namespace}/tenant-operator`,
      `Role ${namespace}/tenancy:operator-leader-election`,
      `RoleBinding ${namespace}/tenancy:operator-leader-election`,
      `Service ${namespace}/tenant-operator-api`,
      `Service ${namespace}/tenant-operator-metrics`,
      `ServiceAccount ${namespace}/tenant-operator`,
    ]);
    for (const object of objects.filter((each) => each.kind === "ClusterRoleBinding" || each.kind === "RoleBinding")) {
      expect((object as unknown as k8s.V1RoleBinding).subjects).toEqual([
        { kind: "ServiceAccount", name: "tenant-operator", namespace },
      ]);
    }
    // Every admission policy exempts the operator under its new name.
    const policies = objects.filter((object) => object.kind === "ValidatingAdmissionPolicy");
    expect(policies).toHaveLength(6);
    for (const policy of policies) {
      expect(JSON.stringify(policy.spec)).toContain(`system:serviceaccount:${namespace}:tenant-operator`);
    }

    const container = deploymentOf(objects).spec!.template.spec!.containers[0]!;
    expect(container.args).toEqual(
      expect.arrayContaining([
        "--api-address=0.0.0.0:8443",
        "--api-tls-cert=/etc/tenant-operator/api-tls/tls.crt",
        "--api-tls-key=/etc/tenant-operator/api-tls/tls.key",
        "--oidc-issuer-url=https://issuer.example",
        "--oidc-client-id=tenant-api",
        "--oidc-ca-file=/etc/tenant-operator/oidc-ca/ca.crt",
        "--shared-node-selector=tenancy.dev/pool=general",
      ]),
    );
    expect(deploymentOf(objects).spec!.template.spec!.volumes).toEqual([
      { name: "api-tls", secret: { secretName: "operator-api-tls" } },
      { name: "oidc-ca", configMap: { name: "oidc-ca" } },
    ]);
  });

  test("several replicas need leader election", async () => {
    await expect(renderChart({ leaderElection: { enabled: false } })).rejects.toThrow(
      /replicas > 1 needs leaderElection.enabled/,
    );
    const single = parseAll(await renderChart({ leaderElection: { enabled: false }, replicas: 1 }));
    expect(deploymentOf(single).spec!.template.spec!.containers[0]!.args).toContain("--leader-elect=false");
  });
});

describe("install against the API server (dry run)", () => {
  test("rendered chart applies without changes", async () => {
    const rendered = await renderChart();
    const output = await cluster.kubectl(["apply", "--dry-run=server", "-f", "-"], undefined, rendered);
    expect(output).toContain("deployment.apps/tenant-operator configured (server dry run)");
    expect(output).toContain(
      "validatingadmissionpolicy.admissionregistration.k8s.io/tenancy.dev-protect-managed-objects configured (server dry run)",
    );

    // globalSetup applied crds/ and manifests/ server-side as "kubectl". The same apply of the chart must find
    // nothing to change once the API server has defaulted both, or kubectl diff exits 1 and prints the diff.
    expect(await cluster.kubectl(["diff", "--server-side", "--force-conflicts", "-f", "-"], undefined, rendered)).toBe(
      "",
    );
  });

  test("chart with self-service API applies", async () => {
    // Changes the Deployment's arguments and volumes, so the fields installed from manifests/ are overridden.
    const output = await cluster.kubectl(
      ["apply", "--server-side", "--force-conflicts", "--dry-run=server", "--field-manager=install-test", "-f", "-"],
      undefined,
      await renderChart(selfServiceValues),
    );
    expect(output).toContain("service/tenant-operator-api serverside-applied (server dry run)");
  });

  test("operator.yaml applies with kubectl", async () => {
    const output = await cluster.kubectl([
      "apply",
      "--dry-run=server",
      "-f",
      path.join(root, "manifests", "operator.yaml"),
    ]);
    expect(output).toContain("deployment.apps/tenant-operator");
    expect(output).toContain("service/tenant-operator-metrics");
    expect(output).toContain("poddisruptionbudget.policy/tenant-operator");
  });

  test("operator pods pass Pod Security restricted", async () => {
    const plain = deploymentOf(await plainManifests());
    const withApi = deploymentOf(parseAll(await renderChart(selfServiceValues)));
    for (const [name, deployment] of [
      ["install-test-plain", plain],
      ["install-test-api", withApi],
    ] as const) {
      const output = await cluster.kubectl(
        ["create", "--dry-run=server", "-f", "-"],
        undefined,
        JSON.stringify(podFromTemplate(deployment, name)),
      );
      expect(output).toContain(`pod/${name} created (server dry run)`);
    }

    // Without its seccomp profile the same pod is rejected, which shows that the dry run enforces the level.
    const weakened = podFromTemplate(plain, "install-test-weak");
    weakened.spec = { ...weakened.spec!, securityContext: { runAsNonRoot: true } };
    await expect(
      cluster.kubectl(["create", "--dry-run=server", "-f", "-"], undefined, JSON.stringify(weakened)),
    ).rejects.toThrow(/violates PodSecurity "restricted:latest".*seccompProfile/s);
  });
});

describe("manifests/operator.yaml in the test cluster", () => {
  const apps = admin.makeApiClient(k8s.AppsV1Api);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const policy = admin.makeApiClient(k8s.PolicyV1Api);
  const coordination = admin.makeApiClient(k8s.CoordinationV1Api);

  test("kwok replicas run harmlessly", async () => {
    await eventually("deployment tenant-operator available", async () => {
      const deployment = await apps.readNamespacedDeployment({ name: "tenant-operator", namespace: operatorNamespace });
      return deployment.status?.availableReplicas === 2 ? deployment : undefined;
    });
    const pods = await core.listNamespacedPod({
      namespace: operatorNamespace,
      labelSelector: "app.kubernetes.io/name=tenant-operator,app.kubernetes.io/component=operator",
    });
    expect(pods.items.filter((pod) => pod.status?.phase === "Running")).toHaveLength(2);

    const budget = await eventually("budget computed", async () => {
      const current = await policy.readNamespacedPodDisruptionBudget({
        name: "tenant-operator",
        namespace: operatorNamespace,
      });
      return current.status?.currentHealthy === 2 ? current : undefined;
    });
    expect(budget.status?.disruptionsAllowed).toBe(1);

    // kwok pods run no process, so the Lease is held by the operator process that globalSetup started on this
    // machine (identity `<hostname>-<random>`), never by a pod.
    const lease = await coordination.readNamespacedLease({ name: "tenant-operator", namespace: operatorNamespace });
    const holder = lease.spec?.holderIdentity ?? "";
    expect(holder.startsWith(`${os.hostname()}-`)).toBe(true);
    for (const pod of pods.items) expect(holder.startsWith(pod.metadata!.name!)).toBe(false);
  });
});
