// Whether the repository is ours to touch right now. Asked under the repository mutex before every
// commit and merge; waits on nothing, produces a BusyError (work waits and retries) or nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';
import { BusyError } from './errors.js';
import { statePaths } from './state-paths.js';

/** In-progress operations of the user's, by the file git keeps while they last. */
export const USER_OPERATIONS: ReadonlyArray<readonly [string, string]> = [
  ['MERGE_HEAD', 'merge'],
  ['rebase-merge', 'rebase'],
  ['rebase-apply', 'rebase or am'],
  ['CHERRY_PICK_HEAD', 'cherry-pick'],
  ['REVERT_HEAD', 'revert'],
];

/**
 * Why the repository is not ours to touch, or null when it is. Pure. head: the text of .git/HEAD;
 * present: which of the USER_OPERATIONS files exist; ours: the agent's own merge marker exists (a
 * MERGE_HEAD of ours, left by a crash, is no user's merge).
 */
export function busyReason(
  head: string,
  branch: string,
  present: (file: string) => boolean,
  ours: boolean,
): string | null {
  if (head !== `ref: refs/heads/${branch}`) {
    const where = head.startsWith('ref: refs/heads/') ? `branch ${head.slice(16)}` : 'a detached HEAD';
    return `HEAD is on ${where}, not ${branch}; syncing waits until you switch back`;
  }
  for (const [file, what] of USER_OPERATIONS) {
    if (file === 'MERGE_HEAD' && ours) continue;
    if (present(file)) return `a ${what} is in progress; syncing waits until you finish it`;
  }
  return null;
}

/** The marker of a merge in progress that is the agent's own. Versions before 0.2 wrote it around
 * `git annex merge`; none does now, but a crash of one may have left it, and recover() finishes it. */
export function mergeMarker(info: RepoInfo): string {
  return statePaths(info.stateDir).merging;
}

/**
 * Throws BusyError when the repository is not ours to touch right now: HEAD is not the branch we
 * sync (the user switched branches or detached HEAD), or the user is in the middle of a merge,
 * rebase, cherry-pick or revert. Committing or merging then would commit conflict markers, or
 * undo the user's resolution. Work waits and retries until the repository is back.
 */
export function assertOurs(info: RepoInfo): void {
  let head = '';
  try {
    head = readFileSync(join(info.gitDir, 'HEAD'), 'utf8').trim();
  } catch {
    // unreadable HEAD: git itself will complain later
  }
  const why = busyReason(
    head,
    info.branch,
    (f) => existsSync(join(info.gitDir, f)),
    existsSync(mergeMarker(info)),
  );
  if (why !== null) throw new BusyError(why, [], null, '');
}

/**
 * git merge (or cherry-pick, or stash pop) writes its conflicts into the index a moment before it
 * writes MERGE_HEAD. Staging in that moment would mark the user's conflict resolved with its
 * markers in it, so unmerged entries count as an operation in progress too (throws BusyError).
 */
export async function assertNoUnmerged(info: RepoInfo, runner: Runner): Promise<void> {
  if (existsSync(mergeMarker(info))) return;
  const u = await runner.git(['ls-files', '-u', '-z']);
  if (u.stdout !== '') {
    throw new BusyError(
      'a merge is in progress (the index has unmerged paths); syncing waits until you finish it',
      [],
      null,
      '',
    );
  }
}
