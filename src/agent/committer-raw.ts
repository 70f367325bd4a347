// The committer's names kept as bytes. File names that are not valid UTF-8 cannot be string paths
// (decoding mangles them). A git scan finds them as bytes; they wait in the committer's pending set
// under a key that no real path can equal (a NUL, then the name C-quoted), with their bytes kept
// here, and are staged by those bytes inside the commit. Everything else keeps string paths.
//
// Waits on nothing (the committer calls it); produces the paths a scan found (mangled strings taken
// out) and the keys of the raw names it found, and the lstat of any pending key.
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { GitSync } from '../git/sync.js';
import type { Logger } from '../core/log.js';
import { absName, mayBeMangled, quoteName, rawPendingNames } from '../git/rawpaths.js';

/** Starts the key of a name kept as bytes: a file name can never hold a NUL, so no path collides. */
export const RAW_KEY = '\0';

export function isRawKey(key: string): boolean {
  return key.startsWith(RAW_KEY);
}

/** A pending key as it may be printed (logs, status): a name kept as bytes shows its quoted form. */
export function shown(key: string): string {
  return isRawKey(key) ? key.slice(RAW_KEY.length) : key;
}

export interface Stat {
  size: number | null;
  mtimeMs: number | null;
  /** Moves on every write, rename and utime (tar and `cp -p` set old mtimes; ctime is still now). */
  ctimeMs: number | null;
  /** A file or a symlink (not a directory: a submodule's gitlink moves without its stat). */
  file?: boolean;
}

export function statOf(abs: string | Buffer): Stat {
  try {
    return statFrom(lstatSync(abs));
  } catch {
    return { size: null, mtimeMs: null, ctimeMs: null };
  }
}

/** The Stat of an lstat taken already (the watcher's, with its event); null: the path is gone. */
export function statFrom(st: Stats | null): Stat {
  if (st === null) return { size: null, mtimeMs: null, ctimeMs: null };
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, file: !st.isDirectory() };
}

/** What a scan needs to know of the committer's own sets. */
export interface ScanContext {
  isPending: (key: string) => boolean;
  /** Paths git refused to stage (the committer's stuck list; a scan may forget raw names in it). */
  stuck: Map<string, string>;
}

export class RawNames {
  /** Names that are not valid UTF-8, by key (RAW_KEY + quoted name), while pending or stuck. */
  private readonly bytes = new Map<string, Buffer>();

  constructor(
    private readonly sync: GitSync,
    private readonly log: Logger,
  ) {}

  get(key: string): Buffer | undefined {
    return this.bytes.get(key);
  }

  forget(key: string): void {
    this.bytes.delete(key);
  }

  /** lstat of a pending key: a string path, or a name kept as bytes. */
  stat(key: string): Stat {
    const name = isRawKey(key) ? this.bytes.get(key) : undefined;
    return statOf(name ? absName(this.sync.info.workTree, name) : join(this.sync.info.workTree, key));
  }

  /**
   * Paths that differ from HEAD, below some directories (all when none). When a name came out of
   * git mangled (it holds U+FFFD), one more scan reads the names as bytes: those that are not valid
   * UTF-8 come back as keys in `fresh` (the committer notes them), and their mangled strings are
   * dropped from `paths`. Trees without such names pay nothing. retryStuck: a name set aside earlier
   * is tried again (the scan follows an event in its directory, the only sign it may have changed).
   */
  async scan(
    under: string[],
    retryStuck: boolean,
    ctx: ScanContext,
  ): Promise<{ paths: string[]; fresh: string[] }> {
    const found = await this.sync.pendingPaths(under);
    if (!found.some(mayBeMangled)) {
      if (retryStuck) this.forgetStuck(under, [], ctx);
      return { paths: found, fresh: [] };
    }
    const names = await rawPendingNames(this.sync.runner, under, (n) => this.sync.ignore.ignores(n));
    if (retryStuck) this.forgetStuck(under, names, ctx);
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
      if (ctx.isPending(key) || (ctx.stuck.has(key) && !retryStuck)) continue;
      this.bytes.set(key, n);
      fresh.push(key);
    }
    if (fresh.length > 0)
      this.log.info(
        { names: fresh.slice(0, 5).map(shown), count: fresh.length },
        'file names that are not valid UTF-8 changed; committing them by their bytes',
      );
    return { paths, fresh };
  }

  /**
   * A stuck name below these directories that a scan no longer finds (deleted, or put back as it
   * is in HEAD) has nothing left to sync: it leaves the stuck list. String paths get the same from
   * the watcher's next event; a name kept as bytes has no event of its own.
   */
  private forgetStuck(under: string[], found: Buffer[], ctx: ScanContext): void {
    const prefixes = under.map((d) => Buffer.from(d.endsWith('/') ? d : d + '/', 'utf8'));
    const still = new Set(found.map((n) => RAW_KEY + quoteName(n)));
    for (const key of ctx.stuck.keys()) {
      const name = isRawKey(key) ? this.bytes.get(key) : undefined;
      if (!name || still.has(key)) continue;
      if (prefixes.length > 0 && !prefixes.some((p) => name.subarray(0, p.length).equals(p))) continue;
      ctx.stuck.delete(key);
      if (!ctx.isPending(key)) this.bytes.delete(key);
    }
  }
}
