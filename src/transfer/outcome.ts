// What happens after a transfer: a pure decision, table-tested (test/unit/transfer/outcome.test.ts).
//
// Waits on: nothing; it is called by the worker pool (workers.ts) with the facts of one outcome (a
//   lane's answer for a key, or git-annex's transfer lock held by another process).
// Produces: what the pool does next: the queue change (remove, keep, defer, retry after N, fall back
//   to the next holder, mark failed), whether the remote is now considered down and for how long,
//   the `transfer` event's state, and whether content moved. The pool and its lanes do the I/O.
//
// Failures retry with exponential backoff, maxAttempts times; a download then moves on to the next
// cheapest remote that has the key, and only when all have failed is the entry recorded as failed.
import { backoffDelay } from '../core/backoff.js';
import { isAnnexRemoteUnreachable } from '../git/errors.js';
import type { LaneResult } from './batch.js';
import type { TransferEntry } from './queue.js';

/** Failed attempts per remote before giving up on it (a download then tries the next holder). */
export const DEFAULT_MAX_ATTEMPTS = 5;
/** First retry after 2 s (a blip), doubling up to 5 min (a remote that is down for a while). */
export const RETRY_BASE_MS = 2_000;
export const RETRY_MAX_MS = 5 * 60_000;
/** How long to wait before re-checking a key another process is transferring. */
export const DEFER_MS = 2_000;
/** Deferrals before we stop waiting for someone else's transfer (~1 h at DEFER_MS): bounded. */
export const MAX_DEFERRALS = 1_800;
/** A remote that failed as unreachable is left alone for 5 s, doubling to 10 min while it stays
 * down, so a laptop away from its LAN does not burn attempts on every queued key. */
const DOWN_BASE_MS = 5_000;
const DOWN_MAX_MS = 10 * 60_000;

/** Why the pool killed a lane, so its answers are not counted as failures. */
export type KillReason = 'cancel' | 'pause' | 'stop';

/** The `transfer` event's state for this outcome. */
export type OutcomeEvent =
  'done' | 'skipped' | 'cancelled' | 'interrupted' | 'deferred' | 'retrying' | 'fallback' | 'failed';

/** What to do with the queue entry. Times are absolute (from the facts' `now`). */
export type QueueAction =
  | { op: 'remove' }
  /** Left as it is: it resumes later (or cancel already removed it). */
  | { op: 'keep' }
  | { op: 'update'; patch: Partial<TransferEntry> }
  | { op: 'fail'; error: string };

/** What the pool should know about the remote after this outcome. */
export type RemoteAction =
  /** It answered: forget that it was down. */
  | { op: 'up' }
  /** Unreachable: leave it alone until `until`; `strikes` is the new count. */
  | { op: 'down'; strikes: number; until: number }
  | { op: 'none' };

export interface Outcome {
  queue: QueueAction;
  remote: RemoteAction;
  event: OutcomeEvent;
  /** Content moved (counts towards the lane's batch, whose close pushes the location log). */
  transferred: boolean;
  /** A real failure (not an interruption, not busy): logged with these facts. */
  failure: { attempts: number; unreachable: boolean; error: string } | null;
}

export interface OutcomeFacts {
  /** The entry as it was handed to the lane. */
  entry: Pick<TransferEntry, 'direction' | 'attempts' | 'deferrals' | 'fallbacks'>;
  result: Pick<LaneResult, 'ok' | 'noop' | 'busy' | 'notStarted' | 'error'>;
  /** Why the lane was killed, if it was. */
  killReason: KillReason | null;
  /** The key is held by cancel() (so an interruption reads "cancelled"). */
  held: boolean;
  /** Unreachable strikes the remote has so far (0 when it is up). */
  downStrikes: number;
  maxAttempts: number;
  retryBaseMs: number;
  now: number;
  /** For the backoff's jitter; Math.random in the pool, fixed in tests. */
  rand?: () => number;
}

/** The next holder of a download's key, or null when there is none. */
function fallbackPatch(entry: OutcomeFacts['entry'], error: string): Partial<TransferEntry> | null {
  if (entry.direction !== 'download' || !entry.fallbacks || entry.fallbacks.length === 0) return null;
  const [next, ...rest] = entry.fallbacks;
  return { remote: next, fallbacks: rest, attempts: 0, notBefore: 0, lastError: error };
}

/** What to do after a lane answered for a key. */
export function afterTransfer(f: OutcomeFacts): Outcome {
  const { entry, result: res } = f;
  if (res.ok) {
    return {
      queue: { op: 'remove' },
      remote: { op: 'up' },
      event: res.noop ? 'skipped' : 'done',
      transferred: !res.noop,
      failure: null,
    };
  }
  if (f.killReason !== null || res.notStarted) {
    // Not a failure: it stays queued (unless cancel removed it) and resumes later.
    return {
      queue: { op: 'keep' },
      remote: { op: 'none' },
      event: f.killReason === 'cancel' && f.held ? 'cancelled' : 'interrupted',
      transferred: false,
      failure: null,
    };
  }
  if (res.busy) {
    return {
      queue: { op: 'update', patch: { notBefore: f.now + DEFER_MS, deferrals: (entry.deferrals ?? 0) + 1 } },
      remote: { op: 'none' },
      event: 'deferred',
      transferred: false,
      failure: null,
    };
  }
  const attempts = entry.attempts + 1;
  const error = res.error ?? 'failed';
  const unreachable = isAnnexRemoteUnreachable(error);
  const failure = { attempts, unreachable, error };
  let remote: RemoteAction = { op: 'none' };
  if (unreachable) {
    const strikes = f.downStrikes + 1;
    remote = { op: 'down', strikes, until: f.now + backoffDelay(strikes, DOWN_BASE_MS, DOWN_MAX_MS, f.rand) };
  }
  const fallback = fallbackPatch(entry, error);
  const base = { remote, transferred: false, failure };
  // Unreachable: another holder may be right here on the LAN, so do not wait for this one to come
  // back. The list only shrinks, so this is bounded by the number of holders.
  if (unreachable && fallback)
    return { ...base, queue: { op: 'update', patch: fallback }, event: 'fallback' };
  if (attempts < f.maxAttempts) {
    const delay = backoffDelay(attempts, f.retryBaseMs, RETRY_MAX_MS, f.rand);
    return {
      ...base,
      queue: { op: 'update', patch: { attempts, notBefore: f.now + delay, lastError: error } },
      event: 'retrying',
    };
  }
  if (fallback) return { ...base, queue: { op: 'update', patch: fallback }, event: 'fallback' };
  return { ...base, queue: { op: 'fail', error }, event: 'failed' };
}

/** What to do with an entry whose key another process (not one of our lanes) is transferring. */
export function whenHeldElsewhere(entry: Pick<TransferEntry, 'deferrals'>, now: number): QueueAction {
  const deferrals = (entry.deferrals ?? 0) + 1;
  if (deferrals > MAX_DEFERRALS) return { op: 'fail', error: 'another process kept transferring this key' };
  return { op: 'update', patch: { notBefore: now + DEFER_MS, deferrals } };
}

export interface EndedFacts {
  entry: Pick<TransferEntry, 'direction' | 'file'>;
  ok: boolean;
  /** The lane's git-annex is still running. */
  laneAlive: boolean;
  /** The entry was the lane's head (the one git-annex was working on) when the lane was first seen
   * dead. Entries pipelined behind it never started. */
  deadHead: boolean;
}

/**
 * The work-tree file to put back after a lane answered for an entry, or null. Only a download that
 * git-annex was working on when its lane died (killed or crashed) can have been mid-fill, with the
 * file unlinked (putback.ts); a missing file among the entries behind it is the user's deletion.
 */
export function putBackAfter(f: EndedFacts): string | null {
  if (f.ok || f.laneAlive || !f.deadHead || f.entry.direction !== 'download') return null;
  return f.entry.file ?? null;
}
