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
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** git-annex names a replace directory after at most this many characters of the file name
 * (half the usual 255-byte name limit); a longer name is matched by that prefix. */
const REPLACE_NAME_MAX = 100;

/**
 * The paths among `deleted` whose absence git-annex is (probably) about to undo, each with a
 * progress token: 'filling' for our own lanes, else the size of the file in the replace directory
 * (it changes while git-annex writes; the committer's time limit runs from its last change). Pure.
 * `tmp` maps each name in .git/annex/othertmp to that size (null when it holds no such file yet).
 */
export function heldDeletions(
  deleted: readonly string[],
  tmp: ReadonlyMap<string, number | null>,
  filling: ReadonlySet<string>,
): Map<string, string> {
  const replacing = new Map<string, string>();
  for (const [e, size] of tmp) {
    const m = /^(.+)\.[0-9]+$/.exec(e);
    if (m?.[1] !== undefined) replacing.set(m[1], size === null ? 'started' : String(size));
  }
  const held = new Map<string, string>();
  for (const p of deleted) {
    const base = p.slice(p.lastIndexOf('/') + 1);
    if (filling.has(p)) {
      held.set(p, 'filling');
      continue;
    }
    const exact = replacing.get(base);
    if (exact !== undefined) {
      held.set(p, exact);
      continue;
    }
    if (base.length <= REPLACE_NAME_MAX) continue;
    for (const [name, progress] of replacing) {
      if (name.length >= REPLACE_NAME_MAX && base.startsWith(name)) {
        held.set(p, progress);
        break;
      }
    }
  }
  return held;
}

/**
 * The names in .git/annex/othertmp, each with the size of the file git-annex is writing inside it
 * (a replace directory holds one file) or null. Empty when there is no such directory.
 */
export function annexTmpEntries(gitDir: string): Map<string, number | null> {
  const dir = join(gitDir, 'annex', 'othertmp');
  const out = new Map<string, number | null>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    let size: number | null = null;
    try {
      const inner = readdirSync(join(dir, n));
      if (inner[0] !== undefined) size = statSync(join(dir, n, inner[0])).size;
    } catch {
      // not a directory (a log git-annex keeps there), or gone meanwhile
    }
    out.set(n, size);
  }
  return out;
}
