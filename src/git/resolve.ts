// Conflict resolution for merges, in plain git and annex mode alike (an annexed file is a pointer
// blob in git, resolved like any other): no version is ever lost, and two peers that resolve the
// same conflict produce byte-identical trees (and, with the deterministic merge commit in sync.ts,
// identical commits), so there is never a conflict of conflicts.
//
// Rules (documented in docs/conflicts.md):
// - both sides changed or added a file differently: the version from the side whose tip commit is
//   newer keeps the path (ties: the larger blob id); the other is written beside it as
//   `name.variant-<first 8 hex of its blob id>.ext`.
// - modified on one side, deleted on the other: the modified file stays.
// Everything here is pure; sync.ts feeds it merge-tree's stage entries and applies the result.

export interface StageEntry {
  mode: string;
  oid: string;
}

export interface SideInfo {
  /** Committer time of the side's tip commit, unix seconds. */
  time: number;
}

export interface IndexEntry {
  mode: string;
  oid: string;
  path: string;
}

/** The variant name for a losing version: keeps the extension so the file opens as before. */
export function variantName(path: string, oid: string): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const tag = `variant-${oid.slice(0, 8)}`;
  // A leading dot is a hidden-file marker, not an extension: `.bashrc` -> `.bashrc.variant-…`.
  if (dot <= 0) return `${dir}${base}.${tag}`;
  return `${dir}${base.slice(0, dot)}.${tag}${base.slice(dot)}`;
}

/**
 * Resolves one conflicted path. Stage 2 is the first side given to merge-tree, stage 3 the second;
 * `sides` gives their tip times in the same order. Returns the entries that replace the path.
 */
export function resolvePath(
  path: string,
  stages: Map<1 | 2 | 3, StageEntry>,
  sides: [SideInfo, SideInfo],
): IndexEntry[] {
  const a = stages.get(2);
  const b = stages.get(3);
  if (a && b) {
    if (a.oid === b.oid && a.mode === b.mode) return [{ ...a, path }];
    const aWins = sides[0].time !== sides[1].time ? sides[0].time > sides[1].time : a.oid > b.oid;
    const [win, lose] = aWins ? [a, b] : [b, a];
    return [
      { ...win, path },
      { ...lose, path: variantName(path, lose.oid) },
    ];
  }
  // Modify/delete (or add on one side only): the surviving version stays where it was.
  const kept = a ?? b;
  return kept ? [{ ...kept, path }] : [];
}

/** Lines for `git update-index --index-info`: removals first (mode 0), then the resolved entries. */
export function indexInfo(conflicted: string[], entries: IndexEntry[]): string {
  const zero = '0'.repeat(40);
  const lines = conflicted.map((p) => `0 ${zero}\t${p}`);
  for (const e of entries) lines.push(`${e.mode} ${e.oid}\t${e.path}`);
  return lines.join('\0') + '\0';
}
