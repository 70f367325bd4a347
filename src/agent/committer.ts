// Committer service: waits on changed paths from the watcher (and on flush requests) and produces
// commits, then asks the pusher to push. When to commit is the pure policy in commit-policy.ts; this
// service only keeps the pending set, runs the timer the policy asks for, and calls git.
//
// A path is committed only once its size and mtime have held still (a file still being written
// waits), except on flush, which commits everything: before a merge and on a clean stop. A file that
// held still but that some process still has open for writing (open-files.ts; the decision is
// commit-policy.ts openWriteVerdict) waits too, on flush as well, until its writer closes it or
// for at most 5 min: one commit of the finished file, never a partial one.
//
// File names that are not valid UTF-8 cannot be string paths (decoding mangles them). A git scan
// finds them as bytes; they wait in the same pending set under a key that no real path can equal (a
// NUL, then the name C-quoted), with their bytes beside it, and are staged by those bytes inside the
// commit. Everything else in the engine keeps string paths.
import { lstatSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Service, ServiceContext } from '../core/service.js';
import type { GitSync, CommitResult } from '../git/sync.js';
import type { Logger } from '../core/log.js';
import type { EventBus } from '../core/bus.js';
import {
  decide,
  isStable,
  needsOpenCheck,
  openWriteVerdict,
  DEFAULT_POLICY,
  DEFAULT_OPEN_WRITE_POLICY,
  type CommitPolicy,
  type FileSeen,
  type OpenWritePolicy,
} from './commit-policy.js';
import { openForWrite } from './open-files.js';
import { backoffDelay } from '../core/backoff.js';
import { BusyError, GitError, transientCause } from '../git/errors.js';
import { absName, mayBeMangled, quoteName, rawPendingNames, stageRawNames } from '../git/rawpaths.js';
import { background } from '../core/background.js';

/** A commit that failed (disk full, an I/O error, a lock held for long) is retried, backing off
 * from 0.5 s to 1 min: quick enough that freed space is used within a minute, slow enough that a
 * disk that stays full costs one git call a minute. */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 60_000;
/** A flush of more than 100 x maxBatch (a million paths) leaves the rest to the next start's scan. */
const MAX_FLUSH_PASSES = 100;
/** Halving a refused batch this deep reaches single paths for batches up to 2^14 = 16,384 paths. */
const MAX_SPLIT_DEPTH = 14;
/** Own writes remembered at once (see ownWrite); the oldest are forgotten first, which only means
 * such a file is staged once more (a no-op commit), never that an edit is missed. */
const MAX_OWN_WRITES = 20_000;
/** status shows at most this many stuck paths (the count says how many there are). */
const MAX_STUCK_SHOWN = 20;
/** New directories arrive in bursts (a merge, `cp -r`); one scan after they settle covers them all. */
const DIR_SETTLE_MS = 150;
/** Starts the key of a name kept as bytes: a file name can never hold a NUL, so no path collides. */
const RAW_KEY = '\0';
/** A deletion held because git-annex is rewriting the file (see holdDeletions) is committed anyway
 * after this long without progress: a temporary directory left by a git-annex that was killed must
 * not hold it forever. The clock restarts whenever the file being written there grows, so a file
 * of any size that is still being filled stays held. */
const HOLD_MAX_MS = 120_000;

export class Committer implements Service {
  readonly name = 'committer';
  private pending = new Map<string, FileSeen>();
  private newDirs = new Set<string>();
  /** Paths git refused to stage, set aside until they change again. */
  private stuck = new Map<string, string>();
  /** Names that are not valid UTF-8, by key (RAW_KEY + quoted name), while pending or stuck. */
  private raw = new Map<string, Buffer>();
  private dirTimer: NodeJS.Timeout | null = null;
  /** Pending paths that no longer exist (deletes, or the old half of a rename). */
  private deleted = new Set<string>();
  private firstAt = 0;
  private lastAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  /** The first scan of the work tree, while it runs (see start). */
  private firstScan: Promise<void> | null = null;
  private failures = 0;
  /** Files the agent wrote itself, with the size and mtime it left them at (see ownWrite). */
  private readonly ownWrites = new Map<string, { size: number | null; mtimeMs: number | null }>();
  /** After a failed commit, nothing is tried before this time (backoff). */
  private retryAt = 0;
  private stopped = true;
  /** Deletions held back (see holdDeletions): since when without progress, and the last progress. */
  private readonly heldSince = new Map<string, { since: number; progress: string; expired: boolean }>();
  lastError: string | null = null;
  /**
   * Which of these missing paths are not deletions yet: annex mode sets this to "git-annex is
   * rewriting the file" (src/git/annex-replace.ts), each with a progress token (it changes while
   * the file is being written; 'filling' means our own lane, which has its own stall timeout).
   * Such a path stays pending and is looked at again on the next pass. Unset (plain git): every
   * missing path is a deletion.
   */
  holdDeletions: ((paths: string[]) => Map<string, string>) | null = null;
  /** How long a deletion may be held (HOLD_MAX_MS; tests shorten it). */
  holdMaxMs = HOLD_MAX_MS;
  /** Files held because a process has them open for writing: since when, and when to look again. */
  private readonly openHeld = new Map<string, { since: number; checkAt: number }>();
  /** When every pending path is held open, the next pass waits until this time (0: no such wait). */
  private openWaitUntil = 0;
  /** The work tree as the kernel names it in /proc (symlinks resolved), once. */
  private realTree: string | null = null;
  /** Timers of retryLater. */
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** Open-for-write checks (tests shorten the hold). */
  openPolicy: OpenWritePolicy = DEFAULT_OPEN_WRITE_POLICY;
  /** Which of these absolute paths are open for writing (a /proc sweep; tests may stand in). */
  openLookup: (abs: string[]) => Set<string> = (abs) => openForWrite(abs).writing;

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

  /** True while the first scan of the work tree (start) runs; the agent already answers then. */
  get scanning(): boolean {
    return this.firstScan !== null;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    // Changes made while no agent ran (or lost to a kill -9) are whatever differs from HEAD now.
    // The scan runs while the agent answers and the watcher (started before us) reports: a change
    // made during it is an event, and a path an event already noted keeps its own timing. At
    // 100,000 files this git status takes seconds, which `ready` must not wait for. A failed scan
    // is a crash like a failed start: the supervisor restarts us and the scan runs again.
    const scan = (async () => {
      for (const p of await this.scan([], true)) if (!this.pending.has(p)) this.note(p);
    })();
    this.firstScan = scan.then(
      () => {
        this.firstScan = null;
      },
      (e: unknown) => {
        this.firstScan = null;
        ctx.fail(e);
      },
    );
  }

  async stop(): Promise<void> {
    // A clean stop commits what is pending first: nothing the user saved is left uncommitted.
    try {
      await this.flush();
      const writing = [...this.pending.keys()].filter((p) => this.openHeld.has(p));
      if (writing.length > 0)
        this.log.info(
          { paths: writing.slice(0, 5), count: writing.length },
          'left uncommitted: still open for writing; the next start commits them',
        );
    } finally {
      this.stopped = true;
      if (this.timer) clearTimeout(this.timer);
      if (this.dirTimer) clearTimeout(this.dirTimer);
      this.dirTimer = null;
      this.timer = null;
      for (const t of this.retryTimers) clearTimeout(t);
      this.retryTimers.clear();
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
      background(this.reconcile(dirs, true), this.log, 'scanning new directories');
    }, DIR_SETTLE_MS);
  }

  /**
   * Notes every path that differs from HEAD and is not pending yet (after a burst, new dirs, a name
   * the watcher could not decode). '' among the directories means the whole tree. retryStuck: see scan.
   */
  private async reconcile(under: string[] = [], retryStuck = false): Promise<number> {
    try {
      const missed = (await this.scan(under.includes('') ? [] : under, retryStuck)).filter(
        (p) => !this.pending.has(p) && !this.stuck.has(p),
      );
      if (missed.length > 0) {
        this.log.info({ paths: missed.length }, 'found changes the watcher missed; committing them');
        for (const p of missed) this.note(p, this.statKey(p).mtimeMs ?? undefined);
      }
      return missed.length;
    } catch (e) {
      this.log.warn({ err: String(e) }, 'reconciliation scan failed');
      return 0;
    }
  }

  /**
   * Paths that differ from HEAD, below some directories (all when none). When a name came out of
   * git mangled (it holds U+FFFD), one more scan reads the names as bytes: those that are not valid
   * UTF-8 are noted here, by their bytes, and their mangled strings are dropped from the answer.
   * Trees without such names pay nothing. retryStuck: a name set aside earlier is tried again (the
   * scan follows an event in its directory, the only sign it may have changed).
   */
  private async scan(under: string[], retryStuck: boolean): Promise<string[]> {
    const found = await this.sync.pendingPaths(under);
    if (!found.some(mayBeMangled)) {
      if (retryStuck) this.forgetStuckRaw(under, []);
      return found;
    }
    const names = await rawPendingNames(this.sync.runner, under, (n) => this.sync.ignore.ignores(n));
    if (retryStuck) this.forgetStuckRaw(under, names);
    // Each raw name stands for one of the mangled strings: drop exactly that many of each.
    const mangled = new Map<string, number>();
    for (const n of names) {
      const d = n.toString('utf8');
      mangled.set(d, (mangled.get(d) ?? 0) + 1);
    }
    const paths = found.filter((p) => {
      const left = mangled.get(p) ?? 0;
      if (left > 0) mangled.set(p, left - 1);
      return left === 0;
    });
    const fresh: string[] = [];
    for (const n of names) {
      const key = RAW_KEY + quoteName(n);
      if (this.pending.has(key) || (this.stuck.has(key) && !retryStuck)) continue;
      this.raw.set(key, n);
      fresh.push(key);
    }
    if (fresh.length > 0) {
      this.log.info(
        { names: fresh.slice(0, 5).map(shown), count: fresh.length },
        'file names that are not valid UTF-8 changed; committing them by their bytes',
      );
      for (const key of fresh) this.note(key, this.statKey(key).mtimeMs ?? undefined);
    }
    return paths;
  }

  /**
   * A stuck name below these directories that a scan no longer finds (deleted, or put back as it
   * is in HEAD) has nothing left to sync: it leaves the stuck list. String paths get the same from
   * the watcher's next event; a name kept as bytes has no event of its own.
   */
  private forgetStuckRaw(under: string[], found: Buffer[]): void {
    const prefixes = under.map((d) => Buffer.from(d.endsWith('/') ? d : d + '/', 'utf8'));
    const still = new Set(found.map((n) => RAW_KEY + quoteName(n)));
    for (const key of this.stuck.keys()) {
      const name = key.startsWith(RAW_KEY) ? this.raw.get(key) : undefined;
      if (!name || still.has(key)) continue;
      if (prefixes.length > 0 && !prefixes.some((p) => name.subarray(0, p.length).equals(p))) continue;
      this.stuck.delete(key);
      if (!this.pending.has(key)) this.raw.delete(key);
    }
  }

  /** lstat of a pending key: a string path, or a name kept as bytes. */
  private statKey(key: string): { size: number | null; mtimeMs: number | null } {
    const name = key.startsWith(RAW_KEY) ? this.raw.get(key) : undefined;
    return statOf(name ? absName(this.sync.info.workTree, name) : join(this.sync.info.workTree, key));
  }

  /**
   * The agent itself just wrote this file (git-annex filled an unlocked file with its downloaded
   * content), so its next events are not an edit. Without this, every downloaded file was staged
   * again, and staging runs git-annex's clean filter over the content: 5 s of CPU on the receiving
   * side of a 1,000-file burst, competing with the downloads. The file's size and mtime are kept:
   * while both still match, the file is what git-annex wrote; any later write changes them and is
   * committed as usual. git-annex refreshes the index entry itself when its lane closes.
   * size: the content's size (the key's), when known. A file of another size is not what
   * git-annex wrote but a write that came after it, before its lane answered (demo --annex wrote
   * notes.txt the moment its content appeared): taken for git-annex's, that edit was never
   * committed.
   */
  ownWrite(rel: string, size: number | null = null): void {
    const st = this.statKey(rel);
    if (st.size === null || (size !== null && st.size !== size)) return;
    if (this.ownWrites.size >= MAX_OWN_WRITES) {
      const oldest = this.ownWrites.keys().next().value;
      if (oldest !== undefined) this.ownWrites.delete(oldest);
    }
    this.ownWrites.set(rel, st);
    const seen = this.pending.get(rel);
    // Pending as it is now, or held while git-annex put it back (see holdBack): nothing to commit.
    if (seen && ((seen.size === st.size && seen.mtimeMs === st.mtimeMs) || this.heldSince.has(rel))) {
      this.pending.delete(rel);
      this.deleted.delete(rel);
      this.heldSince.delete(rel);
    }
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
  }

  /** Called by the watcher for every changed path. Never blocks. */
  note(rel: string, seenAt?: number): void {
    const now = Date.now();
    this.log.debug({ path: shown(rel) }, 'changed');
    this.stuck.delete(rel); // changed again: worth another try
    const st = this.statKey(rel);
    const own = this.ownWrites.get(rel);
    if (own) {
      if (own.size === st.size && own.mtimeMs === st.mtimeMs) return; // still what git-annex wrote
      this.ownWrites.delete(rel);
    }
    if (this.pending.size === 0) this.firstAt = now;
    this.lastAt = now;
    this.openWaitUntil = 0;
    // A file found by a scan (not an event) was last written at its mtime; it need not wait again.
    const eventAt = seenAt === undefined ? now : Math.min(now, seenAt);
    this.pending.set(rel, { eventAt, ...st });
    if (st.size === null) this.deleted.add(rel);
    else {
      this.deleted.delete(rel);
      this.heldSince.delete(rel); // back: a later absence is a new one
    }
    this.schedule();
  }

  /** Commits everything pending now, stable or not. Resolves when committed. */
  async flush(): Promise<void> {
    // What the first scan finds is pending too: a flush (sync, a merge, stop) commits it first.
    if (this.firstScan) await this.firstScan;
    // Another caller's pass may fail (a flush rethrows); that failure is theirs, ours comes below.
    while (this.running) await this.running.catch(() => undefined);
    // One pass commits at most maxBatch paths: keep going until nothing is pending (bounded, since
    // every pass takes maxBatch paths out or sets them aside).
    // A pass that takes nothing (all that is left is held: git-annex is filling those files) ends
    // it too; they are committed by a later pass, when they are back or their hold ran out.
    for (let i = 0; this.pending.size > 0 && i < MAX_FLUSH_PASSES; i++)
      if ((await this.runOnce(true)) === 0) break;
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
    const ms = Math.max(
      d.kind === 'wait' ? d.ms : 0,
      this.retryAt - Date.now(),
      this.openWaitUntil - Date.now(),
    );
    this.timer = setTimeout(() => {
      this.timer = null;
      background(this.runOnce(false), this.log, 'committing');
    }, ms);
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
      if (!this.stopped) this.schedule();
    }
  }

  /**
   * Takes out of the batch the deletions holdDeletions says are not deletions yet (git-annex is
   * filling the file); they stay pending with a fresh event time, so the next pass looks again. A
   * hold ends when the file is back (an edit as usual) or after HOLD_MAX_MS (then it is committed).
   */
  private holdBack(batch: string[], missing: string[], now: number): void {
    if (!this.holdDeletions) return;
    for (const p of this.heldSince.keys()) if (!this.pending.has(p)) this.heldSince.delete(p);
    const held = this.holdAbsent(missing, now);
    if (held.size === 0) return;
    for (let i = batch.length - 1; i >= 0; i--) if (held.has(batch[i]!)) batch.splice(i, 1);
  }

  /**
   * Of these missing paths, those that are not deletions yet (holdDeletions: git-annex is filling
   * the file) and whose hold has not run out. They are pending again, at the end of the pending
   * order (held paths never crowd others out of a batch) with a fresh event time, and looked at
   * again by a later pass. Asked by holdBack when a pass starts, and by GitSync under its lock when
   * any commit (this one's, or the one before a merge) is about to stage a deletion: a file can be
   * present when the pass looks and gone by the time git stages it.
   */
  holdAbsent(missing: string[], now = Date.now()): Set<string> {
    const out = new Set<string>();
    if (!this.holdDeletions || missing.length === 0) return out;
    let held: Map<string, string>;
    try {
      held = this.holdDeletions(missing);
    } catch (e) {
      this.log.warn({ err: String(e) }, 'could not tell whether git-annex is rewriting files');
      return out;
    }
    for (const [p, progress] of held) {
      const had = this.heldSince.get(p);
      // Its hold ran out: a deletion now, until it is committed or the file is back.
      if (had?.expired) continue;
      const since = had && had.progress === progress && progress !== 'filling' ? had.since : now;
      if (now - since >= this.holdMaxMs) {
        this.log.warn(
          { path: p },
          'git-annex seemed to be rewriting a missing file for too long; committing it as deleted',
        );
        this.heldSince.set(p, { since, progress, expired: true });
        continue;
      }
      if (!had) this.log.info({ path: p }, 'missing while git-annex rewrites it; not a deletion yet');
      this.heldSince.set(p, { since, progress, expired: false });
      this.pending.delete(p);
      this.pending.set(p, { eventAt: now, size: null, mtimeMs: null });
      this.deleted.add(p);
      out.add(p);
    }
    if (out.size > 0) this.schedule();
    return out;
  }

  /** Absolute path of a string key as /proc names it. */
  private realPath(rel: string): string {
    if (this.realTree === null) {
      try {
        this.realTree = realpathSync(this.sync.info.workTree);
      } catch {
        this.realTree = this.sync.info.workTree;
      }
    }
    return join(this.realTree, rel);
  }

  /**
   * Of these paths, the ones a process has open for writing now and whose hold has not run out:
   * they must not be committed yet. One /proc sweep, for recently written files only (see
   * OpenWritePolicy). Names kept as bytes are not looked up (/proc names them decoded); the quiet
   * check alone applies to them.
   */
  beingWritten(paths: string[], now = Date.now()): Set<string> {
    const ask = paths.filter(
      (p) =>
        !p.startsWith(RAW_KEY) &&
        !this.sync.ignore.ignores(p) &&
        needsOpenCheck(this.statKey(p), now, this.openPolicy),
    );
    if (ask.length === 0) return new Set();
    let open: Set<string>;
    try {
      open = this.openLookup(ask.map((p) => this.realPath(p)));
    } catch (e) {
      this.log.warn({ err: String(e) }, 'could not tell which files are open for writing');
      return new Set();
    }
    const out = new Set<string>();
    for (const p of ask) {
      const v = openWriteVerdict(
        open.has(this.realPath(p)),
        this.openHeld.get(p)?.since,
        now,
        this.openPolicy,
      );
      if (v === 'hold') out.add(p);
    }
    return out;
  }

  /**
   * Takes out of the batch the files a writer still has open (see openWriteVerdict). They stay
   * pending and are looked at again every recheckMs; after maxHoldMs they are committed as they are.
   */
  private holdOpen(batch: string[], now: number): void {
    for (const p of this.openHeld.keys()) if (!this.pending.has(p)) this.openHeld.delete(p);
    const held: string[] = [];
    const ask: string[] = [];
    for (const p of batch) {
      // Names kept as bytes are not looked up (see beingWritten). Temporary files (vim's swap file,
      // which vim keeps open) go on to the commit, which leaves them out unless git tracks them:
      // held, they would show as pending for as long as the editor runs.
      if (p.startsWith(RAW_KEY) || this.sync.ignore.ignores(p)) continue;
      const h = this.openHeld.get(p);
      if (h && h.checkAt > now) held.push(p);
      else if (needsOpenCheck(this.statKey(p), now, this.openPolicy)) ask.push(p);
    }
    if (ask.length > 0) {
      let open: Set<string>;
      try {
        open = this.openLookup(ask.map((p) => this.realPath(p)));
      } catch (e) {
        this.log.warn({ err: String(e) }, 'could not tell which files are open for writing');
        open = new Set();
      }
      for (const p of ask) {
        const had = this.openHeld.get(p);
        const v = openWriteVerdict(open.has(this.realPath(p)), had?.since, now, this.openPolicy);
        if (v === 'hold') {
          if (!had)
            this.log.info({ path: p }, 'still open for writing; committing it once its writer closes it');
          this.openHeld.set(p, { since: had?.since ?? now, checkAt: now + this.openPolicy.recheckMs });
          held.push(p);
        } else {
          if (v === 'commit-anyway')
            this.log.warn(
              { path: p, heldMs: now - had!.since },
              'open for writing for too long (a log kept open?); committing it as it is now',
            );
          this.openHeld.delete(p);
        }
      }
    }
    if (held.length === 0) return;
    const out = new Set(held);
    for (let i = batch.length - 1; i >= 0; i--) if (out.has(batch[i]!)) batch.splice(i, 1);
    // Nothing else to do until a held file is due for another look (a new event ends the wait).
    if (batch.length === 0 && [...this.pending.keys()].every((p) => this.openHeld.has(p)))
      this.openWaitUntil = [...this.openHeld.values()].reduce((m, h) => Math.min(m, h.checkAt), Infinity);
  }

  private async commitBatch(all: boolean): Promise<number> {
    // Directories that just appeared may hold files the watcher has not reported: find them first,
    // so a file moved into a new directory is committed together with its deletion (a rename).
    // A delete may be half of a rename whose new name the watcher has not reported yet (events lag
    // under load). One look at the whole tree finds it, so git records a rename, not delete + add.
    // Deletes are rare next to edits, so this costs one git call now and then. It covers the new
    // directories too; looking only in those missed a partner elsewhere (a rename racing a merge
    // that created directories was committed as delete, then add).
    // A file found in a new directory before its event may be the new half of a rename whose
    // delete has not been reported either (both events lag under load): then the whole tree once.
    // A flush (before a merge, at stop) commits everything at once, whatever the watcher has
    // reported so far: the whole tree too, or a rename racing a merge is split in two commits.
    // Held deletions (see holdBack) are not news: only other deletes call for a look at the tree.
    if (all || [...this.deleted].some((p) => !this.heldSince.has(p))) await this.reconcile();
    else if (this.newDirs.size > 0 && (await this.reconcile([...this.newDirs])) > 0) await this.reconcile();
    const now = Date.now();
    const batch: string[] = [];
    const missing: string[] = [];
    for (const [path, seen] of this.pending) {
      if (batch.length >= this.policy.maxBatch) break;
      const st = this.statKey(path);
      if (all || isStable(seen, st, now, this.policy.quietMs)) {
        batch.push(path);
        if (st.size === null && !path.startsWith(RAW_KEY)) missing.push(path);
      }
      // Still moving: re-baseline, so the next pass asks "has it held still since now?". Without
      // this, a write the watcher folded into an earlier event would keep the path pending forever.
      else if (seen.size !== st.size || seen.mtimeMs !== st.mtimeMs)
        this.pending.set(path, { eventAt: now, ...st });
    }
    this.holdBack(batch, missing, now);
    this.holdOpen(batch, now);
    this.log.debug({ batch: batch.length, pending: this.pending.size, all }, 'commit pass');
    if (batch.length === 0) {
      // Everything pending is still being written: look again once it has had time to settle. The
      // max-wait clock restarts too, or a file written without pause would be re-checked in a loop.
      this.lastAt = now;
      this.firstAt = now;
      return 0;
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
      if (batch.length > this.policy.burstThreshold)
        background(this.reconcile(), this.log, 'the scan after a burst');
    } catch (e) {
      // Put the paths back (newer events win) and retry later; the work tree still holds the data.
      for (const [p, seen] of taken) {
        if (this.pending.has(p)) continue;
        this.pending.set(p, seen);
        if (seen.size === null) this.deleted.add(p);
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
   * Commits paths; when git refuses the batch (a path inside a submodule or behind a symlink, an
   * unreadable file), splits it and commits every half that git accepts, so one bad path never
   * blocks everything else. A single path git refuses is set aside as stuck (shown in status) until
   * the watcher reports it again. A transient failure (a full disk, an I/O error, a lock held by
   * another git: TransientError) is not a bad path: that rethrows, and the whole batch is retried
   * after a backoff.
   */
  private async commitSplitting(paths: string[], depth: number): Promise<void> {
    const rawKeys = paths.filter((p) => p.startsWith(RAW_KEY));
    const plain = rawKeys.length === 0 ? paths : paths.filter((p) => !p.startsWith(RAW_KEY));
    const rawNames = rawKeys.map((k) => this.raw.get(k)).filter((n): n is Buffer => n !== undefined);
    const stageRaw =
      rawNames.length > 0 ? () => stageRawNames(this.sync.runner, this.sync.info, rawNames) : undefined;
    try {
      const result = await this.sync.commit(plain, stageRaw);
      // Committed: the bytes are needed again only if the name changes again (a new scan finds it).
      for (const k of rawKeys) if (!this.pending.has(k)) this.raw.delete(k);
      // A submodule's new commit is recorded: the edits inside it that were set aside (see
      // InSubmoduleError) went into that commit, or wait for the next one there.
      if (this.stuck.size > 0) {
        const committed = new Set(plain);
        for (const k of this.stuck.keys()) {
          for (let i = k.indexOf('/'); i > 0; i = k.indexOf('/', i + 1))
            if (committed.has(k.slice(0, i))) {
              this.stuck.delete(k);
              break;
            }
        }
      }
      if (result) {
        this.log.info({ sha: result.sha, files: paths.length }, result.message);
        this.bus.emit('committed', {
          sha: result.sha,
          files: result.added + result.modified + result.deleted,
          message: result.message,
        });
        this.onCommitted(result);
      }
    } catch (e) {
      if (!(e instanceof GitError) || transientCause(e) !== null || e instanceof BusyError) throw e;
      if (paths.length === 1 || depth >= MAX_SPLIT_DEPTH) {
        for (const p of paths) this.stuck.set(p, e.message);
        this.log.warn(
          { paths: paths.slice(0, 5).map(shown), count: paths.length, err: e.message },
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
    return [...this.stuck]
      .slice(0, MAX_STUCK_SHOWN)
      .map(([path, error]) =>
        path.startsWith(RAW_KEY)
          ? { path: shown(path), error: `${error} (the name is not valid UTF-8; shown C-quoted)` }
          : { path, error },
      );
  }
}

/** A pending key as it may be printed (logs, status): a name kept as bytes shows its quoted form. */
function shown(key: string): string {
  return key.startsWith(RAW_KEY) ? key.slice(RAW_KEY.length) : key;
}

function statOf(abs: string | Buffer): { size: number | null; mtimeMs: number | null } {
  try {
    const st = lstatSync(abs);
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return { size: null, mtimeMs: null };
  }
}
