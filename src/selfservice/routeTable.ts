// Every route of the self-service API, defined once: the server registers its handlers from this table and the
// OpenAPI document is built from it, so no route goes undocumented.

import type { JsonSchema } from "../api/schemaTypes.js";
import { requestPhases, requestTypes } from "../requests/metrics.js";
import type { WriteAction } from "./metrics.js";

export const apiBasePath = "/api/v1";

export type OperationId =
  | "getOpenApi"
  | "listTenants"
  | "getTenant"
  | "listRequests"
  | "createRequest"
  | "getRequest"
  | "cancelRequest"
  | "approveRequest"
  | "denyRequest";

export interface QueryParameter {
  name: string;
  description: string;
  schema: JsonSchema;
}

export interface RouteSpec {
  operationId: OperationId;
  method: "get" | "post";
  /** Path under apiBasePath, with OpenAPI parameters ({tenant}). */
  path: string;
  summary: string;
  description: string;
  authenticated: boolean;
  query: QueryParameter[];
  /** Component schema of the JSON body; `required` false accepts an empty body. */
  requestBody?: { schema: string; required: boolean };
  success: { status: 200 | 201; schema: string; description: string };
  /** Problem statuses the route can return besides 500. */
  problems: number[];
  /** Writes are audited and counted by action. */
  write?: WriteAction;
}

const namespaceQuery: QueryParameter = {
  name: "namespace",
  description: "Only the tenant's namespace of this name; it narrows the result and never reaches another tenant.",
  schema: { type: "string" },
};

export const routes: readonly RouteSpec[] = [
  {
    operationId: "getOpenApi",
    method: "get",
    path: "/openapi.json",
    summary: "This OpenAPI document",
    description: "The OpenAPI 3 description of every route; no token needed.",
    authenticated: false,
    query: [],
    success: { status: 200, schema: "OpenApiDocument", description: "The document." },
    problems: [],
  },
  {
    operationId: "listTenants",
    method: "get",
    path: "/tenants",
    summary: "List the caller's tenants",
    description: "Tenants the caller owns; platform engineers see every tenant.",
    authenticated: true,
    query: [],
    success: { status: 200, schema: "TenantList", description: "The tenants." },
    problems: [401, 429, 503],
  },
  {
    operationId: "getTenant",
    method: "get",
    path: "/tenants/{tenant}",
    summary: "Read one tenant",
    description: "Status, namespaces, quota usage and self-service policy of a tenant the caller may see.",
    authenticated: true,
    query: [],
    success: { status: 200, schema: "TenantDetail", description: "The tenant." },
    problems: [401, 404, 429, 503],
  },
  {
    operationId: "listRequests",
    method: "get",
    path: "/tenants/{tenant}/requests",
    summary: "List the tenant's requests",
    description: "Every TenantRequest in the tenant's namespaces, oldest first. Filters only narrow the list.",
    authenticated: true,
    query: [
      {
        name: "phase",
        description: "Only requests in this phase.",
        schema: { type: "string", enum: [...requestPhases] },
      },
      { name: "type", description: "Only requests of this type.", schema: { type: "string", enum: [...requestTypes] } },
      namespaceQuery,
    ],
    success: { status: 200, schema: "TenantRequestList", description: "The requests." },
    problems: [401, 404, 422, 429, 503],
  },
  {
    operationId: "createRequest",
    method: "post",
    path: "/tenants/{tenant}/requests",
    summary: "Ask for more isolation or capacity, or give some back",
    description:
      "Creates a TenantRequest in the tenant's first Ready namespace, or in `namespace`. The caller is recorded in " +
      "spec.requestedBy. Owners with role admin or edit may create requests.",
    authenticated: true,
    query: [],
    requestBody: { schema: "CreateTenantRequest", required: true },
    success: { status: 201, schema: "TenantRequest", description: "The created request; Location names it." },
    problems: [400, 401, 403, 404, 409, 413, 415, 422, 429, 503],
    write: "create",
  },
  {
    operationId: "getRequest",
    method: "get",
    path: "/tenants/{tenant}/requests/{name}",
    summary: "Read one request",
    description: "A request of the tenant by name; `namespace` picks one when two namespaces hold the same name.",
    authenticated: true,
    query: [namespaceQuery],
    success: { status: 200, schema: "TenantRequest", description: "The request." },
    problems: [401, 404, 409, 429, 503],
  },
  {
    operationId: "cancelRequest",
    method: "post",
    path: "/tenants/{tenant}/requests/{name}/cancel",
    summary: "Cancel a request",
    description:
      "Sets spec.cancelled; a granted request's grant is taken back on the Tenant's next reconcile. Owners with " +
      "role admin or edit may cancel. Cancelling twice changes nothing.",
    authenticated: true,
    query: [namespaceQuery],
    success: { status: 200, schema: "TenantRequest", description: "The cancelled request." },
    problems: [401, 403, 404, 409, 429, 503],
    write: "cancel",
  },
  {
    operationId: "approveRequest",
    method: "post",
    path: "/tenants/{tenant}/requests/{name}/approve",
    summary: "Approve a request (platform engineers)",
    description:
      "Records the caller's approval in spec.approval. Only callers allowed the verb approve on tenantrequests in " +
      "group tenancy.dev may decide. Approving an approved request changes nothing.",
    authenticated: true,
    query: [namespaceQuery],
    requestBody: { schema: "Decision", required: false },
    success: { status: 200, schema: "TenantRequest", description: "The approved request." },
    problems: [400, 401, 403, 404, 409, 413, 415, 422, 429, 503],
    write: "approve",
  },
  {
    operationId: "denyRequest",
    method: "post",
    path: "/tenants/{tenant}/requests/{name}/deny",
    summary: "Deny a request (platform engineers)",
    description: "Records the caller's denial in spec.approval; a granted request's grant is taken back.",
    authenticated: true,
    query: [namespaceQuery],
    requestBody: { schema: "Decision", required: false },
    success: { status: 200, schema: "TenantRequest", description: "The denied request." },
    problems: [400, 401, 403, 404, 409, 413, 415, 422, 429, 503],
    write: "deny",
  },
];

/** Returns the route's path in express syntax, under apiBasePath. */
export function expressPath(route: RouteSpec): string {
  return apiBasePath + route.path.replace(/\{(\w+)\}/g, ":$1");
}

/** Returns the route's full path in OpenAPI syntax, which is also its metric label. */
export function templatePath(route: RouteSpec): string {
  return apiBasePath + route.path;
}
