// Installs the operator's CRDs, RBAC and admission policies into a test cluster and runs the operator as a real
// process, authenticated as its service account through a client certificate.

import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type TestCluster } from "../../cluster/cluster.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export const operatorUser = "system:serviceaccount:tenant-operator-system:tenant-operator";
export const operatorGroups = ["system:serviceaccounts", "system:serviceaccounts:tenant-operator-system"];

/** Applies crds/ and manifests/ (idempotent), then waits until the CRDs are served. */
export async function installOperator(cluster: TestCluster): Promise<void> {
  await cluster.kubectl(["apply", "--server-side", "--force-conflicts", "-f", path.join(root, "crds")]);
  // kubectl wait fails at once on a CRD that has no conditions yet, so retry it until they appear.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await cluster.kubectl([
        "wait",
        "--for=condition=Established",
        "--timeout=30s",
        "crd",
        "-l",
        "app.kubernetes.io/part-of=tenant-operator",
      ]);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error("CRDs not Established after 60 s", { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await cluster.kubectl(["apply", "--server-side", "--force-conflicts", "-f", path.join(root, "manifests")]);
}

export interface OperatorProcess {
  child: ChildProcess;
  probeUrl: string;
  logFile: string;
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts `src/main.ts` with the operator's identity; extra flags are appended. */
export async function startOperator(
  cluster: TestCluster,
  name: string,
  extraArgs: string[] = [],
): Promise<OperatorProcess> {
  const { kubeconfigPath } = await cluster.mintUser(operatorUser, operatorGroups);
  const port = await freePort();
  const logFile = path.join(cluster.info.dir, "logs", `operator-${name}.log`);
  const out = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(root, "src", "main.ts"),
      `--probe-address=127.0.0.1:${port}`,
      "--shared-node-selector=tenancy.dev/pool=general",
      "--relist-interval=60",
      ...extraArgs,
    ],
    {
      cwd: root,
      env: { ...process.env, KUBECONFIG: kubeconfigPath, LOG_LEVEL: process.env.LOG_LEVEL ?? "debug" },
      stdio: ["ignore", out, out],
    },
  );
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  process.on("exit", () => child.kill("SIGKILL"));
  const probeUrl = `http://127.0.0.1:${port}`;
  return {
    child,
    probeUrl,
    logFile,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Resolves once GET /readyz answers 200; throws after `timeoutMs` naming the log file. */
export async function waitForReady(operator: OperatorProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${operator.probeUrl}/readyz`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`operator not ready after ${timeoutMs} ms; see ${operator.logFile}`);
}

/**
 * Reads one metric's samples from /metrics as `{labels}` -> value (`""` for a sample without labels). Label values
 * may contain braces (route templates), so the labels run from the first "{" to the last "}".
 */
export async function readMetric(probeUrl: string, name: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${probeUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const valueAt = line.lastIndexOf(" ");
    const labels = line.includes("{") ? line.slice(line.indexOf("{"), line.lastIndexOf("}") + 1) : "";
    samples.set(labels, Number(line.slice(valueAt + 1)));
  }
  return samples;
}

/**
 * Returns the value of the sample of `name` whose labels include all of `labels` (in any order), or undefined
 * when there is none.
 */
export async function metricValue(
  probeUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  for (const [rendered, value] of await readMetric(probeUrl, name)) {
    const sample = Object.fromEntries([...rendered.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]));
    if (Object.entries(labels).every(([key, expected]) => sample[key] === expected)) return value;
  }
  return undefined;
}
