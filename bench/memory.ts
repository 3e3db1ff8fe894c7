// Memory of the operator process after convergence: RSS from /proc, the heap as its own /metrics reports it,
// and the live heap after a full GC (from the preload), which is the figure that grows with the caches.
import { readMetric } from "../test/e2e/support/operator.js";
import type { BenchOperator } from "./harness.js";

export interface MemoryPoint {
  tenants: number;
  rssBytes: number;
  /** nodejs_heap_size_used_bytes from /metrics, before any forced GC. */
  heapUsedBytes: number;
  heapUsedAfterGcBytes: number;
  rssAfterGcBytes: number;
}

export interface MemoryGrowth {
  from: MemoryPoint;
  to: MemoryPoint;
  rssBytesPerTenant: number;
  heapAfterGcBytesPerTenant: number;
}

export async function measureMemory(operator: BenchOperator, tenants: number): Promise<MemoryPoint> {
  const heap = await readMetric(operator.probeUrl, "nodejs_heap_size_used_bytes");
  const rssBytes = operator.rssBytes();
  const snapshot = await operator.snapshot();
  return {
    tenants,
    rssBytes,
    heapUsedBytes: [...heap.values()][0] ?? Number.NaN,
    heapUsedAfterGcBytes: snapshot.afterGc.heapUsed,
    rssAfterGcBytes: operator.rssBytes(),
  };
}

export function growthBetween(first: MemoryPoint, second: MemoryPoint): MemoryGrowth {
  const [from, to] = first.tenants <= second.tenants ? [first, second] : [second, first];
  const tenants = to.tenants - from.tenants;
  return {
    from,
    to,
    rssBytesPerTenant: (to.rssAfterGcBytes - from.rssAfterGcBytes) / tenants,
    heapAfterGcBytesPerTenant: (to.heapUsedAfterGcBytes - from.heapUsedAfterGcBytes) / tenants,
  };
}
