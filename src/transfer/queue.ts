// The transfer queue: pending uploads and downloads, owned by the TransferService (only its worker
// pool takes entries out). Persisted to .git/autosync/transfers.json so a restart picks up where it
// left off; written atomically (tmp file + rename) so a crash mid-write leaves the old file intact.
//
// Identity: an upload is (key, remote), since a key goes to several remotes; a download is the key
// alone, since content arrives here once, whichever remote it comes from. Adding an entry whose
// identity is already queued (or active) is a no-op, so the queue never holds a transfer twice.
import { readFileSync } from 'node:fs';
import { isSafeRelPath, isValidKey, isValidRemoteName } from '../annex/keys.js';
import { writeJsonAtomic } from '../core/files.js';
import { statePaths } from '../git/state-paths.js';
import type { QueueAction } from './outcome.js';

export type Direction = 'upload' | 'download';

export interface TransferEntry {
  direction: Direction;
  key: string;
  remote: string;
  /** Other remotes to download from if `remote` fails (cheapest first). Downloads only. */
  fallbacks?: string[];
  /** A work-tree file for the key, for display only. */
  file?: string;
  size?: number | null;
  /** Failed attempts so far. */
  attempts: number;
  /** Epoch ms before which the entry is not started (retry backoff, deferral). */
  notBefore: number;
  lastError?: string;
  /** Times it was put back because another process was transferring the key. */
  deferrals?: number;
}

export interface FailedEntry {
  direction: Direction;
  key: string;
  remote: string;
  error: string;
  at: number;
}

/** On-disk format version, so a future layout change can migrate instead of misreading. */
const FILE_VERSION = 1;
/** Upper bound on queued entries: a scan of a huge repository must not grow memory without limit;
 * what does not fit is found again by the next scan. */
export const MAX_QUEUED = 200_000;
/** Failed entries kept for status and for the scan to skip; the oldest fall off. */
const MAX_FAILED = 1_000;
/** Held (cancelled) keys are skipped by scans for this long, then flood sync may pick them up again. */
const HOLD_MS = 24 * 60 * 60_000;
/** Coalescing window for writes of transfers.json. */
const SAVE_DELAY_MS = 200;

export function entryId(e: { direction: Direction; key: string; remote: string }): string {
  return e.direction === 'download' ? `download ${e.key}` : `upload ${e.remote} ${e.key}`;
}

interface FileShape {
  version: number;
  queued: TransferEntry[];
  failed: FailedEntry[];
  held: Record<string, number>;
  paused: { all: boolean; remotes: string[] };
}

export class TransferQueue {
  private entries = new Map<string, TransferEntry>();
  private failedList: FailedEntry[] = [];
  private held = new Map<string, number>();
  private pausedAll = false;
  private pausedRemotes = new Set<string>();
  private readonly file: string;
  private saveTimer: NodeJS.Timeout | null = null;

  constructor(autosyncDir: string) {
    this.file = statePaths(autosyncDir).transfers;
    this.load();
  }

  /** Adds entries not already queued; returns how many were new. Saves once. */
  addMany(items: Array<Omit<TransferEntry, 'attempts' | 'notBefore'> & Partial<TransferEntry>>): number {
    let added = 0;
    const now = Date.now();
    for (const it of items) {
      if (this.entries.size >= MAX_QUEUED) break;
      if (!isValidKey(it.key) || !isValidRemoteName(it.remote)) continue;
      const held = this.held.get(it.key);
      if (held !== undefined && held > now) continue;
      const id = entryId(it);
      if (this.entries.has(id)) continue;
      this.entries.set(id, { attempts: 0, notBefore: 0, ...it });
      added++;
    }
    if (added > 0) this.save();
    return added;
  }

  get(id: string): TransferEntry | undefined {
    return this.entries.get(id);
  }

  /** Entries in insertion order (the order the planner or committer asked for them). */
  all(): TransferEntry[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.entries.size;
  }

  /** Removes an entry (done, or given up). */
  /** Carries out what outcome.ts decided for an entry after its transfer. */
  apply(id: string, a: QueueAction): void {
    if (a.op === 'remove') this.remove(id);
    else if (a.op === 'update') this.update(id, a.patch);
    else if (a.op === 'fail') this.fail(id, a.error);
  }

  remove(id: string): boolean {
    const had = this.entries.delete(id);
    if (had) this.save();
    return had;
  }

  update(id: string, patch: Partial<TransferEntry>): void {
    const e = this.entries.get(id);
    if (!e) return;
    Object.assign(e, patch);
    this.save();
  }

  /** The remote answers again: its entries waiting out a backoff may start at `now` (attempts kept). */
  startNow(remote: string, now: number): void {
    let n = 0;
    for (const e of this.entries.values())
      if (e.remote === remote && e.notBefore > now) {
        e.notBefore = now;
        n++;
      }
    if (n > 0) this.save();
  }

  /** Moves an entry to the failed list (retries exhausted). */
  fail(id: string, error: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.failedList.push({ direction: e.direction, key: e.key, remote: e.remote, error, at: Date.now() });
    if (this.failedList.length > MAX_FAILED) this.failedList.splice(0, this.failedList.length - MAX_FAILED);
    this.save();
  }

  /** Has this transfer failed for good since `sinceMs`? Scans skip those instead of looping. */
  recentlyFailed(e: { direction: Direction; key: string; remote: string }, sinceMs: number): boolean {
    const id = entryId(e);
    return this.failedList.some((f) => f.at >= sinceMs && entryId(f) === id);
  }

  get failed(): readonly FailedEntry[] {
    return this.failedList;
  }

  clearFailed(): void {
    this.failedList = [];
    this.save();
  }

  /** Cancels every queued transfer of `key` and keeps scans from re-adding it for HOLD_MS. */
  hold(key: string): TransferEntry[] {
    const removed = [...this.entries.values()].filter((e) => e.key === key);
    for (const e of removed) this.entries.delete(entryId(e));
    this.held.set(key, Date.now() + HOLD_MS);
    this.save();
    return removed;
  }

  unhold(key: string): void {
    if (this.held.delete(key)) this.save();
  }

  isHeld(key: string): boolean {
    const t = this.held.get(key);
    return t !== undefined && t > Date.now();
  }

  setPaused(remote: string | undefined, paused: boolean): void {
    if (remote === undefined) {
      this.pausedAll = paused;
      if (!paused) this.pausedRemotes.clear();
    } else if (paused) this.pausedRemotes.add(remote);
    else this.pausedRemotes.delete(remote);
    this.save();
  }

  isPaused(remote: string): boolean {
    return this.pausedAll || this.pausedRemotes.has(remote);
  }

  get paused(): { all: boolean; remotes: string[] } {
    return { all: this.pausedAll, remotes: [...this.pausedRemotes] };
  }

  private load(): void {
    let raw: string;
    try {
      raw = readFileSync(this.file, 'utf8');
    } catch {
      return; // First run: nothing queued.
    }
    let data: Partial<FileShape>;
    try {
      data = JSON.parse(raw) as Partial<FileShape>;
    } catch {
      return; // A corrupt file (not ours to trust) is as good as none: the next scan refills the queue.
    }
    if (data.version !== FILE_VERSION) return;
    for (const e of Array.isArray(data.queued) ? data.queued : []) {
      if (!e || (e.direction !== 'upload' && e.direction !== 'download')) continue;
      if (!isValidKey(e.key) || !isValidRemoteName(e.remote)) continue;
      if (this.entries.size >= MAX_QUEUED) break;
      const clean: TransferEntry = {
        direction: e.direction,
        key: e.key,
        remote: e.remote,
        attempts: Number.isFinite(e.attempts) ? Math.max(0, Math.floor(e.attempts)) : 0,
        // Backoff does not survive a restart: a restart is a fresh start.
        notBefore: 0,
      };
      if (Array.isArray(e.fallbacks)) clean.fallbacks = e.fallbacks.filter(isValidRemoteName).slice(0, 50);
      if (isSafeRelPath(e.file)) clean.file = e.file;
      if (typeof e.size === 'number' && Number.isFinite(e.size)) clean.size = e.size;
      this.entries.set(entryId(clean), clean);
    }
    for (const f of Array.isArray(data.failed) ? data.failed.slice(-MAX_FAILED) : []) {
      if (!f || !isValidKey(f.key) || !isValidRemoteName(f.remote)) continue;
      if (f.direction !== 'upload' && f.direction !== 'download') continue;
      this.failedList.push({
        direction: f.direction,
        key: f.key,
        remote: f.remote,
        error: String(f.error ?? '').slice(0, 500),
        at: Number(f.at) || 0,
      });
    }
    const now = Date.now();
    for (const [k, t] of Object.entries(data.held ?? {})) {
      if (isValidKey(k) && typeof t === 'number' && t > now) this.held.set(k, t);
    }
    this.pausedAll = data.paused?.all === true;
    for (const r of data.paused?.remotes ?? []) if (isValidRemoteName(r)) this.pausedRemotes.add(r);
  }

  /**
   * Schedules a write. Writes are coalesced (SAVE_DELAY_MS) because a queue of thousands of small
   * files would otherwise be rewritten once per completed transfer. A crash loses at most that
   * window, and the next scan finds those transfers again.
   */
  private save(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.flush();
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Writes the file now (on stop, and in tests). */
  flush(): void {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    const data: FileShape = {
      version: FILE_VERSION,
      queued: this.all(),
      failed: this.failedList,
      held: Object.fromEntries(this.held),
      paused: this.paused,
    };
    // 0666 less the umask, the mode it always had (the state dir is 0700 in any case).
    writeJsonAtomic(this.file, data, 0o666);
  }
}
