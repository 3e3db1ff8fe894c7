// Writes src/api/generated.ts from the CRD schemas in crds/.
import { writeFileSync } from "node:fs";
import { renderGeneratedTypes } from "../src/api/generate.js";

writeFileSync(new URL("../src/api/generated.ts", import.meta.url), renderGeneratedTypes());
console.log("wrote src/api/generated.ts");
