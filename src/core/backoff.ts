// The one backoff of the agent: exponential, with jitter between 50% and 100% of the step, capped.
// Every retry paces itself with it (the supervisor's restarts, the committer, merger and pusher
// retries, transfers, remotes marked down, XMPP reconnects); each caller keeps its own base and
// ceiling beside the reason for them. Jitter keeps the clones of a repository from retrying in lock
// step when the thing they all wait for (a server, a remote) comes back.

/** The delay before attempt `attempt` (1 = the first retry). Pure. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, rand = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (rand() * step) / 2);
}

/** XMPP reconnects: first retry after 1 s, a server restart is usually over by then. */
export const RECONNECT_BASE_MS = 1_000;
/** XMPP reconnects: never wait longer than 5 min, the user expects sync to resume soon after the network returns. */
export const RECONNECT_MAX_MS = 5 * 60_000;

/** backoffDelay with the failure count kept: next() counts one more failure, reset() after a success. */
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
