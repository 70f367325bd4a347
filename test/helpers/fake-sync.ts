// A stand-in for GitSync in committer unit tests: it records the paths each commit receives and
// spawns no git. `pendingPaths` (the reconciliation scan) finds nothing.
import type { GitSync, CommitResult } from '../../src/git/sync.js';
import { ignoreMatcher } from '../../src/git/transient.js';

export function fakeSync(workTree: string): { sync: GitSync; commits: string[][] } {
  const commits: string[][] = [];
  const sync = {
    info: { workTree, mode: 'annex' },
    ignore: ignoreMatcher(),
    pendingPaths: async () => [],
    commit: async (paths: string[]): Promise<CommitResult | null> => {
      commits.push([...paths].sort());
      return {
        sha: 'x'.repeat(40),
        parent: null,
        added: paths.length,
        modified: 0,
        deleted: 0,
        message: 'm',
      };
    },
  } as unknown as GitSync;
  return { sync, commits };
}
