// The test control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, started from
// the binaries that tools/build.sh builds, all on 127.0.0.1 with free ports and data in one folder.
//
// A cluster is described by cluster.json in its folder, so that any process (a Jest worker, the CLI, the demo)
// can load it, mint users, read the audit log or restart the API server. Every component runs in a process group
// of its own; a watchdog shell kills them all when the process that started the cluster goes away, unless the
// cluster was started detached (`npm run cluster -- up`), in which case only `down` stops it.

import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, openSync, readFileSync, writeFileSync, closeSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import {
  createCertificateAuthority,
  createClientCertificate,
  createServiceAccountKeys,
  createServingCertificate,
} from "./pki.js";
import { dedicatedPools, generalNodeCount, nodeManifests } from "./nodes.js";

const execFileAsync = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

export type Component = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";

interface ProcessInfo {
  pid: number;
  command: string;
  args: string[];
  logFile: string;
}

/** Everything another process needs to use or control a running cluster; stored as cluster.json. */
export interface ClusterInfo {
  dir: string;
  server: string;
  etcdUrl: string;
  binDir: string;
  adminKubeconfig: string;
  auditLog: string;
  detached: boolean;
  processes: Partial<Record<Component, ProcessInfo>>;
}

export interface StartOptions {
  /** Folder for data, certificates and logs; a new temporary folder by default. */
  dir?: string;
  /** Leave the processes running after this process exits (`cluster up`). */
  detached?: boolean;
  /** Passed to kube-apiserver as --watch-cache; false makes every watch and list read etcd directly. */
  watchCache?: boolean;
  /** Progress lines; stderr by default. */
  log?: (line: string) => void;
}

/** One line of the API server's audit log (level Metadata). */
export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  userAgent?: string;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/** Verbs that change state; watch, list and get are reads. */
export const writeVerbs = new Set(["create", "update", "patch", "delete", "deletecollection"]);

const readyTimeoutMs = 120_000;

/** Builds (or finds in the cache) the binaries and returns the folder that contains them. */
export async function ensureBinaries(log: (line: string) => void = defaultLog): Promise<string> {
  const script = path.join(here, "tools", "build.sh");
  const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) log(line);
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`building the test cluster binaries failed (exit ${code}); see the output above`);
  const lines = stdout.trim().split("\n");
  return lines[lines.length - 1]!;
}

/** Starts a cluster and waits until its API server is ready, its nodes are Ready and its controllers run. */
export async function startCluster(options: StartOptions = {}): Promise<TestCluster> {
  const log = options.log ?? defaultLog;
  const started = Date.now();
  const binDir = await ensureBinaries(log);
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), "tenant-operator-cluster-")));
  await mkdir(path.join(dir, "logs"), { recursive: true });

  // 1. Certificates, service-account keys and the configuration files the components read.
  await createCertificateAuthority(dir);
  await Promise.all([createServingCertificate(dir, "apiserver"), createServiceAccountKeys(dir)]);
  const [etcdPort, etcdPeerPort, apiPort, controllerManagerPort, schedulerPort] = await freePorts(5);
  const server = `https://127.0.0.1:${apiPort}`;
  const admin = await createClientCertificate(dir, "admin", ["system:masters"]);
  const adminKubeconfig = path.join(dir, "admin.kubeconfig");
  await writeFile(
    adminKubeconfig,
    renderKubeconfig(server, readFileSync(path.join(dir, "ca.crt"), "utf8"), "admin", admin),
  );
  // The controller manager and the scheduler run with their own identities and the RBAC that Kubernetes
  // bootstraps for them, as in a real cluster, so admission policies see controllers as themselves and not as
  // system:masters. kwok replaces every kubelet and keeps the admin identity.
  const caPem = readFileSync(path.join(dir, "ca.crt"), "utf8");
  const componentKubeconfig = async (user: string): Promise<string> => {
    const file = path.join(dir, `${user.replace(/[^a-z-]/g, "_")}.kubeconfig`);
    await writeFile(file, renderKubeconfig(server, caPem, user, await createClientCertificate(dir, user)));
    return file;
  };
  const controllerManagerKubeconfig = await componentKubeconfig("system:kube-controller-manager");
  const schedulerKubeconfig = await componentKubeconfig("system:kube-scheduler");
  await writeFile(path.join(dir, "audit-policy.yaml"), auditPolicy);
  await writeFile(path.join(dir, "scheduler.yaml"), schedulerConfig(schedulerKubeconfig));

  const info: ClusterInfo = {
    dir,
    server,
    etcdUrl: `http://127.0.0.1:${etcdPort}`,
    binDir,
    adminKubeconfig,
    auditLog: path.join(dir, "audit.log"),
    detached: options.detached ?? false,
    processes: {},
  };
  const cluster = new TestCluster(info);
  if (!info.detached) cluster.killOnExit();

  try {
    // 2. etcd, then the API server on top of it.
    cluster.spawnComponent("etcd", etcdArgs(dir, etcdPort!, etcdPeerPort!));
    await waitFor("etcd", () => httpGetOk(`${info.etcdUrl}/health`), cluster.logFile("etcd"));
    log(`etcd ready (${elapsed(started)})`);

    cluster.spawnComponent("kube-apiserver", apiServerArgs(dir, info, apiPort!, options.watchCache ?? true));
    await cluster.waitForApiServer();
    log(`kube-apiserver ready at ${server} (${elapsed(started)})`);

    // 3. Controllers, scheduler and kwok; the fake nodes go in at once so kwok finds them on its first list.
    cluster.spawnComponent(
      "kube-controller-manager",
      controllerManagerArgs(dir, controllerManagerKubeconfig, controllerManagerPort!),
    );
    cluster.spawnComponent("kube-scheduler", [
      `--config=${path.join(dir, "scheduler.yaml")}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${schedulerPort}`,
    ]);
    cluster.spawnComponent("kwok", kwokArgs(adminKubeconfig, binDir));
    await cluster.createNodes();
    await Promise.all([cluster.waitForNodesReady(), cluster.waitForDefaultServiceAccount()]);
    log(`cluster ready in ${elapsed(started)}: kubeconfig ${adminKubeconfig}`);
    return cluster;
  } catch (error) {
    await cluster.stop({ keepData: true });
    throw new Error(`starting the test cluster failed; logs are in ${path.join(dir, "logs")}`, { cause: error });
  }
}

export class TestCluster {
  readonly info: ClusterInfo;
  private watchdog: ChildProcess | undefined;

  constructor(info: ClusterInfo) {
    this.info = info;
  }

  /** Loads a cluster started by another process from its cluster.json. */
  static load(infoFile: string): TestCluster {
    return new TestCluster(JSON.parse(readFileSync(infoFile, "utf8")) as ClusterInfo);
  }

  get infoFile(): string {
    return path.join(this.info.dir, "cluster.json");
  }

  get kubectlPath(): string {
    return path.join(this.info.binDir, "kubectl");
  }

  logFile(component: Component): string {
    return path.join(this.info.dir, "logs", component + ".log");
  }

  adminKubeConfig(): k8s.KubeConfig {
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(this.info.adminKubeconfig);
    return kubeConfig;
  }

  /**
   * Mints a client certificate for `user` in `groups` and returns a kubeconfig that authenticates as that user.
   * The file is written to the cluster folder as `<user>.kubeconfig` (colons replaced) for use with kubectl.
   */
  async mintUser(
    user: string,
    groups: readonly string[] = [],
  ): Promise<{ kubeconfigPath: string; kubeConfig: k8s.KubeConfig }> {
    const certificate = await createClientCertificate(this.info.dir, user, groups);
    const ca = await readFile(path.join(this.info.dir, "ca.crt"), "utf8");
    const kubeconfigPath = path.join(this.info.dir, user.replace(/[^A-Za-z0-9._-]/g, "_") + ".kubeconfig");
    await writeFile(kubeconfigPath, renderKubeconfig(this.info.server, ca, user, certificate));
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    return { kubeconfigPath, kubeConfig };
  }

  /** Runs the kubectl built for this cluster with the admin kubeconfig unless `kubeconfig` is given. */
  async kubectl(args: readonly string[], kubeconfig = this.info.adminKubeconfig, input?: string): Promise<string> {
    if (input === undefined) {
      const { stdout } = await execFileAsync(this.kubectlPath, ["--kubeconfig", kubeconfig, ...args]);
      return stdout;
    }
    return new Promise((resolve, reject) => {
      const child = execFile(this.kubectlPath, ["--kubeconfig", kubeconfig, ...args], (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr }));
        else resolve(stdout);
      });
      child.stdin?.end(input);
    });
  }

  /** Reads every completed request from the audit log. */
  readAuditEvents(): AuditEvent[] {
    if (!existsSync(this.info.auditLog)) return [];
    const events: AuditEvent[] = [];
    for (const line of readFileSync(this.info.auditLog, "utf8").split("\n")) {
      if (!line) continue;
      const event = JSON.parse(line) as AuditEvent;
      if (event.stage === "ResponseComplete") events.push(event);
    }
    return events;
  }

  /** Stops kube-apiserver and starts it again with the same flags and port; watches break, data stays. */
  async restartApiServer(): Promise<void> {
    await this.stopComponent("kube-apiserver");
    const apiServer = this.info.processes["kube-apiserver"]!;
    this.spawnComponent("kube-apiserver", apiServer.args);
    await this.waitForApiServer();
  }

  /** Compacts etcd at its current revision so that every older resourceVersion is gone (410 on resume). */
  async compactEtcd(): Promise<number> {
    const status = JSON.parse(
      await httpPost(`${this.info.etcdUrl}/v3/kv/range`, { key: Buffer.from("/").toString("base64") }),
    ) as {
      header: { revision: string };
    };
    const revision = Number(status.header.revision);
    await httpPost(`${this.info.etcdUrl}/v3/kv/compaction`, { revision, physical: true });
    return revision;
  }

  /** Sends `signal` to one component's process group (SIGSTOP and SIGCONT included). */
  signalComponent(component: Component, signal: NodeJS.Signals): void {
    const pid = this.info.processes[component]?.pid;
    if (pid !== undefined) process.kill(-pid, signal);
  }

  /** Stops every component; removes the data folder unless `keepData` or TEST_KEEP_CLUSTER is set. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    const keepData = options.keepData ?? process.env.TEST_KEEP_CLUSTER !== undefined;
    const order: Component[] = ["kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"];
    for (const component of order) await this.stopComponent(component);
    this.watchdog?.kill("SIGKILL");
    if (!keepData) await rm(this.info.dir, { recursive: true, force: true });
  }

  /** Reports which components are alive. */
  status(): Record<string, "running" | "stopped"> {
    const result: Record<string, "running" | "stopped"> = {};
    for (const [component, processInfo] of Object.entries(this.info.processes)) {
      result[component] = isAlive(processInfo.pid) ? "running" : "stopped";
    }
    return result;
  }

  spawnComponent(component: Component, args: string[]): void {
    const command = path.join(this.info.binDir, component);
    const logFile = this.logFile(component);
    const out = openSync(logFile, "a");
    const child = spawn(command, args, { cwd: this.info.dir, detached: true, stdio: ["ignore", out, out] });
    closeSync(out);
    child.unref();
    if (child.pid === undefined) throw new Error(`starting ${component} failed; see ${logFile}`);
    this.info.processes[component] = { pid: child.pid, command, args, logFile };
    this.saveInfo();
  }

  /** Kills every component with SIGKILL when this process exits, and from a watchdog if it dies. */
  killOnExit(): void {
    process.on("exit", () => {
      for (const processInfo of Object.values(this.info.processes)) killGroup(processInfo.pid, "SIGKILL");
    });
    const pidsFile = path.join(this.info.dir, "pids");
    const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; for p in $(cat '${pidsFile}' 2>/dev/null); do kill -9 -- -$p 2>/dev/null; done`;
    this.watchdog = spawn("bash", ["-c", script], { detached: true, stdio: "ignore" });
    this.watchdog.unref();
  }

  async waitForApiServer(): Promise<void> {
    const tls = this.adminTls();
    await waitFor(
      "kube-apiserver",
      () => httpsGetOk(`${this.info.server}/readyz`, tls),
      this.logFile("kube-apiserver"),
    );
  }

  async createNodes(): Promise<void> {
    const core = this.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    for (const node of nodeManifests()) {
      await core.createNode({ body: node });
    }
  }

  async waitForNodesReady(): Promise<void> {
    const core = this.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    const expected = generalNodeCount + dedicatedPools.length;
    await waitFor(
      "kwok nodes Ready",
      async () => {
        const nodes = await core.listNode();
        const ready = nodes.items.filter((node) =>
          node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"),
        );
        return ready.length === expected;
      },
      this.logFile("kwok"),
    );
  }

  async waitForDefaultServiceAccount(): Promise<void> {
    const core = this.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
    await waitFor(
      "default service account",
      async () => {
        try {
          await core.readNamespacedServiceAccount({ name: "default", namespace: "default" });
          return true;
        } catch {
          return false;
        }
      },
      this.logFile("kube-controller-manager"),
    );
  }

  private adminTls(): https.RequestOptions {
    const config = readFileSync(this.info.adminKubeconfig, "utf8");
    const field = (name: string): string =>
      Buffer.from(config.match(new RegExp(`${name}: (\\S+)`))![1]!, "base64").toString();
    return {
      ca: field("certificate-authority-data"),
      cert: field("client-certificate-data"),
      key: field("client-key-data"),
    };
  }

  private async stopComponent(component: Component): Promise<void> {
    const processInfo = this.info.processes[component];
    if (!processInfo || !isAlive(processInfo.pid)) return;
    killGroup(processInfo.pid, "SIGCONT");
    killGroup(processInfo.pid, "SIGTERM");
    const deadline = Date.now() + 10_000;
    while (isAlive(processInfo.pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(processInfo.pid)) killGroup(processInfo.pid, "SIGKILL");
    while (isAlive(processInfo.pid)) await sleep(20);
  }

  private saveInfo(): void {
    writeFileSync(this.infoFile, JSON.stringify(this.info, null, 2));
    const pids = Object.values(this.info.processes).map((processInfo) => processInfo.pid);
    writeFileSync(path.join(this.info.dir, "pids"), pids.join("\n") + "\n");
  }
}

/** Renders a kubeconfig with embedded certificates; the context is named after the user. */
export function renderKubeconfig(
  server: string,
  caPem: string,
  user: string,
  certificate: { certPem: string; keyPem: string },
): string {
  const b64 = (text: string): string => Buffer.from(text).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    "users:",
    `- name: ${JSON.stringify(user)}`,
    "  user:",
    `    client-certificate-data: ${b64(certificate.certPem)}`,
    `    client-key-data: ${b64(certificate.keyPem)}`,
    "contexts:",
    "- name: test",
    "  context:",
    "    cluster: test",
    `    user: ${JSON.stringify(user)}`,
    "current-context: test",
    "",
  ].join("\n");
}

// Every request at Metadata level: who, verb, resource and response code, without bodies.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`;

function schedulerConfig(kubeconfig: string): string {
  return `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: ${kubeconfig}
  qps: 200
  burst: 400
leaderElection:
  leaderElect: false
`;
}

function etcdArgs(dir: string, port: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    "--name=test",
    `--data-dir=${path.join(dir, "etcd")}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    "--listen-metrics-urls=",
    // Test data is thrown away, so durability is traded for speed.
    "--unsafe-no-fsync",
    "--quota-backend-bytes=8589934592",
    "--log-level=warn",
  ];
}

function apiServerArgs(dir: string, info: ClusterInfo, port: number, watchCache: boolean): string[] {
  const file = (name: string): string => path.join(dir, name);
  return [
    `--etcd-servers=${info.etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${file("apiserver-certs")}`,
    `--tls-cert-file=${file("apiserver.crt")}`,
    `--tls-private-key-file=${file("apiserver.key")}`,
    `--client-ca-file=${file("ca.crt")}`,
    "--authorization-mode=RBAC",
    "--enable-admission-plugins=PodNodeSelector,PodTolerationRestriction",
    "--allow-privileged=true",
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${file("sa.pub")}`,
    `--service-account-signing-key-file=${file("sa.key")}`,
    // The range only numbers Services: with no kube-proxy and no network, nothing is ever sent to it.
    "--service-cluster-ip-range=10.96.0.0/16",
    // The only endpoint would be 127.0.0.1, which Endpoints validation rejects; the default Service needs none.
    "--endpoint-reconciler-type=none",
    `--audit-policy-file=${file("audit-policy.yaml")}`,
    `--audit-log-path=${info.auditLog}`,
    "--audit-log-format=json",
    "--audit-log-mode=blocking",
    "--audit-log-maxsize=0",
    `--watch-cache=${watchCache}`,
    "--max-requests-inflight=800",
    "--max-mutating-requests-inflight=400",
    "--profiling=false",
    "--v=1",
  ];
}

function controllerManagerArgs(dir: string, kubeconfig: string, port: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    "--leader-elect=false",
    `--root-ca-file=${path.join(dir, "ca.crt")}`,
    `--service-account-private-key-file=${path.join(dir, "sa.key")}`,
    `--cluster-signing-cert-file=${path.join(dir, "ca.crt")}`,
    `--cluster-signing-key-file=${path.join(dir, "ca.key")}`,
    // Each controller uses its own service account in kube-system, as kubeadm sets it up.
    "--use-service-account-credentials=true",
    "--kube-api-qps=200",
    "--kube-api-burst=400",
    "--v=1",
  ];
}

function kwokArgs(kubeconfig: string, binDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--config=${path.join(binDir, "kwok-stages.yaml")}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    "--node-lease-duration-seconds=40",
    // Pod IPs are bookkeeping only (kwok pods run no process); a /16 has room for every pod the nodes can hold.
    "--cidr=10.244.0.1/16",
  ];
}

async function waitFor(what: string, check: () => Promise<boolean>, logFile: string): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(200);
  }
  throw new Error(`${what} not ready after ${readyTimeoutMs / 1000} s; see ${logFile}`, { cause: lastError });
}

function httpGetOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("error", () => resolve(false));
  });
}

function httpsGetOk(url: string, tls: https.RequestOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const request = https.get(url, tls, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("error", () => resolve(false));
  });
}

function httpPost(url: string, body: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: "POST", headers: { "content-type": "application/json" } },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () =>
          response.statusCode === 200
            ? resolve(text)
            : reject(new Error(`POST ${url} returned ${response.statusCode}: ${text}`)),
        );
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}

/** Returns one free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/** Returns `count` distinct free TCP ports on 127.0.0.1, all held open together while they are chosen. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function elapsed(started: number): string {
  return `${((Date.now() - started) / 1000).toFixed(1)} s`;
}

function defaultLog(line: string): void {
  process.stderr.write(line + "\n");
}
