// The committer's held deletions. In annex mode git-annex unlinks a file before it fills it with
// content (src/git/annex-replace.ts): that absence is not a deletion. Such a path stays pending and
// is looked at again on the next pass; a hold ends when the file is back (an edit as usual) or after
// maxMs without progress (then it is committed as deleted): a temporary directory left by a
// git-annex that was killed must not hold it forever. The clock restarts whenever the file being
// written there grows, so a file of any size that is still being filled stays held.
//
// Waits on nothing (the committer asks it when a pass starts and GitSync when it stages a
// deletion); produces the set of missing paths that are not deletions yet.
import type { Logger } from '../core/log.js';

/**
 * Which of these missing paths are not deletions yet, each with a progress token (it changes while
 * the file is being written; 'filling' means our own lane, which has its own stall timeout).
 */
export type HoldDeletions = (paths: string[]) => Map<string, string>;

/** A hold without progress ends after this long (see the header). */
export const HOLD_MAX_MS = 120_000;

export class HeldDeletions {
  /** Since when without progress, the last progress, and whether the hold ran out. */
  private readonly since = new Map<string, { since: number; progress: string; expired: boolean }>();

  constructor(
    private readonly ask: HoldDeletions | null,
    private readonly maxMs: number,
    private readonly log: Logger,
  ) {}

  /** Unset (plain git): every missing path is a deletion. */
  get enabled(): boolean {
    return this.ask !== null;
  }

  has(path: string): boolean {
    return this.since.has(path);
  }

  forget(path: string): void {
    this.since.delete(path);
  }

  /** Forgets holds of paths no longer pending. */
  prune(isPending: (path: string) => boolean): void {
    for (const p of this.since.keys()) if (!isPending(p)) this.since.delete(p);
  }

  /** Of these missing paths, those that are held (not deletions yet, and not run out). */
  hold(missing: string[], now: number): Set<string> {
    const out = new Set<string>();
    if (!this.ask || missing.length === 0) return out;
    let held: Map<string, string>;
    try {
      held = this.ask(missing);
    } catch (e) {
      this.log.warn({ err: String(e) }, 'could not tell whether git-annex is rewriting files');
      return out;
    }
    for (const [p, progress] of held) {
      const had = this.since.get(p);
      // Its hold ran out: a deletion now, until it is committed or the file is back.
      if (had?.expired) continue;
      const since = had && had.progress === progress && progress !== 'filling' ? had.since : now;
      if (now - since >= this.maxMs) {
        this.log.warn(
          { path: p },
          'git-annex seemed to be rewriting a missing file for too long; committing it as deleted',
        );
        this.since.set(p, { since, progress, expired: true });
        continue;
      }
      if (!had) this.log.info({ path: p }, 'missing while git-annex rewrites it; not a deletion yet');
      this.since.set(p, { since, progress, expired: false });
      out.add(p);
    }
    return out;
  }
}
