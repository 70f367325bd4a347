// GitSync: the git operations the agent is made of, in one object built from one deps object:
// commit a set of paths (commit.ts, stage.ts, submodules.ts), fetch and push (push.ts), merge
// (merge.ts, annex-branch.ts), with the guards (guards.ts) and index.lock handling (locks.ts). It
// holds the repository mutex around anything that moves the index or HEAD, so the committer and
// the merger can run concurrently without racing on index.lock. Waits on its callers; produces
// commits, merges and pushes, and returns what it did: it never calls up into the agent. What the
// agent knows about the work tree (files being written, files git-annex fills) comes with each call
// as a WorkTreeGuard. Policy (when to commit, where to push) lives in the agent.
import { existsSync, rmSync } from 'node:fs';
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';
import type { Logger } from '../core/log.js';
import { Mutex } from '../core/queue.js';
import { isWorkTreeInTheWay } from './errors.js';
import { DEFAULT_LARGE_FILE_WARNING } from './large-files.js';
import { ignoreMatcher, type IgnoreMatcher } from './transient.js';
import { headOf } from './head.js';
import { mergeMarker } from './guards.js';
import { removeStaleIndexLock, withLockRetry } from './locks.js';
import { AnnexBranch } from './annex-branch.js';
import { Staging } from './stage.js';
import { Submodules } from './submodules.js';
import { LocalCommits, type CommitResult, type CommitSettings, type WorkTreeGuard } from './commit.js';
import {
  Merges,
  MERGE_RETRIES,
  mergeKeptRacing,
  type Incoming,
  type MergeResult,
  type MergeStep,
} from './merge.js';
import { Remotes, type PushResult } from './push.js';

export type { CommitResult, CommitSettings, WorkTreeGuard } from './commit.js';
export type { Incoming, MergeResult, MergeStep } from './merge.js';
export type { PushResult } from './push.js';
export { gitProcessesIn } from './locks.js';

export interface GitSyncDeps {
  info: RepoInfo;
  runner: Runner;
  log: Logger;
  /** Read at every commit: the agent hands its live settings (a config reload changes them);
   * without it, the defaults (the default temporary-file rules, the default large-file warning). */
  settings?: () => CommitSettings;
}

/** The settings of a GitSync built without any. */
const DEFAULT_SETTINGS: CommitSettings = {
  ignore: ignoreMatcher(),
  largeFileWarning: DEFAULT_LARGE_FILE_WARNING,
};
/** A caller that knows nothing git does not (the `sync` verb without an agent). */
const NO_GUARD: WorkTreeGuard = {};

export class GitSync {
  readonly mutex = new Mutex();
  readonly info: RepoInfo;
  readonly runner: Runner;
  private readonly log: Logger;
  private readonly settings: () => CommitSettings;
  private readonly commits: LocalCommits;
  private readonly merges: Merges;
  private readonly remotes: Remotes;
  private readonly submoduleList: Submodules;

  constructor(d: GitSyncDeps) {
    this.info = d.info;
    this.runner = d.runner;
    this.log = d.log;
    this.settings = d.settings ?? (() => DEFAULT_SETTINGS);
    const parts = { info: d.info, runner: d.runner, log: d.log };
    const annexBranch = new AnnexBranch(parts);
    this.submoduleList = new Submodules(parts);
    this.commits = new LocalCommits({
      ...parts,
      staging: new Staging(parts),
      submodules: this.submoduleList,
      annexBranch,
      settings: this.settings,
    });
    this.merges = new Merges({ ...parts, mutex: this.mutex, commits: this.commits, annexBranch });
    this.remotes = new Remotes(parts);
  }

  get branch(): string {
    return this.info.branch;
  }

  /** The temporary-file rules in force (the committer's scans ask them too). */
  get ignore(): IgnoreMatcher {
    return this.settings().ignore;
  }

  head(): Promise<string | null> {
    return headOf(this.runner);
  }

  /** Paths that differ from HEAD (for start-up catch-up and `sync`), optionally only below some dirs. */
  pendingPaths(under: string[] = []): Promise<string[]> {
    return this.commits.pendingPaths(under);
  }

  /**
   * Stages exactly these paths (additions, edits, deletions) and commits them. Paths that vanished
   * or are ignored are skipped, so a temp file renamed away before we got to it cannot block later
   * commits. stageMore stages what string paths cannot name (rawpaths.ts), under the same lock.
   * Returns null when nothing changed.
   */
  async commit(
    paths: string[],
    stageMore?: () => Promise<void>,
    guard: WorkTreeGuard = NO_GUARD,
  ): Promise<CommitResult | null> {
    if (paths.length === 0 && !stageMore) return null;
    return this.mutex.run(() =>
      withLockRetry(this.info, this.log, () => this.commits.commitLocked(paths, stageMore, guard)),
    );
  }

  /** The submodules .gitmodules declares, with their git directories (for the refs watch). */
  submodules(): Promise<Array<{ path: string; gitDir: string }>> {
    return this.submoduleList.list();
  }

  // ---------------------------------------------------------------------------------- fetch, push

  fetch(remote: string): Promise<void> {
    return this.remotes.fetch(remote);
  }

  /** True when the remote's tracking refs lag behind ours: there is something to push. */
  needsPush(remote: string): Promise<boolean> {
    return this.remotes.needsPush(remote);
  }

  /** Commits on our branch this remote has not got, as far as we know (null: we know nothing). */
  ahead(remote: string): Promise<number | null> {
    return this.remotes.ahead(remote);
  }

  /** Pushes our branch (and git-annex) to one remote; PushRejectedError when it has work we lack. */
  push(remote: string): Promise<PushResult> {
    return this.remotes.push(remote);
  }

  // ---------------------------------------------------------------------------------------- merge

  /** The incoming refs to merge, one at a time with mergeRef (the agent's merger flushes between). */
  incomingRefs(): Promise<Incoming> {
    return this.merges.incoming();
  }

  /** Merges one incoming ref: local changes are committed first under the same lock, and returned. */
  mergeRef(ref: string, sha: string, guard: WorkTreeGuard = NO_GUARD): Promise<MergeStep> {
    return this.merges.mergeRef(ref, sha, guard);
  }

  /**
   * Merges every incoming ref that HEAD does not already contain (and, in annex mode, the git-annex
   * branches), for a caller with no committer to flush (the `sync` verb without an agent, tests).
   * Returns what was merged, what was committed first, and whether the location logs moved.
   */
  async mergeIncoming(guard: WorkTreeGuard = NO_GUARD): Promise<{
    merges: MergeResult[];
    committed: CommitResult[];
    annexMoved: boolean;
    before: string | null;
  }> {
    const { refs, annexMoved, before } = await this.incomingRefs();
    const merges: MergeResult[] = [];
    const committed: CommitResult[] = [];
    for (const { ref, sha } of refs) {
      const r = await this.mergeRetrying(ref, sha, guard, committed);
      if (r) merges.push(r);
    }
    return { merges, committed, annexMoved, before };
  }

  private async mergeRetrying(
    ref: string,
    sha: string,
    guard: WorkTreeGuard,
    committed: CommitResult[],
  ): Promise<MergeResult | null> {
    for (let attempt = 0; attempt < MERGE_RETRIES; attempt++) {
      const step = await this.mergeRef(ref, sha, guard);
      committed.push(...step.committed);
      if (step.error === undefined) return step.merged;
      if (!isWorkTreeInTheWay(step.error)) throw step.error;
      this.log.info({ ref }, 'work tree changed under the merge; committing it and merging again');
    }
    throw mergeKeptRacing(ref);
  }

  // -------------------------------------------------------------------------------------- recovery

  /** Start-up recovery after a crash or kill -9: stale locks, a half-done merge. */
  async recover(): Promise<void> {
    removeStaleIndexLock(this.info, this.log, 0);
    // Only a merge the agent itself started (and died in) is finished; a user's is left alone.
    const marker = mergeMarker(this.info);
    if (existsSync(marker)) {
      await this.merges.finishMerge();
      rmSync(marker, { force: true });
    }
  }
}
