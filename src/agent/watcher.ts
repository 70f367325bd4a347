// Watcher service: waits on the kernel (inotify, through chokidar; no polling) and produces one
// `onChange(relativePath)` call per created, modified or deleted file in the work tree. Renames and
// moves arrive as a delete plus an add, which git records as a rename. `.git/` is never watched;
// gitignored directories are pruned from the watch (the committer re-checks every path with
// `git check-ignore`, so a file that slips through is still not committed).
//
// A name that is not valid UTF-8 (Latin-1 `caf\xe9.txt`) reaches us decoded, with U+FFFD in place
// of its invalid bytes; chokidar stats that mangled name, fails and drops the event. The raw
// fs.watch event still arrives, so the directory that holds such a name is handed on to be scanned
// with git, which reads names as bytes (see src/git/rawpaths.ts).
import { watch, type FSWatcher } from 'chokidar';
import { lstatSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { INOTIFY_HINT, type Service, type ServiceContext } from '../core/service.js';
import { FatalServiceError } from '../core/errors.js';
import type { Runner } from '../git/runner.js';
import type { Logger } from '../core/log.js';
import { mayBeMangled } from '../git/rawpaths.js';
import { background } from '../core/background.js';

/**
 * chokidar drops events now and then: a removal within 100 ms of an earlier removal of the same
 * path (its 'remove' throttle), and, seen in tests, a file replaced again (unlink, rename in) right
 * after such a removal. git-annex filling a file unlinks it and renames the content in; a delete
 * or a new write right after that raised no event at all, and waited for some later full scan. So
 * this long after a path's last event, the watcher looks at it again and reports it if it is not
 * as it was at that event (gone, back, or another inode, size or mtime).
 */
const RECHECK_MS = 150;

type Seen = { ino: number; size: number; mtimeMs: number } | null;

function seenNow(abs: string): Seen {
  try {
    const st = lstatSync(abs);
    return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
}

function sameSeen(a: Seen, b: Seen): boolean {
  if (a === null || b === null) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

export class Watcher implements Service {
  readonly name = 'watcher';
  private fsw: FSWatcher | null = null;
  private ignoredDirs = new Set<string>();
  /** Paths with a recheck due (see RECHECK_MS): how each was at its last event, and when. One
   * sweep timer serves them all (a 100,000-file burst must not make 100,000 timers). */
  private readonly rechecks = new Map<string, { at: number; seen: Seen }>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly workTree: string,
    private readonly runner: Runner,
    private readonly log: Logger,
    private readonly onChange: (rel: string) => void,
    /**
     * A directory to scan with git ('' is the work tree): it appeared, and files created in it while
     * its watch was being set up may be unseen; or it holds a name that is not valid UTF-8, which
     * the watcher cannot report as a path.
     */
    private readonly onDirAdded: (rel: string) => void = () => {},
  ) {}

  async start(ctx: ServiceContext): Promise<void> {
    await this.loadIgnoredDirs();
    const fsw = watch(this.workTree, {
      ignoreInitial: true,
      followSymlinks: false,
      ignorePermissionErrors: true,
      // chokidar's atomic mode delays every delete by 100 ms; that would split a rename (delete +
      // add) across two commits. Our quiet period already folds a delete-and-recreate save into one.
      atomic: false,
      ignored: (p: string) => this.isIgnored(p),
    });
    this.fsw = fsw;
    const emit = (p: string) => {
      const rel = relative(this.workTree, p).split(sep).join('/');
      if (rel && !rel.startsWith('..')) {
        if (rel === '.gitignore' || rel.endsWith('/.gitignore'))
          background(this.loadIgnoredDirs(), this.log, 'reading the .gitignore files');
        this.report(rel);
      }
    };
    fsw.on('add', emit).on('change', emit).on('unlink', emit);
    fsw.on('addDir', (p: string) => {
      const rel = relative(this.workTree, p).split(sep).join('/');
      if (rel && !rel.startsWith('..')) this.onDirAdded(rel);
    });
    // Every fs.watch event, before chokidar's own filtering. A directory watch names the entry that
    // changed; if the name came out mangled, chokidar will drop the event, so the directory is scanned.
    fsw.on('raw', (_ev: string, name: string, details: unknown) => {
      if (typeof name !== 'string' || !mayBeMangled(name)) return;
      const dir = (details as { watchedPath?: unknown } | null)?.watchedPath;
      if (typeof dir !== 'string') return;
      const rel = relative(this.workTree, dir).split(sep).join('/');
      if (rel.startsWith('..') || this.isIgnored(dir)) return;
      this.log.debug({ dir: rel }, 'a name the watcher cannot decode changed; scanning its directory');
      this.onDirAdded(rel);
    });
    fsw.on('error', (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOSPC') {
        // Fatal: a restart takes the same watches and runs out again; status says what to do.
        ctx.fail(
          new FatalServiceError(
            'out of inotify watches; raise fs.inotify.max_user_watches (sysctl) to watch this tree',
            INOTIFY_HINT,
          ),
        );
      } else this.log.warn({ err: String(err) }, 'watcher error');
    });
    await new Promise<void>((resolve) => fsw.once('ready', () => resolve()));
  }

  async stop(): Promise<void> {
    await this.fsw?.close();
    this.fsw = null;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.rechecks.clear();
  }

  /** Hands a changed path on, and looks at it again RECHECK_MS after its last event. */
  private report(rel: string): void {
    this.onChange(rel);
    // Re-inserted, so the map stays in order of last event and a sweep stops at the first not due.
    this.rechecks.delete(rel);
    this.rechecks.set(rel, { at: Date.now(), seen: seenNow(join(this.workTree, rel)) });
    if (!this.sweepTimer) this.sweepTimer = setTimeout(() => this.sweep(), RECHECK_MS);
  }

  private sweep(): void {
    this.sweepTimer = null;
    if (this.fsw === null) return;
    const due = Date.now() - RECHECK_MS;
    const changed: string[] = [];
    for (const [rel, r] of this.rechecks) {
      if (r.at > due) break;
      this.rechecks.delete(rel);
      if (!sameSeen(r.seen, seenNow(join(this.workTree, rel)))) changed.push(rel);
    }
    for (const rel of changed) {
      this.log.debug({ path: rel }, 'changed without an event; reporting it');
      this.report(rel);
    }
    const next = this.rechecks.values().next();
    if (!next.done && !this.sweepTimer)
      this.sweepTimer = setTimeout(() => this.sweep(), Math.max(1, next.value.at + RECHECK_MS - Date.now()));
  }

  private isIgnored(abs: string): boolean {
    const rel = relative(this.workTree, abs).split(sep).join('/');
    if (rel === '') return false;
    if (rel === '.git' || rel.startsWith('.git/') || rel.includes('/.git/') || rel.endsWith('/.git'))
      return true;
    if (this.ignoredDirs.size === 0) return false;
    // Prune a directory git ignores as a whole (node_modules, build output): never watch inside it.
    let i = rel.length;
    let prefix = rel;
    for (;;) {
      if (this.ignoredDirs.has(prefix)) return true;
      i = prefix.lastIndexOf('/');
      if (i < 0) return false;
      prefix = prefix.slice(0, i);
    }
  }

  /** Directories git ignores entirely, from one `git ls-files --ignored --directory` call. */
  private async loadIgnoredDirs(): Promise<void> {
    try {
      const r = await this.runner.git([
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
      this.ignoredDirs = dirs;
    } catch (e) {
      this.log.warn({ err: String(e) }, 'could not list ignored directories; watching everything');
    }
  }
}
