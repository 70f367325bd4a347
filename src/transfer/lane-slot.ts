// One git-annex lane as the worker pool (workers.ts) keeps it: the lane (batch.ts) and what the pool
// knows of it, its entries, the head's progress, why it was killed, whether it winds down.
//
// Waits on: nothing; openSlot starts the lane's git-annex and wires its progress into the slot.
// Produces: the LaneSlot the pool hands entries to (lane-choice.ts reads it as a LaneView).
import type { Logger } from '../core/log.js';
import { removeStaleIndexLock } from '../git/locks.js';
import { AnnexLane, type LaneOptions } from './batch.js';
import type { KillReason } from './outcome.js';
import type { Direction, TransferEntry } from './queue.js';

/** A transfer git-annex is working on now (a lane's head), for status. */
export interface ActiveTransfer {
  direction: Direction;
  key: string;
  remote: string;
  bytes: number;
  size: number;
}

export interface LaneSlot {
  lane: AnnexLane;
  /** Entries handed to the lane, in order; the head is running, the rest are pipelined. */
  entries: TransferEntry[];
  /** Progress of the head entry. */
  bytes: number;
  size: number;
  transferred: number;
  /** Why we killed it, so the results are not counted as failures. */
  killReason: KillReason | null;
  /** Killed as soon as the head answers (see interrupt: it was putting a file back). */
  killAfterHead: boolean;
  /** Settings changed (bandwidth), or time to recycle: take no more keys, close when drained. */
  stale: boolean;
  closing: boolean;
  /** The head entry when the lane was first seen dead (set once; see finish and putBack). */
  deadHead?: TransferEntry | null;
  /** Keys handed to this lane so far, and when it started (for recycling). */
  handled: number;
  startedAt: number;
}

/** What the lanes are working on now (the head of each), for status. */
export function activeTransfers(lanes: readonly LaneSlot[]): ActiveTransfer[] {
  const out: ActiveTransfer[] = [];
  for (const s of lanes) {
    const e = s.entries[0];
    if (e) out.push({ direction: e.direction, key: e.key, remote: e.remote, bytes: s.bytes, size: s.size });
  }
  return out;
}

/** Starts a lane's git-annex for one remote and direction, its progress kept on the slot's head. */
export function openSlot(o: Omit<LaneOptions, 'onProgress'>): LaneSlot {
  // The lane reports progress from its first line on; the slot exists by then (start() is below).
  let slot: LaneSlot | null = null;
  const lane = new AnnexLane({
    ...o,
    onProgress: (key, bytes, size) => {
      if (!slot || slot.entries[0]?.key !== key) return;
      slot.bytes = bytes;
      if (size !== null) slot.size = size;
    },
  });
  const s: LaneSlot = {
    lane,
    entries: [],
    bytes: 0,
    size: 0,
    transferred: 0,
    killReason: null,
    killAfterHead: false,
    stale: false,
    closing: false,
    handled: 0,
    startedAt: Date.now(),
  };
  slot = s;
  lane.start();
  return s;
}

/** At stop, an idle lane gets this long to finish git-annex's exit work (its index refresh re-reads
 * the files it filled: ~1 s per 200 MB here) before it is killed. */
const STOP_CLOSE_MS = 20_000;

/**
 * The pool's lanes at its stop, once the busy ones were interrupted: each is closed (git-annex
 * finishes its exit work) and awaited. A lane that needed SIGKILL (a loaded machine: git-annex's
 * exit work outlasted the SIGTERM grace) can leave .git/index.lock behind, and after our stop
 * nobody would remove it: the user's next git would fail. Every lane has exited by then; the lock
 * goes only if no git runs here and it is older than the last SIGKILL (one taken since is a live
 * git's).
 */
export async function closeAtStop(
  lanes: readonly LaneSlot[],
  repo: { gitDir?: string; workTree: string },
  log: Logger,
): Promise<void> {
  await Promise.all(lanes.map((s) => s.lane.close(STOP_CLOSE_MS)));
  const killedAt = Math.max(0, ...lanes.map((s) => s.lane.hardKilled ?? 0));
  if (repo.gitDir && killedAt > 0) {
    removeStaleIndexLock({ gitDir: repo.gitDir, workTree: repo.workTree }, log, Date.now() - killedAt);
  }
}
