// Command-line options of `npm run bench`. The defaults produce every figure for 200 tenants in one run.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export interface BenchOptions {
  /** Tenants applied at once for the main convergence, memory, steady-state, drift and startup figures. */
  tenants: number;
  /** Tenants in each of the repeated convergence runs that give the spread. */
  spreadTenants: number;
  /** Repeated convergence runs at `spreadTenants`; 0 skips them (and the second memory point). */
  spreadRuns: number;
  /** Tenant creations in flight while applying the Tenants, in both the operator and the raw phase. */
  createConcurrency: number;
  /** Server-side applies in flight in the raw phase. */
  rawConcurrency: number;
  /** Length of the quiet window after convergence in which the operator's requests are counted. */
  quietSeconds: number;
  /** Managed objects deleted one at a time for the drift-repair figure. */
  driftDeletions: number;
  /** Upper bound for one convergence, so that a stuck operator ends the run instead of hanging it. */
  convergenceTimeoutSeconds: number;
  /** Profiles the operator during the main convergence and summarizes the profile. */
  cpuProfile: boolean;
  /** Runs the emulated request patterns after the raw phase. */
  emulations: boolean;
  /** Folder that receives RESULTS.md, results.json and profiles. */
  outDir: string;
  /** An earlier results.json to render as Markdown again instead of running, for example after analysis.md changed. */
  render?: string;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));

/** The Tenant count of a plain `npm run bench`; runs with another count write suffixed result files. */
export const defaultTenants = 200;

export const usage = `usage: npm run bench -- [flags]
  --tenants N              tenants for the main figures (default 200)
  --spread-tenants N       tenants in each repeated convergence run (default 100)
  --spread-runs N          repeated convergence runs for the spread, 0 to skip (default 3)
  --create-concurrency N   Tenant creations in flight (default 32)
  --raw-concurrency N      server-side applies in flight in the raw phase (default 32)
  --quiet-seconds S        quiet window for the steady-state request count (default 60)
  --drift-deletions N      managed objects deleted for the drift-repair figure (default 50)
  --convergence-timeout S  give up on one convergence after S seconds (default 1800)
  --cpu-prof               profile the operator during the main convergence (adds overhead; figures marked)
  --skip-emulations        skip the emulated operator request patterns that follow the raw phase
  --out DIR                where RESULTS.md and results.json go (default bench/); with another --tenants
                           than 200 the files are RESULTS-N.md and results-N.json
  --render FILE            rewrite the Markdown report next to an earlier results.json without running`;

export function parseOptions(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      tenants: { type: "string", default: String(defaultTenants) },
      "spread-tenants": { type: "string", default: "100" },
      "spread-runs": { type: "string", default: "3" },
      "create-concurrency": { type: "string", default: "32" },
      "raw-concurrency": { type: "string", default: "32" },
      "quiet-seconds": { type: "string", default: "60" },
      "drift-deletions": { type: "string", default: "50" },
      "convergence-timeout": { type: "string", default: "1800" },
      "cpu-prof": { type: "boolean", default: false },
      "skip-emulations": { type: "boolean", default: false },
      out: { type: "string", default: benchDir },
      render: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return undefined;
  return {
    tenants: integer("tenants", values.tenants, 1),
    spreadTenants: integer("spread-tenants", values["spread-tenants"], 1),
    spreadRuns: integer("spread-runs", values["spread-runs"], 0),
    createConcurrency: integer("create-concurrency", values["create-concurrency"], 1),
    rawConcurrency: integer("raw-concurrency", values["raw-concurrency"], 1),
    quietSeconds: integer("quiet-seconds", values["quiet-seconds"], 1),
    driftDeletions: integer("drift-deletions", values["drift-deletions"], 0),
    convergenceTimeoutSeconds: integer("convergence-timeout", values["convergence-timeout"], 1),
    cpuProfile: values["cpu-prof"],
    emulations: !values["skip-emulations"],
    outDir: path.resolve(values.out),
    render: values.render === undefined ? undefined : path.resolve(values.render),
  };
}

function integer(flag: string, value: string, minimum: number): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) {
    throw new Error(`invalid --${flag} "${value}": expected an integer >= ${minimum}`);
  }
  return number;
}
