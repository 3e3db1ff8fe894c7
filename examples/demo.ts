// `npm run demo`: a local control plane, the operator, and the example tenants reconciled.
//
// Starts (or reuses) the cluster of `npm run cluster -- up`, installs the CRDs, RBAC and admission policies,
// runs the operator as its service account, applies examples/tenants.yaml, waits until every Tenant is Ready
// and prints what each got. Then it shows one isolation check as a tenant owner. Everything stops at the end
// unless `--keep` is given, in which case the cluster and the operator keep running for hands-on use.

import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TestCluster, startCluster } from "../test/cluster/cluster.js";
import { installOperator, startOperator, waitForReady } from "../test/e2e/support/operator.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const keep = process.argv.includes("--keep");
const dir = process.env.TENANT_OPERATOR_CLUSTER_DIR ?? path.join(os.tmpdir(), "tenant-operator-cluster");

function section(title: string): void {
  console.log(`\n=== ${title}`);
}

async function openCluster(): Promise<{ cluster: TestCluster; startedHere: boolean }> {
  const infoFile = path.join(dir, "cluster.json");
  if (existsSync(infoFile)) {
    const existing = TestCluster.load(infoFile);
    if (Object.values(existing.status()).every((state) => state === "running"))
      return { cluster: existing, startedHere: false };
    await existing.stop();
  }
  return { cluster: await startCluster({ dir, detached: true }), startedHere: true };
}

async function main(): Promise<void> {
  section("local control plane");
  const { cluster, startedHere } = await openCluster();
  console.log(`API server ${cluster.info.server}, logs in ${path.join(dir, "logs")}`);
  console.log(await cluster.kubectl(["get", "nodes", "-L", "tenancy.dev/pool"]));

  section("install CRDs, RBAC and admission policies");
  await installOperator(cluster);
  // Tenant namespaces allow ingress from these platform namespaces.
  for (const namespace of ["monitoring", "ingress", "ci"]) {
    await cluster
      .kubectl(["create", "namespace", namespace, "--dry-run=client", "-o", "yaml"])
      .then((yaml) => cluster.kubectl(["apply", "-f", "-"], undefined, yaml));
  }

  section("start the operator");
  const operator = await startOperator(cluster, "demo", ["--log-level=info"]);
  await waitForReady(operator);
  console.log(`operator ready; metrics at ${operator.probeUrl}/metrics, log ${operator.logFile}`);

  section("apply examples/tenants.yaml");
  console.log(await cluster.kubectl(["apply", "-f", path.join(root, "examples", "tenants.yaml")]));
  await cluster.kubectl(["wait", "--for=condition=Ready", "--timeout=120s", "tenant/acme", "tenant/globex"]);
  console.log(await cluster.kubectl(["get", "tenants"]));

  for (const tenant of ["acme", "globex"]) {
    section(`objects of tenant ${tenant}`);
    console.log(
      await cluster.kubectl([
        "get",
        "namespaces",
        "-l",
        `tenancy.dev/tenant=${tenant}`,
        "-L",
        "pod-security.kubernetes.io/enforce",
      ]),
    );
    console.log(
      await cluster.kubectl([
        "get",
        "resourcequotas,limitranges,networkpolicies,rolebindings",
        "-A",
        "-l",
        `tenancy.dev/tenant=${tenant}`,
      ]),
    );
    console.log(
      await cluster.kubectl([
        "get",
        "tenant",
        tenant,
        "-o",
        'jsonpath={range .status.conditions[*]}{.type}={.status} ({.message}){"\\n"}{end}',
      ]),
    );
  }

  section("isolation: acme's owner tries to read globex's namespace");
  const alice = await cluster.mintUser("alice@acme.example");
  const denied = await cluster.kubectl(["get", "pods", "-n", "globex-main"], alice.kubeconfigPath).then(
    () => "unexpectedly allowed",
    (error: { stderr: string }) => error.stderr.trim(),
  );
  console.log(denied);
  console.log(
    await cluster
      .kubectl(["auth", "can-i", "create", "deployments", "-n", "acme-dev"], alice.kubeconfigPath)
      .catch(() => "no"),
  );

  if (keep) {
    section("left running");
    console.log(`export KUBECONFIG=${cluster.info.adminKubeconfig}`);
    console.log(`export PATH=${cluster.info.binDir}:$PATH`);
    console.log("stop with Ctrl-C here (the operator), then: npm run cluster -- down");
    await new Promise<void>((resolve) => process.once("SIGINT", resolve));
  }
  await operator.stop();
  if (startedHere && !keep) await cluster.stop();
  else if (!keep)
    console.log("\nthe cluster was already running and keeps running; stop it with: npm run cluster -- down");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("demo failed:", error);
    process.exit(1);
  },
);
