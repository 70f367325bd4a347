// Reconnect pacing: exponential backoff with jitter, reset after a successful session. Jitter keeps
// the clones of a repository from reconnecting in lock step when their server comes back.
import { backoffDelay } from '../agent/service.js';

/** First retry after 1 s: a server restart is usually over by then. */
export const RECONNECT_BASE_MS = 1_000;
/** Never wait longer than 5 min: the user expects sync to resume soon after the network returns. */
export const RECONNECT_MAX_MS = 5 * 60_000;

export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs = RECONNECT_BASE_MS,
    private readonly maxMs = RECONNECT_MAX_MS,
    private readonly rand: () => number = Math.random,
  ) {}

  /** Delay before the next attempt; each call counts one more failure. */
  next(): number {
    this.failures++;
    return backoffDelay(this.failures, this.baseMs, this.maxMs, this.rand);
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
