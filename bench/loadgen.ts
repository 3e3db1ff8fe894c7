// A fixed-rate HTTP load generator, run as a second process so that its own work does not share an event loop
// with the benchmark driver. It sends requests on a fixed schedule whatever the server's latency (open loop), and
// measures each latency from the request's scheduled start, so a slow server cannot hide its delay by slowing the
// load down. The run is bounded in count and time and only sends to loopback addresses.
//
// Usage: tsx bench/loadgen.ts '<LoadPlan JSON>'; prints one LoadResult JSON line on stdout.
import http from "node:http";
import https from "node:https";
import { fileURLToPath } from "node:url";

export interface LoadTarget {
  /** Label for the results, for example "status read". */
  name: string;
  /** Requests per second sent to this target. */
  ratePerSecond: number;
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** PEM CA that signed the server's certificate, for HTTPS. */
  ca?: string;
}

export interface LoadPlan {
  targets: LoadTarget[];
  durationSeconds: number;
  timeoutMs: number;
}

export interface TargetResult {
  name: string;
  sent: number;
  /** Responses by status code; "error" for a failed connection, "timeout" for no response within timeoutMs. */
  byStatus: Record<string, number>;
  /** Latency of every completed request in ms, from its scheduled start. */
  latenciesMs: number[];
}

export type LoadResult = TargetResult[];

const maxRequests = 100_000;

export function checkPlan(plan: LoadPlan): void {
  const total = plan.targets.reduce((sum, target) => sum + target.ratePerSecond * plan.durationSeconds, 0);
  if (!(total > 0 && total <= maxRequests)) {
    throw new Error(`a load plan must send between 1 and ${maxRequests} requests; this one sends ${total}`);
  }
  for (const target of plan.targets) {
    const host = new URL(target.url).hostname;
    if (!(host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host))) {
      throw new Error(`load target ${target.url} is not a loopback address; only 127.0.0.0/8 and ::1 are allowed`);
    }
  }
}

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  checkPlan(plan);
  const started = performance.now();
  return Promise.all(plan.targets.map((target) => runTarget(target, plan, started)));
}

/** Sends to one target on its own schedule: request i starts at `started + i / ratePerSecond`. */
async function runTarget(target: LoadTarget, plan: LoadPlan, started: number): Promise<TargetResult> {
  const result: TargetResult = { name: target.name, sent: 0, byStatus: {}, latenciesMs: [] };
  const intervalMs = 1000 / target.ratePerSecond;
  const count = Math.floor(target.ratePerSecond * plan.durationSeconds);
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const scheduledAt = started + index * intervalMs;
    const wait = scheduledAt - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    result.sent++;
    inFlight.push(
      send(target, plan.timeoutMs).then((status) => {
        result.byStatus[status] = (result.byStatus[status] ?? 0) + 1;
        if (status !== "error" && status !== "timeout") result.latenciesMs.push(performance.now() - scheduledAt);
      }),
    );
  }
  await Promise.all(inFlight);
  return result;
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

function send(target: LoadTarget, timeoutMs: number): Promise<string> {
  const url = new URL(target.url);
  const body = target.body === undefined ? undefined : JSON.stringify(target.body);
  const headers: Record<string, string> = { accept: "application/json", ...target.headers };
  if (body !== undefined) headers["content-type"] = "application/json";
  const secure = url.protocol === "https:";
  const transport = secure ? https : http;
  return new Promise((resolve) => {
    const request = transport.request(
      url,
      { method: target.method, headers, agent: secure ? agents.https : agents.http, timeout: timeoutMs, ca: target.ca },
      (response) => {
        response.resume();
        response.on("end", () => resolve(String(response.statusCode)));
        response.on("error", () => resolve("error"));
      },
    );
    request.on("timeout", () => {
      request.destroy();
      resolve("timeout");
    });
    request.on("error", () => resolve("error"));
    request.end(body);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const plan = JSON.parse(process.argv[2] ?? "{}") as LoadPlan;
  runLoad(plan).then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + "\n");
      process.exit(0);
    },
    (error: unknown) => {
      console.error((error as Error).message);
      process.exit(1);
    },
  );
}
