// Platform-engineer checks for API callers: a SubjectAccessReview with the caller's own username and groups,
// remembered for a few seconds so a burst of calls sends one review.

import type { ApproverCheck, UserInfo } from "../requests/approvers.js";
import { realClock, type Clock } from "../runtime/clock.js";

export class PlatformEngineerCheck {
  private readonly answers = new Map<string, { allowed: boolean; expiresMs: number }>();

  constructor(
    private readonly approvers: ApproverCheck,
    private readonly ttlMs = 10_000,
    private readonly clock: Clock = realClock,
  ) {}

  /** Returns whether `user` may approve tenantrequests; a revoked role takes effect within ttlMs. */
  async isPlatformEngineer(user: UserInfo): Promise<boolean> {
    const key = JSON.stringify([user.username, [...user.groups].sort()]);
    const nowMs = this.clock.now();
    const cached = this.answers.get(key);
    if (cached && cached.expiresMs > nowMs) return cached.allowed;

    const allowed = await this.approvers.canApprove(user);
    if (this.answers.size >= 10_000) this.answers.clear();
    this.answers.set(key, { allowed, expiresMs: nowMs + this.ttlMs });
    return allowed;
  }
}
