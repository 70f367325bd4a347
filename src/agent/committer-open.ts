// The committer's open-for-write holds. A file that held still but that some process still has
// open for writing (open-files.ts; the decision is commit-policy.ts openWriteVerdict) waits, on
// flush as well, until its writer closes it or for at most maxHoldMs: one commit of the finished
// file, never a partial one. Names kept as bytes are not looked up (/proc names them decoded); the
// quiet check alone applies to them. Temporary files (vim's swap file, which vim keeps open) go on
// to the commit, which leaves them out unless git tracks them: held, they would show as pending for
// as long as the editor runs.
//
// Waits on nothing (the committer asks it once per pass, GitSync when it stages); produces the set
// of paths to leave out of a commit, and when the next look is due.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { needsOpenCheck, openRecheckDelay, openWriteVerdict, type OpenWritePolicy } from './commit-policy.js';
import { isRawKey, type Stat } from './committer-raw.js';

export interface OpenHoldsDeps {
  workTree: string;
  policy: OpenWritePolicy;
  /** Which of these absolute paths are open for writing (a /proc sweep; tests may stand in). */
  lookup: (abs: string[]) => Set<string>;
  log: Logger;
  /** Whether git ignores a path (such files are never held). */
  ignores: (rel: string) => boolean;
  stat: (key: string) => Stat;
}

export class OpenHolds {
  /** Files held because a process has them open for writing: since when, and when to look again. */
  private readonly held = new Map<string, { since: number; checkAt: number }>();
  /** The work tree as the kernel names it in /proc (symlinks resolved), once. */
  private realTree: string | null = null;

  constructor(private readonly d: OpenHoldsDeps) {}

  has(path: string): boolean {
    return this.held.has(path);
  }

  /** The earliest time a held file is due for another look (Infinity when none is held). */
  nextCheck(): number {
    let m = Infinity;
    for (const h of this.held.values()) m = Math.min(m, h.checkAt);
    return m;
  }

  /** Absolute path of a string key as /proc names it. */
  private realPath(rel: string): string {
    if (this.realTree === null) {
      try {
        this.realTree = realpathSync(this.d.workTree);
      } catch {
        this.realTree = this.d.workTree;
      }
    }
    return join(this.realTree, rel);
  }

  private lookable(p: string): boolean {
    return !isRawKey(p) && !this.d.ignores(p);
  }

  private sweep(ask: string[]): Set<string> | null {
    try {
      return this.d.lookup(ask.map((p) => this.realPath(p)));
    } catch (e) {
      this.d.log.warn({ err: String(e) }, 'could not tell which files are open for writing');
      return null;
    }
  }

  /**
   * Of these paths, the ones a process has open for writing now and whose hold has not run out:
   * they must not be committed yet. One /proc sweep, for recently written files only (see
   * OpenWritePolicy). Keeps no state (GitSync asks it as it stages).
   */
  beingWritten(paths: string[], now: number): Set<string> {
    const ask = paths.filter((p) => this.lookable(p) && needsOpenCheck(this.d.stat(p), now, this.d.policy));
    if (ask.length === 0) return new Set();
    const open = this.sweep(ask);
    if (!open) return new Set();
    const out = new Set<string>();
    for (const p of ask) {
      const v = openWriteVerdict(open.has(this.realPath(p)), this.held.get(p)?.since, now, this.d.policy);
      if (v === 'hold') out.add(p);
    }
    return out;
  }

  /**
   * The files of a batch that a writer still has open (see openWriteVerdict): held, they are
   * looked at again after openRecheckDelay; after maxHoldMs they are committed as they are.
   */
  hold(
    batch: string[],
    now: number,
    isPending: (p: string) => boolean,
    /** The batch's stats, when the caller just took them (PendingSet.ready). */
    known?: Map<string, Stat>,
  ): Set<string> {
    for (const p of this.held.keys()) if (!isPending(p)) this.held.delete(p);
    const held = new Set<string>();
    const ask: string[] = [];
    for (const p of batch) {
      if (!this.lookable(p)) continue;
      const h = this.held.get(p);
      if (h && h.checkAt > now) held.add(p);
      else if (needsOpenCheck(known?.get(p) ?? this.d.stat(p), now, this.d.policy)) ask.push(p);
    }
    if (ask.length === 0) return held;
    const open = this.sweep(ask) ?? new Set<string>();
    for (const p of ask) {
      const had = this.held.get(p);
      const v = openWriteVerdict(open.has(this.realPath(p)), had?.since, now, this.d.policy);
      if (v === 'hold') {
        if (!had)
          this.d.log.info({ path: p }, 'still open for writing; committing it once its writer closes it');
        const since = had?.since ?? now;
        this.held.set(p, { since, checkAt: now + openRecheckDelay(now - since, this.d.policy) });
        held.add(p);
      } else {
        if (v === 'commit-anyway' && had)
          this.d.log.warn(
            { path: p, heldMs: now - had.since },
            'open for writing for too long (a log kept open?); committing it as it is now',
          );
        this.held.delete(p);
      }
    }
    return held;
  }
}
