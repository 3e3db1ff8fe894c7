// The self-service API on the real test cluster, run as its own `--api-only` process with the operator's identity.
// Callers authenticate with JWTs of a local OIDC issuer or with service-account tokens; every response is checked
// against the API's OpenAPI document by the client.
import * as k8s from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import type { TenantRequest } from "../../src/api/generated.js";
import { eventually, sharedCluster, statusOf, uniqueName } from "./support/cluster.js";
import {
  approveWithKubectl,
  createPlatformEngineer,
  readRequest,
  waitForPhase,
  type PlatformEngineer,
} from "./support/selfservice.js";
import {
  ApiClient,
  OidcIssuer,
  auditLines,
  createTls,
  serviceAccountToken,
  startApiProcess,
  type ApiProcess,
  type TlsFiles,
} from "./support/selfserviceApi.js";
import { freePort } from "../cluster/cluster.js";
import { readMetric, startOperator, waitForReady as waitForOperatorReady } from "./support/operator.js";
import { applyTenant, deleteTenant, waitForReady } from "./support/tenants.js";

const cluster = sharedCluster();
const admin = cluster.adminKubeConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const networking = admin.makeApiClient(k8s.NetworkingV1Api);
const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);

const tenantA = uniqueName("ssa");
const tenantB = uniqueName("ssb");
const tenantX = uniqueName("ssx");
const tenantY = uniqueName("ssy");
const saNamespaceX = uniqueName("sa-x");
const saNamespaceY = uniqueName("sa-y");
const alice = `oidc:${uniqueName("alice")}`;
const viewer = `oidc:${uniqueName("viewer")}`;
const bob = `oidc:${uniqueName("bob")}`;
const engineerName = `oidc:${uniqueName("pe")}`;

let tls: TlsFiles;
let issuer: OidcIssuer;
let api: ApiProcess;
let client: ApiClient;
let engineer: PlatformEngineer;
let certEngineer: PlatformEngineer;
const tokens = { alice: "", viewer: "", bob: "", engineer: "", ciX: "", ciY: "" };

type RequestBody = {
  name: string;
  namespace: string;
  tenant: string;
  spec: TenantRequest["spec"];
  status: NonNullable<TenantRequest["status"]>;
};

/** Signs an OIDC token for `username`, whose "oidc:" prefix the API adds itself. */
function oidcToken(username: string): Promise<string> {
  return issuer.token(username.replace(/^oidc:/, ""));
}

async function waitForApiPhase(tenant: string, name: string, token: string, phase: string): Promise<RequestBody> {
  return eventually(`request ${tenant}/${name} phase ${phase} through the API`, async () => {
    const response = await client.call<RequestBody>("GET", `/api/v1/tenants/${tenant}/requests/${name}`, { token });
    if (response.body.status.phase === phase) return response.body;
    throw new Error(`phase ${response.body.status.phase}: ${response.body.status.message}`);
  });
}

beforeAll(async () => {
  tls = await createTls();
  issuer = await OidcIssuer.start(tls);
  api = await startApiProcess(cluster, tls, issuer, tenantA);
  client = new ApiClient(api.url, tls.ca);

  engineer = await createPlatformEngineer(cluster, engineerName);
  certEngineer = await createPlatformEngineer(cluster);
  await core.createNamespace({ body: { metadata: { name: saNamespaceX } } });
  await core.createNamespace({ body: { metadata: { name: saNamespaceY } } });

  await applyTenant(cluster, tenantA, {
    owners: [
      { kind: "User", name: alice },
      { kind: "User", name: viewer, role: "view" },
    ],
    namespaces: [{ name: "app" }],
    maxNamespaces: 4,
    selfService: { maxExtraNamespaces: 1 },
    deletionPolicy: "Delete",
  });
  await applyTenant(cluster, tenantB, { owners: [{ kind: "User", name: bob }], namespaces: [{ name: "app" }] });
  for (const [tenant, namespace] of [
    [tenantX, saNamespaceX],
    [tenantY, saNamespaceY],
  ] as const) {
    await applyTenant(cluster, tenant, {
      owners: [{ kind: "ServiceAccount", name: "ci", namespace }],
      namespaces: [{ name: "app" }],
      maxNamespaces: 4,
      selfService: { maxExtraNamespaces: 1 },
    });
  }
  for (const tenant of [tenantA, tenantB, tenantX, tenantY]) await waitForReady(cluster, tenant);

  tokens.alice = await oidcToken(alice);
  tokens.viewer = await oidcToken(viewer);
  tokens.bob = await oidcToken(bob);
  tokens.engineer = await oidcToken(engineerName);
  tokens.ciX = await serviceAccountToken(cluster, saNamespaceX, "ci");
  tokens.ciY = await serviceAccountToken(cluster, saNamespaceY, "ci");
});

afterAll(async () => {
  await api?.stop();
  await issuer?.stop();
  await engineer?.remove();
  await certEngineer?.remove();
  for (const tenant of [tenantA, tenantB, tenantX, tenantY]) await deleteTenant(cluster, tenant);
  await core.deleteNamespace({ name: saNamespaceX }).catch(() => undefined);
  await core.deleteNamespace({ name: saNamespaceY }).catch(() => undefined);
});

describe("self-service API", () => {
  test("OpenAPI document is served without a token", async () => {
    const response = await client.call<{ openapi: string; paths: Record<string, unknown> }>(
      "GET",
      "/api/v1/openapi.json",
    );

    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.0.3");
    expect(Object.keys(response.body.paths)).toEqual([
      "/api/v1/openapi.json",
      "/api/v1/tenants",
      "/api/v1/tenants/{tenant}",
      "/api/v1/tenants/{tenant}/requests",
      "/api/v1/tenants/{tenant}/requests/{name}",
      "/api/v1/tenants/{tenant}/requests/{name}/cancel",
      "/api/v1/tenants/{tenant}/requests/{name}/approve",
      "/api/v1/tenants/{tenant}/requests/{name}/deny",
    ]);
  });

  test("owner lists and reads only its own tenants", async () => {
    const list = await client.call<{ items: { name: string; access: { ownerRole?: string } }[] }>(
      "GET",
      "/api/v1/tenants",
      {
        token: tokens.alice,
      },
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((item) => item.name)).toEqual([tenantA]);
    expect(list.body.items[0]!.access).toEqual({ ownerRole: "admin", platformEngineer: false });

    const detail = await client.call<{
      namespaces: { name: string; state: string }[];
      ready: boolean;
      selfService: { maxExtraNamespaces: number };
    }>("GET", `/api/v1/tenants/${tenantA}`, { token: tokens.alice });
    expect(detail.status).toBe(200);
    expect(detail.body.ready).toBe(true);
    expect(detail.body.namespaces).toEqual([{ name: `${tenantA}-app`, state: "Ready" }]);
    expect(detail.body.selfService.maxExtraNamespaces).toBe(1);
  });

  test("platform engineer sees every tenant", async () => {
    const list = await client.call<{ items: { name: string; access: { platformEngineer: boolean } }[] }>(
      "GET",
      "/api/v1/tenants",
      {
        token: tokens.engineer,
      },
    );

    const names = list.body.items.map((item) => item.name);
    expect(names).toContain(tenantA);
    expect(names).toContain(tenantB);
    expect(list.body.items.find((item) => item.name === tenantA)!.access).toEqual({ platformEngineer: true });
  });

  test("namespace within policy is provisioned through the API", async () => {
    const created = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantA}/requests`, {
      token: tokens.alice,
      json: { name: "more-qa", spec: { type: "Namespace", namespaceName: "qa", reason: "integration tests" } },
    });

    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/tenants/${tenantA}/requests/more-qa`);
    expect(created.body.namespace).toBe(`${tenantA}-app`);
    expect(created.body.spec.requestedBy).toEqual({ username: alice, groups: [] });
    const provisioned = await waitForApiPhase(tenantA, "more-qa", tokens.alice, "Provisioned");
    expect(provisioned.status.decidedBy).toBe("selfService policy");
    const namespace = `${tenantA}-qa`;
    const deny = await networking.readNamespacedNetworkPolicy({ name: "deny-other-tenants", namespace });
    expect(Object.keys(deny.spec!.ingress![0]!._from![0]!.namespaceSelector!.matchLabels!)).toEqual([
      "tenancy.dev/tenant-id",
    ]);
    const binding = await rbac.readNamespacedRoleBinding({ name: "tenant-admin", namespace });
    expect(binding.subjects).toEqual([{ kind: "User", name: alice, apiGroup: "rbac.authorization.k8s.io" }]);
  });

  test("request above policy waits until a platform engineer approves through the API", async () => {
    const created = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantA}/requests`, {
      token: tokens.alice,
      json: { name: "more-perf", spec: { type: "Namespace", namespaceName: "perf" } },
    });
    expect(created.status).toBe(201);
    const pending = await waitForApiPhase(tenantA, "more-perf", tokens.alice, "Pending");
    expect(pending.status.reason).toBe("AwaitingApproval");

    // The owner may not approve its own request, and a view owner may not ask.
    const own = await client.problem("POST", `/api/v1/tenants/${tenantA}/requests/more-perf/approve`, {
      token: tokens.alice,
    });
    expect(own.status).toBe(403);
    expect(own.body.type).toBe("https://tenancy.dev/problems/forbidden");
    expect(own.body.detail).toContain("only platform engineers");
    const viewerAsk = await client.problem("POST", `/api/v1/tenants/${tenantA}/requests`, {
      token: tokens.viewer,
      json: { spec: { type: "Suspend" } },
    });
    expect(viewerAsk.status).toBe(403);
    expect(viewerAsk.body.detail).toContain("owners with role view may only read");

    const approved = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantA}/requests/more-perf/approve`, {
      token: tokens.engineer,
      json: { reason: "capacity planned" },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.spec.approval).toEqual({ decision: "Approved", by: engineerName, reason: "capacity planned" });
    const provisioned = await waitForApiPhase(tenantA, "more-perf", tokens.engineer, "Provisioned");
    expect(provisioned.status.decidedBy).toBe(engineerName);
    expect(await statusOf(core.readNamespace({ name: `${tenantA}-perf` }))).toBe(200);

    // Approving again changes nothing.
    const again = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantA}/requests/more-perf/approve`, {
      token: tokens.engineer,
    });
    expect(again.status).toBe(200);
    expect(again.body.status.provisionedAt).toBe(provisioned.status.provisionedAt);
    expect(again.body.spec.approval!.reason).toBe("capacity planned");
  });

  test("cancel through the API takes the grant back", async () => {
    const cancelled = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantA}/requests/more-perf/cancel`, {
      token: tokens.alice,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.spec.cancelled).toBe(true);

    await waitForApiPhase(tenantA, "more-perf", tokens.alice, "Cancelled");
    await eventually("cancelled namespace deleted (deletionPolicy Delete)", async () => {
      const namespace = await core.readNamespace({ name: `${tenantA}-perf` }).catch(() => undefined);
      return namespace === undefined || namespace.metadata?.deletionTimestamp !== undefined;
    });
    const twice = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantA}/requests/more-perf/cancel`, {
      token: tokens.alice,
    });
    expect(twice.status).toBe(200);
    expect(twice.body.status.phase).toBe("Cancelled");
  });

  test("engineer denies through the API", async () => {
    await client.call("POST", `/api/v1/tenants/${tenantA}/requests`, {
      token: tokens.alice,
      json: { name: "dedicated", spec: { type: "DedicatedInstance" } },
    });
    await waitForApiPhase(tenantA, "dedicated", tokens.alice, "Pending");

    const denied = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantA}/requests/dedicated/deny`, {
      token: tokens.engineer,
      json: { reason: "not this quarter" },
    });

    expect(denied.status).toBe(200);
    const final = await waitForApiPhase(tenantA, "dedicated", tokens.alice, "Denied");
    expect(final.status.message).toBe(`denied by ${engineerName}: not this quarter`);
  });

  test("service-account owners with the same name never see each other's tenants", async () => {
    const listX = await client.call<{ items: { name: string }[] }>("GET", "/api/v1/tenants", { token: tokens.ciX });
    const listY = await client.call<{ items: { name: string }[] }>("GET", "/api/v1/tenants", { token: tokens.ciY });

    expect(listX.body.items.map((item) => item.name)).toEqual([tenantX]);
    expect(listY.body.items.map((item) => item.name)).toEqual([tenantY]);
    expect((await client.problem("GET", `/api/v1/tenants/${tenantY}`, { token: tokens.ciX })).status).toBe(404);
    expect((await client.problem("GET", `/api/v1/tenants/${tenantX}/requests`, { token: tokens.ciY })).status).toBe(
      404,
    );
  });

  test("service-account token asks, an engineer approves with kubectl, and cancel keeps the namespace", async () => {
    const first = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantX}/requests`, {
      token: tokens.ciX,
      json: { name: "ci-extra", spec: { type: "Namespace", namespaceName: "ci" } },
    });
    expect(first.status).toBe(201);
    expect(first.body.spec.requestedBy!.username).toBe(`system:serviceaccount:${saNamespaceX}:ci`);
    await waitForApiPhase(tenantX, "ci-extra", tokens.ciX, "Provisioned");

    await client.call("POST", `/api/v1/tenants/${tenantX}/requests`, {
      token: tokens.ciX,
      json: { name: "ci-more", spec: { type: "Namespace", namespaceName: "ci2" } },
    });
    await waitForApiPhase(tenantX, "ci-more", tokens.ciX, "Pending");
    await approveWithKubectl(cluster, certEngineer.kubeconfigPath, `${tenantX}-app`, "ci-more", {
      decision: "Approved",
      by: certEngineer.username,
    });
    await waitForPhase(cluster, `${tenantX}-app`, "ci-more", "Provisioned");

    const cancelled = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantX}/requests/ci-extra/cancel`, {
      token: tokens.ciX,
    });
    expect(cancelled.status).toBe(200);
    await waitForApiPhase(tenantX, "ci-extra", tokens.ciX, "Cancelled");
    await eventually("grant gone from the tenant", async () => {
      const detail = await client.call<{ requests: string[] }>("GET", `/api/v1/tenants/${tenantX}`, {
        token: tokens.ciX,
      });
      return detail.body.requests.join() === `${tenantX}-app/ci-more`;
    });
    // deletionPolicy Retain: the namespace stays with its data.
    expect((await core.readNamespace({ name: `${tenantX}-ci` })).metadata!.deletionTimestamp).toBeUndefined();
  });

  test("tenant A cannot see, create, approve or cancel anything of tenant B", async () => {
    const created = await client.call<RequestBody>("POST", `/api/v1/tenants/${tenantB}/requests`, {
      token: tokens.bob,
      json: { name: "b-secret", spec: { type: "DedicatedInstance" } },
    });
    expect(created.status).toBe(201);
    const base = `/api/v1/tenants/${tenantB}`;

    const attempts: [string, string, object?][] = [
      ["GET", base],
      ["GET", `${base}/requests`],
      ["GET", `${base}/requests/b-secret`],
      ["POST", `${base}/requests`, { spec: { type: "Suspend" } }],
      ["POST", `${base}/requests/b-secret/cancel`],
      ["POST", `${base}/requests/b-secret/approve`, {}],
      ["POST", `${base}/requests/b-secret/deny`, {}],
      ["GET", `/api/v1/tenants/${tenantA}/requests/b-secret`],
      ["GET", `/api/v1/tenants/${tenantA}/requests/b-secret?namespace=${tenantB}-app`],
      ["POST", `/api/v1/tenants/${tenantA}/requests/b-secret/cancel?namespace=${tenantB}-app`],
    ];
    for (const [method, path, json] of attempts) {
      const response = await client.problem(method, path, { token: tokens.alice, ...(json ? { json } : {}) });
      expect(`${method} ${path} ${response.status}`).toBe(`${method} ${path} 404`);
      expect(response.body.type).toBe("https://tenancy.dev/problems/not-found");
    }

    // A query parameter only narrows: another tenant's namespace yields nothing.
    const narrowed = await client.call<{ items: unknown[] }>(
      "GET",
      `/api/v1/tenants/${tenantA}/requests?namespace=${tenantB}-app`,
      { token: tokens.alice },
    );
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.items).toEqual([]);
    // A foreign tenant reads the same as one that does not exist.
    const missing = await client.problem("GET", "/api/v1/tenants/no-such-tenant", { token: tokens.alice });
    const foreign = await client.problem("GET", base, { token: tokens.alice });
    expect(foreign.body.detail).toBe(`tenant "${tenantB}" not found`);
    expect(missing.body.detail).toBe('tenant "no-such-tenant" not found');
    expect((await readRequest(cluster, `${tenantB}-app`, "b-secret")).spec.cancelled).toBeUndefined();
  });

  test("invalid tokens get 401", async () => {
    const subject = alice.replace(/^oidc:/, "");
    const cases: [string, string | undefined][] = [
      ["missing", undefined],
      ["expired", await issuer.token(subject, { expiresInSeconds: -3600 })],
      ["wrongly signed", await issuer.token(subject, { wrongKey: true })],
      ["wrong audience", await issuer.token(subject, { audience: "some-other-api" })],
      ["not a token of this cluster", "not-a-real-token"],
    ];
    const details: Record<string, string> = {};
    for (const [name, token] of cases) {
      const response = await client.problem("GET", "/api/v1/tenants", token === undefined ? {} : { token });
      expect(`${name}: ${response.status}`).toBe(`${name}: 401`);
      expect(response.body.type).toBe("https://tenancy.dev/problems/unauthenticated");
      expect(response.headers["www-authenticate"]).toMatch(/^Bearer realm="tenant-operator"/);
      details[name] = response.body.detail;
    }

    expect(details.missing).toBe("send a bearer token: Authorization: Bearer <token>");
    expect(details.expired).toBe("the OIDC token is not valid: it has expired");
    expect(details["wrongly signed"]).toBe(
      "the OIDC token is not valid: its signature does not verify with the issuer's keys",
    );
    expect(details["wrong audience"]).toBe("the OIDC token is not valid: it is not issued for this API (audience)");
    expect(details["not a token of this cluster"]).toBe(
      "the Kubernetes token is not valid: expired, revoked or not issued by this cluster",
    );
  });

  test("bad input gets a problem naming the field", async () => {
    const create = `/api/v1/tenants/${tenantA}/requests`;
    const token = tokens.alice;

    const malformed = await client.problem("POST", create, {
      token,
      raw: '{"spec": {"type": "Suspend"',
      contentType: "application/json",
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.type).toBe("https://tenancy.dev/problems/malformed-request");

    const quantity = await client.problem("POST", create, {
      token,
      json: { spec: { type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "a lot" } } } },
    });
    expect(quantity.status).toBe(422);
    expect(quantity.body.type).toBe("https://tenancy.dev/problems/validation-failed");
    expect(quantity.body.errors).toEqual([
      { pointer: "/spec/quota/hard/requests.cpu", detail: "must be a quantity such as 500m, 2Gi or 10" },
    ]);

    const approval = await client.problem("POST", create, {
      token,
      json: { spec: { type: "Suspend", approval: { decision: "Approved", by: alice } } },
    });
    expect(approval.status).toBe(422);
    expect(approval.body.errors).toEqual([{ pointer: "/spec/approval", detail: "is not allowed here" }]);

    const missingParameter = await client.problem("POST", create, { token, json: { spec: { type: "Namespace" } } });
    expect(missingParameter.status).toBe(422);
    expect(missingParameter.body.errors).toEqual([
      { pointer: "/spec/namespaceName", detail: "namespaceName is required for type Namespace" },
    ]);

    const foreignNamespace = await client.problem("POST", create, {
      token,
      json: { namespace: `${tenantB}-app`, spec: { type: "Suspend" } },
    });
    expect(foreignNamespace.status).toBe(422);
    expect(foreignNamespace.body.errors).toEqual([
      { pointer: "/namespace", detail: `"${tenantB}-app" is not a Ready namespace of tenant "${tenantA}"` },
    ]);

    const oversized = await client.problem("POST", create, {
      token,
      json: { spec: { type: "Suspend", reason: "x".repeat(70 * 1024) } },
    });
    expect(oversized.status).toBe(413);
    expect(oversized.body.type).toBe("https://tenancy.dev/problems/payload-too-large");

    const wrongType = await client.problem("POST", create, { token, raw: "type=Suspend", contentType: "text/plain" });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.type).toBe("https://tenancy.dev/problems/unsupported-media-type");

    const duplicate = await client.problem("POST", create, {
      token,
      json: { name: "more-qa", spec: { type: "Namespace", namespaceName: "qa2" } },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.detail).toContain('already has a request named "more-qa"');

    const badFilter = await client.problem("GET", `${create}?phase=Sleeping`, { token });
    expect(badFilter.status).toBe(422);
    expect(badFilter.body.errors).toEqual([
      { parameter: "phase", detail: "must be one of Pending, Approved, Denied, Provisioned, Failed, Cancelled" },
    ]);

    const badDecision = await client.problem("POST", `${create}/more-qa/approve`, {
      token: tokens.engineer,
      json: { reason: "ok", extra: true },
    });
    expect(badDecision.status).toBe(422);
    expect(badDecision.body.errors).toEqual([{ pointer: "/extra", detail: "is not allowed here" }]);

    const unknownRoute = await client.problem("GET", "/api/v1/nothing-here", { token });
    expect(unknownRoute.status).toBe(404);
  });

  test("one tenant's burst gets 429 while another tenant is served", async () => {
    const limited = await startApiProcess(cluster, tls, issuer, `${tenantA}-limited`, [
      "--api-rate=0.1",
      "--api-burst=3",
    ]);
    try {
      const limitedClient = new ApiClient(limited.url, tls.ca);
      const statuses: number[] = [];
      let rejected: Awaited<ReturnType<ApiClient["problem"]>> | undefined;
      for (let attempt = 0; attempt < 6 && !rejected; attempt++) {
        const response = await limitedClient.call("GET", `/api/v1/tenants/${tenantA}`, { token: tokens.alice });
        statuses.push(response.status);
        if (response.status === 429) rejected = response as Awaited<ReturnType<ApiClient["problem"]>>;
      }

      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(rejected!.body.type).toBe("https://tenancy.dev/problems/rate-limited");
      expect(Number(rejected!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      const other = await limitedClient.call("GET", `/api/v1/tenants/${tenantB}`, { token: tokens.bob });
      expect(other.status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  test("every write leaves one audit line and no token in the log", async () => {
    const lines = auditLines(api.logFile);

    const created = lines.filter((line) => line.action === "create" && line.request === `${tenantA}-app/more-qa`);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      user: alice,
      tenant: tenantA,
      type: "Namespace",
      outcome: "succeeded",
      status: 201,
    });
    const refused = lines.find((line) => line.action === "approve" && line.user === alice);
    expect(refused).toMatchObject({ tenant: tenantA, outcome: "denied", status: 403 });
    const log = readFileSync(api.logFile, "utf8");
    for (const token of Object.values(tokens)) expect(log.includes(token)).toBe(false);
  });

  test("metrics count requests by route, method and code", async () => {
    const requests = await readMetric(api.probeUrl, "selfservice_http_requests_total");
    const writes = await readMetric(api.probeUrl, "selfservice_tenantrequest_writes_total");
    const latency = await readMetric(api.probeUrl, "selfservice_http_request_duration_seconds_count");

    expect(requests.get('{route="/api/v1/tenants/{tenant}/requests",method="POST",code="201"}')).toBeGreaterThanOrEqual(
      2,
    );
    expect(requests.get('{route="/api/v1/tenants",method="GET",code="401"}')).toBeGreaterThanOrEqual(5);
    expect(writes.get('{type="Namespace",action="create",outcome="succeeded"}')).toBeGreaterThanOrEqual(2);
    expect(latency.get('{route="/api/v1/tenants/{tenant}",method="GET"}')).toBeGreaterThanOrEqual(1);
  });

  test("standby operator replica serves the API in-process", async () => {
    const port = await freePort();
    // Leader election keeps this replica standby behind the shared operator; the API serves all the same.
    const replica = await startOperator(cluster, `api-${tenantA}`, [
      `--api-address=127.0.0.1:${port}`,
      `--api-tls-cert=${tls.certFile}`,
      `--api-tls-key=${tls.keyFile}`,
      `--oidc-issuer-url=${issuer.url}`,
      `--oidc-client-id=${OidcIssuer.audience}`,
      `--oidc-ca-file=${tls.caFile}`,
    ]);
    try {
      await waitForOperatorReady(replica);
      const replicaClient = new ApiClient(`https://127.0.0.1:${port}`, tls.ca);

      const list = await replicaClient.call<{ items: { name: string }[] }>("GET", "/api/v1/tenants", {
        token: tokens.alice,
      });

      expect(list.status).toBe(200);
      expect(list.body.items.map((item) => item.name)).toEqual([tenantA]);
    } finally {
      await replica.stop();
    }
  });
});
