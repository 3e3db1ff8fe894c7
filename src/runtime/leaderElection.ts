// Leader election on a coordination.k8s.io Lease, with client-go's timing rules.
//
// Guarantees, given leaseDuration > renewDeadline > retryPeriod and clocks that advance at the same rate:
// - `isLeader()` turns false as soon as renewDeadline has passed since the last successful renew, checked at the
//   moment it is called, so a replica that was paused (SIGSTOP, a long GC) refuses writes on its first tick after
//   waking, before any timer runs.
// - Another replica takes the Lease only after leaseDuration has passed since it last saw the renew time change,
//   which is later than renewDeadline, so two replicas never write at once.
// - `release()` on a graceful shutdown empties the holder so a standby takes over on its next retry.

import type { Logger } from "pino";
import { isConflict, isNotFound, type KubeClient, type KubeObject } from "./client.js";
import { leaderElectionMasterStatus } from "./metrics.js";
import { Resources } from "./resources.js";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  /** Called once when leadership is lost or released; the operator exits here. */
  onStoppedLeading: () => void;
}

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/**
 * Elects one leader among the operator's replicas. Give it a client of its own, without a write gate, because
 * the Lease is the one object a replica writes before it leads.
 */
export class LeaderElector {
  private readonly client: KubeClient;
  private readonly options: Required<LeaderElectionOptions>;
  private readonly log: Logger;
  private lastRenewMs = 0;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  // What this replica last saw of the Lease and when it saw it change, by its own clock.
  private observedRecord = "";
  private observedAtMs = 0;

  constructor(client: KubeClient, log: Logger, options: LeaderElectionOptions) {
    this.client = client;
    this.options = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.options;
    if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
      throw new Error(
        `invalid leader election timing: need leaseDuration (${leaseDurationMs} ms) > renewDeadline (${renewDeadlineMs} ms) > retryPeriod (${retryPeriodMs} ms)`,
      );
    }
    this.log = log.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
    leaderElectionMasterStatus.set({ name: options.name }, 0);
  }

  /** True while this replica holds the Lease and renewed it within renewDeadline. */
  isLeader(): boolean {
    if (!this.leading) return false;
    if (Date.now() - this.lastRenewMs < this.options.renewDeadlineMs) return true;
    this.loseLeadership("renew deadline passed");
    return false;
  }

  start(): void {
    this.log.info("leader election started");
    void this.tick();
  }

  /** Stops renewing and, if leading, empties the Lease holder so a standby can take over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    const wasLeader = this.isLeader();
    this.leading = false;
    leaderElectionMasterStatus.set({ name: this.options.name }, 0);
    if (!wasLeader) return;
    try {
      const lease = await this.client.get<Lease>(Resources.lease, this.options.name, this.options.namespace);
      if (lease?.spec?.holderIdentity === this.options.identity) {
        const now = microTime(new Date());
        await this.client.request("PUT", leasePath(this.options), {
          body: { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now } },
        });
        this.log.info("lease released");
      }
    } catch (error) {
      this.log.warn({ err: error }, "releasing the lease failed; a standby takes over after the lease expires");
    }
  }

  private async tick(): Promise<void> {
    // A leader that missed its renew deadline (for example while paused) gives up before sending anything.
    if (this.stopped || (this.leading && !this.isLeader())) return;
    // The deadline counts from when the request was sent, the earliest moment the server can have seen it.
    const attemptStarted = Date.now();
    try {
      if (await this.tryAcquireOrRenew()) {
        this.lastRenewMs = attemptStarted;
        if (!this.leading) {
          this.leading = true;
          leaderElectionMasterStatus.set({ name: this.options.name }, 1);
          this.log.info("became leader");
          this.options.onStartedLeading();
        }
      }
    } catch (error) {
      this.log.warn({ err: error }, "lease update failed");
    }
    if (this.leading) this.isLeader();
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs);
  }

  /** Returns whether this replica holds the Lease after the attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationMs } = this.options;
    const now = new Date();
    const nowIso = microTime(now);
    const leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);

    // 1. Create the Lease if there is none.
    const lease = await this.client.get<Lease>(Resources.lease, name, namespace);
    if (!lease) {
      try {
        await this.client.create<Lease>(Resources.lease, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: nowIso,
            renewTime: nowIso,
            leaseTransitions: 0,
          },
        });
        return true;
      } catch (error) {
        if (isConflict(error)) return false;
        throw error;
      }
    }

    // 2. Track when the record last changed, by our own clock, as client-go does.
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime]);
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAtMs = now.getTime();
    }

    // 3. Someone else holds an unexpired Lease: stand by.
    const holder = spec.holderIdentity ?? "";
    const heldByOther = holder !== "" && holder !== identity;
    const expiresAt = this.observedAtMs + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (heldByOther && now.getTime() < expiresAt) return false;

    // 4. Renew our own Lease or take over an expired or released one; resourceVersion makes it a compare-and-swap.
    const takingOver = holder !== identity;
    const updated: Lease = {
      ...lease,
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: takingOver ? nowIso : (spec.acquireTime ?? nowIso),
        renewTime: nowIso,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      },
    };
    try {
      await this.client.request("PUT", leasePath(this.options), { body: updated });
      return true;
    } catch (error) {
      if (isConflict(error) || isNotFound(error)) return false;
      throw error;
    }
  }

  private loseLeadership(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.stopped = true;
    clearTimeout(this.timer);
    leaderElectionMasterStatus.set({ name: this.options.name }, 0);
    this.log.error({ reason }, "leadership lost; stopping all writes");
    this.options.onStoppedLeading();
  }
}

function leasePath(options: { namespace: string; name: string }): string {
  return `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases/${options.name}`;
}

/** Formats a Lease time: metav1.MicroTime wants RFC 3339 with exactly six fractional digits. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
