// Prometheus metrics of the controller machinery, under the names controller-runtime and client-go use, so that
// existing dashboards and alerts work unchanged. Every metric is defined here once, on one registry.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Values of the `result` label of controller_runtime_reconcile_total. */
export const ReconcileResult = {
  success: "success",
  error: "error",
  requeue: "requeue",
  requeueAfter: "requeue_after",
} as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

export const reconcileTotal = new Counter({
  name: "controller_runtime_reconcile_total",
  help: "Total number of reconciliations per controller and result.",
  labelNames: ["controller", "result"] as const,
  registers: [registry],
});

export const reconcileErrors = new Counter({
  name: "controller_runtime_reconcile_errors_total",
  help: "Total number of reconciliation errors per controller.",
  labelNames: ["controller"] as const,
  registers: [registry],
});

export const reconcileTime = new Histogram({
  name: "controller_runtime_reconcile_time_seconds",
  help: "Length of time per reconciliation per controller.",
  labelNames: ["controller"] as const,
  buckets: [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75,
    2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
  ],
  registers: [registry],
});

export const activeWorkers = new Gauge({
  name: "controller_runtime_active_workers",
  help: "Number of currently used workers per controller.",
  labelNames: ["controller"] as const,
  registers: [registry],
});

export const maxConcurrentReconciles = new Gauge({
  name: "controller_runtime_max_concurrent_reconciles",
  help: "Maximum number of concurrent reconciles per controller.",
  labelNames: ["controller"] as const,
  registers: [registry],
});

const queueDurationBuckets = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000];

export const workqueueDepth = new Gauge({
  name: "workqueue_depth",
  help: "Current depth of workqueue.",
  labelNames: ["name", "controller"] as const,
  registers: [registry],
});

export const workqueueAdds = new Counter({
  name: "workqueue_adds_total",
  help: "Total number of adds handled by workqueue.",
  labelNames: ["name", "controller"] as const,
  registers: [registry],
});

export const workqueueQueueDuration = new Histogram({
  name: "workqueue_queue_duration_seconds",
  help: "How long in seconds an item stays in workqueue before being requested.",
  labelNames: ["name", "controller"] as const,
  buckets: queueDurationBuckets,
  registers: [registry],
});

export const workqueueWorkDuration = new Histogram({
  name: "workqueue_work_duration_seconds",
  help: "How long in seconds processing an item from workqueue takes.",
  labelNames: ["name", "controller"] as const,
  buckets: queueDurationBuckets,
  registers: [registry],
});

export const workqueueRetries = new Counter({
  name: "workqueue_retries_total",
  help: "Total number of retries handled by workqueue.",
  labelNames: ["name", "controller"] as const,
  registers: [registry],
});

export const workqueueUnfinishedWork = new Gauge({
  name: "workqueue_unfinished_work_seconds",
  help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration.",
  labelNames: ["name", "controller"] as const,
  registers: [registry],
});

export const workqueueLongestRunningProcessor = new Gauge({
  name: "workqueue_longest_running_processor_seconds",
  help: "How many seconds has the longest running processor for workqueue been running.",
  labelNames: ["name", "controller"] as const,
  registers: [registry],
});

export const leaderElectionMasterStatus = new Gauge({
  name: "leader_election_master_status",
  help: "Gauge of whether the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.",
  labelNames: ["name"] as const,
  registers: [registry],
});

export const restClientRequests = new Counter({
  name: "rest_client_requests_total",
  help: "Number of HTTP requests, partitioned by status code, method, and host.",
  labelNames: ["code", "method", "host"] as const,
  registers: [registry],
});

export const restClientRequestDuration = new Histogram({
  name: "rest_client_request_duration_seconds",
  help: "Request latency in seconds. Broken down by verb, and host.",
  labelNames: ["verb", "host"] as const,
  buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
  registers: [registry],
});

/** Pre-creates every series of one controller at zero, so that dashboards show no gaps before the first event. */
export function initControllerMetrics(controller: string, workers: number): void {
  for (const result of Object.values(ReconcileResult)) reconcileTotal.inc({ controller, result }, 0);
  reconcileErrors.inc({ controller }, 0);
  activeWorkers.set({ controller }, 0);
  maxConcurrentReconciles.set({ controller }, workers);
  const queue = { name: controller, controller };
  workqueueDepth.set(queue, 0);
  workqueueAdds.inc(queue, 0);
  workqueueRetries.inc(queue, 0);
  workqueueUnfinishedWork.set(queue, 0);
  workqueueLongestRunningProcessor.set(queue, 0);
  reconcileTime.zero({ controller });
  workqueueQueueDuration.zero(queue);
  workqueueWorkDuration.zero(queue);
}
