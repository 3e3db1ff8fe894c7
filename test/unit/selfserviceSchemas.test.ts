// Unit tests of the schemas derived from the CRDs, the body validator and the OpenAPI document.
import { describe, expect, test } from "@jest/globals";
import { Ajv } from "ajv";
import { readCrdSchema, type JsonSchema } from "../../src/api/schemaTypes.js";
import { crdDir } from "../../src/api/generate.js";
import { buildOpenApiDocument } from "../../src/selfservice/openapi.js";
import { loadCrdSchemas, parameterTypes, toJsonSchema } from "../../src/selfservice/schemas.js";
import { routes, templatePath } from "../../src/selfservice/routeTable.js";
import { BodyValidator } from "../../src/selfservice/validation.js";

const crd = loadCrdSchemas();
const validator = new BodyValidator(crd);

describe("toJsonSchema", () => {
  test("drops kubernetes extensions and defaults at every depth", () => {
    const converted = toJsonSchema({
      type: "object",
      "x-kubernetes-validations": [{ rule: "true" }],
      properties: {
        a: { type: "integer", default: 3 },
        b: {
          type: "object",
          additionalProperties: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }] },
        },
        c: { type: "array", items: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    });

    expect(converted).toEqual({
      type: "object",
      properties: {
        a: { type: "integer" },
        b: { type: "object", additionalProperties: { anyOf: [{ type: "integer" }] } },
        c: { type: "array", items: { type: "object" } },
      },
    });
  });
});

describe("loadCrdSchemas", () => {
  test("create spec leaves out the fields the API owns", () => {
    expect(Object.keys(crd.createSpec.properties ?? {}).sort()).toEqual([
      "namespaceName",
      "pool",
      "quota",
      "reason",
      "type",
    ]);
    expect(crd.createSpec.additionalProperties).toBe(false);
  });

  test("request spec keeps every CRD field", () => {
    expect(Object.keys(crd.requestSpec.properties ?? {})).toContain("approval");
    expect(JSON.stringify(crd.requestSpec)).not.toContain("x-kubernetes");
  });

  test("parameter rules mirror the CRD's CEL rules", () => {
    const { schema } = readCrdSchema(`${crdDir}/tenancy.dev_tenantrequests.yaml`);
    const rules = (schema.properties!.spec!["x-kubernetes-validations"] as { rule: string }[]).map((each) => each.rule);

    for (const [field, types] of Object.entries(parameterTypes)) {
      const rule = rules.find((each) => each.endsWith(`== has(self.${field})`));
      expect(rule).toBeDefined();
      const named = [...rule!.matchAll(/'(\w+)'/g)].map((match) => match[1]);
      expect(named).toEqual([...types]);
    }
  });

  test("missing CRD folder names the folder", () => {
    expect(() => loadCrdSchemas("/nonexistent")).toThrow(
      "reading the CRD schemas in /nonexistent failed; the API derives its schemas from them",
    );
  });
});

describe("BodyValidator", () => {
  test("valid namespace request passes", () => {
    const result = validator.validateCreate({ spec: { type: "Namespace", namespaceName: "qa", reason: "tests" } });

    expect(result.valid).toBe(true);
  });

  test("invalid quantity names its field", () => {
    const result = validator.validateCreate({
      spec: { type: "Quota", quota: { scope: "Total", hard: { "requests.cpu": "lots" } } },
    });

    expect(result).toEqual({
      valid: false,
      errors: [{ pointer: "/spec/quota/hard/requests.cpu", detail: "must be a quantity such as 500m, 2Gi or 10" }],
    });
  });

  test("quantity of the wrong type names its field", () => {
    const result = validator.validateCreate({
      spec: { type: "Quota", quota: { scope: "Total", hard: { pods: true } } },
    });

    expect(result).toEqual({
      valid: false,
      errors: [{ pointer: "/spec/quota/hard/pods", detail: "must be of type integer or string" }],
    });
  });

  test("approval and requestedBy cannot be sent", () => {
    const result = validator.validateCreate({
      spec: { type: "Suspend", approval: { decision: "Approved", by: "me" }, requestedBy: { username: "root" } },
    });

    expect(result.valid).toBe(false);
    const pointers = result.valid ? [] : result.errors.map((error) => error.pointer).sort();
    expect(pointers).toEqual(["/spec/approval", "/spec/requestedBy"]);
  });

  test("missing parameter of the type names it", () => {
    const result = validator.validateCreate({ spec: { type: "DedicatedNodes" } });

    expect(result).toEqual({
      valid: false,
      errors: [{ pointer: "/spec/pool", detail: "pool is required for type DedicatedNodes" }],
    });
  });

  test("parameter of another type names it", () => {
    const result = validator.validateCreate({ spec: { type: "Suspend", namespaceName: "qa" } });

    expect(result.valid ? [] : result.errors).toEqual([
      {
        pointer: "/spec/namespaceName",
        detail: "namespaceName is not allowed for type Suspend; it belongs to type Namespace or RemoveNamespace",
      },
    ]);
  });

  test("unknown type lists the allowed ones", () => {
    const result = validator.validateCreate({ spec: { type: "Everything" } });

    expect(result.valid ? undefined : result.errors[0]?.pointer).toBe("/spec/type");
    expect(result.valid ? undefined : result.errors[0]?.detail).toContain("must be one of Namespace, RemoveNamespace");
  });

  test("missing spec and unknown fields are named", () => {
    const result = validator.validateCreate({ name: "Not_A_Name", extra: true });

    const pointers = result.valid ? [] : result.errors.map((error) => error.pointer).sort();
    expect(pointers).toEqual(["/extra", "/name", "/spec"]);
  });

  test("non-object body is named at the root", () => {
    expect(validator.validateCreate([])).toEqual({ valid: false, errors: [{ pointer: "", detail: "must be object" }] });
  });

  test("decision without a body is empty", () => {
    expect(validator.validateDecision(undefined)).toEqual({ valid: true, value: {} });
  });

  test("decision reason longer than 1024 is rejected", () => {
    const result = validator.validateDecision({ reason: "x".repeat(1025) });

    expect(result.valid ? undefined : result.errors).toEqual([
      { pointer: "/reason", detail: "must NOT have more than 1024 characters" },
    ]);
  });
});

describe("OpenAPI document", () => {
  const document = buildOpenApiDocument(crd, "v1");

  test("documents every route of the table", () => {
    for (const route of routes) {
      expect(document.paths[templatePath(route)]?.[route.method]).toBeDefined();
    }
    const operations = Object.values(document.paths).flatMap((methods) => Object.keys(methods));
    expect(operations).toHaveLength(routes.length);
  });

  test("every reference resolves", () => {
    const schemas = (document.components as { schemas: Record<string, JsonSchema> }).schemas;
    const references = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (match) => match[1]!,
    );

    expect(references.length).toBeGreaterThan(10);
    for (const name of references) expect(Object.keys(schemas)).toContain(name);
  });

  test("component schemas compile as JSON Schema", () => {
    const ajv = new Ajv({ strict: false });
    ajv.addFormat("date-time", true).addFormat("int64", true);
    ajv.addSchema({ $id: "openapi.json", components: document.components });

    expect(ajv.getSchema("openapi.json#/components/schemas/TenantDetail")).toBeDefined();
    expect(ajv.getSchema("openapi.json#/components/schemas/TenantRequestList")).toBeDefined();
  });

  test("problem responses use the problem media type", () => {
    const create = document.paths["/api/v1/tenants/{tenant}/requests"]!.post as {
      responses: Record<string, { content: Record<string, unknown> }>;
    };

    expect(Object.keys(create.responses).sort()).toEqual(
      ["201", "400", "401", "403", "404", "409", "413", "415", "422", "429", "503", "default"].sort(),
    );
    expect(Object.keys(create.responses["422"]!.content)).toEqual(["application/problem+json"]);
  });
});
