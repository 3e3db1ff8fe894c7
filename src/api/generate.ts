// Renders src/api/generated.ts: one set of types for each CRD in crds/.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readCrdSchema, renderCrdTypes } from "./schemaTypes.js";

export const crdDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "crds");
export const crdFiles = ["tenancy.dev_tenants.yaml", "tenancy.dev_tenantrequests.yaml", "tenancy.dev_sharedapps.yaml"];

export function renderGeneratedTypes(): string {
  const parts = [
    "// Generated from crds/ by `npm run generate`; do not edit. A unit test fails when this file is out of date.",
    'import type { ObjectMeta } from "../runtime/client.js";',
    "",
  ];
  for (const file of crdFiles) {
    const { kind, schema } = readCrdSchema(path.join(crdDir, file));
    parts.push(renderCrdTypes(kind, schema));
  }
  return parts.join("\n");
}
