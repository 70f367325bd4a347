// The committer's commit of one batch, split when git refuses it. Waits on GitSync's commit;
// produces commits (handed to `committed`) and the stuck list: a path git will not stage, with its
// reason, set aside until it changes again.
import type { GitSync, CommitResult, WorkTreeGuard } from '../git/sync.js';
import type { Logger } from '../core/log.js';
import { BusyError, GitError, transientCause } from '../git/errors.js';
import { stageRawNames } from '../git/rawpaths.js';
import type { PendingSet } from './committer-pending.js';
import { isRawKey, shown, type RawNames } from './committer-raw.js';

/** Halving a refused batch this deep reaches single paths for batches up to 2^14 = 16,384 paths. */
const MAX_SPLIT_DEPTH = 14;

export interface SplitContext {
  sync: GitSync;
  raw: RawNames;
  pending: PendingSet;
  log: Logger;
  /** What the committer knows that git does not, handed to every commit (see Committer.guard). */
  guard: WorkTreeGuard;
  /** A commit was made, of this many of the paths. */
  committed: (result: CommitResult, files: number) => void;
}

/**
 * Commits paths; when git refuses the batch (a path inside a submodule or behind a symlink, an
 * unreadable file), splits it and commits every half that git accepts, so one bad path never
 * blocks everything else. A single path git refuses is set aside as stuck (shown in status) until
 * the watcher reports it again. A transient failure (a full disk, an I/O error, a lock held by
 * another git: TransientError) is not a bad path: that rethrows, and the whole batch is retried
 * after a backoff.
 */
export async function commitSplitting(c: SplitContext, paths: string[], depth: number): Promise<void> {
  const rawKeys = paths.filter(isRawKey);
  const plain = rawKeys.length === 0 ? paths : paths.filter((p) => !isRawKey(p));
  const rawNames = rawKeys.map((k) => c.raw.get(k)).filter((n): n is Buffer => n !== undefined);
  const stageRaw =
    rawNames.length > 0 ? () => stageRawNames(c.sync.runner, c.sync.info, rawNames) : undefined;
  const stuck = c.pending.stuck;
  try {
    const result = await c.sync.commit(plain, stageRaw, c.guard);
    // Committed: the bytes are needed again only if the name changes again (a new scan finds it).
    for (const k of rawKeys) if (!c.pending.has(k)) c.raw.forget(k);
    // A submodule's new commit is recorded: the edits inside it that were set aside (see
    // InSubmoduleError) went into that commit, or wait for the next one there.
    if (stuck.size > 0) {
      const committed = new Set(plain);
      for (const k of stuck.keys()) {
        for (let i = k.indexOf('/'); i > 0; i = k.indexOf('/', i + 1))
          if (committed.has(k.slice(0, i))) {
            stuck.delete(k);
            break;
          }
      }
    }
    if (result) c.committed(result, paths.length);
  } catch (e) {
    if (!(e instanceof GitError) || transientCause(e) !== null || e instanceof BusyError) throw e;
    if (paths.length === 1 || depth >= MAX_SPLIT_DEPTH) {
      for (const p of paths) stuck.set(p, e.message);
      c.log.warn(
        { paths: paths.slice(0, 5).map(shown), count: paths.length, err: e.message },
        'git refuses these paths; set aside',
      );
      return;
    }
    const mid = Math.ceil(paths.length / 2);
    await commitSplitting(c, paths.slice(0, mid), depth + 1);
    await commitSplitting(c, paths.slice(mid), depth + 1);
  }
}

/** The stuck paths as status shows them (at most max): a name kept as bytes C-quoted. */
export function stuckShown(stuck: Map<string, string>, max: number): Array<{ path: string; error: string }> {
  return [...stuck]
    .slice(0, max)
    .map(([path, error]) =>
      isRawKey(path)
        ? { path: shown(path), error: `${error} (the name is not valid UTF-8; shown C-quoted)` }
        : { path, error },
    );
}
