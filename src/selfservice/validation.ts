// Validation of request bodies against the schemas derived from the CRDs, with one error for each invalid field,
// named by its JSON Pointer (for example /spec/quota/hard/requests.cpu).

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { JsonSchema } from "../api/schemaTypes.js";
import type { TenantRequestSpec } from "../api/generated.js";
import { pointerToken, type FieldError } from "./problem.js";
import { parameterErrors, type CrdSchemas } from "./schemas.js";

const dnsLabel = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const dnsSubdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/** Body of POST /tenants/{tenant}/requests. */
export interface CreateRequestBody {
  /** Name of the TenantRequest; generated from the type when left out. */
  name?: string;
  /** Namespace of the tenant to hold the request; the tenant's first Ready namespace when left out. */
  namespace?: string;
  spec: Omit<TenantRequestSpec, "requestedBy" | "approval" | "cancelled">;
}

/** Body of POST .../approve and .../deny. */
export interface DecisionBody {
  reason?: string;
}

/** Returns the schemas of the request bodies, for the validator and the OpenAPI document. */
export function bodySchemas(): { CreateTenantRequest: JsonSchema; Decision: JsonSchema } {
  return {
    CreateTenantRequest: {
      type: "object",
      description: "A new TenantRequest; the API records the caller in spec.requestedBy.",
      required: ["spec"],
      additionalProperties: false,
      properties: {
        name: {
          type: "string",
          description: "Name of the TenantRequest; generated from the type when left out.",
          maxLength: 253,
          pattern: dnsSubdomain,
        },
        namespace: {
          type: "string",
          description: "A Ready namespace of the tenant to hold the request; the first Ready one when left out.",
          maxLength: 63,
          pattern: dnsLabel,
        },
        spec: { $ref: "#/components/schemas/CreateTenantRequestSpec" },
      },
    },
    Decision: {
      type: "object",
      description: "A platform engineer's decision; the API records the caller in spec.approval.by.",
      additionalProperties: false,
      properties: { reason: { type: "string", maxLength: 1024, description: "Why, for the tenant." } },
    },
  };
}

export type Validation<T> = { valid: true; value: T } | { valid: false; errors: FieldError[] };

/** Validates the bodies the API accepts; built once from the CRD-derived schemas. */
export class BodyValidator {
  private readonly create: ValidateFunction;
  private readonly decision: ValidateFunction;
  private readonly quantityPattern: string | undefined;

  constructor(crd: CrdSchemas) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
    const bodies = bodySchemas();
    // The document refers to the spec by $ref; the validator inlines it.
    const create = bodies.CreateTenantRequest;
    this.create = ajv.compile({ ...create, properties: { ...create.properties, spec: crd.createSpec } });
    this.decision = ajv.compile(bodies.Decision);
    const hard = crd.createSpec.properties?.quota?.properties?.hard?.additionalProperties;
    this.quantityPattern = typeof hard === "object" ? (hard.pattern as string | undefined) : undefined;
  }

  validateCreate(body: unknown): Validation<CreateRequestBody> {
    const errors = this.check(this.create, body);
    const spec = (body as { spec?: unknown } | undefined)?.spec;
    if (spec && typeof spec === "object" && !Array.isArray(spec)) {
      errors.push(...parameterErrors(spec as Record<string, unknown>));
    }
    return errors.length === 0 ? { valid: true, value: body as CreateRequestBody } : { valid: false, errors };
  }

  validateDecision(body: unknown): Validation<DecisionBody> {
    // No body at all is an empty decision.
    const value = body === undefined ? {} : body;
    const errors = this.check(this.decision, value);
    return errors.length === 0 ? { valid: true, value: value as DecisionBody } : { valid: false, errors };
  }

  private check(validate: ValidateFunction, body: unknown): FieldError[] {
    if (validate(body)) return [];
    return this.toFieldErrors(validate.errors ?? []);
  }

  /** Converts ajv errors to one error for each pointer, with the alternatives of an anyOf in one message. */
  private toFieldErrors(errors: readonly ErrorObject[]): FieldError[] {
    const byPointer = new Map<string, { details: string[]; anyOfTypes: string[]; anyOf: boolean }>();
    for (const error of errors) {
      let pointer = error.instancePath;
      if (error.keyword === "required") pointer += `/${pointerToken(String(error.params.missingProperty))}`;
      if (error.keyword === "additionalProperties") {
        pointer += `/${pointerToken(String(error.params.additionalProperty))}`;
      }
      const entry = byPointer.get(pointer) ?? { details: [], anyOfTypes: [], anyOf: false };
      byPointer.set(pointer, entry);

      if (error.keyword === "anyOf") entry.anyOf = true;
      else if (error.keyword === "type" && error.schemaPath.includes("/anyOf/")) {
        entry.anyOfTypes.push(String(error.params.type));
      } else entry.details.push(this.detailOf(error));
    }
    return [...byPointer].map(([pointer, entry]) => {
      const details = [...entry.details];
      if (entry.anyOf) details.push(`must be of type ${entry.anyOfTypes.join(" or ")}`);
      return { pointer, detail: details.join("; ") };
    });
  }

  private detailOf(error: ErrorObject): string {
    switch (error.keyword) {
      case "required":
        return "is required";
      case "additionalProperties":
        return "is not allowed here";
      case "pattern":
        if (error.params.pattern === this.quantityPattern) {
          return "must be a quantity such as 500m, 2Gi or 10";
        }
        return error.message ?? "is invalid";
      case "enum":
        return `must be one of ${(error.params.allowedValues as unknown[]).map(String).join(", ")}`;
      default:
        return error.message ?? "is invalid";
    }
  }
}
