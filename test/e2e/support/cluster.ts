// Helpers shared by e2e tests: the shared cluster, unique names and waiting for a condition.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { TestCluster } from "../../cluster/cluster.js";

export function sharedCluster(): TestCluster {
  const infoFile = process.env.TEST_CLUSTER_INFO;
  if (!infoFile) throw new Error("TEST_CLUSTER_INFO is not set: run e2e tests through jest's e2e project");
  return TestCluster.load(infoFile);
}

/** A DNS-label name unique to this run: `<prefix>-<6 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString("hex")}`;
}

/**
 * Calls `check` until it returns a value other than undefined or false, and returns that value. Throws after
 * `timeoutMs` with the last error or value, so a failing test reports the last result.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
      last = result;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${describe(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Returns the HTTP status of a failed client-node call, or throws the error if it has none. */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof k8s.ApiException) return error.code;
    throw error;
  }
}

/** Returns the message of the API error a call fails with; throws if it succeeds. */
export async function rejectionMessage(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof k8s.ApiException) {
      const body = typeof error.body === "string" ? (JSON.parse(error.body) as { message?: string }) : error.body;
      return (body as { message?: string }).message ?? String(error.body);
    }
    throw error;
  }
  throw new Error("expected the request to be rejected, but it succeeded");
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message.slice(0, 500);
  return JSON.stringify(value)?.slice(0, 500) ?? String(value);
}
