// Committing exact paths: what is left out (ignored, temporary, held by the caller), what is staged
// (stage.ts, submodules.ts), and the commit itself. Waits on GitSync, which calls it under the
// repository mutex; produces a CommitResult (or null when nothing changed).
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';
import type { Logger } from '../core/log.js';
import { status } from './commands.js';
import { largeInGit, type LargeFile } from './large-files.js';
import type { IgnoreMatcher } from './transient.js';
import { headOf, looseRef } from './head.js';
import { existsLink, LITERAL, type Staging } from './stage.js';
import type { Submodules } from './submodules.js';
import type { AnnexBranch } from './annex-branch.js';
import { assertNoUnmerged, assertOurs } from './guards.js';

export interface CommitResult {
  sha: string;
  /** HEAD before this commit (null on an unborn branch): the range whose new annex keys to send. */
  parent: string | null;
  added: number;
  modified: number;
  deleted: number;
  message: string;
  /** Files of at least largeFileWarning bytes that went into git itself (large-files.ts). */
  large?: LargeFile[];
}

/**
 * What the caller knows about the work tree that git does not (the agent's committer), handed to a
 * commit or a merge with the call. Each question is asked under the repository mutex, at the moment
 * the answer matters. A caller with no such knowledge (the `sync` verb without an agent) passes none.
 */
export interface WorkTreeGuard {
  /**
   * Of the paths a merge is about to commit first, those to leave out: files a process still has
   * open for writing. A partial file is never committed; if the merge touches it, the fast-forward
   * refuses and the merge is tried again later.
   */
  leaveOut?(paths: string[]): Set<string>;
  /**
   * Of these missing paths, those whose absence is not a deletion (yet): git-annex is filling the
   * file. Asked at the moment the commit decides what it deletes (a file present at the caller's
   * own look can be gone by now). Such paths are left out of the commit; the caller keeps them.
   */
  holdAbsent?(paths: string[]): Set<string>;
  /** Paths unstaged because git-annex let their raw content through: try them again after retryMs. */
  rawStaged?(paths: string[], retryMs: number): void;
}

/** The settings a commit reads each time (the agent's config reload changes them while it runs). */
export interface CommitSettings {
  /** Editor and OS temporary files (transient.ts): never added while untracked, never pending. */
  ignore: IgnoreMatcher;
  /** Files at least this big that go into git itself are reported (autosync.largeFileWarning; 0: never). */
  largeFileWarning: number;
}

export interface LocalCommitsDeps {
  info: RepoInfo;
  runner: Runner;
  log: Logger;
  staging: Staging;
  submodules: Submodules;
  annexBranch: AnnexBranch;
  settings: () => CommitSettings;
}

export class LocalCommits {
  private readonly info: RepoInfo;
  private readonly runner: Runner;
  private readonly log: Logger;
  private readonly staging: Staging;
  private readonly submodules: Submodules;
  private readonly annexBranch: AnnexBranch;
  private readonly settings: () => CommitSettings;
  private identityArgs: string[] | null = null;

  constructor(d: LocalCommitsDeps) {
    this.info = d.info;
    this.runner = d.runner;
    this.log = d.log;
    this.staging = d.staging;
    this.submodules = d.submodules;
    this.annexBranch = d.annexBranch;
    this.settings = d.settings;
  }

  /** Paths that differ from HEAD (for start-up catch-up and `sync`), optionally only below some dirs. */
  async pendingPaths(under: string[] = []): Promise<string[]> {
    const cmd = status();
    if (under.length > 0) cmd.args.push('--', ...under);
    const entries = await this.runner.run(cmd, { env: LITERAL });
    const ignore = this.settings().ignore;
    // A directory entry is an untracked nested repository: `git add` would record a bare gitlink
    // whose content reaches no peer, so it is left alone.
    return entries
      .filter((e) => !e.path.endsWith('/') && !(e.xy === '??' && ignore.ignores(e.path)))
      .map((e) => e.path);
  }

  /**
   * Stages exactly these paths (additions, edits, deletions) and commits them; the caller holds the
   * repository mutex. Paths that vanished or are ignored are skipped. stageMore stages what string
   * paths cannot name (see rawpaths.ts), under the same lock and checks. Returns null when nothing
   * changed.
   */
  async commitLocked(
    paths: string[],
    stageMore: (() => Promise<void>) | undefined,
    guard: WorkTreeGuard,
  ): Promise<CommitResult | null> {
    assertOurs(this.info);
    await assertNoUnmerged(this.info, this.runner);
    const unique = [...new Set(paths)].filter((p) => p !== '' && !p.startsWith('.git/') && p !== '.git');
    const transient = await this.untrackedTransient(unique);
    const ignored = await this.ignored(unique.filter((p) => !transient.has(p)));
    const candidates = unique.filter((p) => !ignored.has(p) && !transient.has(p));
    const found: string[] = [];
    const missing: string[] = [];
    for (const p of candidates) (existsLink(join(this.info.workTree, p)) ? found : missing).push(p);
    // Submodules are staged as the commit they have checked out (never through update-index, which
    // wants files there); check-ignore above has already refused paths inside their work trees.
    const links = await this.submodules.gitlinks(found);
    const present = links.size === 0 ? found : found.filter((p) => !links.has(p));
    if (present.length > 0 || missing.length > 0) {
      await this.staging.stage(
        present,
        this.deletions(missing, guard),
        (vanished) => this.deletions(vanished, guard),
        (raw, ms) => guard.rawStaged?.(raw, ms),
      );
    }
    const moved = [...links].filter(([, sha]) => sha !== null) as Array<[string, string]>;
    if (moved.length > 0) {
      await this.runner.git(['update-index', '-z', '--index-info'], {
        input: moved.map(([p, sha]) => `160000 ${sha}\t${p}\0`).join(''),
      });
    }
    if (stageMore) await stageMore();
    const staged = await this.runner.git(['diff', '--cached', '--name-status', '-z', '--no-renames']);
    const fields = staged.stdout.split('\0');
    let added = 0,
      modified = 0,
      deleted = 0;
    const written: string[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const s = fields[i]!;
      if (s === 'A') added++;
      else if (s === 'D') deleted++;
      else modified++;
      if (s !== 'D') written.push(fields[i + 1]!);
    }
    if (added + modified + deleted === 0) return null;
    const large = await largeInGit(this.runner, this.info, written, this.settings().largeFileWarning);
    const counts = [
      added ? `${added} added` : '',
      modified ? `${modified} modified` : '',
      deleted ? `${deleted} deleted` : '',
    ].filter(Boolean);
    const message = `git-autosync on ${hostname()}: ${counts.join(', ')}`;
    const branch = this.info.branch;
    const parent = looseRef(this.info.gitDir, branch) ?? (await headOf(this.runner));
    // The commit is built with plumbing: write-tree (from the index's cache-tree), commit-tree,
    // then update-ref of HEAD checked against the parent, so a HEAD moved meanwhile (a commit of the
    // user's, or a checkout of another branch since assertOurs: its index is what write-tree took)
    // is refused, never overwritten; the pass is tried again, and assertOurs then says why. `git commit` refreshed the whole index first (an lstat of every tracked file:
    // 400 ms of a single change's 2.4 s at 100,000 files here) and ran `git maintenance --auto`.
    // No signing: an agent cannot unlock a key, and a refused commit would block every later one.
    // (A post-commit hook does not run for the agent's commits; autosync.notifyCommand is the hook.)
    const tree = (await this.runner.git(['write-tree'])).stdout.trim();
    const made = await this.runner.git([
      ...(await this.identity()),
      '-c',
      'commit.gpgsign=false',
      'commit-tree',
      tree,
      ...(parent ? ['-p', parent] : []),
      '-m',
      message,
    ]);
    const sha = made.stdout.trim();
    const reflog = parent ? `commit: ${message}` : `commit (initial): ${message}`;
    await this.runner.git(['update-ref', '-m', reflog, 'HEAD', sha, parent ?? '']);
    // git-annex's clean filter logged the new content's location in its journal, which only a
    // git-annex command commits to the git-annex branch; without this the push would not tell peers
    // that the content is here, and they would not fetch it.
    if (this.info.mode === 'annex' && this.annexBranch.journalPending()) await this.annexBranch.merge();
    return { sha, parent, added, modified, deleted, message, large };
  }

  /** The missing paths that are deletions: those the guard's holdAbsent does not hold (logged). */
  private deletions(missing: string[], guard: WorkTreeGuard): string[] {
    if (missing.length === 0 || !guard.holdAbsent) return missing;
    const held = guard.holdAbsent(missing);
    if (held.size === 0) return missing;
    this.log.debug(
      { paths: [...held].slice(0, 5), count: held.size },
      'missing while git-annex fills them; left out of this commit',
    );
    return missing.filter((p) => !held.has(p));
  }

  /** Of these paths, those the transient-file rules leave out because git does not track them. */
  private async untrackedTransient(paths: string[]): Promise<Set<string>> {
    const ignore = this.settings().ignore;
    const matched = paths.filter((p) => ignore.ignores(p));
    if (matched.length === 0) return new Set();
    const r = await this.runner.git(['ls-files', '-z', '--', ...matched], { env: LITERAL });
    const tracked = new Set(r.stdout.split('\0'));
    const out = new Set(matched.filter((p) => !tracked.has(p)));
    if (out.size > 0)
      this.log.debug(
        { paths: [...out].slice(0, 5), count: out.size },
        'editor or OS temporary files; not synced',
      );
    return out;
  }

  /** Of these paths, those .gitignore (and the other exclude files) ignore. */
  async ignored(paths: string[]): Promise<Set<string>> {
    if (paths.length === 0) return new Set();
    // check-ignore takes plain paths (no pathspec magic), so no literal-pathspec env here.
    const r = await this.runner.git(['check-ignore', '--stdin', '-z'], {
      input: paths.join('\0'),
      okCodes: [1],
    });
    return new Set(r.stdout.split('\0').filter(Boolean));
  }

  /** `-c user.name/-c user.email` only when the user has not configured an identity. */
  async identity(): Promise<string[]> {
    if (this.identityArgs) return this.identityArgs;
    const name = await this.runner.git(['config', 'user.name'], { okCodes: [1] });
    const email = await this.runner.git(['config', 'user.email'], { okCodes: [1] });
    const args: string[] = [];
    if (!name.stdout.trim()) args.push('-c', 'user.name=git-autosync');
    if (!email.stdout.trim()) args.push('-c', `user.email=git-autosync@${hostname()}`);
    this.identityArgs = args;
    return args;
  }
}
