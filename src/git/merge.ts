// Merging what peers pushed or we fetched into our branch: the incoming refs, one ref's merge (the
// local changes committed first, under the same lock), the deterministic merge commit, and the
// fast-forward that moves the work tree. Waits on its caller (the agent's merger, the `sync` verb
// without an agent); produces merge results and the commits it made first, which it returns: it
// never calls up. Asking the committer to flush first is the caller's step.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';
import type { Logger } from '../core/log.js';
import type { Mutex } from '../core/queue.js';
import { GitError, isUntrackedInTheWay, TransientError } from './errors.js';
import { commitTime, forEachRef, mergeTree, status } from './commands.js';
import { statePaths } from './state-paths.js';
import { indexInfo, resolvePath, type IndexEntry } from './resolve.js';
import { headOf } from './head.js';
import { assertOurs } from './guards.js';
import { withLockRetry } from './locks.js';
import type { AnnexBranch } from './annex-branch.js';
import type { CommitResult, LocalCommits, WorkTreeGuard } from './commit.js';

/** lstat, or null where nothing is; 'not-a-folder' where a file stands in one of the path's folders. */
function lstatOf(path: string): Stats | null | 'not-a-folder' {
  try {
    return lstatSync(path);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'not-a-folder' : null;
  }
}

/**
 * The most paths the commit before a merge is given one by one (see touchedPaths). Each costs an
 * lstat and a line to check-ignore and update-index; past this a single whole-tree status is the
 * cheaper look.
 */
const TOUCHED_MAX = 10_000;

export interface MergeResult {
  from: string;
  head: string;
  conflicts: number;
  fastForward: boolean;
}

/** What a merge pass has to merge: the refs HEAD may not contain yet, and where the branch was. */
export interface Incoming {
  refs: Array<{ ref: string; sha: string }>;
  /** The git-annex location logs moved (annex mode): content may now be fetchable. */
  annexMoved: boolean;
  /** Our branch before the pass (null on an unborn branch). */
  before: string | null;
}

/** One ref's merge. committed: what it committed of the local changes first (under its lock),
 * reported even when the merge then failed; error: why it failed (the caller retries or rethrows). */
export interface MergeStep {
  committed: CommitResult[];
  merged: MergeResult | null;
  error?: unknown;
}

/** Bounded retries when the work tree changes under a merge (a user keeps saving). */
export const MERGE_RETRIES = 5;
/** Identity of deterministic merge commits: the same on every peer, so both peers make one commit. */
const MERGE_IDENT = { name: 'git-autosync', email: 'git-autosync@localhost' };
/** A fast-forward blocked by ignored local files moves them aside and tries again this many times. */
const DISPLACE_RETRIES = 2;

/** The error of a merge whose every try met a work tree changing under it. */
export function mergeKeptRacing(ref: string): GitError {
  return new GitError(`merge of ${ref} kept racing with edits; will retry on the next change`, [], null, '');
}

export interface MergesDeps {
  info: RepoInfo;
  runner: Runner;
  log: Logger;
  /** The repository mutex: held around the annex-branch merge and each ref's commit-and-merge. */
  mutex: Mutex;
  commits: LocalCommits;
  annexBranch: AnnexBranch;
}

export class Merges {
  private readonly info: RepoInfo;
  private readonly runner: Runner;
  private readonly log: Logger;
  private readonly mutex: Mutex;
  private readonly commits: LocalCommits;
  private readonly annexBranch: AnnexBranch;

  constructor(d: MergesDeps) {
    this.info = d.info;
    this.runner = d.runner;
    this.log = d.log;
    this.mutex = d.mutex;
    this.commits = d.commits;
    this.annexBranch = d.annexBranch;
  }

  /**
   * The incoming refs whose commits HEAD may not contain (one per distinct sha), after merging, in
   * annex mode, the git-annex branches.
   */
  async incoming(): Promise<Incoming> {
    // Under the lock: a commit's staging runs git-annex's clean filter, which writes the location
    // log of every file it annexes into git-annex's journal, and the commit merges that journal
    // into the git-annex branch once, when it is done. Merging it here meanwhile committed it piece
    // by piece (the journal is never empty during a 200-file staging): every piece moved our
    // git-annex branch, was pushed, merged by every peer and pushed back, which signalled a merge
    // here again, competing with the staging for the same two cores and for git-annex's journal
    // (demo --annex: 43 git-annex pushes while 202 files took 25 s to commit).
    const annexMoved = this.info.mode === 'annex' && (await this.mutex.run(() => this.annexBranch.merge()));
    // One call reads our branch with the incoming refs: the common case (nothing new) costs one process.
    const b = this.info.branch;
    const found = await this.runner.run(
      forEachRef([
        `refs/heads/${b}`,
        `refs/heads/synced/${b}`,
        `refs/remotes/*/${b}`,
        `refs/remotes/*/synced/${b}`,
      ]),
    );
    const seen = new Set<string>([found.get(`refs/heads/${b}`) ?? '']);
    const refs: Incoming['refs'] = [];
    for (const [ref, sha] of found) {
      if (seen.has(sha)) continue;
      seen.add(sha);
      refs.push({ ref, sha });
    }
    return { refs, annexMoved, before: found.get(`refs/heads/${b}`) ?? null };
  }

  /** Merges one incoming ref, under the repository mutex (waiting out a held index.lock). */
  async mergeRef(ref: string, sha: string, guard: WorkTreeGuard): Promise<MergeStep> {
    const committed: CommitResult[] = [];
    try {
      const merged = await this.mutex.run(() =>
        withLockRetry(this.info, this.log, () => this.mergeLocked(ref, sha, guard, committed)),
      );
      return { committed, merged };
    } catch (error) {
      return { committed, merged: null, error };
    }
  }

  private async mergeLocked(
    ref: string,
    sha: string,
    guard: WorkTreeGuard,
    committed: CommitResult[],
  ): Promise<MergeResult | null> {
    assertOurs(this.info);
    // git restores a tracked file that is missing from the work tree without complaint, so a delete
    // (or a rename) the watcher has not reported yet would be undone by the merge. What the merge
    // writes is committed first, here, under the same lock as the merge: the paths it touches
    // (touchedPaths), or, when one of them is missing here (a delete or a rename not reported yet),
    // the whole status with every untracked file, so the new name of a renamed file lands in the
    // same commit as the delete (git sees a rename, and the peer's edit follows the file).
    const listed =
      (await this.touchedPaths(sha)) ??
      (await this.runner.run(status())).map((e) => e.path).filter((p) => !p.endsWith('/'));
    const writing = listed.length > 0 && guard.leaveOut ? guard.leaveOut(listed) : new Set<string>();
    const dirty = writing.size > 0 ? listed.filter((p) => !writing.has(p)) : listed;
    if (dirty.length > 0) {
      try {
        const c = await this.commits.commitLocked(dirty, undefined, guard);
        if (c) {
          this.log.info({ sha: c.sha, files: dirty.length }, `${c.message} (before a merge)`);
          committed.push(c);
        }
      } catch (e) {
        // A path git refuses must not block merging; ff-only still refuses to overwrite anything.
        // A full disk or a held lock is no bad path: the merge waits for it like the commit does.
        if (e instanceof TransientError) throw e;
        this.log.warn({ err: String(e) }, 'could not commit local changes before a merge; merging anyway');
      }
    }
    const head = await headOf(this.runner);
    if (head === null) {
      // Unborn branch: adopt the incoming history as it is.
      await this.fastForward(sha);
      return { from: ref, head: sha, conflicts: 0, fastForward: true };
    }
    if (head === sha) return null;
    // One merge-base answers both questions: already contained (base = theirs), or fast-forward (base = ours).
    const base = (await this.runner.git(['merge-base', head, sha], { okCodes: [1] })).stdout.trim();
    if (base === sha) return null;
    if (base === head) {
      await this.fastForward(sha);
      return { from: ref, head: sha, conflicts: 0, fastForward: true };
    }
    // Both peers order the two sides the same way, so both compute the same merge, byte for byte.
    const [x, y] = head < sha ? [head, sha] : [sha, head];
    const mt = await this.runner.run(mergeTree(x, y));
    let tree = mt.tree;
    // Annex mode too: an annexed file is a pointer blob (or a symlink) in git, and the resolver
    // keeps one under the original name and the other as a variant, exactly as for a file kept in
    // git. (git-annex's own `git annex merge` renamed both versions to .variant-XXXX, leaving
    // nothing under the name the user had open; docs/conflicts.md.) Checking out the merge fills
    // each name through git-annex's smudge filter; content not here yet is fetched like any other.
    // Both sides' commit times: the resolver's tie-break and the merge commit's date.
    const [tx, ty] = await Promise.all([this.runner.run(commitTime(x)), this.runner.run(commitTime(y))]);
    if (!mt.clean) {
      const entries: IndexEntry[] = [];
      for (const [path, stages] of mt.conflicts) {
        entries.push(...resolvePath(path, stages, [{ time: tx }, { time: ty }]));
      }
      tree = await this.buildTree(mt.tree, [...mt.conflicts.keys()], entries);
    }
    const commit = await this.deterministicCommit(tree, x, y, Math.max(tx, ty));
    await this.fastForward(commit);
    return { from: ref, head: commit, conflicts: mt.conflicts.size, fastForward: false };
  }

  /**
   * The paths where HEAD and sha differ: the only ones a merge of sha writes in the work tree, so
   * the only ones whose local state it can undo (a delete, an edit) or meet (an untracked file).
   * They go to the commit before the merge as they are; it skips what is unchanged (update-index
   * trusts the index's stat data) and ignored. A whole-tree `git status --untracked-files=all` cost
   * 630 ms of a single change's 2.4 s at 100,000 files here. Null (the caller takes that status) on
   * an unborn branch, or past TOUCHED_MAX paths.
   */
  private async touchedPaths(sha: string): Promise<string[] | null> {
    const head = await headOf(this.runner);
    if (head === null) return null;
    // diff-tree, plumbing: no diff.* setting of the user's changes the list.
    const d = await this.runner.git(['diff-tree', '-r', '-z', '--name-status', '--no-renames', head, sha]);
    const f = d.stdout.split('\0');
    if (f.length / 2 > TOUCHED_MAX) return null;
    const paths: string[] = [];
    for (let i = 0; i + 1 < f.length; i += 2) {
      const [st, p] = [f[i]!, f[i + 1]!];
      const here = lstatOf(join(this.info.workTree, p));
      // For the whole status: a file HEAD has that is missing here (a delete or a rename the
      // watcher has not reported), a folder in a file's place, or a file in a folder's (ENOTDIR).
      if (here === 'not-a-folder' || here?.isDirectory()) return null;
      if (here === null && st !== 'A') return null;
      // A file only sha has matters only when one is in its way here.
      if (here !== null) paths.push(p);
    }
    return paths;
  }

  /**
   * Moves HEAD and the work tree to a descendant commit. git would silently overwrite a file the
   * user ignores locally (a machine's own `.env` or `local.conf`) when a peer commits one of the same
   * name; with --no-overwrite-ignore it refuses instead, and we move such files into
   * .git/autosync/displaced/ (never committed, never synced: ignored files may hold secrets), say so
   * in the log, and try again.
   */
  private async fastForward(commit: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.runner.git(['merge', '--ff-only', '--no-overwrite-ignore', '-q', commit]);
        return;
      } catch (e) {
        if (!isUntrackedInTheWay(e) || attempt >= DISPLACE_RETRIES) throw e;
        const paths = e.stderr
          .split('\n')
          .filter((l) => l.startsWith('\t'))
          .map((l) => l.slice(1));
        const ignored = await this.commits.ignored(paths);
        if (ignored.size === 0) throw e; // untracked but not ignored: committed first, then retried
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        for (const p of ignored) {
          const to = join(statePaths(this.info.stateDir).displaced, stamp, p);
          mkdirSync(dirname(to), { recursive: true });
          renameSync(join(this.info.workTree, p), to);
          this.log.warn(
            { path: p, movedTo: to },
            'a peer committed a file with the name of an ignored local file; the local one was moved aside',
          );
        }
      }
    }
  }

  /** A merge commit whose id depends only on its tree and parents: peers that merge alike agree. */
  private async deterministicCommit(tree: string, x: string, y: string, time: number): Promise<string> {
    const date = `${time} +0000`;
    const r = await this.runner.git(
      ['-c', 'commit.gpgsign=false', 'commit-tree', tree, '-p', x, '-p', y, '-m', 'git-autosync: merge'],
      {
        env: {
          GIT_AUTHOR_NAME: MERGE_IDENT.name,
          GIT_AUTHOR_EMAIL: MERGE_IDENT.email,
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_NAME: MERGE_IDENT.name,
          GIT_COMMITTER_EMAIL: MERGE_IDENT.email,
          GIT_COMMITTER_DATE: date,
        },
      },
    );
    return r.stdout.trim();
  }

  /** Applies resolved entries onto merge-tree's tree in a throwaway index; returns the new tree. */
  private async buildTree(base: string, conflicted: string[], entries: IndexEntry[]): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'git-autosync-idx-'));
    try {
      const env = { GIT_INDEX_FILE: join(dir, 'index') };
      await this.runner.git(['read-tree', base], { env });
      await this.runner.git(['update-index', '-z', '--index-info'], {
        env,
        input: indexInfo(conflicted, entries),
      });
      return (await this.runner.git(['write-tree'], { env })).stdout.trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Leaves no MERGE_HEAD of ours behind: resolve what git-annex can, then conclude or abort. */
  async finishMerge(): Promise<void> {
    if (!existsSync(join(this.info.gitDir, 'MERGE_HEAD'))) return;
    const unmerged = await this.runner.git(['ls-files', '-u', '-z']);
    if (unmerged.stdout !== '' && this.info.mode === 'annex') {
      await this.runner.git(['annex', 'resolvemerge'], { okCodes: [1] });
    }
    // resolvemerge may already have committed: only conclude a merge that is still open.
    if (!existsSync(join(this.info.gitDir, 'MERGE_HEAD'))) return;
    const still = await this.runner.git(['ls-files', '-u', '-z']);
    if (still.stdout === '') {
      await this.runner.git([...(await this.commits.identity()), 'commit', '-q', '--no-verify', '--no-edit']);
    } else {
      // Nothing is lost by aborting: both sides are still commits, and the next pass merges again.
      await this.runner.git(['merge', '--abort']);
    }
  }
}
