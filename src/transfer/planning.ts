// From a plan to queue entries: which planned transfers the scan enqueues. Pure, table-tested
// (test/unit/transfer/planning.test.ts), apart from RecentlyDone's small clock-keyed memory.
//
// Waits on: nothing; the transfer service's scan (service.ts) calls it with the plan
//   (src/map/planner.ts) and what the queue knows (held keys, recent failures).
// Produces: the uploads and downloads to add to the queue, in plan order (downloads first).
import type { Plan } from '../map/planner.js';
import { entryId, type Direction, type TransferEntry } from './queue.js';

/** A transfer given up on is not planned again for this long (a scan would otherwise retry it
 * forever); after that, conditions may have changed (the remote is back). */
export const FAILED_COOLDOWN_MS = 30 * 60_000;
/** A transfer that just succeeded and is planned again means the location log lags (or a remote
 * lies); skipping it for this long keeps scan -> transfer -> scan from looping. */
const RECENT_DONE_MS = 2 * 60_000;

type Identity = { direction: Direction; key: string; remote: string };
export type PlannedItem = Omit<TransferEntry, 'attempts' | 'notBefore'>;

/** What the queue says about a planned transfer. */
export interface PlanFilter {
  /** cancel() holds the key. */
  isHeld: (key: string) => boolean;
  /** Given up on within the cooldown. */
  recentlyFailed: (e: Identity) => boolean;
  /** Done within the last RECENT_DONE_MS. */
  recentlyDone: (e: Identity) => boolean;
}

/** The plan's transfers as queue items, minus those held, recently failed or recently done. */
export function plannedItems(p: Pick<Plan, 'downloads' | 'uploads'>, f: PlanFilter): PlannedItem[] {
  const items: PlannedItem[] = [
    ...p.downloads.map((d) => ({
      direction: 'download' as const,
      key: d.key,
      remote: d.remote,
      fallbacks: d.fallbacks,
      file: d.file,
      size: d.size,
    })),
    ...p.uploads.map((u) => ({
      direction: 'upload' as const,
      key: u.key,
      remote: u.remote,
      file: u.file,
      size: u.size,
    })),
  ];
  return items.filter((e) => !f.isHeld(e.key) && !f.recentlyFailed(e) && !f.recentlyDone(e));
}

/** Transfers that succeeded in the last RECENT_DONE_MS (by entry identity). */
export class RecentlyDone {
  private readonly at = new Map<string, number>();

  mark(e: Identity, now: number): void {
    this.at.set(entryId(e), now);
  }

  /** Forgets those older than RECENT_DONE_MS (called once per scan). */
  prune(now: number): void {
    for (const [id, t] of this.at) if (now - t > RECENT_DONE_MS) this.at.delete(id);
  }

  has(e: Identity): boolean {
    return this.at.has(entryId(e));
  }
}

type Source = { remote: string; fallbacks?: string[] };

/**
 * A download already queued from one remote, planned again from another: the newer plan knows of a
 * cheaper holder (a LAN peer got the key after we queued it from the cloud), so the entry takes the
 * plan's source and fallbacks. Kept as it is when a lane holds it (its git-annex was started with
 * `--from`), when it has failed before (its fallback chain moved it on: the plan's first choice is
 * where it failed), or when the plan names the same source. null: keep the queued source.
 */
export function newerSource(
  queued: Source & { attempts: number },
  planned: Source,
  active: boolean,
): Source | null {
  if (active || queued.attempts > 0 || queued.remote === planned.remote) return null;
  return { remote: planned.remote, fallbacks: planned.fallbacks ?? [] };
}
