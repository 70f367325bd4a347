// The git operations the agent is made of: commit a set of paths, fetch, merge, push. They hold the
// repository mutex around anything that moves the index or HEAD, so the committer and the merger can
// run concurrently without racing on index.lock. Policy (when to commit, where to push) lives in the
// agent; this module only knows how.
import {
  mkdirSync,
  renameSync,
  readFileSync,
  lstatSync,
  existsSync,
  statSync,
  unlinkSync,
  readdirSync,
  readlinkSync,
  mkdtempSync,
  rmSync,
} from 'node:fs';
import { dirname, join, resolve as resolvePathFrom } from 'node:path';
import { hostname, tmpdir } from 'node:os';
import type { Runner, RunOptions } from './runner.js';
import type { RepoInfo } from './repo.js';
import type { Logger } from '../core/log.js';
import { Mutex } from '../core/queue.js';
import {
  BusyError,
  GitError,
  isUntrackedInTheWay,
  isVanishedPath,
  isWorkTreeInTheWay,
  LockedError,
  PushRejectedError,
  TransientError,
} from './errors.js';
import { commitTime, forEachRef, mergeTree, parsePushPorcelain, status } from './commands.js';
import { annexStageTimeoutMs, annexStaging } from './rawpaths.js';
import { isSha, SHA_PATTERN } from './sha.js';
import { statePaths } from './state-paths.js';
import { indexInfo, resolvePath, type IndexEntry } from './resolve.js';
import { DEFAULT_LARGE_FILE_WARNING, largeInGit, type LargeFile } from './large-files.js';
import { ignoreMatcher, type IgnoreMatcher } from './transient.js';

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

export interface MergeResult {
  from: string;
  head: string;
  conflicts: number;
  fastForward: boolean;
}

export interface PushResult {
  remote: string;
  refs: string[];
  /** Nothing to push: the remote already has our refs. */
  upToDate: boolean;
}

/** Literal pathspecs: a file named `*.txt` or `:(top)` means that file, never a pattern. */
const LITERAL: RunOptions['env'] = { GIT_LITERAL_PATHSPECS: '1' };
/** A submodule's entry in `git ls-files -s -z`: mode 160000, the recorded commit, stage 0, path. */
const GITLINK_ENTRY_RE = new RegExp(`^160000 (${SHA_PATTERN}) 0\t(.*)$`, 's');
/** index.lock waits: 12 tries with growing pauses cover ~6 s, longer than any git step we run. */
const LOCK_RETRIES = 12;
/** A fetch that lost a race with our own push for a tracking ref is run again this many times
 * (pauses of 50, 100, 200 ms: a local push updates its refs in milliseconds). */
const FETCH_LOCK_RETRIES = 3;
/** A lock older than this with no live git process in the repository is a dead process's leftover. */
const STALE_LOCK_AGE_MS = 2_000;

/** Our git-annex branch's sha in annexInputs() output ('' when there is none yet). Pure. */
function annexBranchOf(inputs: string): string {
  return /^(\S+) refs\/heads\/git-annex$/m.exec(inputs)?.[1] ?? '';
}

function annexTimeout(paths: string[]): number {
  let bytes = 0;
  for (const p of paths) {
    try {
      bytes += lstatSync(p).size;
    } catch {
      // gone: nothing to hash
    }
  }
  return annexStageTimeoutMs(bytes);
}
/** In-progress operations of the user's, by the file git keeps while they last. */
const USER_OPERATIONS: Array<[string, string]> = [
  ['MERGE_HEAD', 'merge'],
  ['rebase-merge', 'rebase'],
  ['rebase-apply', 'rebase or am'],
  ['CHERRY_PICK_HEAD', 'cherry-pick'],
  ['REVERT_HEAD', 'revert'],
];
/**
 * A staged blob bigger than this cannot be an annex pointer: a pointer is `/annex/objects/` and a
 * key, a few hundred bytes at most. Below it, a blob is not looked at (it costs one git-annex call
 * per blob to ask whether git-annex would annex it); a raw partial file smaller than this can reach
 * git, which the open-for-write check in the committer makes rare.
 */
const RAW_MIN_BYTES = 32 * 1024;
/** A path that came out raw is tried again after 1 s, doubling to 1 min while it keeps doing so. */
const RAW_RETRY_BASE_MS = 1_000;
const RAW_RETRY_MAX_MS = 60_000;
/** git annex matchexpression's exit status when the expression needs data it was not given. */
const MATCH_UNDECIDED = 42;
/** Bounded retries when the work tree changes under a merge (a user keeps saving). */
const MERGE_RETRIES = 5;
/** Identity of deterministic merge commits: the same on every peer, so both peers make one commit. */
const MERGE_IDENT = { name: 'git-autosync', email: 'git-autosync@localhost' };

export class GitSync {
  readonly mutex = new Mutex();
  /** Remotes that refused a push to their checked-out branch: non-bare peers get synced/* only. */
  private nonBare = new Set<string>();
  private identityArgs: string[] | null = null;
  /** Called before a merge so pending work-tree changes are committed first and never clobbered. */
  flushHook: () => Promise<void> = async () => {};
  /**
   * Called for a commit GitSync makes on its own (before a merge), so it is pushed and its annex
   * keys queued exactly like the committer's commits.
   */
  onOwnCommit: (c: CommitResult) => void = () => {};
  /** Files at least this big that go into git itself are reported (autosync.largeFileWarning; 0: never). */
  largeFileWarning = DEFAULT_LARGE_FILE_WARNING;
  /**
   * Of the paths a merge is about to commit first, those to leave out: files a process still has
   * open for writing (the committer's beingWritten). A partial file is never committed; if the
   * merge touches it, the fast-forward refuses and the merge is tried again later.
   */
  leaveOut: (paths: string[]) => Set<string> = () => new Set();
  /**
   * Editor and OS temporary files (transient.ts: the defaults and autosync.ignore): never added
   * while untracked, by any commit (the committer's, a flush, the one before a merge, `sync`),
   * and not reported by pendingPaths. Tracked files that match keep syncing.
   */
  ignore: IgnoreMatcher = ignoreMatcher();
  /**
   * Of these missing paths, those whose absence is not a deletion (yet): git-annex is filling the
   * file (the committer's holdAbsent, annex mode). Asked under the lock, at the moment the commit
   * decides what it deletes, by every commit (the committer's, the one before a merge): the
   * committer's own look came earlier, and a file present then can be gone by now. Such paths are
   * left out of the commit; whoever answers keeps them pending.
   */
  holdAbsent: (paths: string[]) => Set<string> = () => new Set();
  /** Paths unstaged because git-annex let their raw content through (see unstageRaw): the
   * committer tries them again after retryMs. */
  onRawStaged: (paths: string[], retryMs: number) => void = () => {};
  /** How many times in a row each path came out raw (the retry backs off). */
  private readonly rawStrikes = new Map<string, number>();

  constructor(
    readonly info: RepoInfo,
    readonly runner: Runner,
    private readonly log: Logger,
  ) {}

  get branch(): string {
    return this.info.branch;
  }

  /** A branch's sha from its loose ref file (git commit always writes one); null if packed or absent. */
  private looseRef(branch: string): string | null {
    try {
      const v = readFileSync(join(this.info.gitDir, 'refs', 'heads', ...branch.split('/')), 'utf8').trim();
      return isSha(v) ? v : null;
    } catch {
      return null;
    }
  }

  async head(): Promise<string | null> {
    const r = await this.runner.git(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], { okCodes: [1] });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  /** Paths that differ from HEAD (for start-up catch-up and `sync`), optionally only below some dirs. */
  async pendingPaths(under: string[] = []): Promise<string[]> {
    const cmd = status();
    if (under.length > 0) cmd.args.push('--', ...under);
    const entries = await this.runner.run(cmd, { env: LITERAL });
    // A directory entry is an untracked nested repository: `git add` would record a bare gitlink
    // whose content reaches no peer, so it is left alone.
    return entries
      .filter((e) => !e.path.endsWith('/') && !(e.xy === '??' && this.ignore.ignores(e.path)))
      .map((e) => e.path);
  }

  // ---------------------------------------------------------------------------------------- commit

  /**
   * Stages exactly these paths (additions, edits, deletions) and commits them. Paths that vanished
   * or are ignored are skipped, so a temp file renamed away before we got to it cannot block later
   * commits. Returns null when nothing changed.
   */
  async commit(paths: string[], stageMore?: () => Promise<void>): Promise<CommitResult | null> {
    if (paths.length === 0 && !stageMore) return null;
    return this.mutex.run(() => this.withLockRetry(() => this.commitLocked(paths, stageMore)));
  }

  /** stageMore stages what string paths cannot name (see rawpaths.ts), under the same lock and checks. */
  private async commitLocked(paths: string[], stageMore?: () => Promise<void>): Promise<CommitResult | null> {
    this.assertOurs();
    // git merge (or cherry-pick, or stash pop) writes its conflicts into the index a moment before
    // it writes MERGE_HEAD. Staging in that moment would mark the user's conflict resolved with its
    // markers in it, so unmerged entries count as an operation in progress too.
    if (!existsSync(this.mergeMarker)) {
      const u = await this.runner.git(['ls-files', '-u', '-z']);
      if (u.stdout !== '') {
        throw new BusyError(
          'a merge is in progress (the index has unmerged paths); syncing waits until you finish it',
          [],
          null,
          '',
        );
      }
    }
    const unique = [...new Set(paths)].filter((p) => p !== '' && !p.startsWith('.git/') && p !== '.git');
    const transient = await this.untrackedTransient(unique);
    const ignored = await this.ignored(unique.filter((p) => !transient.has(p)));
    const candidates = unique.filter((p) => !ignored.has(p) && !transient.has(p));
    const found: string[] = [];
    const missing: string[] = [];
    for (const p of candidates) (existsLink(join(this.info.workTree, p)) ? found : missing).push(p);
    // Submodules are staged as the commit they have checked out (never through update-index, which
    // wants files there); check-ignore above has already refused paths inside their work trees.
    const links = await this.gitlinks(found);
    const present = links.size === 0 ? found : found.filter((p) => !links.has(p));
    if (present.length > 0 || missing.length > 0) await this.stage(present, this.deletions(missing));
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
    const large = await largeInGit(this.runner, this.info, written, this.largeFileWarning);
    const counts = [
      added ? `${added} added` : '',
      modified ? `${modified} modified` : '',
      deleted ? `${deleted} deleted` : '',
    ].filter(Boolean);
    const message = `git-autosync on ${hostname()}: ${counts.join(', ')}`;
    const parent = this.looseRef(this.branch) ?? (await this.head());
    // No signing: an agent cannot unlock a key, and a refused commit would block every later one.
    await this.runner.git([
      ...(await this.identity()),
      '-c',
      'commit.gpgsign=false',
      'commit',
      '-q',
      '--no-verify',
      '-m',
      message,
    ]);
    const sha = this.looseRef(this.branch) ?? (await this.head())!;
    // git-annex's clean filter logged the new content's location in its journal, which only a
    // git-annex command commits to the git-annex branch; without this the push would not tell peers
    // that the content is here, and they would not fetch it.
    if (this.info.mode === 'annex' && this.journalPending()) await this.mergeAnnexBranch();
    return { sha, parent, added, modified, deleted, message, large };
  }

  /**
   * The submodules among these present paths (directories whose index entry is a gitlink), each
   * with the commit to record: its checked-out HEAD when that is ahead of (or diverged from) the
   * recorded commit; null when it is behind, or the submodule lacks the recorded commit. That is
   * what a merge leaves behind when a peer recorded a newer submodule commit (a merge does not
   * check out submodules): recording the old HEAD would undo the peer's update, and the two clones
   * would undo each other forever. The submodule's own commits travel through its own remotes;
   * `git submodule update` checks out what the branch records.
   */
  private async gitlinks(paths: string[]): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    // A checked-out submodule always has its `.git` (a file or a directory); any other directory
    // here (a file replaced by one) is left to update-index.
    const dirs = paths.filter((p) => {
      try {
        return (
          lstatSync(join(this.info.workTree, p)).isDirectory() &&
          existsLink(join(this.info.workTree, p, '.git'))
        );
      } catch {
        return false;
      }
    });
    if (dirs.length === 0) return out;
    const staged = await this.runner.git(['ls-files', '-s', '-z', '--', ...dirs], { env: LITERAL });
    for (const entry of staged.stdout.split('\0')) {
      const m = GITLINK_ENTRY_RE.exec(entry);
      if (!m || !dirs.includes(m[2]!)) continue;
      const [, recorded, p] = m as unknown as [string, string, string];
      const cwd = join(this.info.workTree, p);
      const h = await this.runner.git(['rev-parse', '-q', '--verify', 'HEAD^{commit}'], {
        cwd,
        okCodes: [1],
      });
      const now = h.stdout.trim();
      if (h.code !== 0 || now === recorded) {
        out.set(p, null);
        continue;
      }
      // 0: ahead (recorded is an ancestor); 1: not; 128: the submodule lacks the recorded commit.
      const ahead = await this.runner.git(['merge-base', '--is-ancestor', recorded, now], {
        cwd,
        okCodes: [1, 128],
      });
      const behind =
        ahead.code === 128 ||
        (ahead.code === 1 &&
          (await this.runner.git(['merge-base', '--is-ancestor', now, recorded], { cwd, okCodes: [1] }))
            .code === 0);
      if (behind) {
        const seen = `${p}\0${recorded}\0${now}`;
        if (!this.behindLogged.has(seen)) {
          this.behindLogged.add(seen);
          this.log.info(
            { submodule: p, recorded, checkedOut: now },
            'submodule is behind the commit the branch records (a peer moved it); not recording it: run git submodule update',
          );
        }
      }
      out.set(p, behind ? null : now);
    }
    return out;
  }

  /** Submodule states already logged as behind (see gitlinks), so each is said once. */
  private readonly behindLogged = new Set<string>();

  /**
   * The submodules this work tree declares in .gitmodules, with the git directory each has (a
   * `.git` file pointing into .git/modules, or a `.git` directory), for the refs watch: a commit
   * inside a submodule changes nothing in our work tree. .gitmodules comes from peers, so a path
   * that is absolute or climbs out (`..`) is ignored.
   */
  async submodules(): Promise<Array<{ path: string; gitDir: string }>> {
    if (!existsSync(join(this.info.workTree, '.gitmodules'))) return [];
    const r = await this.runner.git(
      ['config', '-z', '-f', '.gitmodules', '--get-regexp', '^submodule\\..*\\.path$'],
      { okCodes: [1] },
    );
    const out: Array<{ path: string; gitDir: string }> = [];
    for (const entry of r.stdout.split('\0')) {
      const p = entry.slice(entry.indexOf('\n') + 1).replace(/\/+$/, '');
      if (
        !entry.includes('\n') ||
        p === '' ||
        p.startsWith('/') ||
        p.split('/').some((s) => s === '..' || s === '.git')
      )
        continue;
      const dotGit = join(this.info.workTree, p, '.git');
      try {
        const st = lstatSync(dotGit);
        if (st.isDirectory()) out.push({ path: p, gitDir: dotGit });
        else if (st.isFile()) {
          const m = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'));
          if (m) out.push({ path: p, gitDir: resolvePathFrom(dirname(dotGit), m[1]!.trim()) });
        }
      } catch {
        // not checked out here: nothing to watch
      }
    }
    return out;
  }

  /** The missing paths that are deletions: those holdAbsent does not hold (logged). */
  private deletions(missing: string[]): string[] {
    if (missing.length === 0) return missing;
    const held = this.holdAbsent(missing);
    if (held.size === 0) return missing;
    this.log.debug(
      { paths: [...held].slice(0, 5), count: held.size },
      'missing while git-annex fills them; left out of this commit',
    );
    return missing.filter((p) => !held.has(p));
  }

  /**
   * Stages exact paths, one exact-path update for additions, edits and deletions alike (`git add
   * --pathspec-from-file` matches every pathspec against every file: 1,000 paths took 300 ms; this
   * is linear). Present paths are staged without --remove: update-index would remove a file that
   * vanishes while it works (git-annex filling it: in annex mode the clean filter makes a 200-file
   * update take seconds), and that is no deletion of anybody's. Such a run fails as a whole
   * (nothing is written); the paths that vanished are asked about again (holdAbsent) and the stage
   * is run again.
   */
  private async stage(present: string[], gone: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.info.mode === 'git') {
          if (present.length > 0) await this.updateIndex(present, false);
          if (gone.length > 0) await this.updateIndex(gone, true);
        } else await this.stageAnnex(present, gone);
        return;
      } catch (e) {
        if (!isVanishedPath(e) || attempt >= 3) throw e;
        const vanished = present.filter((p) => !existsLink(join(this.info.workTree, p)));
        if (vanished.length > 0) {
          present = present.filter((p) => !vanished.includes(p));
          gone = [...gone, ...this.deletions(vanished)];
        }
      }
    }
  }

  /**
   * Stages exact paths through git's filters: added or updated, and a file that replaced a
   * directory (or the reverse) replaces it. remove: the paths are missing and leave the index
   * (git still adds one that is back by now). The paths were already checked against .gitignore.
   */
  private async updateIndex(
    paths: string[],
    remove: boolean,
    config: string[] = [],
    timeoutMs?: number,
  ): Promise<void> {
    await this.runner.git(
      [...config, 'update-index', '--add', ...(remove ? ['--remove'] : []), '--replace', '-z', '--stdin'],
      {
        input: paths.join('\0') + '\0',
        timeoutMs, // in annex mode each file goes through git-annex's clean filter (hashing)
      },
    );
  }

  /**
   * Annex mode. git stages the paths itself and runs git-annex's clean filter on each file (the
   * rules and `-c` options: rawpaths.ts annexStaging). Not `git annex add`: it stages files meant
   * for git with a child `git add`, whose clean filter is a third git-annex process that can wait
   * forever on a lock its grandparent holds (git-annex's keys database; a known class of git-annex
   * deadlocks, timing-dependent). Seen here as commits that stalled for minutes, in CI too.
   */
  private async stageAnnex(present: string[], gone: string[]): Promise<void> {
    const timeoutMs = annexTimeout(present.map((p) => join(this.info.workTree, p)));
    const groups = await annexStaging(
      this.runner,
      [...present, ...gone].map((p) => Buffer.from(p, 'utf8')),
    );
    const missing = new Set(gone);
    const forced = new Set<string>();
    for (const g of groups) {
      const names = g.names.map((n) => n.toString('utf8'));
      const here = names.filter((n) => !missing.has(n));
      const away = names.filter((n) => missing.has(n));
      if (here.length > 0) await this.updateIndex(here, false, g.config, timeoutMs);
      if (away.length > 0) await this.updateIndex(away, true, g.config, timeoutMs);
      if (g.config.includes('annex.largefiles=anything')) for (const n of here) forced.add(n);
    }
    await this.unstageRaw(present, forced);
  }

  /**
   * After annex staging: a staged blob too big to be an annex pointer, for a path git-annex should
   * have annexed, is raw content that git-annex's clean filter let through (seen when the file
   * changed while the filter read it: 114 MiB of a file still being written went into git). Such a
   * path is put back in the index as it is in HEAD, so it is not committed, and handed to onRawStaged
   * to be tried again later. forced: the paths staged with annex.largefiles=anything (no rule of
   * their own). Paths whose rule says git (a 1 MiB text file under `*.txt annex.largefiles=nothing`)
   * are left alone: git-annex is asked, but only about blobs above RAW_MIN_BYTES.
   */
  private async unstageRaw(present: string[], forced: Set<string>): Promise<void> {
    // cat-file reads one name a record; a name holding a newline would break its output lines.
    const asked = present.filter((p) => !p.includes('\n'));
    if (asked.length === 0) return;
    const r = await this.runner.git(['cat-file', '--batch-check', '-z'], {
      input: asked.map((p) => `:0:${p}`).join('\0') + '\0',
    });
    const lines = r.stdout.split('\n');
    const big: Array<{ path: string; size: number }> = [];
    for (const [i, path] of asked.entries()) {
      const m = /^[0-9a-f]+ blob (\d+)$/.exec(lines[i] ?? '');
      if (m && Number(m[1]) > RAW_MIN_BYTES) big.push({ path, size: Number(m[1]) });
      else this.rawStrikes.delete(path);
    }
    if (big.length === 0) return;
    const raw: string[] = [];
    for (const b of big) {
      if (await this.shouldAnnex(b.path, b.size, forced.has(b.path))) raw.push(b.path);
      else this.rawStrikes.delete(b.path);
    }
    if (raw.length === 0) return;
    const head = await this.head();
    const inHead = new Map<string, string>();
    if (head) {
      const t = await this.runner.git(['ls-tree', '-z', '--full-tree', head, '--', ...raw], { env: LITERAL });
      for (const rec of t.stdout.split('\0')) {
        const tab = rec.indexOf('\t');
        if (tab > 0) inHead.set(rec.slice(tab + 1), rec);
      }
    }
    const zero = '0'.repeat(40);
    await this.runner.git(['update-index', '-z', '--index-info'], {
      input: raw.map((p) => inHead.get(p) ?? `0 ${zero}\t${p}`).join('\0') + '\0',
    });
    let strikes = 0;
    for (const p of raw) {
      const n = (this.rawStrikes.get(p) ?? 0) + 1;
      this.rawStrikes.set(p, n);
      strikes = Math.max(strikes, n);
    }
    const retryMs = Math.min(RAW_RETRY_MAX_MS, RAW_RETRY_BASE_MS * 2 ** (strikes - 1));
    this.log.warn(
      { paths: raw.slice(0, 5), count: raw.length, retryMs },
      'git-annex let raw content of an annexed file into the index (it changed while being added); not committing it, trying again',
    );
    this.onRawStaged(raw, retryMs);
  }

  /** Whether git-annex's rules annex this path (annex.largefiles, annex.dotfiles). */
  private async shouldAnnex(path: string, size: number, forced: boolean): Promise<boolean> {
    // git-annex's clean filter keeps dotfiles (a name or a directory starting with '.') in git
    // unless annex.dotfiles is set, whatever annex.largefiles says.
    if (path.split('/').some((c) => c.startsWith('.'))) {
      const d = await this.runner.git(['config', '--type=bool', 'annex.dotfiles'], { okCodes: [1] });
      if (d.stdout.trim() !== 'true') return false;
    }
    if (forced) return true;
    let expr = (await this.runner.git(['config', 'annex.largefiles'], { okCodes: [1] })).stdout.trim();
    if (expr === '') {
      const a = await this.runner.git(['check-attr', '-z', 'annex.largefiles', '--', path], { env: LITERAL });
      const v = a.stdout.split('\0')[2] ?? 'unspecified';
      if (v === 'unspecified' || v === 'unset') return false;
      expr = v === 'set' ? 'anything' : v;
    }
    // Exit 42: the rule needs facts we do not pass (mimetype=, mimeencoding=). Then git-annex's
    // own clean filter decided, and what it staged stands: a commit must never fail over this check.
    const m = await this.runner.git(
      ['annex', 'matchexpression', '--largefiles', expr, `--file=${path}`, `--size=${size}`],
      { okCodes: [1, MATCH_UNDECIDED] },
    );
    return m.code === 0;
  }

  /** Of these paths, those the transient-file rules leave out because git does not track them. */
  private async untrackedTransient(paths: string[]): Promise<Set<string>> {
    const matched = paths.filter((p) => this.ignore.ignores(p));
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

  private async ignored(paths: string[]): Promise<Set<string>> {
    if (paths.length === 0) return new Set();
    // check-ignore takes plain paths (no pathspec magic), so no literal-pathspec env here.
    const r = await this.runner.git(['check-ignore', '--stdin', '-z'], {
      input: paths.join('\0'),
      okCodes: [1],
    });
    return new Set(r.stdout.split('\0').filter(Boolean));
  }

  /** `-c user.name/-c user.email` only when the user has not configured an identity. */
  private async identity(): Promise<string[]> {
    if (this.identityArgs) return this.identityArgs;
    const name = await this.runner.git(['config', 'user.name'], { okCodes: [1] });
    const email = await this.runner.git(['config', 'user.email'], { okCodes: [1] });
    const args: string[] = [];
    if (!name.stdout.trim()) args.push('-c', 'user.name=git-autosync');
    if (!email.stdout.trim()) args.push('-c', `user.email=git-autosync@${hostname()}`);
    this.identityArgs = args;
    return args;
  }

  // ----------------------------------------------------------------------------------------- fetch

  async fetch(remote: string): Promise<void> {
    // A push of ours moves refs/remotes/<remote>/* too: a fetch that read one of them just before
    // fails with "cannot lock ref … is at X but expected Y" (seen when `sync` fetched while the
    // pusher pushed a commit). That is a race, not a remote that is down: fetch again at once.
    for (let i = 0; ; i++) {
      try {
        await this.runner.git(['fetch', '--quiet', '--no-tags', '--prune', remote], {
          timeoutMs: 5 * 60_000,
        });
        return;
      } catch (e) {
        if (!(e instanceof LockedError) || i >= FETCH_LOCK_RETRIES) throw e;
        await new Promise((r) => setTimeout(r, 50 * 2 ** i));
      }
    }
  }

  // ----------------------------------------------------------------------------------------- merge

  /**
   * Merges every incoming ref that HEAD does not already contain (and, in annex mode, the git-annex
   * branches). Returns what was merged, and whether the location logs moved.
   */
  async mergeIncoming(): Promise<{ merges: MergeResult[]; annexMoved: boolean; before: string | null }> {
    const results: MergeResult[] = [];
    // Under the lock: a commit's staging runs git-annex's clean filter, which writes the location
    // log of every file it annexes into git-annex's journal, and the commit merges that journal
    // into the git-annex branch once, when it is done. Merging it here meanwhile committed it piece
    // by piece (the journal is never empty during a 200-file staging): every piece moved our
    // git-annex branch, was pushed, merged by every peer and pushed back, which signalled a merge
    // here again, competing with the staging for the same two cores and for git-annex's journal
    // (demo --annex: 43 git-annex pushes while 202 files took 25 s to commit).
    const annexMoved = this.info.mode === 'annex' && (await this.mutex.run(() => this.mergeAnnexBranch()));
    // One call reads our branch with the incoming refs: the common case (nothing new) costs one process.
    const b = this.branch;
    const refs = await this.runner.run(
      forEachRef([
        `refs/heads/${b}`,
        `refs/heads/synced/${b}`,
        `refs/remotes/*/${b}`,
        `refs/remotes/*/synced/${b}`,
      ]),
    );
    const seen = new Set<string>([refs.get(`refs/heads/${b}`) ?? '']);
    for (const [ref, sha] of refs) {
      if (seen.has(sha)) continue;
      seen.add(sha);
      const r = await this.mergeOne(ref, sha);
      if (r) results.push(r);
    }
    return { merges: results, annexMoved, before: refs.get(`refs/heads/${b}`) ?? null };
  }

  /**
   * Union-merges the git-annex branches (location logs). Returns true when our git-annex branch
   * moved: peers' content locations changed, so what is wanted here may now be fetchable.
   */
  async mergeAnnexBranch(): Promise<boolean> {
    // git-annex takes 50-130 ms to start, and most merges move no git-annex ref (an edit to a file
    // kept in git): skip it when none moved since our last run and its journal is empty.
    const inputs = await this.annexInputs();
    if (inputs === this.lastAnnexInputs && !this.journalPending()) return false;
    await this.runner.git([
      'annex',
      'sync',
      '--only-annex',
      '--no-content',
      '--no-push',
      '--no-pull',
      '--quiet',
    ]);
    this.lastAnnexInputs = await this.annexInputs();
    // Our git-annex branch is among the inputs: whether it moved needs no git call of its own.
    return annexBranchOf(this.lastAnnexInputs) !== annexBranchOf(inputs);
  }

  /** The git-annex branches a merge of the location logs reads: ours and what peers pushed or we fetched. */
  private async annexInputs(): Promise<string> {
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

  /** What annexInputs() read after the last location-log merge; null before the first. */
  private lastAnnexInputs: string | null = null;

  /** git-annex has uncommitted journal entries (location logs written by the clean filter). */
  private journalPending(): boolean {
    try {
      return readdirSync(join(this.info.gitDir, 'annex', 'journal')).length > 0;
    } catch {
      return false;
    }
  }

  private async mergeOne(ref: string, sha: string): Promise<MergeResult | null> {
    for (let attempt = 0; attempt < MERGE_RETRIES; attempt++) {
      // Commit whatever the user saved first: the merge then never has to overwrite unsaved work.
      await this.flushHook();
      try {
        return await this.mutex.run(() => this.withLockRetry(() => this.mergeLocked(ref, sha)));
      } catch (e) {
        if (isWorkTreeInTheWay(e)) {
          this.log.info({ ref }, 'work tree changed under the merge; committing it and merging again');
          continue;
        }
        throw e;
      }
    }
    throw new GitError(`merge of ${ref} kept racing with edits; will retry on the next change`, [], null, '');
  }

  private async mergeLocked(ref: string, sha: string): Promise<MergeResult | null> {
    this.assertOurs();
    // git restores a tracked file that is missing from the work tree without complaint, so a delete
    // (or a rename) the watcher has not reported yet would be undone by the merge. Whatever differs
    // from HEAD is committed first, here, under the same lock as the merge; untracked files too, so
    // the new name of a renamed file lands in the same commit as the delete (git sees a rename).
    const listed = (await this.runner.run(status())).map((e) => e.path).filter((p) => !p.endsWith('/'));
    const writing = listed.length > 0 ? this.leaveOut(listed) : new Set<string>();
    const dirty = writing.size > 0 ? listed.filter((p) => !writing.has(p)) : listed;
    if (dirty.length > 0) {
      try {
        const c = await this.commitLocked(dirty);
        if (c) {
          this.log.info({ sha: c.sha, files: dirty.length }, `${c.message} (before a merge)`);
          this.onOwnCommit(c);
        }
      } catch (e) {
        // A path git refuses must not block merging; ff-only still refuses to overwrite anything.
        // A full disk or a held lock is no bad path: the merge waits for it like the commit does.
        if (e instanceof TransientError) throw e;
        this.log.warn({ err: String(e) }, 'could not commit local changes before a merge; merging anyway');
      }
    }
    const head = await this.head();
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
        if (!isUntrackedInTheWay(e) || attempt >= 2) throw e;
        const paths = e.stderr
          .split('\n')
          .filter((l) => l.startsWith('\t'))
          .map((l) => l.slice(1));
        const ignored = await this.ignored(paths);
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

  /** Marks a merge in progress as the agent's own. Versions before 0.2 wrote it around `git annex
   * merge`; none does now, but a crash of one may have left it, and recover() finishes that merge. */
  private get mergeMarker(): string {
    return statePaths(this.info.stateDir).merging;
  }

  /**
   * Throws BusyError when the repository is not ours to touch right now: HEAD is not the branch we
   * sync (the user switched branches or detached HEAD), or the user is in the middle of a merge,
   * rebase, cherry-pick or revert. Committing or merging then would commit conflict markers, or
   * undo the user's resolution. Work waits and retries until the repository is back.
   */
  private assertOurs(): void {
    let head = '';
    try {
      head = readFileSync(join(this.info.gitDir, 'HEAD'), 'utf8').trim();
    } catch {
      // unreadable HEAD: git itself will complain below
    }
    if (head !== `ref: refs/heads/${this.branch}`) {
      const where = head.startsWith('ref: refs/heads/') ? `branch ${head.slice(16)}` : 'a detached HEAD';
      throw new BusyError(
        `HEAD is on ${where}, not ${this.branch}; syncing waits until you switch back`,
        [],
        null,
        '',
      );
    }
    const ours = existsSync(this.mergeMarker);
    for (const [file, what] of USER_OPERATIONS) {
      if (file === 'MERGE_HEAD' && ours) continue;
      if (existsSync(join(this.info.gitDir, file))) {
        throw new BusyError(`a ${what} is in progress; syncing waits until you finish it`, [], null, '');
      }
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
      await this.runner.git([...(await this.identity()), 'commit', '-q', '--no-verify', '--no-edit']);
    } else {
      // Nothing is lost by aborting: both sides are still commits, and the next pass merges again.
      await this.runner.git(['merge', '--abort']);
    }
  }

  // ------------------------------------------------------------------------------------------ push

  /** The refspecs we push, after `git annex sync`'s conventions. */
  private refspecs(remote: string): string[] {
    const b = this.branch;
    const specs = [`refs/heads/${b}:refs/heads/synced/${b}`];
    if (!this.nonBare.has(remote)) specs.push(`refs/heads/${b}:refs/heads/${b}`);
    if (this.info.mode === 'annex') {
      specs.push('refs/heads/git-annex:refs/heads/synced/git-annex');
      if (!this.nonBare.has(remote)) specs.push('refs/heads/git-annex:refs/heads/git-annex');
    }
    return specs;
  }

  /** True when the remote's tracking refs lag behind ours: there is something to push. */
  async needsPush(remote: string): Promise<boolean> {
    const b = this.branch;
    const refs = await this.runner.run(
      forEachRef([
        `refs/heads/${b}`,
        'refs/heads/git-annex',
        `refs/remotes/${remote}/synced/${b}`,
        `refs/remotes/${remote}/synced/git-annex`,
      ]),
    );
    const mine = refs.get(`refs/heads/${b}`);
    if (mine && refs.get(`refs/remotes/${remote}/synced/${b}`) !== mine) return true;
    const annex = refs.get('refs/heads/git-annex');
    return (
      this.info.mode === 'annex' && !!annex && refs.get(`refs/remotes/${remote}/synced/git-annex`) !== annex
    );
  }

  /**
   * Commits on our branch that this remote has not got, as far as we know: not reachable from its
   * synced/<branch> or <branch> tracking ref (refs/remotes/<remote>/…, moved by our pushes and
   * fetches). null when we know nothing of the remote yet (no tracking ref at all) or git fails.
   */
  async ahead(remote: string): Promise<number | null> {
    const b = this.branch;
    try {
      const refs = await this.runner.run(
        forEachRef([`refs/heads/${b}`, `refs/remotes/${remote}/${b}`, `refs/remotes/${remote}/synced/${b}`]),
      );
      const mine = refs.get(`refs/heads/${b}`);
      const theirs = [...refs].filter(([ref]) => ref.startsWith('refs/remotes/')).map(([, sha]) => sha);
      if (theirs.length === 0) return null;
      if (!mine) return 0;
      const r = await this.runner.git(['rev-list', '--count', mine, '--not', ...theirs]);
      return Number(r.stdout.trim());
    } catch {
      return null;
    }
  }

  /**
   * Pushes our branch (and git-annex) to one remote. Throws PushRejectedError when the remote has
   * work we lack (the caller fetches, merges and pushes again), RemoteUnreachableError when down.
   */
  async push(remote: string): Promise<PushResult> {
    const specs = this.refspecs(remote);
    const r = await this.runner.git(['push', '--porcelain', remote, ...specs], {
      okCodes: [1],
      timeoutMs: 5 * 60_000,
    });
    const results = parsePushPorcelain(r.stdout);
    if (r.code !== 0 && results.length === 0) {
      throw new GitError(
        `push to ${remote} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`,
        [],
        r.code,
        r.stderr,
      );
    }
    for (const res of results) {
      if (res.checkedOut && !res.to.includes('/synced/')) this.nonBare.add(remote);
    }
    const rejected = results.filter((x) => !x.ok && x.to.includes('/synced/'));
    if (rejected.length > 0) {
      const what = rejected.map((x) => `${x.to} ${x.summary}`).join('; ');
      throw new PushRejectedError(`push to ${remote} rejected: ${what}`, [], r.code, r.stderr);
    }
    const moved = results.filter((x) => x.ok && x.flag !== '=').map((x) => x.to);
    return { remote, refs: moved, upToDate: moved.length === 0 };
  }

  // -------------------------------------------------------------------------------------- recovery

  /** Runs fn, waiting out index.lock held by another git; removes the lock if its owner is dead. */
  async withLockRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof LockedError) || i >= LOCK_RETRIES) throw e;
        if (this.removeStaleIndexLock(STALE_LOCK_AGE_MS)) continue;
        await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** i)));
      }
    }
  }

  /**
   * Removes .git/index.lock when no live git process works in this repository and the lock is older
   * than minAgeMs. Returns true when it removed one. After a kill -9 this makes start-up instant
   * instead of waiting out a timeout.
   */
  removeStaleIndexLock(minAgeMs: number): boolean {
    const lock = join(this.info.gitDir, 'index.lock');
    let age: number;
    try {
      age = Date.now() - statSync(lock).mtimeMs;
    } catch {
      return false;
    }
    if (age < minAgeMs || gitProcessesIn(this.info.workTree, this.info.gitDir) > 0) return false;
    try {
      unlinkSync(lock);
      this.log.warn({ lock }, 'removed a stale index.lock left by a dead git process');
      return true;
    } catch {
      return false;
    }
  }

  /** Start-up recovery after a crash or kill -9: stale locks, a half-done merge. */
  async recover(): Promise<void> {
    this.removeStaleIndexLock(0);
    // Only a merge the agent itself started (and died in) is finished; a user's is left alone.
    if (existsSync(this.mergeMarker)) {
      await this.finishMerge();
      rmSync(this.mergeMarker, { force: true });
    }
  }
}

function existsLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Counts live git processes whose working directory is inside this repository (Linux /proc). */
export function gitProcessesIn(workTree: string, gitDir: string): number {
  let n = 0;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (!(cwd === workTree || cwd.startsWith(workTree + '/') || cwd.startsWith(gitDir))) continue;
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (/^git/.test(comm)) n++;
    } catch {
      // The process ended while we looked, or is not ours to inspect.
    }
  }
  return n;
}
