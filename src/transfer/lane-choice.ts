// Which lane takes a queued transfer, and when a lane is recycled: pure decisions over the pool's
// lanes, table-tested (test/unit/transfer/lane-choice.test.ts).
//
// Waits on: nothing; the worker pool (workers.ts) asks it while it hands out queued entries.
// Produces: the lane an entry goes to (an idle one, a new one, or behind a running key), how many
//   more keys the lanes can take, whether a lane is due for recycling, and the order in which the
//   queue is walked (remotes with no lane first, large content first). The pool opens, closes and
//   feeds the lanes.
//
// Large content never shares a lane: it is never pipelined behind another key, nothing is
// pipelined behind it, and while one waits for a lane no more keys are pipelined anywhere, so a
// lane drains (within PIPELINE_DEPTH small keys) and the large one takes it. Measured before: a
// 20 MiB file written with 200 small ones reached the peer after all of them (issue 10).
import { keySize } from '../annex/keys.js';
import type { Direction } from './queue.js';

/** A lane is recycled (closed after its current keys, a new one opened) after this long or this
 * many keys: git-annex commits the location log only on exit, and peers should learn where content
 * is during a long run, not only at its end. By time rather than by count: each recycle costs a
 * git-annex start, a location-log commit, a push, a peer's merge and a re-plan of the files moved.
 * At 100 keys, small files recycled every ~1.7 s (20 times in a 1,000-file burst), and that churn
 * halved the transfer rate next to a raw `git annex get -J2`. */
const LANE_MAX_KEYS = 2_000;
const LANE_MAX_MS = 10_000;
/** With other remotes waiting for a lane, a lane yields after this many keys (round robin), so
 * one remote with thousands of files cannot starve the others. */
const LANE_FAIR_KEYS = 8;
/** Keys handed to a lane ahead of its answer, so git-annex goes straight from one small file to
 * the next; few, because a pipelined key is stuck behind the running one until that finishes. */
export const PIPELINE_DEPTH = 4;
/** Content at least this big is "large". git-annex spends ~15 ms of its own on each small key here;
 * at local-disk speed (100-200 MB/s) 4 MiB takes 20-40 ms of bytes on top, more than the keys
 * pipelined behind it should wait, and a 20 MiB file held four of them (and they it) for 0.1-0.2 s. */
export const LARGE_BYTES = 4 * 1024 * 1024;

/** What these decisions read of an entry: its size, if the queue or the key knows it. */
export interface EntrySize {
  readonly key: string;
  readonly size?: number | null;
}

/** The content is large (see LARGE_BYTES); an unknown size counts as small. */
export function isLarge(e: EntrySize): boolean {
  return (e.size ?? keySize(e.key) ?? 0) >= LARGE_BYTES;
}

/** What these decisions read of a lane (the pool's LaneSlot has it all). */
export interface LaneView {
  lane: { readonly remote: string; readonly direction: Direction; readonly alive: boolean };
  /** Entries handed to the lane (running and pipelined). */
  entries: readonly EntrySize[];
  killReason: string | null;
  stale: boolean;
  closing: boolean;
  /** Keys handed to this lane so far, and when it started. */
  handled: number;
  startedAt: number;
}

type Group = { direction: Direction; remote: string };
const group = (x: Group) => `${x.direction} ${x.remote}`;

/** The lane can take this entry: same remote and direction, alive, not winding down. */
export function usable(s: LaneView, e: Group): boolean {
  return (
    !s.closing &&
    !s.stale &&
    s.lane.alive &&
    s.killReason === null &&
    s.lane.remote === e.remote &&
    s.lane.direction === e.direction
  );
}

/** The lane may take more keys behind its running one: open, and not holding large content. */
function pipelinable(s: LaneView): boolean {
  return !s.closing && !s.stale && s.lane.alive && s.killReason === null && !s.entries.some(isLarge);
}

/**
 * How many more keys the lanes could take now (new lanes count at full pipeline depth). While a
 * large entry waits for a lane (`largeWaiting`), only idle lanes count: nothing is pipelined.
 */
export function capacity(lanes: readonly LaneView[], slots: number, largeWaiting = false): number {
  let n = Math.max(0, slots - lanes.length) * PIPELINE_DEPTH;
  for (const s of lanes) {
    if (largeWaiting) {
      if (s.entries.length === 0 && pipelinable(s)) n += PIPELINE_DEPTH;
    } else if (pipelinable(s)) n += PIPELINE_DEPTH - s.entries.length;
  }
  // Idle lanes of other remotes can be closed to make room.
  if (n === 0 && lanes.some((s) => s.entries.length === 0 && !s.closing)) n = 1;
  return Math.max(0, n);
}

/**
 * The lane for an entry: an idle lane for its remote first, then a new lane ('open') while slots
 * allow, then pipelining behind a running key of the same remote (the least loaded lane that holds
 * no large content). A large entry is never pipelined, and while one waits (`largeWaiting`) no
 * other entry is either. null: no lane can take it now.
 */
export function pickLane<S extends LaneView>(
  lanes: readonly S[],
  slots: number,
  e: Group & EntrySize,
  largeWaiting = false,
): S | 'open' | null {
  const idle = lanes.find((s) => s.entries.length === 0 && usable(s, e));
  if (idle) return idle;
  if (lanes.length < slots) return 'open';
  if (largeWaiting || isLarge(e)) return null;
  const behind = lanes
    .filter((s) => s.entries.length < PIPELINE_DEPTH && usable(s, e) && pipelinable(s))
    .sort((a, b) => a.entries.length - b.entries.length)[0];
  return behind ?? null;
}

/**
 * A lane is due for recycling (see LANE_MAX_KEYS): it has handled enough keys or run long enough,
 * or, when every slot is taken and other remotes wait (`crowded`), it has had its fair share.
 */
export function dueForRecycle(s: LaneView, now: number, crowded: boolean): boolean {
  return (
    s.handled >= LANE_MAX_KEYS || now - s.startedAt >= LANE_MAX_MS || (crowded && s.handled >= LANE_FAIR_KEYS)
  );
}

/** The queue in the order it is handed out: remotes that have no lane go first, so a freed slot
 * goes round instead of back to the remote that happens to be first in the queue; within each of
 * those, large content first, so it takes the first free lane instead of waiting behind a queue of
 * small keys. Stable otherwise (queue order). */
export function fairOrder<E extends Group & EntrySize>(all: readonly E[], lanes: readonly LaneView[]): E[] {
  const withLane = new Set(lanes.filter((s) => !s.closing && !s.stale).map((s) => group(s.lane)));
  const rank = (e: E) => (withLane.has(group(e)) ? 2 : 0) + (isLarge(e) ? 0 : 1);
  const buckets: E[][] = [[], [], [], []];
  for (const e of all) buckets[rank(e)]!.push(e);
  return buckets.flat();
}

/** Some startable entry is for a remote (and direction) that has no open lane. */
export function othersWaiting<E extends Group>(
  all: readonly E[],
  lanes: readonly LaneView[],
  startable: (e: E) => boolean,
): boolean {
  const laneGroups = new Set(lanes.filter((s) => !s.closing).map((s) => group(s.lane)));
  return all.some((e) => startable(e) && !laneGroups.has(group(e)));
}
