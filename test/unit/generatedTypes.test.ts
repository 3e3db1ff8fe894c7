import { readFileSync } from "node:fs";
import { format } from "prettier";
import { renderGeneratedTypes } from "../../src/api/generate.js";

test("generated types match the CRD schemas", async () => {
  const committed = readFileSync(new URL("../../src/api/generated.ts", import.meta.url), "utf8");
  const rendered = await format(renderGeneratedTypes(), { parser: "typescript", printWidth: 120 });
  expect(committed).toBe(rendered);
});
