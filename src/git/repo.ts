// Finding and checking the repository the agent acts on. Every bad-input case the CLI must explain
// in one line is detected here: not a repository, a bare one, a detached HEAD, git-annex missing
// in an annex repository, an unwritable .git/autosync.
import {
  accessSync,
  constants,
  mkdirSync,
  existsSync,
  readFileSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { stateDirOf } from './state-paths.js';
import { randomBytes, createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Runner, runProcess } from './runner.js';
import { NoWorkTreeError, NotARepositoryError, NotInstalledError } from './errors.js';
import { UserError } from '../core/errors.js';

export type Mode = 'git' | 'annex';

export interface RepoInfo {
  workTree: string;
  gitDir: string;
  /** .git/autosync: pid/lock, log, key, control socket, state. */
  stateDir: string;
  branch: string;
  mode: Mode;
  /** annex.uuid of this clone (annex mode), else null. */
  annexUuid: string | null;
}

/** What discover() finds when any checkout will do: `branch` is null while HEAD is detached. */
export type RepoPlace = Omit<RepoInfo, 'branch'> & { branch: string | null };

/**
 * Finds the repository at path and checks it can be synced. `start` and `sync` need HEAD on a
 * branch (changes must have a home); the verbs that only talk to a running agent or read state
 * (status, stop, pause, resume, notify, cancel) pass { detachedOk: true }, so a `git rebase -i` or
 * a `git checkout <sha>` never locks the user out of the agent that is still running.
 */
export async function discover(path: string): Promise<RepoInfo>;
export async function discover(path: string, opts: { detachedOk: true }): Promise<RepoPlace>;
export async function discover(path: string, opts: { detachedOk?: boolean } = {}): Promise<RepoPlace> {
  const cwd = resolve(path);
  if (!existsSync(cwd)) throw new UserError(`${cwd} does not exist; pass -C <path to a git repository>`);
  const runner = new Runner(cwd);
  let out: string;
  try {
    out = (
      await runner.git(['rev-parse', '--is-bare-repository', '--absolute-git-dir', '--show-toplevel'], {
        timeoutMs: 10_000,
      })
    ).stdout;
  } catch (e) {
    if (e instanceof NotInstalledError)
      throw new UserError('git is not installed; install it (apt install git)', 1);
    if (e instanceof NotARepositoryError) {
      throw new UserError(`${cwd} is not a git repository; run 'git init' there or pass -C <repository>`);
    }
    if (e instanceof NoWorkTreeError) {
      throw new UserError(`${cwd} is a bare repository; git-autosync needs a clone with a work tree`);
    }
    throw e;
  }
  const [bare, gitDir, workTree] = out.trim().split('\n');
  if (bare === 'true' || !workTree) {
    throw new UserError(`${cwd} is a bare repository; git-autosync needs a clone with a work tree`);
  }
  const head = await runner.git(['symbolic-ref', '-q', '--short', 'HEAD'], { okCodes: [1] });
  if (head.code !== 0 && !opts.detachedOk) {
    throw new UserError(
      `HEAD is detached in ${workTree}; check out a branch first (e.g. 'git switch main') so changes have a home`,
    );
  }
  const branch = head.code === 0 ? head.stdout.trim() : null;
  const cfg = await runner.git(['config', '--get', 'annex.uuid'], { okCodes: [1] });
  const annexUuid = cfg.stdout.trim() || null;
  const mode: Mode = annexUuid ? 'annex' : 'git';
  if (mode === 'annex') await requireAnnex();
  return { workTree, gitDir: gitDir!, stateDir: stateDirOf(gitDir!), branch, mode, annexUuid };
}

/**
 * The branch HEAD is on, read from .git/HEAD (a plain file read: instant, even while a rebase or a
 * long git command holds the index lock); null when HEAD is detached or unreadable.
 */
export function checkedOutBranch(gitDir: string): string | null {
  let head = '';
  try {
    head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
  } catch {
    return null;
  }
  return head.startsWith('ref: refs/heads/') ? head.slice('ref: refs/heads/'.length) : null;
}

/** True when the repository has annex history but this clone has not run `git annex init`. */
export async function hasUninitialisedAnnex(workTree: string): Promise<boolean> {
  const r = new Runner(workTree);
  const uuid = await r.git(['config', '--get', 'annex.uuid'], { okCodes: [1] });
  if (uuid.stdout.trim()) return false;
  const refs = await r.git([
    'for-each-ref',
    '--count=1',
    '--format=%(refname)',
    'refs/heads/git-annex',
    'refs/remotes/*/git-annex',
  ]);
  return refs.stdout.trim() !== '';
}

export async function requireAnnex(): Promise<void> {
  try {
    await runProcess('git-annex', ['version', '--raw'], { timeoutMs: 20_000 });
  } catch (e) {
    if (e instanceof NotInstalledError) {
      throw new UserError(
        'this is a git-annex repository but git-annex is not installed; run: apt install git-annex',
        1,
      );
    }
    throw e;
  }
}

/** Creates .git/autosync (0700) and proves it is writable, or explains why not. */
export function ensureStateDir(info: Pick<RepoInfo, 'stateDir'>): void {
  try {
    mkdirSync(info.stateDir, { recursive: true, mode: 0o700 });
    accessSync(info.stateDir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new UserError(
      `cannot write to ${info.stateDir} (${code}); check the permissions of the repository`,
      1,
    );
  }
}

/** Random 256-bit key, hex, in a file created 0600. Never overwrites an existing key. */
export function ensureKeyFile(path: string): void {
  if (existsSync(path)) return;
  writeFileSync(path, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

/**
 * For `start` with XMPP configured: the key must be there already. A key made here would match no
 * other clone's, and every signal between them would be rejected; making it is init's job, or it
 * is copied from another clone.
 */
export function requireKeyFile(path: string): void {
  if (existsSync(path)) return;
  throw new UserError(
    `no repository key at ${path}; run 'git autosync init' here, or copy .git/autosync/key from another clone`,
    2,
  );
}

export function readKey(path: string): Buffer {
  const text = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-f]{32,}$/i.test(text))
    throw new UserError(`${path} does not hold a hex key; remove it and run 'git autosync init'`);
  return Buffer.from(text, 'hex');
}

/**
 * Stable node id of this clone: the host name and a short hash of the repository path, so it
 * survives restarts and differs between two clones on one machine.
 */
export function nodeId(info: RepoInfo): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9-]/g, '-')
      .slice(0, 32) || 'host';
  const h = createHash('sha256').update(info.workTree).digest('hex').slice(0, 8);
  return `${host}-${h}`;
}

/** Reads a small JSON file, or returns the fallback when it is missing or unreadable. */
export function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return fallback;
  }
}
