// Renders TypeScript types from the OpenAPI v3 schemas in crds/, so that the CRDs stay the single source of
// truth: `npm run generate` writes src/api/generated.ts, and a unit test fails when that file is out of date.

import { readFileSync } from "node:fs";
import yaml from "js-yaml";

export interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
  required?: string[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  [key: string]: unknown;
}

interface CrdVersion {
  name: string;
  schema: { openAPIV3Schema: JsonSchema };
}

interface Crd {
  spec: { names: { kind: string }; versions: CrdVersion[] };
}

/** Reads the storage version's schema of a CRD manifest. */
export function readCrdSchema(file: string): { kind: string; schema: JsonSchema } {
  const crd = yaml.load(readFileSync(file, "utf8")) as Crd;
  const version = crd.spec.versions[0]!;
  return { kind: crd.spec.names.kind, schema: version.schema.openAPIV3Schema };
}

/** Renders `export interface <Kind>Spec`, `<Kind>Status` and `<Kind>` for one CRD. */
export function renderCrdTypes(kind: string, schema: JsonSchema): string {
  const lines: string[] = [];
  const properties = schema.properties ?? {};
  for (const part of ["spec", "status"] as const) {
    const partSchema = properties[part];
    if (!partSchema) continue;
    const name = kind + part[0]!.toUpperCase() + part.slice(1);
    if (partSchema.description) lines.push(`/** ${partSchema.description} */`);
    lines.push(`export interface ${name} ${renderObject(partSchema, 0)}`, "");
  }
  const required = new Set(schema.required ?? []);
  lines.push(`export interface ${kind} {`);
  lines.push(`  apiVersion?: string;`, `  kind?: string;`, `  metadata?: ObjectMeta;`);
  if (properties.spec) lines.push(`  spec${required.has("spec") ? "" : "?"}: ${kind}Spec;`);
  if (properties.status) lines.push(`  status?: ${kind}Status;`);
  lines.push("}", "");
  return lines.join("\n");
}

function renderType(schema: JsonSchema, depth: number): string {
  if (schema["x-kubernetes-int-or-string"]) return "string | number";
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  switch (schema.type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
      return `Array<${renderType(schema.items ?? {}, depth)}>`;
    case "object":
      if (schema.properties) return renderObject(schema, depth);
      if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
        return `Record<string, ${renderType(schema.additionalProperties, depth)}>`;
      }
      return "Record<string, unknown>";
    default:
      return "unknown";
  }
}

function renderObject(schema: JsonSchema, depth: number): string {
  const indent = "  ".repeat(depth + 1);
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const doc = property.description ? `${indent}/** ${property.description} */\n` : "";
    const optional = required.has(name) ? "" : "?";
    return `${doc}${indent}${name}${optional}: ${renderType(property, depth + 1)};`;
  });
  return `{\n${fields.join("\n")}\n${"  ".repeat(depth)}}`;
}
