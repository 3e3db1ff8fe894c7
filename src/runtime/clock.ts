// Time source for code that waits or measures durations. Components take a Clock instead of calling Date.now and
// setTimeout directly, so that unit tests can drive time with FakeClock and run backoff, deadlines and delayed
// requeues without real waiting.

/** Source of the current time and of one-shot timers. All times and durations are in milliseconds. */
export interface Clock {
  /** Returns the current time in ms. Values never decrease, so the difference of two readings is a duration. */
  now(): number;
  /** Schedules `fn` to run once after `ms` and returns a handle for clearTimeout. A delay below 0 counts as 0. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer from setTimeout of the same clock. Unknown or already fired handles are ignored. */
  clearTimeout(handle: unknown): void;
}

// Node sets a delay that does not fit in a signed 32-bit integer to 1 ms, with a TimeoutOverflowWarning.
const maxNodeTimerDelayMs = 2 ** 31 - 1;

/** Handle of a real timer, which may be re-armed several times to cover a delay longer than Node allows. */
class RealTimer {
  timer: NodeJS.Timeout | undefined;
}

function armRealTimer(handle: RealTimer, fn: () => void, dueAt: number): void {
  const remainingMs = dueAt - realClock.now();
  if (remainingMs > maxNodeTimerDelayMs) {
    handle.timer = setTimeout(() => armRealTimer(handle, fn, dueAt), maxNodeTimerDelayMs);
    return;
  }
  handle.timer = setTimeout(fn, Math.max(0, remainingMs));
}

/**
 * Clock of the running process. `now()` is milliseconds since the Unix epoch at process start plus the monotonic
 * time since then, so it does not jump when the system clock is adjusted. Its timers keep the process alive.
 */
export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout(fn: () => void, ms: number): unknown {
    const handle = new RealTimer();
    armRealTimer(handle, fn, realClock.now() + Math.max(0, ms));
    return handle;
  },
  clearTimeout(handle: unknown): void {
    if (handle instanceof RealTimer) clearTimeout(handle.timer);
  },
};

interface FakeTimer {
  dueAt: number;
  /** Order of scheduling, which breaks ties between timers due at the same time. */
  sequence: number;
  fn: () => void;
}

/**
 * Clock for tests whose time moves only when `advance` is called. Timers run synchronously inside `advance`, in
 * order of due time and then of scheduling.
 */
export class FakeClock implements Clock {
  private currentMs: number;
  private nextSequence = 0;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  setTimeout(fn: () => void, ms: number): number {
    const sequence = this.nextSequence++;
    this.timers.set(sequence, { dueAt: this.currentMs + Math.max(0, ms), sequence, fn });
    return sequence;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.timers.delete(handle);
  }

  /**
   * Moves time forward by `ms` and runs every timer that falls due on the way, with `now()` set to each timer's due
   * time while it runs. Timers that those callbacks schedule within the window run too, so a timer that always
   * re-arms itself with delay 0 makes this loop forever. An exception from a timer propagates and stops time there.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be a number >= 0, got ${ms}`);
    const targetMs = this.currentMs + ms;
    for (let timer = this.nextDueTimer(targetMs); timer; timer = this.nextDueTimer(targetMs)) {
      this.timers.delete(timer.sequence);
      this.currentMs = timer.dueAt;
      timer.fn();
    }
    this.currentMs = targetMs;
  }

  /** Returns the number of timers scheduled and neither fired nor cleared. */
  pendingTimers(): number {
    return this.timers.size;
  }

  private nextDueTimer(targetMs: number): FakeTimer | undefined {
    let next: FakeTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.dueAt > targetMs) continue;
      if (!next || timer.dueAt < next.dueAt || (timer.dueAt === next.dueAt && timer.sequence < next.sequence)) {
        next = timer;
      }
    }
    return next;
  }
}
