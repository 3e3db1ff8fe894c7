// Prometheus implementation of the work queue's metric hooks, kept apart from workqueue.ts so that the queue itself
// does not depend on prom-client.

import {
  workqueueAdds,
  workqueueDepth,
  workqueueQueueDuration,
  workqueueRetries,
  workqueueWorkDuration,
} from "./metrics.js";
import type { WorkQueueMetrics } from "./workqueue.js";

/** Returns hooks that update the shared workqueue_* metrics under the labels `{ name, controller }`. */
export function prometheusQueueMetrics(name: string, controller: string): WorkQueueMetrics {
  const labels = { name, controller };
  return {
    depth: (n) => workqueueDepth.set(labels, n),
    add: () => workqueueAdds.inc(labels),
    queueLatency: (seconds) => workqueueQueueDuration.observe(labels, seconds),
    workDuration: (seconds) => workqueueWorkDuration.observe(labels, seconds),
    retry: () => workqueueRetries.inc(labels),
  };
}
