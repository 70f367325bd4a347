// Committer service: waits on changed paths from the watcher (and on flush requests) and produces
// commits, then asks the pusher to push. When to commit is the pure policy in commit-policy.ts; this
// service only keeps the pending set, runs the timer the policy asks for, and calls git.
//
// A path is committed only once its size and mtime have held still (a file still being written
// waits), except on flush, which commits everything: before a merge and on a clean stop.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Service, ServiceContext } from './service.js';
import type { GitSync, CommitResult } from '../git/sync.js';
import type { Logger } from '../log.js';
import type { EventBus } from './bus.js';
import { decide, isStable, DEFAULT_POLICY, type CommitPolicy, type FileSeen } from './commit-policy.js';
import { backoffDelay } from './service.js';
import { BusyError, GitError, LockedError } from '../git/errors.js';

/** A commit that failed (disk full, a hook, a lock held for long) is retried, backing off to 1 min. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 60_000;
/** A flush of more than 100 x maxBatch (a million paths) leaves the rest to the next start's scan. */
const MAX_FLUSH_PASSES = 100;
/** Halving a refused batch this deep reaches single paths for batches up to 2^14 = 16,384 paths. */
const MAX_SPLIT_DEPTH = 14;
/** status shows at most this many stuck paths (the count says how many there are). */
const MAX_STUCK_SHOWN = 20;
/** New directories arrive in bursts (a merge, `cp -r`); one scan after they settle covers them all. */
const DIR_SETTLE_MS = 150;

export class Committer implements Service {
  readonly name = 'committer';
  private pending = new Map<string, FileSeen>();
  private newDirs = new Set<string>();
  /** Paths git refused to stage, set aside until they change again. */
  private stuck = new Map<string, string>();
  private dirTimer: NodeJS.Timeout | null = null;
  /** Pending paths that no longer exist (deletes, or the old half of a rename). */
  private deleted = new Set<string>();
  private firstAt = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private failures = 0;
  /** After a failed commit, nothing is tried before this time (backoff). */
  private retryAt = 0;
  private stopped = true;
  lastError: string | null = null;

  constructor(
    private readonly sync: GitSync,
    private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly onCommitted: (c: CommitResult) => void,
    private readonly policy: CommitPolicy = DEFAULT_POLICY,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  async start(_ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    // Changes made while no agent ran (or lost to a kill -9) are whatever differs from HEAD now.
    for (const p of await this.sync.pendingPaths()) this.note(p);
  }

  async stop(): Promise<void> {
    // A clean stop commits what is pending first: nothing the user saved is left uncommitted.
    try {
      await this.flush();
    } finally {
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      if (this.dirTimer) clearTimeout(this.dirTimer);
      this.dirTimer = null;
      this.timer = null;
    }
  }

  /**
   * Called when a directory appears. Its watch is set up asynchronously, and a file created inside
   * it in that window (a rename into a directory a merge just made, say) raises no event. One scoped
   * `git status` after the new directories settle finds such files.
   */
  noteDir(rel: string): void {
    this.newDirs.add(rel);
    if (this.dirTimer || this.stopped) return;
    this.dirTimer = setTimeout(() => {
      this.dirTimer = null;
      const dirs = [...this.newDirs];
      this.newDirs.clear();
      void this.reconcile(dirs);
    }, DIR_SETTLE_MS);
  }

  /** Notes every path that differs from HEAD and is not pending yet (after a burst, new dirs). */
  private async reconcile(under: string[] = []): Promise<void> {
    try {
      const missed = (await this.sync.pendingPaths(under)).filter(
        (p) => !this.pending.has(p) && !this.stuck.has(p),
      );
      if (missed.length > 0) {
        this.log.info({ paths: missed.length }, 'found changes the watcher missed; committing them');
        for (const p of missed) this.note(p, statOf(join(this.sync.info.workTree, p)).mtimeMs ?? undefined);
      }
    } catch (e) {
      this.log.warn({ err: String(e) }, 'reconciliation scan failed');
    }
  }

  /** Called by the watcher for every changed path. Never blocks. */
  note(rel: string, seenAt?: number): void {
    const now = Date.now();
    this.log.debug({ path: rel }, 'changed');
    this.stuck.delete(rel); // changed again: worth another try
    const st = statOf(join(this.sync.info.workTree, rel));
    if (this.pending.size === 0) this.firstAt = now;
    this.lastAt = now;
    // A file found by a scan (not an event) was last written at its mtime; it need not wait again.
    const eventAt = seenAt === undefined ? now : Math.min(now, seenAt);
    this.pending.set(rel, { eventAt, ...st });
    if (st.size === null) this.deleted.add(rel);
    else this.deleted.delete(rel);
    this.schedule();
  }

  /** Commits everything pending now, stable or not. Resolves when committed. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    // One pass commits at most maxBatch paths: keep going until nothing is pending (bounded, since
    // every pass takes maxBatch paths out or sets them aside).
    for (let i = 0; this.pending.size > 0 && i < MAX_FLUSH_PASSES; i++) await this.runOnce(true);
  }

  private schedule(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const d = decide(
      { count: this.pending.size, firstAt: this.firstAt, lastAt: this.lastAt, deletes: this.deleted.size },
      Date.now(),
      this.policy,
    );
    if (d.kind === 'idle') return;
    const ms = Math.max(d.kind === 'wait' ? d.ms : 0, this.retryAt - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runOnce(false);
    }, ms);
  }

  private async runOnce(all: boolean): Promise<void> {
    if (this.running) return this.running;
    const work = this.commitBatch(all);
    this.running = work;
    try {
      await work;
    } finally {
      this.running = null;
      if (!this.stopped) this.schedule();
    }
  }

  private async commitBatch(all: boolean): Promise<void> {
    // Directories that just appeared may hold files the watcher has not reported: find them first,
    // so a file moved into a new directory is committed together with its deletion (a rename).
    if (this.newDirs.size > 0) await this.reconcile([...this.newDirs]);
    // A delete may be half of a rename whose new name the watcher has not reported yet (events lag
    // under load). One look at the whole tree finds it, so git records a rename, not delete + add.
    // Deletes are rare next to edits, so this costs one git call now and then.
    else if (this.deleted.size > 0) await this.reconcile();
    const now = Date.now();
    const batch: string[] = [];
    for (const [path, seen] of this.pending) {
      if (batch.length >= this.policy.maxBatch) break;
      const st = statOf(join(this.sync.info.workTree, path));
      if (all || isStable(seen, st, now, this.policy.quietMs)) batch.push(path);
      // Still moving: re-baseline, so the next pass asks "has it held still since now?". Without
      // this, a write the watcher folded into an earlier event would keep the path pending forever.
      else if (seen.size !== st.size || seen.mtimeMs !== st.mtimeMs)
        this.pending.set(path, { eventAt: now, ...st });
    }
    this.log.debug({ batch: batch.length, pending: this.pending.size, all }, 'commit pass');
    if (batch.length === 0) {
      // Everything pending is still being written: look again once it has had time to settle. The
      // max-wait clock restarts too, or a file written without pause would be re-checked in a loop.
      this.lastAt = now;
      this.firstAt = now;
      return;
    }
    const taken = new Map(batch.map((p) => [p, this.pending.get(p)!]));
    for (const p of batch) {
      this.pending.delete(p);
      this.deleted.delete(p);
    }
    if (this.pending.size > 0) this.firstAt = now;
    try {
      await this.commitSplitting(batch, 0);
      this.failures = 0;
      this.lastError = null;
      // A burst can overflow the kernel's inotify queue, which drops events without telling anyone.
      // After a burst, one `git status` finds whatever the watcher missed. Idle trees never pay this.
      if (batch.length > this.policy.burstThreshold) void this.reconcile();
    } catch (e) {
      // Put the paths back (newer events win) and retry later; the work tree still holds the data.
      for (const [p, seen] of taken) {
        if (this.pending.has(p)) continue;
        this.pending.set(p, seen);
        if (seen.size === null) this.deleted.add(p);
      }
      this.failures++;
      this.lastError = e instanceof Error ? e.message : String(e);
      this.log.error({ err: this.lastError, attempt: this.failures }, 'commit failed; will retry');
      this.retryAt = Date.now() + backoffDelay(this.failures, RETRY_BASE_MS, RETRY_MAX_MS);
      if (all) throw e;
    }
  }

  /**
   * Commits paths; when git refuses the batch (a path inside a submodule or behind a symlink, an
   * unreadable file), splits it and commits every half that git accepts, so one bad path never
   * blocks everything else. A single path git refuses is set aside as stuck (shown in status) until
   * the watcher reports it again. A lock held by another git is not a bad path: that rethrows, and
   * the whole batch is retried after a backoff.
   */
  private async commitSplitting(paths: string[], depth: number): Promise<void> {
    try {
      const result = await this.sync.commit(paths);
      if (result) {
        this.log.info({ sha: result.sha, files: paths.length }, result.message);
        this.bus.emit('commit', {
          sha: result.sha,
          files: result.added + result.modified + result.deleted,
          message: result.message,
        });
        this.onCommitted(result);
      }
    } catch (e) {
      if (!(e instanceof GitError) || e instanceof LockedError || e instanceof BusyError) throw e;
      if (paths.length === 1 || depth >= MAX_SPLIT_DEPTH) {
        for (const p of paths) this.stuck.set(p, e.message);
        this.log.warn(
          { paths: paths.slice(0, 5), count: paths.length, err: e.message },
          'git refuses these paths; set aside',
        );
        return;
      }
      const mid = Math.ceil(paths.length / 2);
      await this.commitSplitting(paths.slice(0, mid), depth + 1);
      await this.commitSplitting(paths.slice(mid), depth + 1);
    }
  }

  /** Paths git refused to stage, with git's reason (for status). */
  stuckPaths(): Array<{ path: string; error: string }> {
    return [...this.stuck].slice(0, MAX_STUCK_SHOWN).map(([path, error]) => ({ path, error }));
  }
}

function statOf(abs: string): { size: number | null; mtimeMs: number | null } {
  try {
    const st = lstatSync(abs);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return { size: null, mtimeMs: null };
  }
}
