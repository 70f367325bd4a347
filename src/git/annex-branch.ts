// The git-annex branch (location logs): merging peers' branches and git-annex's journal into ours.
// Waits on the caller (a commit that annexed files, a merge pass); produces whether our git-annex
// branch moved. Annex mode only; GitSync holds the one instance, so its memory of the last merge's
// inputs is shared by commits and merges.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';

/** Our git-annex branch's sha in annexInputs() output ('' when there is none yet). Pure. */
export function annexBranchOf(inputs: string): string {
  return /^(\S+) refs\/heads\/git-annex$/m.exec(inputs)?.[1] ?? '';
}

export interface AnnexBranchDeps {
  info: RepoInfo;
  runner: Runner;
}

export class AnnexBranch {
  private readonly info: RepoInfo;
  private readonly runner: Runner;
  /** What inputs() read after the last location-log merge; null before the first. */
  private lastInputs: string | null = null;

  constructor(d: AnnexBranchDeps) {
    this.info = d.info;
    this.runner = d.runner;
  }

  /**
   * Union-merges the git-annex branches (location logs). Returns true when our git-annex branch
   * moved: peers' content locations changed, so what is wanted here may now be fetchable.
   */
  async merge(): Promise<boolean> {
    // git-annex takes 50-130 ms to start, and most merges move no git-annex ref (an edit to a file
    // kept in git): skip it when none moved since our last run and its journal is empty.
    const inputs = await this.inputs();
    if (inputs === this.lastInputs && !this.journalPending()) return false;
    await this.runner.git([
      'annex',
      'sync',
      '--only-annex',
      '--no-content',
      '--no-push',
      '--no-pull',
      '--quiet',
    ]);
    this.lastInputs = await this.inputs();
    // Our git-annex branch is among the inputs: whether it moved needs no git call of its own.
    return annexBranchOf(this.lastInputs) !== annexBranchOf(inputs);
  }

  /** git-annex has uncommitted journal entries (location logs written by the clean filter). */
  journalPending(): boolean {
    try {
      return readdirSync(join(this.info.gitDir, 'annex', 'journal')).length > 0;
    } catch {
      return false;
    }
  }

  /** The git-annex branches a merge of the location logs reads: ours and what peers pushed or we fetched. */
  private async inputs(): Promise<string> {
    const r = await this.runner.git([
      'for-each-ref',
      '--format=%(objectname) %(refname)',
      'refs/heads/git-annex',
      'refs/heads/synced/git-annex',
      'refs/remotes/*/git-annex',
      'refs/remotes/*/synced/git-annex',
    ]);
    return r.stdout;
  }
}
