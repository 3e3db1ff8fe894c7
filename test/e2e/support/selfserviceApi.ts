// Helpers for e2e tests of the self-service API: TLS files made with openssl, a local OIDC issuer, the API run as
// its own `--api-only` process with the operator's identity, and an HTTPS client that validates every response
// against the API's OpenAPI document. Everything listens on 127.0.0.1.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import * as k8s from "@kubernetes/client-node";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import { createCertificateAuthority, createServingCertificate } from "../../cluster/pki.js";
import { freePort, type TestCluster } from "../../cluster/cluster.js";
import { eventually } from "./cluster.js";
import { operatorGroups, operatorUser } from "./operator.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface TlsFiles {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: Buffer;
}

/** Makes a CA and a serving certificate for 127.0.0.1 in a new temporary folder. */
export async function createTls(): Promise<TlsFiles> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "selfservice-tls-"));
  await createCertificateAuthority(dir);
  await createServingCertificate(dir, "server");
  const caFile = path.join(dir, "ca.crt");
  return {
    dir,
    caFile,
    certFile: path.join(dir, "server.crt"),
    keyFile: path.join(dir, "server.key"),
    ca: readFileSync(caFile),
  };
}

export interface TokenOptions {
  /** Seconds until exp; negative for a token that has expired. */
  expiresInSeconds?: number;
  audience?: string;
  groups?: string[];
  /** Sign with a key the issuer does not publish, under the published key's id. */
  wrongKey?: boolean;
}

/** An OIDC issuer on 127.0.0.1: discovery document, JWKS, and tokens signed with its RS256 key. */
export class OidcIssuer {
  static readonly audience = "tenant-self-service";

  private constructor(
    private readonly server: https.Server,
    readonly url: string,
    private readonly key: CryptoKey,
    private readonly otherKey: CryptoKey,
  ) {}

  static async start(tls: TlsFiles): Promise<OidcIssuer> {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    const other = await generateKeyPair("RS256");
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "RS256", use: "sig" };
    let url = "";
    const server = https.createServer(
      { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
      (request, response) => {
        const send = (body: unknown): void => {
          response.writeHead(200, { "content-type": "application/json" });
          response.end(JSON.stringify(body));
        };
        if (request.url === "/.well-known/openid-configuration") send({ issuer: url, jwks_uri: `${url}/jwks.json` });
        else if (request.url === "/jwks.json") send({ keys: [jwk] });
        else {
          response.writeHead(404);
          response.end();
        }
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return new OidcIssuer(server, url, privateKey, other.privateKey);
  }

  /** Signs a token for `subject`, valid for an hour unless the options set another lifetime. */
  async token(subject: string, options: TokenOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const expires = now + (options.expiresInSeconds ?? 3600);
    return new SignJWT({ groups: options.groups ?? [] })
      .setProtectedHeader({ alg: "RS256", kid: "key-1" })
      .setIssuer(this.url)
      .setSubject(subject)
      .setAudience(options.audience ?? OidcIssuer.audience)
      .setIssuedAt(Math.min(now, expires - 60))
      .setExpirationTime(expires)
      .sign(options.wrongKey ? this.otherKey : this.key);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

export interface ApiProcess {
  url: string;
  probeUrl: string;
  logFile: string;
  stop(): Promise<void>;
}

/** Starts `src/main.ts --api-only` as the operator's service account and waits until it is ready. */
export async function startApiProcess(
  cluster: TestCluster,
  tls: TlsFiles,
  issuer: OidcIssuer,
  name: string,
  extraArgs: string[] = [],
): Promise<ApiProcess> {
  const { kubeconfigPath } = await cluster.mintUser(operatorUser, operatorGroups);
  const [apiPort, probePort] = [await freePort(), await freePort()];
  const logFile = path.join(cluster.info.dir, "logs", `selfservice-${name}.log`);
  const out = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(root, "src", "main.ts"),
      "--api-only",
      `--api-address=127.0.0.1:${apiPort}`,
      `--probe-address=127.0.0.1:${probePort}`,
      `--api-tls-cert=${tls.certFile}`,
      `--api-tls-key=${tls.keyFile}`,
      `--oidc-issuer-url=${issuer.url}`,
      `--oidc-client-id=${OidcIssuer.audience}`,
      `--oidc-ca-file=${tls.caFile}`,
      ...extraArgs,
    ],
    { cwd: root, env: { ...process.env, KUBECONFIG: kubeconfigPath, LOG_LEVEL: "debug" }, stdio: ["ignore", out, out] },
  );
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  process.on("exit", () => child.kill("SIGKILL"));
  const probeUrl = `http://127.0.0.1:${probePort}`;
  await eventually(
    `self-service API ${name} ready (log ${logFile})`,
    async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}; see ${logFile}`);
      return (await fetch(`${probeUrl}/readyz`)).status === 200;
    },
    60_000,
    200,
  );
  return {
    url: `https://127.0.0.1:${apiPort}`,
    probeUrl,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  contentType: string;
  body: T;
}

export interface CallOptions {
  token?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  raw?: string;
  contentType?: string;
}

type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { pointer?: string; parameter?: string; detail: string }[];
};

/** An HTTPS client of the API that checks every response against the OpenAPI document it serves. */
export class ApiClient {
  private document: { paths: Record<string, Record<string, OperationDocument>> } | undefined;
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    readonly baseUrl: string,
    private readonly ca: Buffer,
  ) {
    addFormats.default(this.ajv);
    this.ajv.addFormat("int64", { type: "number", validate: (value: number) => Number.isInteger(value) });
  }

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<ApiResponse<T>> {
    const response = await this.send(method, path, options);
    await this.validate(method, path, response);
    return response as ApiResponse<T>;
  }

  /** Calls and expects a problem response; returns the problem body. */
  async problem(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<ProblemBody>> {
    const response = await this.call<ProblemBody>(method, path, options);
    if (response.status < 400) throw new Error(`${method} ${path} returned ${response.status}, expected a problem`);
    return response;
  }

  private send(method: string, path: string, options: CallOptions): Promise<ApiResponse> {
    const body = options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) {
      headers["content-type"] = options.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const request = https.request(new URL(path, this.baseUrl), { method, headers, ca: this.ca }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const contentType = String(response.headers["content-type"] ?? "").split(";")[0]!;
          let parsed: Record<string, unknown>;
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            reject(
              new Error(
                `${method} ${path} returned ${response.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`,
              ),
            );
            return;
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, contentType, body: parsed });
        });
      });
      request.on("error", reject);
      request.end(body);
    });
  }

  /** Throws unless the response's status, media type and body match the document's entry for the route. */
  private async validate(method: string, path: string, response: ApiResponse): Promise<void> {
    const document = await this.openApi();
    const pathname = new URL(path, this.baseUrl).pathname;
    const template = Object.keys(document.paths).find((each) =>
      new RegExp(`^${each.replace(/\{\w+\}/g, "[^/]+")}$`).test(pathname),
    );
    const operation = template ? document.paths[template]![method.toLowerCase()] : undefined;
    const where = `${method} ${path} -> ${response.status}`;
    let schema: { $ref?: string } | undefined;
    let mediaType: string;
    if (operation) {
      const documented = operation.responses[String(response.status)] ?? operation.responses.default;
      const content = documented?.content ?? {};
      mediaType = Object.keys(content)[0] ?? "";
      schema = content[mediaType]?.schema;
    } else {
      // No such route: the API returns a problem.
      mediaType = "application/problem+json";
      schema = { $ref: "#/components/schemas/Problem" };
    }
    if (response.contentType !== mediaType) {
      throw new Error(`${where}: content-type ${response.contentType}, documented ${mediaType}`);
    }
    if (operation && !operation.responses[String(response.status)] && response.status < 500) {
      throw new Error(`${where}: status ${response.status} is not documented for the route`);
    }
    const validator = this.validatorFor(schema!.$ref!);
    if (!validator(response.body)) {
      throw new Error(`${where}: body does not match ${schema!.$ref}: ${this.ajv.errorsText(validator.errors)}`);
    }
  }

  private validatorFor(ref: string): ValidateFunction {
    let validator = this.validators.get(ref);
    if (!validator) {
      validator = this.ajv.getSchema(`openapi.json${ref}`);
      if (!validator) throw new Error(`schema ${ref} is not in the OpenAPI document`);
      this.validators.set(ref, validator);
    }
    return validator;
  }

  private async openApi(): Promise<{ paths: Record<string, Record<string, OperationDocument>> }> {
    if (!this.document) {
      const response = await this.send("GET", "/api/v1/openapi.json", {});
      if (response.status !== 200) throw new Error(`GET /api/v1/openapi.json returned ${response.status}`);
      const document = response.body as unknown as {
        paths: Record<string, Record<string, OperationDocument>>;
        components: unknown;
      };
      this.ajv.addSchema({ $id: "openapi.json", components: document.components });
      this.document = document;
    }
    return this.document;
  }
}

interface OperationDocument {
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

/** Creates a ServiceAccount and returns a token for it from the TokenRequest API. */
export async function serviceAccountToken(cluster: TestCluster, namespace: string, name: string): Promise<string> {
  const core = cluster.adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((error: unknown) => {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  });
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return request.status!.token;
}

/** Reads the API log's audit lines (one JSON object each). */
export function auditLines(logFile: string): Record<string, unknown>[] {
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => line.includes('"audit":true'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
