// Pusher service: waits on push requests (after a commit, a merge, a completed transfer, start-up)
// and produces pushes to every remote in parallel. Per remote it writes the outcome (PushOutcomes,
// read by status and the network map) and, when a remote is down, arms a retry timer with
// exponential backoff capped at `retryMaxMs` (30 min by default), so a remote that comes back is
// caught up without anyone asking (and onBack tells the agent, which plans its content again). A
// rejected push (the remote has work we lack) asks the merger's queue to fetch and merge, waits for
// it, and pushes again, a bounded number of times.
import type { Service, ServiceContext } from '../core/service.js';
import { backoffDelay } from '../core/backoff.js';
import { Wakeup } from '../core/queue.js';
import type { GitSync, PushResult } from '../git/sync.js';
import { PushRejectedError } from '../git/errors.js';
import type { Logger } from '../core/log.js';
import type { EventBus } from '../core/bus.js';
import type { Merger } from './merger.js';
import { PausedRemotes } from './pause.js';
import { PushOutcomes, type RemoteState } from './push-outcomes.js';

/** Fetch-merge-push rounds after a rejection; more means a peer pushes faster than we merge. */
const MAX_REJECT_ROUNDS = 4;
/** First retry of a down remote after 2 s: covers a peer that is restarting. */
const RETRY_BASE_MS = 2_000;
/** Default ceiling of the retry interval (autosync.retryMaxInterval overrides, in seconds). */
export const DEFAULT_RETRY_MAX_MS = 30 * 60_000;

export type { RemoteState } from './push-outcomes.js';

export interface PusherDeps {
  sync: GitSync;
  log: Logger;
  bus: EventBus;
  remotes: () => string[];
  /** Asked, and awaited, after a rejected push: fetch that remote and merge (through its queue). */
  merger: Pick<Merger, 'fetchAndMerge'>;
  /** After pushes that moved refs (announce to peers, run the hook). */
  onPushed: (results: PushResult[]) => void;
  /** Ceiling of a down remote's retry interval (autosync.retryMaxInterval). */
  retryMaxMs?: number;
  /** The push requests: anyone may ask (request()), the pusher alone waits. Shared with the merger. */
  wake?: Wakeup;
  /** The remotes paused now (shared with the merger, which does not fetch them). */
  paused?: PausedRemotes;
  /** False for a remote that is away (a drive not mounted: agent/mounts.ts): not pushed, not
   * retried, not failing. Default: every remote is available. */
  available?: (remote: string) => boolean;
  /** Where each remote's last push outcome is kept (shared with the network map, which reads it). */
  outcomes?: PushOutcomes;
  /** A remote whose pushes had failed answered again (the network or the server is back): the
   * agent plans its content again (files added while it was away). */
  onBack?: (remote: string) => void;
}

export class Pusher implements Service {
  readonly name = 'pusher';
  private readonly wake: Wakeup;
  private readonly paused: PausedRemotes;
  private stopped = true;
  private loop: Promise<void> | null = null;
  private readonly outcomes: PushOutcomes;
  private timers = new Map<string, NodeJS.Timeout>();

  private readonly sync: GitSync;
  private readonly log: Logger;
  private readonly bus: EventBus;
  private readonly remotes: () => string[];
  private readonly merger: PusherDeps['merger'];
  private readonly onPushed: (results: PushResult[]) => void;
  private retryMaxMs: number;
  private readonly available: (remote: string) => boolean;
  private readonly onBack: (remote: string) => void;

  constructor(d: PusherDeps) {
    this.available = d.available ?? (() => true);
    this.onBack = d.onBack ?? (() => undefined);
    this.sync = d.sync;
    this.log = d.log;
    this.bus = d.bus;
    this.remotes = d.remotes;
    this.merger = d.merger;
    this.onPushed = d.onPushed;
    this.retryMaxMs = d.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
    this.wake = d.wake ?? new Wakeup();
    this.paused = d.paused ?? new PausedRemotes();
    this.outcomes = d.outcomes ?? new PushOutcomes();
  }

  /** autosync.retryMaxInterval changed while we run: the next retry delay uses the new ceiling. */
  setRetryMax(ms: number): void {
    this.retryMaxMs = ms;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    this.request();
    this.loop = this.run().catch((e) => ctx.fail(e));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.wake.interrupt();
    await this.loop;
    this.loop = null;
  }

  request(): void {
    this.wake.request();
  }

  state(name: string): RemoteState {
    const s = this.outcomes.entry(name);
    s.paused = this.paused.has(name);
    return s;
  }

  allStates(): RemoteState[] {
    return this.remotes().map((r) => ({ ...this.state(r) }));
  }

  setPaused(remote: string | null, paused: boolean): void {
    this.paused.set(remote ? [remote] : this.remotes(), paused);
    if (!paused) this.request();
  }

  /** One pass over every remote; resolves when all pushes have finished. Used by `sync` too. */
  async pushAll(): Promise<Map<string, string | null>> {
    const outcome = new Map<string, string | null>();
    const names = this.remotes().filter((r) => !this.state(r).paused && this.available(r));
    const results = await Promise.all(names.map((r) => this.pushRemote(r)));
    const pushed: PushResult[] = [];
    names.forEach((r, i) => {
      const res = results[i];
      outcome.set(r, this.state(r).error);
      if (res && !res.upToDate) pushed.push(res);
    });
    if (pushed.length > 0) this.onPushed(pushed);
    return outcome;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.wake.wait();
      if (this.stopped) break;
      await this.pushAll();
    }
  }

  private async pushRemote(remote: string): Promise<PushResult | null> {
    const st = this.state(remote);
    try {
      for (let round = 0; ; round++) {
        if (!(await this.sync.needsPush(remote))) {
          if (st.lastPushOk === null || st.error) this.markOk(st);
          return null;
        }
        try {
          const res = await this.sync.push(remote);
          this.markOk(st);
          this.log.info({ remote, refs: res.refs }, 'pushed');
          this.bus.emit('pushed', { remote, ok: true, refs: res.refs });
          return res;
        } catch (e) {
          if (!(e instanceof PushRejectedError) || round >= MAX_REJECT_ROUNDS) throw e;
          this.log.info({ remote }, 'push rejected: fetching and merging first');
          await this.merger.fetchAndMerge(remote);
        }
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      st.lastPushOk = false;
      st.error = msg;
      st.failures++;
      const delay = backoffDelay(st.failures, RETRY_BASE_MS, this.retryMaxMs);
      st.nextRetryAt = Date.now() + delay;
      this.log.warn({ remote, err: msg, retryInMs: delay }, 'push failed; will retry');
      this.bus.emit('pushed', { remote, ok: false, refs: [], error: msg });
      this.armRetry(remote, delay);
      return null;
    }
  }

  private markOk(st: RemoteState): void {
    const wasFailing = st.failures > 0;
    st.lastPushOk = true;
    st.lastPushAt = new Date().toISOString();
    st.error = null;
    st.failures = 0;
    st.nextRetryAt = null;
    const t = this.timers.get(st.name);
    if (t) clearTimeout(t);
    this.timers.delete(st.name);
    if (wasFailing) {
      this.log.info({ remote: st.name }, 'remote answers again');
      this.onBack(st.name);
    }
  }

  private armRetry(remote: string, delay: number): void {
    if (this.stopped || this.timers.has(remote)) return;
    this.timers.set(
      remote,
      setTimeout(() => {
        this.timers.delete(remote);
        this.request();
      }, delay),
    );
  }
}
