// Is git-annex rewriting this work-tree file right now? Then its absence is not a deletion.
//
// When git-annex fills an unlocked file with content it just received (`get`, a download lane of
// ours, a person's `git annex get`) it first unlinks the pointer file, then writes the content into
// a temporary directory `.git/annex/othertmp/<file name>.<n>/` and renames it into place. Checked on
// git-annex 10.20230126 by polling a 200 MB `get`: the work-tree file was absent for 70-550 ms, the
// transfer lock was already released, and `othertmp/<name>.0/<name>` existed for all of that time
// except the first ~0.5 ms after the unlink. A committer that looked during that window committed
// the file as deleted, pushed the deletion, and the peers removed the file from their work trees
// until the next commit put it back.
//
// So a deletion is held while either sign is there: one of our own download lanes is filling that
// path (covers the sub-millisecond gap before the directory appears), or git-annex's temporary
// directory for that file name exists (covers git-annex run by anyone). The name match is by the
// last path component only: a hold on a same-named file elsewhere just waits a little longer.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The paths among `deleted` whose absence git-annex is (probably) about to undo. Pure.
 * `tmpEntries` are the names in .git/annex/othertmp; `filling` are paths our download lanes are
 * writing.
 */
export function heldDeletions(
  deleted: readonly string[],
  tmpEntries: readonly string[],
  filling: ReadonlySet<string>,
): Set<string> {
  const replacing = new Set<string>();
  for (const e of tmpEntries) {
    const m = /^(.+)\.[0-9]+$/.exec(e);
    if (m?.[1] !== undefined) replacing.add(m[1]);
  }
  const held = new Set<string>();
  for (const p of deleted) {
    const base = p.slice(p.lastIndexOf('/') + 1);
    if (filling.has(p) || replacing.has(base)) held.add(p);
  }
  return held;
}

/** The names in .git/annex/othertmp (none when it does not exist: no git-annex is replacing). */
export function annexTmpEntries(gitDir: string): string[] {
  try {
    return readdirSync(join(gitDir, 'annex', 'othertmp'));
  } catch {
    return [];
  }
}
