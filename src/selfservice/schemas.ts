// JSON Schemas of the self-service API, derived from the CRD schemas in crds/, which stay the single source of
// truth: the request body validator and the OpenAPI document both use these, so neither can drift from what the
// API server enforces.
//
// The CRD's CEL rules (x-kubernetes-validations) have no JSON Schema form. The rules on which parameter each
// request type takes are mirrored in parameterErrors, and a unit test checks the mirror against the CRD.

import path from "node:path";
import { crdDir } from "../api/generate.js";
import { readCrdSchema, type JsonSchema } from "../api/schemaTypes.js";
import type { FieldError } from "./problem.js";

export interface CrdSchemas {
  /** TenantRequest spec as stored. */
  requestSpec: JsonSchema;
  requestStatus: JsonSchema;
  /** The spec a caller may send: the stored spec without requestedBy, approval and cancelled. */
  createSpec: JsonSchema;
  /** Tenant.spec.selfService. */
  selfService: JsonSchema;
  /** Tenant.status fields the API returns. */
  tenantNamespaces: JsonSchema;
  tenantConditions: JsonSchema;
  tenantUsage: JsonSchema;
}

/** Fields of the spec that the API sets itself or through its own routes. */
const serverOwnedSpecFields = ["requestedBy", "approval", "cancelled"];

/** Reads both CRDs and derives the API's schemas; throws naming the file when one cannot be read. */
export function loadCrdSchemas(directory: string = crdDir): CrdSchemas {
  const requestFile = path.join(directory, "tenancy.dev_tenantrequests.yaml");
  const tenantFile = path.join(directory, "tenancy.dev_tenants.yaml");
  let request: JsonSchema;
  let tenant: JsonSchema;
  try {
    request = readCrdSchema(requestFile).schema;
    tenant = readCrdSchema(tenantFile).schema;
  } catch (error) {
    throw new Error(`reading the CRD schemas in ${directory} failed; the API derives its schemas from them`, {
      cause: error,
    });
  }

  const requestSpec = toJsonSchema(request.properties!.spec!);
  const createProperties = Object.fromEntries(
    Object.entries(requestSpec.properties ?? {}).filter(([name]) => !serverOwnedSpecFields.includes(name)),
  );
  const tenantSpec = tenant.properties!.spec!.properties!;
  const tenantStatus = tenant.properties!.status!.properties!;
  return {
    requestSpec,
    requestStatus: toJsonSchema(request.properties!.status!),
    createSpec: { ...requestSpec, properties: createProperties, additionalProperties: false },
    selfService: toJsonSchema(tenantSpec.selfService!),
    tenantNamespaces: toJsonSchema(tenantStatus.namespaces!),
    tenantConditions: toJsonSchema(tenantStatus.conditions!),
    tenantUsage: toJsonSchema(tenantStatus.usage!),
  };
}

/**
 * Converts a CRD structural schema to plain JSON Schema: drops the x-kubernetes-* extensions and `default`, which
 * the API server applies on write and which mean nothing to a validator of input.
 */
export function toJsonSchema(schema: JsonSchema): JsonSchema {
  const result: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "default") continue;
    result[key] = convertValue(key, value);
  }
  return result;
}

function convertValue(key: string, value: unknown): unknown {
  if (key === "properties" && value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [name, toJsonSchema(child)]),
    );
  }
  if ((key === "items" || key === "additionalProperties") && value && typeof value === "object") {
    return toJsonSchema(value as JsonSchema);
  }
  if ((key === "anyOf" || key === "oneOf" || key === "allOf") && Array.isArray(value)) {
    return value.map((child: JsonSchema) => toJsonSchema(child));
  }
  return value;
}

/**
 * The parameter field that each request type takes; every other type must leave it out. Mirrors the CRD rules
 * "spec.namespaceName is required for types Namespace and RemoveNamespace", "spec.quota is required for type
 * Quota" and "spec.pool is required for type DedicatedNodes", each "and not allowed for other types".
 */
export const parameterTypes: Record<"namespaceName" | "quota" | "pool", readonly string[]> = {
  namespaceName: ["Namespace", "RemoveNamespace"],
  quota: ["Quota"],
  pool: ["DedicatedNodes"],
};

/** Checks which parameters `spec` carries for its type; `pointer` is where the spec sits in the body. */
export function parameterErrors(spec: Record<string, unknown>, pointer = "/spec"): FieldError[] {
  const type = spec.type;
  if (typeof type !== "string") return [];
  const errors: FieldError[] = [];
  for (const [field, types] of Object.entries(parameterTypes)) {
    const present = spec[field] !== undefined;
    if (types.includes(type) && !present) {
      errors.push({ pointer: `${pointer}/${field}`, detail: `${field} is required for type ${type}` });
    }
    if (!types.includes(type) && present) {
      errors.push({
        pointer: `${pointer}/${field}`,
        detail: `${field} is not allowed for type ${type}; it belongs to type ${types.join(" or ")}`,
      });
    }
  }
  return errors;
}
