// The committer's pending set: every changed path not committed yet, in the order first seen, with
// the size and mtime it had when last seen; which of them are deletions (a missing file, possibly
// half of a rename); the times of the oldest and newest change (the commit policy's inputs); and the
// paths git refused to stage (stuck), set aside until they change again.
//
// Waits on nothing (the committer owns it); produces the batch of a commit pass.
import { isStable, type FileSeen } from './commit-policy.js';
import { isRawKey, type Stat } from './committer-raw.js';

export class PendingSet {
  private readonly seen = new Map<string, FileSeen>();
  /** Pending paths that no longer exist (deletes, or the old half of a rename). */
  readonly deleted = new Set<string>();
  /** Paths git refused to stage, with git's reason, set aside until they change again. */
  readonly stuck = new Map<string, string>();
  /** Time of the oldest pending change, and of the newest. */
  firstAt = 0;
  lastAt = 0;

  get size(): number {
    return this.seen.size;
  }

  has(path: string): boolean {
    return this.seen.has(path);
  }

  get(path: string): FileSeen | undefined {
    return this.seen.get(path);
  }

  keys(): IterableIterator<string> {
    return this.seen.keys();
  }

  /** Pending as seen now (kept in its place in the order); a missing file is a deletion. */
  put(path: string, seen: FileSeen): void {
    this.seen.set(path, seen);
    if (seen.size === null) this.deleted.add(path);
    else this.deleted.delete(path);
  }

  /** Pending again at the end of the order (held paths never crowd others out of a batch). */
  requeue(path: string, seen: FileSeen): void {
    this.seen.delete(path);
    this.put(path, seen);
  }

  take(path: string): void {
    this.seen.delete(path);
    this.deleted.delete(path);
  }

  /**
   * The paths a pass may commit, at most max, in pending order: all of them on a flush, else those
   * that held still for quietMs (isStable). A path still moving is re-baselined, so the next pass
   * asks "has it held still since now?": without this, a write the watcher folded into an earlier
   * event would keep the path pending forever. missing: the batch's string paths that are gone.
   */
  ready(
    all: boolean,
    now: number,
    quietMs: number,
    max: number,
    stat: (key: string) => Stat,
  ): { batch: string[]; missing: string[]; stats: Map<string, Stat> } {
    const batch: string[] = [];
    const missing: string[] = [];
    // The batch's stats as taken here: the open-for-write check that follows needs no second lstat.
    const stats = new Map<string, Stat>();
    for (const [path, seen] of this.seen) {
      if (batch.length >= max) break;
      const st = stat(path);
      if (all || isStable(seen, st, now, quietMs)) {
        batch.push(path);
        stats.set(path, st);
        if (st.size === null && !isRawKey(path)) missing.push(path);
      } else if (seen.size !== st.size || seen.mtimeMs !== st.mtimeMs)
        this.seen.set(path, { eventAt: now, ...st });
    }
    return { batch, missing, stats };
  }
}

/** Whether a pending path's last look matches its stat now (size, mtime and ctime: any write moves
 * ctime, so a match is the same write seen twice). */
export function sameWrite(a: FileSeen, b: Stat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs !== undefined && a.ctimeMs === b.ctimeMs;
}

/** Takes held paths out of a batch, in place. */
export function without(batch: string[], held: Set<string>): void {
  if (held.size === 0) return;
  for (let i = batch.length - 1; i >= 0; i--) if (held.has(batch[i]!)) batch.splice(i, 1);
}
