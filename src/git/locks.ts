// index.lock: waiting out another git that holds it, and removing one a dead git left behind.
// Waits on nothing of its own (the caller's git step); produces the step's result, or its error once
// the retries are spent. Used by GitSync around every section that moves the index or HEAD.
import { readFileSync, readdirSync, readlinkSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { LockedError } from './errors.js';

/** index.lock waits: 12 tries with growing pauses cover ~6 s, longer than any git step we run. */
export const LOCK_RETRIES = 12;
/** A lock older than this with no live git process in the repository is a dead process's leftover. */
export const STALE_LOCK_AGE_MS = 2_000;
/** The first pause after a held lock: 25 ms, doubling (a git step that holds it is usually short)… */
const LOCK_PAUSE_BASE_MS = 25;
/** …up to 1 s, so a long-held lock is looked at again every second. */
const LOCK_PAUSE_MAX_MS = 1_000;

/** The pause before try i + 1 after try i found index.lock held. Pure. */
export function lockPauseMs(i: number): number {
  return Math.min(LOCK_PAUSE_MAX_MS, LOCK_PAUSE_BASE_MS * 2 ** i);
}

/**
 * Removes .git/index.lock when no live git process works in this repository and the lock is older
 * than minAgeMs. Returns true when it removed one. After a kill -9 this makes start-up instant
 * instead of waiting out a timeout.
 */
export function removeStaleIndexLock(
  repo: { gitDir: string; workTree: string },
  log: Logger,
  minAgeMs: number,
): boolean {
  const lock = join(repo.gitDir, 'index.lock');
  let age: number;
  try {
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false;
  }
  if (age < minAgeMs || gitProcessesIn(repo.workTree, repo.gitDir) > 0) return false;
  try {
    unlinkSync(lock);
    log.warn({ lock }, 'removed a stale index.lock left by a dead git process');
    return true;
  } catch {
    return false;
  }
}

/** Runs fn, waiting out index.lock held by another git; removes the lock if its owner is dead. */
export async function withLockRetry<T>(
  repo: { gitDir: string; workTree: string },
  log: Logger,
  fn: () => Promise<T>,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof LockedError) || i >= LOCK_RETRIES) throw e;
      if (removeStaleIndexLock(repo, log, STALE_LOCK_AGE_MS)) continue;
      await new Promise((r) => setTimeout(r, lockPauseMs(i)));
    }
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
