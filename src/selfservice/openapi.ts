// Builds the OpenAPI 3 document of the self-service API from the route table and the CRD-derived schemas. Served
// at /api/v1/openapi.json; tests validate every response against it.

import type { JsonSchema } from "../api/schemaTypes.js";
import { ProblemTypes, problemContentType } from "./problem.js";
import { routes, templatePath, type RouteSpec } from "./routeTable.js";
import type { CrdSchemas } from "./schemas.js";
import { bodySchemas } from "./validation.js";

export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

export function buildOpenApiDocument(crd: CrdSchemas, version: string): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes) {
    const path = templatePath(route);
    paths[path] = { ...paths[path], [route.method]: operationOf(route) };
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "tenant-operator self-service API",
      version,
      description:
        "Tenants ask for isolation and capacity through TenantRequests; the Tenant's selfService policy grants " +
        "what it allows and platform engineers decide the rest. Errors are RFC 9457 problem details. Each tenant " +
        "and each caller has its own request rate limit; a 429 response carries Retry-After.",
    },
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "A Kubernetes token (checked with a TokenReview) or a JWT of the configured OIDC issuer.",
        },
      },
      schemas: schemasOf(crd),
    },
  };
}

function operationOf(route: RouteSpec): Record<string, unknown> {
  const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({
    name: match[1],
    in: "path",
    required: true,
    schema: { type: "string" },
    description: match[1] === "tenant" ? "Name of the Tenant." : "Name of the TenantRequest.",
  }));
  const query = route.query.map((parameter) => ({
    name: parameter.name,
    in: "query",
    required: false,
    description: parameter.description,
    schema: parameter.schema,
  }));

  const responses: Record<string, unknown> = {
    [route.success.status]: {
      description: route.success.description,
      content: { "application/json": { schema: ref(route.success.schema) } },
      ...(route.success.status === 201
        ? { headers: { Location: { description: "Path of the new request.", schema: { type: "string" } } } }
        : {}),
    },
  };
  for (const status of route.problems) responses[status] = problemResponse(status);
  responses.default = problemResponse(500);

  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description,
    ...(route.authenticated ? {} : { security: [] }),
    parameters: [...pathParameters, ...query],
    ...(route.requestBody
      ? {
          requestBody: {
            required: route.requestBody.required,
            content: { "application/json": { schema: ref(route.requestBody.schema) } },
          },
        }
      : {}),
    responses,
  };
}

function problemResponse(status: number): Record<string, unknown> {
  const kind = Object.values(ProblemTypes).find((each) => each.status === status);
  const headers: Record<string, unknown> = {};
  if (status === 429) {
    headers["Retry-After"] = { description: "Seconds to wait before retrying.", schema: { type: "integer" } };
  }
  if (status === 401) {
    headers["WWW-Authenticate"] = { description: "The Bearer challenge.", schema: { type: "string" } };
  }
  return {
    description: kind ? `${kind.title} (${kind.type})` : "Error",
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: { [problemContentType]: { schema: ref("Problem") } },
  };
}

function schemasOf(crd: CrdSchemas): Record<string, JsonSchema> {
  const bodies = bodySchemas();
  const tenantSummaryProperties: Record<string, JsonSchema> = {
    name: { type: "string" },
    tenantId: { type: "string" },
    phase: { type: "string" },
    ready: { type: "boolean", description: "Whether the Tenant's Ready condition is True." },
    tier: { type: "string" },
    namespaceCount: { type: "integer" },
    access: ref("TenantAccess"),
  };
  return {
    Problem: {
      type: "object",
      description: "An RFC 9457 problem detail.",
      required: ["type", "title", "status", "detail"],
      additionalProperties: false,
      properties: {
        type: { type: "string", enum: Object.values(ProblemTypes).map((each) => each.type) },
        title: { type: "string" },
        status: { type: "integer" },
        detail: { type: "string" },
        errors: { type: "array", items: ref("FieldError") },
      },
    },
    FieldError: {
      type: "object",
      description: "One invalid input: a JSON Pointer into the body, or a query parameter.",
      required: ["detail"],
      additionalProperties: false,
      properties: { pointer: { type: "string" }, parameter: { type: "string" }, detail: { type: "string" } },
    },
    TenantRequestSpec: crd.requestSpec,
    TenantRequestStatus: crd.requestStatus,
    CreateTenantRequestSpec: crd.createSpec,
    CreateTenantRequest: bodies.CreateTenantRequest,
    Decision: bodies.Decision,
    TenantRequest: {
      type: "object",
      required: ["name", "namespace", "tenant", "spec", "status"],
      additionalProperties: false,
      properties: {
        name: { type: "string" },
        namespace: { type: "string" },
        tenant: { type: "string" },
        createdAt: { type: "string", format: "date-time" },
        spec: ref("TenantRequestSpec"),
        status: ref("TenantRequestStatus"),
      },
    },
    TenantRequestList: {
      type: "object",
      required: ["items"],
      additionalProperties: false,
      properties: { items: { type: "array", items: ref("TenantRequest") } },
    },
    TenantAccess: {
      type: "object",
      required: ["platformEngineer"],
      additionalProperties: false,
      properties: {
        ownerRole: { type: "string", enum: ["admin", "edit", "view"] },
        platformEngineer: { type: "boolean" },
      },
    },
    TenantSummary: {
      type: "object",
      required: ["name", "ready", "namespaceCount", "access"],
      additionalProperties: false,
      properties: tenantSummaryProperties,
    },
    TenantList: {
      type: "object",
      required: ["items"],
      additionalProperties: false,
      properties: { items: { type: "array", items: ref("TenantSummary") } },
    },
    TenantDetail: {
      type: "object",
      required: [
        "name",
        "ready",
        "namespaceCount",
        "access",
        "maxNamespaces",
        "namespaces",
        "usage",
        "conditions",
        "requests",
        "selfService",
      ],
      additionalProperties: false,
      properties: {
        ...tenantSummaryProperties,
        maxNamespaces: { type: "integer" },
        namespaces: crd.tenantNamespaces,
        usage: crd.tenantUsage,
        conditions: crd.tenantConditions,
        requests: { type: "array", items: { type: "string" }, description: "Applied requests as namespace/name." },
        selfService: { ...crd.selfService, description: "Tenant.spec.selfService with its defaults filled in." },
      },
    },
    OpenApiDocument: { type: "object", required: ["openapi", "info", "paths"] },
  };
}
