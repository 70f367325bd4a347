// Watcher service: waits on the kernel (inotify through Node's fs.watch, one watch per folder, never
// one per file; no polling) and produces one `onChange(relativePath)` call per created, modified or
// deleted file in the work tree, and `scanDir(relativeDir)` requests for what only git can list.
// Renames and moves arrive as a delete plus an add, which git records as a rename. `.git/` is never
// watched; gitignored directories are pruned from the watch (the committer re-checks every path
// with `git check-ignore`, so a file that slips through is still not committed).
//
// Why folders and fs.watch (docs/benchmarks.md, "watcher choice"): at 100,000 files in 1,000
// folders chokidar took one kernel watch per file and missed files of a nested burst; a watch per
// folder takes 1,001 and, because a new folder is armed first and read second, misses none.
//
// A new folder: its watch is armed, then it is read. A file written before the watch was armed is
// in the listing; one written after raises an event. Either way it is reported (perhaps twice,
// which the committer folds into one pending path). Its sub-folders are armed the same way.
//
// Out of inotify watches (ENOSPC, or deps.maxWatches in tests): every watch is given back (other
// programs of the user need them too), `onWatchLimit()` starts the periodic scans that keep
// syncing without a watcher (agent/scan-poll.ts), and the service fails with a FatalServiceError:
// not restarted, so status says it once, with the sysctl to raise.
//
// A name that is not valid UTF-8 (Latin-1 `caf\xe9.txt`) reaches us decoded, with U+FFFD in place
// of its invalid bytes, so it cannot be reported as a path: the directory that holds it is handed
// on to be scanned with git, which reads names as bytes (see src/git/rawpaths.ts).
//
// One lstat per event: the path's lstat is taken once, when its event is looked at, and handed on
// with it (the committer's note and the recheck use it). A burst of 1,000 files into one folder
// cost three lstats per file before (the look, the committer's own, the recheck's "as it was").
import { lstatSync, readdirSync, watch, type FSWatcher, type Stats } from 'node:fs';
import { join } from 'node:path';
import { INOTIFY_HINT, type Service, type ServiceContext } from '../core/service.js';
import { FatalServiceError } from '../core/errors.js';
import type { Runner } from '../git/runner.js';
import type { Logger } from '../core/log.js';
import { mayBeMangled } from '../git/rawpaths.js';
import { background } from '../core/background.js';

/**
 * A path is looked at again this long after its last event, and reported if it is not as it was
 * then (gone, back, or another inode, size or mtime). inotify does not drop events the way
 * chokidar's throttles did, but a queue overflow (a huge burst while the loop is busy) loses them
 * silently; the recheck keeps a file replaced in quick succession (git-annex filling it: unlink,
 * rename in, then a delete) from waiting for a later full scan.
 */
const RECHECK_MS = 150;

export interface WatcherDeps {
  workTree: string;
  runner: Runner;
  log: Logger;
  /** A path changed; st: its lstat, taken just now (null: it is gone). */
  onChange: (rel: string, st: Stats | null) => void;
  /**
   * A directory to scan with git ('' is the work tree): it holds a name that is not valid UTF-8,
   * it was moved away or removed (git lists the tracked files that went with it), or a watch
   * could not be set on it.
   */
  scanDir?: (rel: string) => void;
  /** The watches ran out: from now on, changes are found by periodic scans (agent/scan-poll.ts). */
  onWatchLimit?: () => void;
  /** At most this many watches at once, as if the kernel's limit were this (tests). */
  maxWatches?: number;
}

type Seen = { ino: number; size: number; mtimeMs: number } | null;

function seenOf(st: Stats | null): Seen {
  return st === null ? null : { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

function sameSeen(a: Seen, b: Seen): boolean {
  if (a === null || b === null) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function lstatOrNull(abs: string): Stats | null {
  try {
    // A missing path is the common miss (a delete): answered without an exception.
    return lstatSync(abs, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** The kernel out of watches, as fs.watch says it (or as maxWatches pretends it). */
function isWatchLimit(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'ENOSPC';
}

/** The error a watch call gives when a folder went away or is not a folder (any more). */
function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const WATCH_LIMIT_MESSAGE =
  'out of inotify watches (fs.inotify.max_user_watches): the work tree is scanned with git status ' +
  'every few seconds instead';

export class Watcher implements Service {
  readonly name = 'watcher';
  private readonly d: WatcherDeps;
  /** One watch per folder, by its path relative to the work tree ('' the top), with its inode. */
  private readonly watches = new Map<string, { fsw: FSWatcher; ino: number }>();
  private ignoredDirs = new Set<string>();
  private ctx: ServiceContext | null = null;
  /** Events of this turn of the loop, by path: many writes to one file cost one look. */
  private readonly batch = new Set<string>();
  private batchQueued = false;
  /** Paths with a recheck due (see RECHECK_MS): how each was at its last event, and when. One
   * sweep timer serves them all (a 100,000-file burst must not make 100,000 timers). */
  private readonly rechecks = new Map<string, { at: number; seen: Seen }>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(deps: WatcherDeps) {
    this.d = deps;
  }

  /** How many kernel watches the watcher holds now (one per watched folder). */
  get watchCount(): number {
    return this.watches.size;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    await this.loadIgnoredDirs();
    try {
      this.arm('', false);
    } catch (e) {
      // Thrown from start: the supervisor records it as fatal, once (classifyFailure).
      throw this.limitReached(e);
    }
  }

  async stop(): Promise<void> {
    this.ctx = null;
    this.closeAll();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.rechecks.clear();
    this.batch.clear();
  }

  private closeAll(): void {
    for (const w of this.watches.values()) w.fsw.close();
    this.watches.clear();
  }

  /**
   * Watches a folder, then reads it: its sub-folders are armed the same way, and (report) its files
   * are reported, so nothing written before the watch was set is missed. Throws only when the
   * kernel is out of watches.
   */
  private arm(rel: string, report: boolean): void {
    if (this.isIgnored(rel)) return;
    const abs = rel === '' ? this.d.workTree : join(this.d.workTree, rel);
    const st = lstatOrNull(abs);
    if (!st?.isDirectory()) return;
    const old = this.watches.get(rel);
    if (old?.ino === st.ino) return;
    if (old) this.unwatchBelow(rel);
    if (this.d.maxWatches !== undefined && this.watches.size >= this.d.maxWatches)
      throw Object.assign(new Error('watch limit reached (maxWatches)'), {
        code: 'ENOSPC',
        syscall: 'watch',
      });
    let fsw: FSWatcher;
    try {
      fsw = watch(abs, { persistent: false }, (_ev, name) => this.onEvent(rel, name));
    } catch (e) {
      if (isGone(e)) return;
      if (isWatchLimit(e)) throw e;
      this.d.log.warn({ dir: rel, err: String(e) }, 'cannot watch a folder; scanning it with git instead');
      this.d.scanDir?.(rel);
      return;
    }
    fsw.on('error', (err) => this.onWatchError(rel, fsw, err));
    this.watches.set(rel, { fsw, ino: st.ino });
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return; // gone already: the parent's event says so
    }
    for (const ent of entries) {
      if (mayBeMangled(ent.name)) {
        this.d.scanDir?.(rel);
        continue;
      }
      const child = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (ent.isDirectory()) this.arm(child, report);
      else if (report && !this.isIgnored(child)) this.report(child);
    }
  }

  /** Closes the watches of a folder and of every folder below it. */
  private unwatchBelow(rel: string): void {
    const prefix = rel === '' ? '' : rel + '/';
    for (const [dir, w] of this.watches) {
      if (dir === rel || dir.startsWith(prefix)) {
        w.fsw.close();
        this.watches.delete(dir);
      }
    }
  }

  private onWatchError(rel: string, fsw: FSWatcher, err: unknown): void {
    fsw.close();
    if (this.watches.get(rel)?.fsw === fsw) this.watches.delete(rel);
    if (isWatchLimit(err)) {
      this.failLimit(err);
      return;
    }
    this.d.log.warn({ dir: rel, err: String(err) }, 'a folder watch failed; scanning it with git');
    this.d.scanDir?.(rel);
  }

  private onEvent(dir: string, name: string | Buffer | null): void {
    if (this.ctx === null) return;
    if (typeof name !== 'string' || name === '') {
      // No name to look at: the folder as a whole is scanned.
      this.d.scanDir?.(dir);
      return;
    }
    if (mayBeMangled(name)) {
      this.d.log.debug({ dir }, 'a name the watcher cannot decode changed; scanning its directory');
      this.d.scanDir?.(dir);
      return;
    }
    this.batch.add(dir === '' ? name : `${dir}/${name}`);
    if (!this.batchQueued) {
      this.batchQueued = true;
      setImmediate(() => this.drain());
    }
  }

  private drain(): void {
    this.batchQueued = false;
    const paths = [...this.batch];
    this.batch.clear();
    try {
      for (const rel of paths) this.look(rel);
    } catch (e) {
      if (isWatchLimit(e)) this.failLimit(e);
      else this.ctx?.fail(e);
    }
  }

  /** One path an event named, as it is now: a folder (armed and read), a file, or gone. */
  private look(rel: string): void {
    if (this.ctx === null || this.isIgnored(rel)) return;
    const st = lstatOrNull(join(this.d.workTree, rel));
    if (st === null) {
      if (this.watches.has(rel)) {
        // A folder moved away or removed: its watches go, and git lists the tracked files it held.
        this.unwatchBelow(rel);
        this.d.scanDir?.(rel);
        return;
      }
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      // The event's own folder went away (a watch on it names the folder itself): handled above.
      if (parent !== '' && !this.watches.has(parent)) return;
      this.report(rel, null);
    } else if (st.isDirectory()) {
      this.arm(rel, true);
    } else {
      if (rel === '.gitignore' || rel.endsWith('/.gitignore'))
        background(this.loadIgnoredDirs(), this.d.log, 'reading the .gitignore files');
      this.report(rel, st);
    }
  }

  /** The kernel ran out of watches after start: give them all back and sync from scans. */
  private failLimit(e: unknown): void {
    const ctx = this.ctx;
    const err = this.limitReached(e);
    ctx?.fail(err);
  }

  private limitReached(e: unknown): unknown {
    if (!isWatchLimit(e)) return e;
    const held = this.watches.size;
    this.closeAll();
    this.ctx = null;
    this.d.log.error({ watches: held, err: String(e) }, WATCH_LIMIT_MESSAGE);
    this.d.onWatchLimit?.();
    return new FatalServiceError(WATCH_LIMIT_MESSAGE, INOTIFY_HINT);
  }

  /**
   * Hands a changed path on, and looks at it again RECHECK_MS after its last event. st: its lstat
   * when the caller just took it (undefined: taken here, once, for both).
   */
  private report(rel: string, st?: Stats | null): void {
    const now = st === undefined ? lstatOrNull(join(this.d.workTree, rel)) : st;
    this.d.onChange(rel, now);
    // Re-inserted, so the map stays in order of last event and a sweep stops at the first not due.
    this.rechecks.delete(rel);
    this.rechecks.set(rel, { at: Date.now(), seen: seenOf(now) });
    if (!this.sweepTimer) this.sweepTimer = setTimeout(() => this.sweep(), RECHECK_MS);
  }

  private sweep(): void {
    this.sweepTimer = null;
    if (this.ctx === null) return;
    const due = Date.now() - RECHECK_MS;
    const changed: Array<[string, Stats | null]> = [];
    for (const [rel, r] of this.rechecks) {
      if (r.at > due) break;
      this.rechecks.delete(rel);
      const st = lstatOrNull(join(this.d.workTree, rel));
      if (!sameSeen(r.seen, seenOf(st))) changed.push([rel, st]);
    }
    for (const [rel, st] of changed) {
      this.d.log.debug({ path: rel }, 'changed without an event; reporting it');
      this.report(rel, st);
    }
    const next = this.rechecks.values().next();
    if (!next.done && !this.sweepTimer)
      this.sweepTimer = setTimeout(() => this.sweep(), Math.max(1, next.value.at + RECHECK_MS - Date.now()));
  }

  private isIgnored(rel: string): boolean {
    if (rel === '') return false;
    if (rel === '.git' || rel.startsWith('.git/') || rel.includes('/.git/') || rel.endsWith('/.git'))
      return true;
    if (this.ignoredDirs.size === 0) return false;
    // Prune a directory git ignores as a whole (node_modules, build output): never watch inside it.
    let prefix = rel;
    for (;;) {
      if (this.ignoredDirs.has(prefix)) return true;
      const i = prefix.lastIndexOf('/');
      if (i < 0) return false;
      prefix = prefix.slice(0, i);
    }
  }

  /**
   * Directories git ignores entirely, from one `git ls-files --ignored --directory` call. A folder
   * that is no longer ignored is armed and read now (it was never watched).
   */
  private async loadIgnoredDirs(): Promise<void> {
    try {
      const r = await this.d.runner.git([
        'ls-files',
        '-z',
        '--others',
        '--ignored',
        '--exclude-standard',
        '--directory',
      ]);
      const dirs = new Set<string>();
      for (const entry of r.stdout.split('\0')) {
        if (entry.endsWith('/')) dirs.add(entry.slice(0, -1));
      }
      const before = this.ignoredDirs;
      this.ignoredDirs = dirs;
      if (this.ctx === null || this.watches.size === 0) return;
      for (const dir of before) {
        if (dirs.has(dir)) continue;
        try {
          this.arm(dir, true);
        } catch (e) {
          this.failLimit(e);
          return;
        }
      }
    } catch (e) {
      this.d.log.warn({ err: String(e) }, 'could not list ignored directories; watching everything');
    }
  }
}

/**
 * GIT_AUTOSYNC_MAX_WATCHES=N: the watcher behaves as if the kernel allowed only N watches (a
 * positive integer; anything else is ignored). For tests of the watch limit without lowering the
 * machine-wide fs.inotify.max_user_watches, which every other program of the user shares.
 */
export function maxWatchesFromEnv(): number | undefined {
  const v = process.env.GIT_AUTOSYNC_MAX_WATCHES;
  return v && /^[1-9][0-9]{0,8}$/.test(v) ? Number(v) : undefined;
}
