// Entry point: `node dist/main.js [flags]` runs the operator against the current kubeconfig (or in-cluster).
import { parseArgs } from "node:util";
import { logger } from "./runtime/logger.js";
import { Operator } from "./operator.js";

const usage = `usage: tenant-operator [flags]
  --probe-address HOST:PORT   serve /metrics, /healthz and /readyz here (default 127.0.0.1:8080; port 0 picks one)
  --workers N                 concurrent Tenant reconciles (default 16)
  --leader-elect BOOL         elect one leader through a Lease (default true)
  --lease-namespace NS        namespace of the Lease (default $POD_NAMESPACE or tenant-operator-system)
  --lease-name NAME           name of the Lease (default tenant-operator)
  --lease-duration SECONDS    how long a Lease holds without renewal (default 15)
  --renew-deadline SECONDS    how long the leader keeps trying to renew before it stops writing (default 10)
  --retry-period SECONDS      interval between Lease attempts (default 2)
  --relist-interval SECONDS   full relist of every cache, healing silent watches (default 300)
  --shared-node-selector SEL  node selector (key=value,...) for tenants without dedicated nodes (default none)
  --dns-namespace NS          namespace of the cluster DNS, for DNS egress rules (default kube-system)
  --log-level LEVEL           trace, debug, info, warn or error (default $LOG_LEVEL or info)`;

function main(): void {
  const { values } = parseArgs({
    options: {
      "probe-address": { type: "string", default: "127.0.0.1:8080" },
      workers: { type: "string", default: "16" },
      "leader-elect": { type: "string", default: "true" },
      "lease-namespace": { type: "string", default: process.env.POD_NAMESPACE ?? "tenant-operator-system" },
      "lease-name": { type: "string", default: "tenant-operator" },
      "lease-duration": { type: "string", default: "15" },
      "renew-deadline": { type: "string", default: "10" },
      "retry-period": { type: "string", default: "2" },
      "relist-interval": { type: "string", default: "300" },
      "shared-node-selector": { type: "string", default: "" },
      "dns-namespace": { type: "string", default: "kube-system" },
      "log-level": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  if (values["log-level"]) logger.level = values["log-level"];

  const [host, port] = splitAddress(values["probe-address"]);
  const seconds = (flag: keyof typeof values): number => positiveNumber(flag, values[flag] as string) * 1000;
  const operator = new Operator({
    probeAddress: { host, port },
    workers: positiveNumber("workers", values.workers),
    leaderElection: {
      enabled: values["leader-elect"] !== "false",
      namespace: values["lease-namespace"],
      name: values["lease-name"],
      leaseDurationMs: seconds("lease-duration"),
      renewDeadlineMs: seconds("renew-deadline"),
      retryPeriodMs: seconds("retry-period"),
    },
    relistIntervalMs: seconds("relist-interval"),
    platform: {
      sharedNodeSelector: values["shared-node-selector"],
      dnsNamespace: values["dns-namespace"],
      ownerClusterRoles: { admin: "tenancy:tenant-admin", edit: "tenancy:tenant-edit", view: "tenancy:tenant-view" },
    },
    log: logger,
    onLeadershipLost: () => {
      logger.fatal("leadership lost; exiting so that no write can follow");
      process.exit(1);
    },
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  operator.start().then(
    () => logger.info({ probePort: operator.probePort }, "operator started"),
    (error: unknown) => {
      logger.fatal({ err: error }, "operator failed to start");
      process.exit(1);
    },
  );
}

function splitAddress(address: string): [string, number] {
  const index = address.lastIndexOf(":");
  const port = Number(address.slice(index + 1));
  if (index < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid --probe-address "${address}": expected HOST:PORT, for example 127.0.0.1:8080`);
  }
  return [address.slice(0, index).replace(/^\[|\]$/g, "") || "127.0.0.1", port];
}

function positiveNumber(flag: string, value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0)
    throw new Error(`invalid --${flag} "${value}": expected a positive number`);
  return number;
}

try {
  main();
} catch (error) {
  console.error((error as Error).message);
  console.error(usage);
  process.exit(2);
}
