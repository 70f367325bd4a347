// Merger service: waits on "refs may have changed" (the refs watcher, a peer's signal, a rejected
// push, start-up) and on fetch requests per remote; produces merges into the current branch and then
// asks the pusher to push on, so a change from A reaches C through B. Requests collapse: any number
// of signals during a fetch make one more fetch of that remote, not many.
import type { Service, ServiceContext } from '../core/service.js';
import { backoffDelay } from '../core/backoff.js';
import { Wakeup } from '../core/queue.js';
import type { GitSync, MergeResult } from '../git/sync.js';
import type { Logger } from '../core/log.js';
import type { EventBus } from '../core/bus.js';

/** Failed merge passes back off from 1 s to 5 min; the next change or signal also retries. */
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;
/** A remote that keeps failing is left to the pusher's retries (and the next signal) after this many. */
const MAX_FETCH_RETRIES = 8;

export class Merger implements Service {
  readonly name = 'merger';
  private wake = new Wakeup();
  private fetchWanted = new Set<string>();
  private mergeWanted = false;
  private stopped = true;
  private loop: Promise<void> | null = null;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private fetchFailures = new Map<string, number>();
  private fetchTimers = new Map<string, NodeJS.Timeout>();
  /** After a successful fetch (set by the agent: ask the pusher to compare). */
  onFetched: (remote: string) => void = () => {};
  /** Remotes that are paused: not fetched from. */
  paused: (remote: string) => boolean = () => false;
  lastError: string | null = null;
  /** Fetch outcome per remote, for status. */
  readonly fetchErrors = new Map<string, string | null>();

  constructor(
    private readonly sync: GitSync,
    private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly remotes: () => string[],
    /** After merges into the branch (`before` is where it was), or when the git-annex location
     * logs moved (annexMoved). */
    private readonly onMerged: (results: MergeResult[], annexMoved: boolean, before: string | null) => void,
  ) {}

  async start(ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    // Whatever peers pushed in while we were down is merged at once; remotes are fetched too.
    this.requestMerge();
    this.requestFetch();
    this.loop = this.run().catch((e) => ctx.fail(e));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const t of this.fetchTimers.values()) clearTimeout(t);
    this.fetchTimers.clear();
    this.wake.interrupt();
    await this.loop;
    this.loop = null;
  }

  /** Refs in our repository may have changed (a peer pushed in). */
  requestMerge(): void {
    this.mergeWanted = true;
    this.wake.request();
  }

  /** Fetch these remotes (all when omitted), then merge. */
  requestFetch(remotes?: string[]): void {
    for (const r of remotes ?? this.remotes()) this.fetchWanted.add(r);
    this.mergeWanted = true;
    this.wake.request();
  }

  /** Fetch + merge now and wait for it (used by the pusher after a rejected push). */
  async fetchAndMerge(remote: string): Promise<void> {
    await this.fetchOne(remote);
    await this.mergePass();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.wake.wait().catch(() => undefined);
      if (this.stopped) break;
      while ((this.mergeWanted || this.fetchWanted.size > 0) && !this.stopped) {
        const remotes = [...this.fetchWanted].filter((r) => !this.paused(r));
        this.fetchWanted.clear();
        this.mergeWanted = false;
        await Promise.all(remotes.map((r) => this.fetchOne(r)));
        try {
          await this.mergePass();
          this.failures = 0;
          this.lastError = null;
        } catch (e) {
          this.failures++;
          this.lastError = e instanceof Error ? e.message : String(e);
          this.log.error({ err: this.lastError }, 'merge failed; will retry');
          this.scheduleRetry();
        }
      }
    }
  }

  private async fetchOne(remote: string): Promise<void> {
    try {
      await this.sync.fetch(remote);
      this.fetchErrors.set(remote, null);
      this.fetchFailures.delete(remote);
      this.bus.emit('fetched', { remote, ok: true });
      // The remote may now be behind us (rewound, force-pushed, restored from a backup): the pusher
      // compares and repairs it. It pushes nothing when the remote is up to date.
      this.onFetched(remote);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.fetchErrors.set(remote, msg);
      this.log.warn({ remote, err: msg }, 'fetch failed; will retry');
      this.bus.emit('fetched', { remote, ok: false, error: msg });
      // The change that was signalled is still out there: fetch again later, backing off.
      const n = (this.fetchFailures.get(remote) ?? 0) + 1;
      this.fetchFailures.set(remote, n);
      if (!this.stopped && !this.fetchTimers.has(remote) && n <= MAX_FETCH_RETRIES) {
        this.fetchTimers.set(
          remote,
          setTimeout(
            () => {
              this.fetchTimers.delete(remote);
              this.requestFetch([remote]);
            },
            backoffDelay(n, RETRY_BASE_MS, RETRY_MAX_MS),
          ),
        );
      }
    }
  }

  private async mergePass(): Promise<void> {
    const { merges: results, annexMoved, before } = await this.sync.mergeIncoming();
    for (const r of results) {
      this.log.info(
        { from: r.from, head: r.head, conflicts: r.conflicts },
        r.fastForward ? 'fast-forwarded' : 'merged',
      );
      this.bus.emit('merged', { from: r.from, head: r.head, conflicts: r.conflicts });
    }
    if (results.length > 0 || annexMoved) this.onMerged(results, annexMoved, before);
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        this.requestMerge();
      },
      backoffDelay(this.failures, RETRY_BASE_MS, RETRY_MAX_MS),
    );
  }
}
