// Committer service: waits on changed paths from the watcher (and on flush requests) and produces
// commits, then asks the pusher to push. When to commit is the pure policy in commit-policy.ts; this
// service runs the timer the policy asks for, the commit pass, and calls git. Its state has one home
// per concern:
//   committer-pending.ts  the pending set, its deletions and the stuck paths
//   committer-raw.ts      names that are not valid UTF-8, kept as bytes, and the scans that find them
//   committer-held.ts     deletions held while git-annex fills the file (annex mode)
//   committer-own.ts      files the agent wrote itself (not an edit)
//   committer-open.ts     files held while a process has them open for writing
//   committer-folders.ts  new folders: their scans, and the burst that fills them
//   committer-scan.ts     the scans for what the watcher missed: first, before a pass, after a burst
//   committer-timer.ts    the one timer of the next pass
//
// A path is committed only once its size and mtime have held still (a file still being written
// waits), except on flush, which commits everything: before a merge and on a clean stop. A file that
// held still but that some process still has open for writing waits too, on flush as well, until
// its writer closes it or for at most 5 min: one commit of the finished file, never a partial one.
import type { Service, ServiceContext } from '../core/service.js';
import type { GitSync, CommitResult, WorkTreeGuard } from '../git/sync.js';
import type { Logger } from '../core/log.js';
import type { EventBus } from '../core/bus.js';
import {
  decide,
  DEFAULT_POLICY,
  DEFAULT_OPEN_WRITE_POLICY,
  type CommitPolicy,
  type OpenWritePolicy,
} from './commit-policy.js';
import { openForWrite } from './open-files.js';
import { backoffDelay } from '../core/backoff.js';
import { transientCause } from '../git/errors.js';
import { background } from '../core/background.js';
import { PendingSet, sameWrite, without } from './committer-pending.js';
import { RawNames, isRawKey, shown, type Stat } from './committer-raw.js';
import { HeldDeletions, HOLD_MAX_MS, type HoldDeletions } from './committer-held.js';
import { CommittedAs, OwnWrites } from './committer-own.js';
import { OpenHolds } from './committer-open.js';
import { TreeScans } from './committer-scan.js';
import { PassTimer } from './committer-timer.js';
import { commitSplitting, stuckShown, type SplitContext } from './committer-split.js';

/** A commit that failed (disk full, an I/O error, a lock held for long) is retried, backing off
 * from 0.5 s to 1 min: quick enough that freed space is used within a minute, slow enough that a
 * disk that stays full costs one git call a minute. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 60_000;
/** A flush of more than 100 x maxBatch (a million paths) leaves the rest to the next start's scan. */
const MAX_FLUSH_PASSES = 100;
/** status shows at most this many stuck paths (the count says how many there are). */
const MAX_STUCK_SHOWN = 20;

export interface CommitterDeps {
  sync: GitSync;
  log: Logger;
  bus: EventBus;
  /** A commit was made (the pusher is asked, annex keys go to the transfers). */
  onCommitted: (c: CommitResult) => void;
  policy?: CommitPolicy;
  /**
   * Which missing paths are not deletions yet: in annex mode "git-annex is rewriting the file"
   * (see committer-held.ts). Absent (plain git): every missing path is a deletion.
   */
  holdDeletions?: HoldDeletions | null;
  /** How long a deletion may be held without progress (HOLD_MAX_MS; tests shorten it). */
  holdMaxMs?: number;
  /** Open-for-write checks (tests shorten the hold). */
  openPolicy?: OpenWritePolicy;
  /** Which of these absolute paths are open for writing (a /proc sweep; tests may stand in). */
  openLookup?: (abs: string[]) => Set<string>;
  /** The record of files git-annex filled, shared with the transfers that report them (annex
   * mode; committer-own.ts). Absent: a record of its own, filled through ownWrite. */
  ownWrites?: OwnWrites;
}

export class Committer implements Service {
  readonly name = 'committer';
  private readonly sync: GitSync;
  private readonly log: Logger;
  private readonly bus: EventBus;
  private readonly onCommitted: (c: CommitResult) => void;
  private readonly policy: CommitPolicy;
  private readonly pending = new PendingSet();
  private readonly raw: RawNames;
  private readonly held: HeldDeletions;
  private readonly own: OwnWrites;
  private readonly committedAs = new CommittedAs();
  /** Paths GitSync left out of a commit since the pass began (being written, raw content staged). */
  private readonly leftOut = new Set<string>();
  private readonly open: OpenHolds;
  /** The scans for what the watcher missed, and the new folders (committer-scan.ts). */
  private readonly scans: TreeScans;
  /** What the commit of a batch needs (committer-split.ts). */
  private readonly split: SplitContext;
  /** When the next pass runs (committer-timer.ts). */
  private readonly passTimer: PassTimer;
  private running: Promise<unknown> | null = null;
  private failures = 0;
  /** Commit passes finished (TreeScans.reconcile asks). */
  private passesDone = 0;
  /** After a failed commit, nothing is tried before this time (backoff). */
  private retryAt = 0;
  private stopped = true;
  lastError: string | null = null;
  /** When every pending path is held open, the next pass waits until this time (0: no such wait). */
  private openWaitUntil = 0;
  /** Timers of retryLater. */
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  /** What this committer knows that git does not, asked by every commit (its own, and the one a
   * merge makes first): files being written, deletions held while git-annex fills, raw content. */
  readonly guard: WorkTreeGuard = {
    leaveOut: (paths) => this.beingWritten(paths),
    holdAbsent: (paths) => this.holdAbsent(paths),
    rawStaged: (paths, ms) => this.retryLater(paths, ms),
  };

  constructor(d: CommitterDeps) {
    this.sync = d.sync;
    this.log = d.log;
    this.bus = d.bus;
    this.onCommitted = d.onCommitted;
    this.policy = d.policy ?? DEFAULT_POLICY;
    this.raw = new RawNames(d.sync, d.log);
    this.own = d.ownWrites ?? new OwnWrites(d.sync.info.workTree);
    this.held = new HeldDeletions(d.holdDeletions ?? null, d.holdMaxMs ?? HOLD_MAX_MS, d.log);
    this.open = new OpenHolds({
      workTree: d.sync.info.workTree,
      policy: d.openPolicy ?? DEFAULT_OPEN_WRITE_POLICY,
      lookup: d.openLookup ?? ((abs) => openForWrite(abs).writing),
      log: d.log,
      ignores: (p) => d.sync.ignore.ignores(p),
      stat: (k) => this.raw.stat(k),
    });
    this.scans = new TreeScans({
      raw: this.raw,
      pending: this.pending,
      held: this.held,
      committedAs: this.committedAs,
      log: d.log,
      note: (rel, seenAt) => this.note(rel, seenAt),
      passes: () => ({ running: this.running !== null, done: this.passesDone }),
    });
    this.passTimer = new PassTimer({
      dueIn: (now) => this.dueIn(now),
      free: () => !this.stopped && this.running === null,
      run: () => background(this.runOnce(false), this.log, 'committing'),
    });
    this.split = {
      sync: d.sync,
      raw: this.raw,
      pending: this.pending,
      log: d.log,
      guard: this.guard,
      committed: (result, files) => {
        this.log.info({ sha: result.sha, files }, result.message);
        this.bus.emit('committed', {
          sha: result.sha,
          files: result.added + result.modified + result.deleted,
          message: result.message,
        });
        this.onCommitted(result);
      },
    };
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** True while the first scan of the work tree (start) runs; the agent already answers then. */
  get scanning(): boolean {
    return this.scans.scanning;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    // The first scan runs while the agent answers (committer-scan.ts): `ready` does not wait for it.
    this.scans.start((e) => ctx.fail(e));
  }

  async stop(): Promise<void> {
    // A clean stop commits what is pending first: nothing the user saved is left uncommitted.
    try {
      await this.flush();
      const writing = [...this.pending.keys()].filter((p) => this.open.has(p));
      if (writing.length > 0)
        this.log.info(
          { paths: writing.slice(0, 5), count: writing.length },
          'left uncommitted: still open for writing; the next start commits them',
        );
    } finally {
      this.stopped = true;
      this.passTimer.stop();
      this.scans.stop();
      for (const t of this.retryTimers) clearTimeout(t);
      this.retryTimers.clear();
    }
  }

  /**
   * Called when a directory appears ('' or another directory: one that holds a name the watcher
   * cannot decode). Its watch is set up asynchronously, and a file created inside it in that window
   * (a rename into a directory a merge just made, say) raises no event: see committer-folders.ts.
   */
  noteDir(rel: string): void {
    if (this.stopped) return;
    this.scans.folders.note(rel);
  }

  /** The agent itself just wrote this file (OwnWrites.filled; size: the content's, when known). */
  ownWrite(rel: string, size: number | null = null): void {
    this.own.filled(rel, size);
  }

  /**
   * Paths a commit left out because git-annex let their raw content into the index (GitSync
   * unstageRaw): noted again after ms, so the file is staged afresh once it has settled.
   */
  retryLater(paths: string[], ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      if (!this.stopped) for (const p of paths) this.note(p);
    }, ms);
    this.retryTimers.add(t);
    for (const p of paths) {
      this.committedAs.forget(p);
      this.leftOut.add(p);
    }
  }

  /**
   * Called by the watcher for every changed path. Never blocks. seenAt: a scan's find, last written
   * then. known: the path's lstat just taken (the watcher's, with its event; see statFrom).
   */
  note(rel: string, seenAt?: number, known?: Stat): void {
    const now = Date.now();
    this.log.debug({ path: shown(rel) }, 'changed');
    this.pending.stuck.delete(rel); // changed again: worth another try
    const st = known ?? this.raw.stat(rel);
    if (this.own.stillOurs(rel, st)) return; // still what git-annex wrote
    // An event (not a scan: a scan reads the index) for a file exactly as we committed it.
    if (seenAt === undefined && this.committedAs.unchanged(rel, st)) return;
    this.openWaitUntil = 0;
    const had = this.pending.get(rel);
    // Pending just as it is now (the watcher reports a write more than once, a scan finds it too):
    // nothing new, so no new wait either.
    if (had && sameWrite(had, st)) return;
    if (this.pending.size === 0) this.pending.firstAt = now;
    // Inside new folders the pass scans for itself, so the watcher's lag (seconds under load) need
    // not hold it back: the write happened when the file's ctime says, not when its event came.
    const inNew = this.scans.folders.covers(rel);
    if (inNew) this.scans.folders.touched(now);
    const at = inNew && st.ctimeMs !== null ? Math.min(now, st.ctimeMs) : now;
    this.pending.lastAt = Math.max(this.pending.lastAt, at);
    // A file found by a scan (not an event) was last written at its mtime; it need not wait again.
    const eventAt = seenAt === undefined ? now : Math.min(now, seenAt);
    this.pending.put(rel, { eventAt, ...st });
    if (st.size !== null) this.held.forget(rel); // back: a later absence is a new one
    this.schedule();
  }

  /** Commits everything pending now, stable or not. Resolves when committed. */
  async flush(): Promise<void> {
    // What the first scan finds is pending too: a flush (sync, a merge, stop) commits it first.
    await this.scans.firstDone();
    // Another caller's pass may fail (a flush rethrows); that failure is theirs, ours comes below.
    while (this.running) await this.running.catch(() => undefined);
    // One pass commits at most maxBatch paths: keep going until nothing is pending (bounded, since
    // every pass takes maxBatch paths out or sets them aside).
    // A pass that takes nothing (all that is left is held: git-annex is filling those files) ends
    // it too; they are committed by a later pass, when they are back or their hold ran out.
    for (let i = 0; this.pending.size > 0 && i < MAX_FLUSH_PASSES; i++)
      if ((await this.runOnce(true)) === 0) break;
  }

  /** How long until the next pass is due (null: nothing pending, no pass). */
  private dueIn(now: number): number | null {
    const p = this.pending;
    const d = decide(
      {
        count: p.size,
        firstAt: p.firstAt,
        lastAt: p.lastAt,
        deletes: p.deleted.size,
        newFolders: this.scans.folders.active(now),
      },
      now,
      this.policy,
    );
    if (d.kind === 'idle') return null;
    return Math.max(d.kind === 'wait' ? d.ms : 0, this.retryAt - now, this.openWaitUntil - now);
  }

  private schedule(): void {
    this.passTimer.schedule();
  }

  /** One commit pass; resolves with how many paths it took (a pass it joined counts as one). */
  private async runOnce(all: boolean): Promise<number> {
    // Joining a pass already under way: its failure belongs to whoever started it. A flush's pass
    // rethrows (its caller handles it); handed back to a timer's `void` call, that rejection went
    // unhandled and ended the agent (seen under load: a flush before a merge, during the user's
    // merge, raced the commit timer).
    if (this.running) {
      const joined = all ? this.running : this.running.catch(() => undefined);
      await joined;
      return 1;
    }
    const work = this.commitBatch(all);
    this.running = work;
    try {
      return await work;
    } finally {
      this.running = null;
      this.passesDone++;
      if (!this.stopped) this.schedule();
    }
  }

  /**
   * Of these missing paths, those that are not deletions yet (holdDeletions: git-annex is filling
   * the file) and whose hold has not run out. They are pending again, at the end of the pending
   * order (held paths never crowd others out of a batch) with a fresh event time, and looked at
   * again by a later pass. Asked when a pass starts, and by GitSync under its lock when any commit
   * (this one's, or the one before a merge) is about to stage a deletion: a file can be present
   * when the pass looks and gone by the time git stages it.
   */
  holdAbsent(missing: string[], now = Date.now()): Set<string> {
    const out = this.held.hold(missing, now);
    for (const p of out) this.pending.requeue(p, { eventAt: now, size: null, mtimeMs: null });
    if (out.size > 0) this.schedule();
    return out;
  }

  /**
   * Of these paths, the ones a process has open for writing now and whose hold has not run out:
   * they must not be committed yet (GitSync leaves them out; see committer-open.ts).
   */
  beingWritten(paths: string[], now = Date.now()): Set<string> {
    const out = this.open.beingWritten(paths, now);
    for (const p of out) this.leftOut.add(p);
    return out;
  }

  private async commitBatch(all: boolean): Promise<number> {
    this.dropFilled();
    // New folders, a delete that may be half of a rename, a flush: look at the tree first.
    await this.scans.beforePass(all);
    this.leftOut.clear();
    const now = Date.now();
    const { batch, missing, stats } = this.pending.ready(
      all,
      now,
      this.policy.quietMs,
      this.policy.maxBatch,
      (k) => this.raw.stat(k),
    );
    // Deletions git-annex is filling, then files a writer has open, stay pending (see holdAbsent).
    if (this.held.enabled) {
      this.held.prune((p) => this.pending.has(p));
      without(batch, this.holdAbsent(missing, now));
    }
    const open = this.open.hold(batch, now, (p) => this.pending.has(p), stats);
    without(batch, open);
    // Nothing else to do until a held file is due for another look (a new event ends the wait).
    if (open.size > 0 && batch.length === 0 && [...this.pending.keys()].every((p) => this.open.has(p)))
      this.openWaitUntil = this.open.nextCheck();
    this.log.debug({ batch: batch.length, pending: this.pending.size, all }, 'commit pass');
    if (batch.length === 0) {
      // Everything pending is still being written: look again once it has had time to settle. The
      // max-wait clock restarts too, or a file written without pause would be re-checked in a loop.
      this.pending.lastAt = now;
      this.pending.firstAt = now;
      return 0;
    }
    const taken = new Map(batch.map((p) => [p, this.pending.get(p)!]));
    for (const [p, seen] of taken) {
      this.pending.take(p);
      // Remembered before the commit: the late events of a burst arrive while it runs, too.
      if (seen.file && !isRawKey(p))
        this.committedAs.remember(p, {
          size: seen.size,
          mtimeMs: seen.mtimeMs,
          ctimeMs: seen.ctimeMs ?? null,
        });
    }
    if (this.pending.size > 0) this.pending.firstAt = now;
    try {
      await commitSplitting(this.split, batch, 0);
      this.failures = 0;
      this.lastError = null;
      // What the commit did not take is no commit of that write (see CommittedAs).
      for (const p of taken.keys())
        if (this.leftOut.has(p) || this.pending.stuck.has(p)) this.committedAs.forget(p);
      // A burst may have overflowed the kernel's event queue: one scan finds what it dropped.
      if (batch.length > this.policy.burstThreshold) this.scans.afterBurst();
    } catch (e) {
      // Put the paths back (newer events win) and retry later; the work tree still holds the data.
      for (const [p, seen] of taken) {
        this.committedAs.forget(p);
        if (!this.pending.has(p)) this.pending.put(p, seen);
      }
      this.failures++;
      const delay = backoffDelay(this.failures, RETRY_BASE_MS, RETRY_MAX_MS);
      const msg = e instanceof Error ? e.message : String(e);
      // A full disk, an I/O error or a held lock says what it is, and when the next try comes: the
      // paths are pending again and are committed without another event once the cause is gone.
      const cause = transientCause(e);
      this.lastError = cause
        ? `${cause}: ${msg}; retrying in ${Math.max(1, Math.round(delay / 1000))} s`
        : msg;
      this.log.error({ err: this.lastError, attempt: this.failures, cause }, 'commit failed; will retry');
      this.retryAt = Date.now() + delay;
      if (all) throw e;
    }
    return batch.length;
  }

  /**
   * Files git-annex filled since the last pass (OwnWrites.filled) that are pending as they are now,
   * or held while git-annex put them back (see holdAbsent): nothing to commit.
   */
  private dropFilled(): void {
    for (const [rel, st] of this.own.takeFilled()) {
      const seen = this.pending.get(rel);
      if (seen && ((seen.size === st.size && seen.mtimeMs === st.mtimeMs) || this.held.has(rel))) {
        this.pending.take(rel);
        this.held.forget(rel);
      }
    }
  }

  /** Paths git refused to stage, with git's reason (for status). */
  stuckPaths(): Array<{ path: string; error: string }> {
    return stuckShown(this.pending.stuck, MAX_STUCK_SHOWN);
  }
}
