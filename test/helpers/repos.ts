// Temp repositories for tests: real git (and git-annex) in a fresh temp dir per test, removed after.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { execFileSync } from 'node:child_process';

export const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  LC_ALL: 'C',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function tmpDir(prefix = 'gas-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  // KEEP_TMP=1 keeps the directories (and the agents' logs in them) for a post-mortem. The rm is
  // retried on ENOTEMPTY and the like: a git process the test started may still be finishing.
  return {
    path,
    cleanup: () =>
      process.env.KEEP_TMP
        ? undefined
        : rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }),
  };
}

/** A non-bare repo with one commit on `main`, user identity set. */
export function initRepo(path: string, opts: { annex?: boolean; bare?: boolean } = {}): string {
  mkdirSync(path, { recursive: true });
  if (opts.bare) {
    git(path, 'init', '-q', '--bare', '-b', 'main');
    return path;
  }
  git(path, 'init', '-q', '-b', 'main');
  git(path, 'config', 'user.name', 'Test');
  git(path, 'config', 'user.email', 'test@example.invalid');
  if (opts.annex) execFileSync('git', ['annex', 'init', '-q', 'test'], { cwd: path, env: GIT_ENV });
  return path;
}

export function write(repo: string, rel: string, content: string | Buffer): void {
  const p = join(repo, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

/** The file's text, or null when it does not exist (also if it vanishes between a check and a read). */
export function read(repo: string, rel: string): string | null {
  try {
    return readFileSync(join(repo, rel), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** A file's size, or -1 when it does not exist (a pointer file is small, a filled one full size). */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

/** Every path some commit in the repository deleted (all refs), newline-separated; '' if none. */
export function deletedInHistory(repo: string): string {
  return git(repo, 'log', '--all', '--diff-filter=D', '--name-only', '--format=').trim();
}
