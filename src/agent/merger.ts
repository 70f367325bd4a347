// Merger service: waits on "refs may have changed" (the refs watcher, a peer's signal, a rejected
// push, start-up) and on fetch requests per remote; produces merges into the current branch and then
// asks the pusher to push on, so a change from A reaches C through B. Requests collapse: any number
// of signals during a fetch make one more fetch of that remote, not many. A caller that must wait
// (the pusher after a rejected push, the `sync` verb) asks through the same queue with
// fetchAndMerge and is answered when that remote's fetch and the merge after it are done. Before
// each ref's merge it flushes the committer (the merge then never has to overwrite unsaved work),
// and it reports the commit the merge made first of what was left (GitSync returns it).
import type { Service, ServiceContext } from '../core/service.js';
import { backoffDelay } from '../core/backoff.js';
import { Wakeup } from '../core/queue.js';
import type { CommitResult, GitSync, MergeResult, WorkTreeGuard } from '../git/sync.js';
import { MERGE_RETRIES, mergeKeptRacing } from '../git/merge.js';
import { isWorkTreeInTheWay } from '../git/errors.js';
import type { Logger } from '../core/log.js';
import type { EventBus } from '../core/bus.js';

/** Failed merge passes back off from 1 s to 5 min; the next change or signal also retries. */
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;
/** A remote that keeps failing is left to the pusher's retries (and the next signal) after this many. */
const MAX_FETCH_RETRIES = 8;

/** The local work a merge must not clobber: the committer (its flush, and what it knows of files
 * being written or filled). */
export interface LocalWork {
  /** Commits every pending change; resolves when done (rejects when that commit failed). */
  flush(): Promise<void>;
  readonly guard: WorkTreeGuard;
}

/** No committer (unit tests): nothing to flush, nothing known beyond git. */
const NO_LOCAL_WORK: LocalWork = { flush: async () => {}, guard: {} };

export interface MergerDeps {
  sync: GitSync;
  /** Flushed before each ref's merge; its guard goes with the merge (default: none). */
  local?: LocalWork;
  /** A commit the merge made first, of local changes the flush had not committed (the agent pushes
   * it and queues its keys, as for the committer's commits). */
  onCommitted?: (c: CommitResult) => void;
  log: Logger;
  bus: EventBus;
  remotes: () => string[];
  /** Remotes that are paused: not fetched from (the agent reads its PausedRemotes, shared with the pusher). */
  paused?: (remote: string) => boolean;
  /** After a successful fetch (the agent asks the pusher to compare). */
  onFetched?: (remote: string) => void;
  /** After merges into the branch (`before` is where it was), or when the git-annex location
   * logs moved (annexMoved). */
  onMerged: (results: MergeResult[], annexMoved: boolean, before: string | null) => void;
}

/** A caller waiting on a remote's fetch and the merge pass after it. */
interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

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
  lastError: string | null = null;
  /** Waiters of remotes queued and not yet taken by a pass. */
  private queued = new Map<string, Waiter[]>();
  /** The pass under way: the remotes whose fetch is still going, and who waits on the pass. */
  private running: { fetching: Set<string>; waiters: Waiter[] } | null = null;
  /** Fetch outcome per remote, for status. */
  readonly fetchErrors = new Map<string, string | null>();

  private readonly sync: GitSync;
  private readonly local: LocalWork;
  private readonly onCommitted: (c: CommitResult) => void;
  private readonly log: Logger;
  private readonly bus: EventBus;
  private readonly remotes: () => string[];
  private readonly paused: (remote: string) => boolean;
  private readonly onFetched: (remote: string) => void;
  private readonly onMerged: MergerDeps['onMerged'];

  constructor(d: MergerDeps) {
    this.sync = d.sync;
    this.local = d.local ?? NO_LOCAL_WORK;
    this.onCommitted = d.onCommitted ?? (() => {});
    this.log = d.log;
    this.bus = d.bus;
    this.remotes = d.remotes;
    this.paused = d.paused ?? (() => false);
    this.onFetched = d.onFetched ?? (() => {});
    this.onMerged = d.onMerged;
  }

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
    // Callers still waiting (a push rejected as we stopped) are served here, one remote at a time.
    const left = [...this.queued];
    this.queued.clear();
    for (const [remote, waiters] of left) {
      const done = this.fetchAndMergeNow(remote);
      settle(waiters, done);
      await done.catch(() => undefined);
    }
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

  /**
   * Fetch this remote, merge, and resolve when done (the pusher after a rejected push, the `sync`
   * verb); rejects with the merge's error. Goes through the queue: it joins a fetch of that remote
   * already queued or under way, so one remote is never fetched twice at once. A stopped merger
   * (the final push of a stop) does the work at once.
   */
  fetchAndMerge(remote: string): Promise<void> {
    if (this.stopped) return this.fetchAndMergeNow(remote);
    return new Promise<void>((resolve, reject) => {
      const w = { resolve, reject };
      // A fetch of it under way serves this caller too; once that fetch is done, a new one is queued.
      if (this.running?.fetching.has(remote)) {
        this.running.waiters.push(w);
        return;
      }
      this.queued.set(remote, [...(this.queued.get(remote) ?? []), w]);
      this.requestFetch([remote]);
    });
  }

  private async fetchAndMergeNow(remote: string): Promise<void> {
    const fetched = await this.fetchOne(remote);
    try {
      await this.mergePass();
    } finally {
      if (fetched) this.onFetched(remote);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.wake.wait().catch(() => undefined);
      if (this.stopped) break;
      while ((this.mergeWanted || this.fetchWanted.size > 0) && !this.stopped) {
        const remotes = [...this.fetchWanted].filter((r) => !this.paused(r));
        const waiters = [...this.fetchWanted].flatMap((r) => this.queued.get(r) ?? []);
        for (const r of this.fetchWanted) this.queued.delete(r);
        const running = { fetching: new Set(remotes), waiters };
        this.running = running;
        this.fetchWanted.clear();
        this.mergeWanted = false;
        const fetched = await Promise.all(
          remotes.map((r) => this.fetchOne(r).finally(() => running.fetching.delete(r))),
        );
        try {
          await this.mergePass();
          this.failures = 0;
          this.lastError = null;
          settle(running.waiters, Promise.resolve());
        } catch (e) {
          this.failures++;
          this.lastError = e instanceof Error ? e.message : String(e);
          this.log.error({ err: this.lastError }, 'merge failed; will retry');
          this.scheduleRetry();
          settle(running.waiters, Promise.reject(e));
        }
        this.running = null;
        // Only now, after the merge: a remote that moved ahead of us is merged first, so the pusher
        // does not push a branch the remote is ahead of (a rejection, then a second fetch).
        for (const [i, r] of remotes.entries()) if (fetched[i]) this.onFetched(r);
      }
    }
  }

  /** Fetches one remote; whether it answered. */
  private async fetchOne(remote: string): Promise<boolean> {
    try {
      await this.sync.fetch(remote);
      this.fetchErrors.set(remote, null);
      this.fetchFailures.delete(remote);
      this.bus.emit('fetched', { remote, ok: true });
      // The remote may now be behind us (rewound, force-pushed, restored from a backup): after the
      // merge pass, onFetched has the pusher compare and repair it. It pushes nothing when the
      // remote is up to date.
      return true;
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
      return false;
    }
  }

  private async mergePass(): Promise<void> {
    const { refs, annexMoved, before } = await this.sync.incomingRefs();
    const results: MergeResult[] = [];
    for (const { ref, sha } of refs) {
      const r = await this.mergeOne(ref, sha);
      if (r) results.push(r);
    }
    for (const r of results) {
      this.log.info(
        { from: r.from, head: r.head, conflicts: r.conflicts },
        r.fastForward ? 'fast-forwarded' : 'merged',
      );
      this.bus.emit('merged', { from: r.from, head: r.head, conflicts: r.conflicts });
    }
    if (results.length > 0 || annexMoved) this.onMerged(results, annexMoved, before);
  }

  /** One ref: flush, merge, and again while the work tree changes under the merge (bounded). */
  private async mergeOne(ref: string, sha: string): Promise<MergeResult | null> {
    for (let attempt = 0; attempt < MERGE_RETRIES; attempt++) {
      // Commit whatever the user saved first: the merge then never has to overwrite unsaved work.
      await this.local.flush();
      const step = await this.sync.mergeRef(ref, sha, this.local.guard);
      for (const c of step.committed) this.onCommitted(c);
      if (step.error === undefined) return step.merged;
      if (!isWorkTreeInTheWay(step.error)) throw step.error;
      this.log.info({ ref }, 'work tree changed under the merge; committing it and merging again');
    }
    throw mergeKeptRacing(ref);
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

/** Hand one outcome to every waiter. */
function settle(waiters: Waiter[], outcome: Promise<void>): void {
  outcome.then(
    () => waiters.forEach((w) => w.resolve()),
    (e: unknown) => waiters.forEach((w) => w.reject(e)),
  );
}
