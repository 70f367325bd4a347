// Talking to remotes: fetch, push (after `git annex sync`'s refspec conventions), and how far a
// remote's tracking refs lag behind ours. Waits on the caller (the merger's fetches, the pusher);
// produces fetched tracking refs, pushed refs, and typed errors (PushRejectedError, unreachable).
// Takes no repository mutex: fetch and push move no index and no HEAD.
import type { Runner } from './runner.js';
import type { RepoInfo } from './repo.js';
import { GitError, LockedError, PushRejectedError } from './errors.js';
import { forEachRef, parsePushPorcelain } from './commands.js';

export interface PushResult {
  remote: string;
  refs: string[];
  /** Nothing to push: the remote already has our refs. */
  upToDate: boolean;
}

/** A fetch that lost a race with our own push for a tracking ref is run again this many times
 * (pauses of 50, 100, 200 ms: a local push updates its refs in milliseconds). */
const FETCH_LOCK_RETRIES = 3;
const FETCH_LOCK_PAUSE_BASE_MS = 50;
/** A fetch or push of a big history over a slow link takes minutes; longer is a hung connection. */
const TRANSFER_TIMEOUT_MS = 5 * 60_000;

/** The refspecs we push, after `git annex sync`'s conventions. Pure. nonBare: the remote refused a
 * push to its checked-out branch, so it gets synced/* only. */
export function refspecs(branch: string, mode: RepoInfo['mode'], nonBare: boolean): string[] {
  const specs = [`refs/heads/${branch}:refs/heads/synced/${branch}`];
  if (!nonBare) specs.push(`refs/heads/${branch}:refs/heads/${branch}`);
  if (mode === 'annex') {
    specs.push('refs/heads/git-annex:refs/heads/synced/git-annex');
    if (!nonBare) specs.push('refs/heads/git-annex:refs/heads/git-annex');
  }
  return specs;
}

export interface RemotesDeps {
  info: RepoInfo;
  runner: Runner;
}

export class Remotes {
  private readonly info: RepoInfo;
  private readonly runner: Runner;
  /** Remotes that refused a push to their checked-out branch: non-bare peers get synced/* only. */
  private readonly nonBare = new Set<string>();

  constructor(d: RemotesDeps) {
    this.info = d.info;
    this.runner = d.runner;
  }

  async fetch(remote: string): Promise<void> {
    // A push of ours moves refs/remotes/<remote>/* too: a fetch that read one of them just before
    // fails with "cannot lock ref … is at X but expected Y" (seen when `sync` fetched while the
    // pusher pushed a commit). That is a race, not a remote that is down: fetch again at once.
    for (let i = 0; ; i++) {
      try {
        await this.runner.git(['fetch', '--quiet', '--no-tags', '--prune', remote], {
          timeoutMs: TRANSFER_TIMEOUT_MS,
          signal: this.runner.networkSignal,
        });
        return;
      } catch (e) {
        if (!(e instanceof LockedError) || i >= FETCH_LOCK_RETRIES) throw e;
        await new Promise((r) => setTimeout(r, FETCH_LOCK_PAUSE_BASE_MS * 2 ** i));
      }
    }
  }

  /** True when the remote's tracking refs lag behind ours: there is something to push. */
  async needsPush(remote: string): Promise<boolean> {
    const b = this.info.branch;
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
    const b = this.info.branch;
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
    const specs = refspecs(this.info.branch, this.info.mode, this.nonBare.has(remote));
    const r = await this.runner.git(['push', '--porcelain', remote, ...specs], {
      okCodes: [1],
      timeoutMs: TRANSFER_TIMEOUT_MS,
      signal: this.runner.networkSignal,
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
}
