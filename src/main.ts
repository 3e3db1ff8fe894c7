// Entry point: `node dist/main.js [flags]` runs the operator against the current kubeconfig (or in-cluster).
import { parseArgs } from "node:util";
import { logger } from "./runtime/logger.js";
import { Operator } from "./operator.js";
import type { SelfServiceOptions } from "./selfservice/server.js";
import { startApiOnly } from "./selfservice/standalone.js";

const usage = `usage: tenant-operator [flags]
  --probe-address HOST:PORT   serve /metrics, /healthz and /readyz here (default 127.0.0.1:8080; port 0 picks one)
  --workers N                 concurrent Tenant reconciles (default 32)
  --leader-elect BOOL         elect one leader through a Lease (default true)
  --lease-namespace NS        namespace of the Lease (default $POD_NAMESPACE or tenant-operator-system)
  --lease-name NAME           name of the Lease (default tenant-operator)
  --lease-duration SECONDS    how long a Lease holds without renewal (default 15)
  --renew-deadline SECONDS    how long the leader keeps trying to renew before it stops writing (default 10)
  --retry-period SECONDS      interval between Lease attempts (default 2)
  --relist-interval SECONDS   full relist of every cache, healing silent watches (default 300)
  --shared-node-selector SEL  node selector (key=value,...) for tenants without dedicated nodes (default none)
  --dns-namespace NS          namespace of the cluster DNS, for DNS egress rules (default kube-system)
  --log-level LEVEL           trace, debug, info, warn or error (default $LOG_LEVEL or info)

self-service API (off unless --api-address or --api-only is given):
  --api-address HOST:PORT     serve the HTTPS API here (default 127.0.0.1:8443 with --api-only; port 0 picks one)
  --api-tls-cert FILE         PEM certificate chain of the API (required with the API)
  --api-tls-key FILE          PEM private key of the API (required with the API)
  --api-rate N                requests per second that each tenant and each caller may send (default 10)
  --api-burst N               requests that each tenant and each caller may send at once (default 20)
  --api-only                  serve only the API and the probes: no caches, controllers or leader election
  --oidc-issuer-url URL       also accept JWTs of this OIDC issuer (https), checked against its JWKS (default off)
  --oidc-client-id ID         audience that OIDC tokens must carry (required with --oidc-issuer-url)
  --oidc-username-claim NAME  claim that names the user (default sub)
  --oidc-groups-claim NAME    claim that lists the user's groups (default groups)
  --oidc-username-prefix P    prefix added to OIDC usernames (default oidc:)
  --oidc-groups-prefix P      prefix added to OIDC groups (default oidc:)
  --oidc-ca-file FILE         PEM CA bundle that signs the issuer's certificate (default the system CAs)`;

function main(): void {
  const { values } = parseArgs({
    options: {
      "probe-address": { type: "string", default: "127.0.0.1:8080" },
      workers: { type: "string", default: "32" },
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
      "api-address": { type: "string" },
      "api-tls-cert": { type: "string" },
      "api-tls-key": { type: "string" },
      "api-rate": { type: "string", default: "10" },
      "api-burst": { type: "string", default: "20" },
      "api-only": { type: "boolean", default: false },
      "oidc-issuer-url": { type: "string" },
      "oidc-client-id": { type: "string" },
      "oidc-username-claim": { type: "string", default: "sub" },
      "oidc-groups-claim": { type: "string", default: "groups" },
      "oidc-username-prefix": { type: "string", default: "oidc:" },
      "oidc-groups-prefix": { type: "string", default: "oidc:" },
      "oidc-ca-file": { type: "string" },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  if (values["log-level"]) logger.level = values["log-level"];

  const [host, port] = splitAddress(values["probe-address"]);

  const api = apiOptions(values);
  if (values["api-only"]) {
    startApiOnly({ api: api!, probeAddress: { host, port }, log: logger }).then(
      (running) => {
        logger.info({ apiPort: running.apiPort, probePort: running.probePort }, "self-service API started");
        const stop = (signal: string): void => {
          logger.info({ signal }, "shutting down");
          running.stop().then(() => process.exit(0));
        };
        process.on("SIGTERM", () => stop("SIGTERM"));
        process.on("SIGINT", () => stop("SIGINT"));
      },
      (error: unknown) => {
        logger.fatal({ err: error }, "self-service API failed to start");
        process.exit(1);
      },
    );
    return;
  }

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
    api,
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

function splitAddress(address: string, flag = "probe-address"): [string, number] {
  const index = address.lastIndexOf(":");
  const port = Number(address.slice(index + 1));
  if (index < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid --${flag} "${address}": expected HOST:PORT, for example 127.0.0.1:8080`);
  }
  return [address.slice(0, index).replace(/^\[|\]$/g, "") || "127.0.0.1", port];
}

interface ApiFlags {
  "api-address"?: string;
  "api-tls-cert"?: string;
  "api-tls-key"?: string;
  "api-rate": string;
  "api-burst": string;
  "api-only": boolean;
  "oidc-issuer-url"?: string;
  "oidc-client-id"?: string;
  "oidc-username-claim": string;
  "oidc-groups-claim": string;
  "oidc-username-prefix": string;
  "oidc-groups-prefix": string;
  "oidc-ca-file"?: string;
}

/** Reads the self-service API settings from the flags; returns undefined when the API is off. */
function apiOptions(flags: ApiFlags): Omit<SelfServiceOptions, "kubeConfig" | "log"> | undefined {
  const address = flags["api-address"] ?? (flags["api-only"] ? "127.0.0.1:8443" : undefined);
  if (address === undefined) return undefined;
  const certFile = flags["api-tls-cert"];
  const keyFile = flags["api-tls-key"];
  if (!certFile || !keyFile) {
    throw new Error("the self-service API serves HTTPS only: --api-tls-cert and --api-tls-key are required");
  }
  const [host, port] = splitAddress(address, "api-address");
  const burst = positiveNumber("api-burst", flags["api-burst"]);
  if (!Number.isInteger(burst)) throw new Error(`invalid --api-burst "${flags["api-burst"]}": expected an integer`);

  const issuerUrl = flags["oidc-issuer-url"];
  if (issuerUrl && !flags["oidc-client-id"]) {
    throw new Error("--oidc-issuer-url needs --oidc-client-id, the audience that tokens must carry");
  }
  return {
    address: { host, port },
    tlsCertFile: certFile,
    tlsKeyFile: keyFile,
    rateLimit: { ratePerSecond: positiveNumber("api-rate", flags["api-rate"]), burst },
    oidc: issuerUrl
      ? {
          issuerUrl,
          audience: flags["oidc-client-id"]!,
          usernameClaim: flags["oidc-username-claim"],
          groupsClaim: flags["oidc-groups-claim"],
          usernamePrefix: flags["oidc-username-prefix"],
          groupsPrefix: flags["oidc-groups-prefix"],
          caFile: flags["oidc-ca-file"],
        }
      : undefined,
  };
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
