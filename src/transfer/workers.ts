// The worker pool: drains the TransferQueue through at most `slots` git-annex lanes (batch.ts) at a
// time, one transfer per lane. It is the queue's one owner for taking entries out.
//
// Before a transfer starts, git-annex's own transfer locks are read (transferinfo.ts): a key that some
// other process is already sending to that remote, or already fetching from anywhere, is deferred
// rather than started, so nothing is sent or fetched twice, whoever started it. git-annex also refuses
// a second transfer under a held lock; that answer counts as "busy", not as a failure.
//
// Failures retry with exponential backoff, MAX_ATTEMPTS times; a download then moves on to the next
// cheapest remote that has the key, and only when all have failed is the entry recorded as failed.
// A lane is closed when it has no more startable work: git-annex commits the location log on exit,
// and then `onBatchDone` lets the agent push the git-annex branch and signal peers.
import { Wakeup } from '../agent/queue.js';
import { backoffDelay } from '../agent/service.js';
import type { EventBus } from '../agent/bus.js';
import type { Logger } from '../log.js';
import { AnnexLane, type LaneResult } from './batch.js';
import { keySize } from './keys.js';
import { entryId, type Direction, type TransferEntry, type TransferQueue } from './queue.js';
import type { TransferDir } from './transferinfo.js';

/** Failed attempts per remote before giving up on it (a download then tries the next holder). */
const DEFAULT_MAX_ATTEMPTS = 5;
/** First retry after 2 s (a blip), doubling up to 5 min (a remote that is down for a while). */
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 5 * 60_000;
/** How long to wait before re-checking a key another process is transferring. */
const DEFER_MS = 2_000;
/** Deferrals before we stop waiting for someone else's transfer (~1 h at DEFER_MS): bounded. */
const MAX_DEFERRALS = 1_800;
/** Two concurrent transfers keep a link busy while one waits on latency; more mostly adds seeks. */
const DEFAULT_SLOTS = 2;

export interface ActiveTransfer {
  direction: Direction;
  key: string;
  remote: string;
  bytes: number;
  size: number;
}

export interface WorkerPoolOptions {
  repoDir: string;
  queue: TransferQueue;
  transferDir: TransferDir;
  /** The annex uuid of a remote (for its transfer lock directory); null if unknown. */
  remoteUuid: (remote: string) => string | null;
  log: Logger;
  bus?: EventBus;
  slots?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
  bwlimit?: Record<string, string>;
  annexBinary?: string;
  stallMs?: number;
  /** A lane closed after moving content: location log committed, push and signal now. */
  onBatchDone: (transferred: number, direction: Direction) => void;
  /** One transfer finished (content moved, or it was already there). */
  onTransferDone?: (e: TransferEntry) => void;
}

interface LaneSlot {
  lane: AnnexLane;
  entry: TransferEntry | null;
  bytes: number;
  size: number;
  transferred: number;
  /** Why we killed it, so the result is not counted as a failure. */
  killReason: 'cancel' | 'pause' | 'stop' | null;
  /** Settings changed (bandwidth): close after the current key instead of taking another. */
  stale: boolean;
  closing: boolean;
}

export class WorkerPool {
  private lanes: LaneSlot[] = [];
  private readonly wakeup = new Wakeup();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly slots: number;
  private readonly maxAttempts: number;
  private readonly bw: Map<string, string>;

  constructor(private readonly o: WorkerPoolOptions) {
    this.slots = Math.max(1, Math.min(32, Math.floor(o.slots ?? DEFAULT_SLOTS)));
    this.maxAttempts = Math.max(1, o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.bw = new Map(Object.entries(o.bwlimit ?? {}));
  }

  start(): void {
    this.stopping = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.lanes) {
      s.killReason = 'stop';
      s.lane.kill();
    }
    // Wakeup.interrupt() would not end wait() (it loops until a request); a request does.
    this.wakeup.request();
    await this.loop;
    await Promise.all(this.lanes.map((s) => s.lane.killAndWait()));
    this.lanes = [];
  }

  /** Something changed (queue grew, pause lifted): look for startable work. */
  kick(): void {
    this.wakeup.request();
  }

  active(): ActiveTransfer[] {
    return this.lanes
      .filter((s) => s.entry !== null)
      .map((s) => ({
        direction: s.entry!.direction,
        key: s.entry!.key,
        remote: s.entry!.remote,
        bytes: s.bytes,
        size: s.size,
      }));
  }

  isActive(id: string): boolean {
    return this.lanes.some((s) => s.entry !== null && entryId(s.entry) === id);
  }

  /** Stops any running transfer of `key` (the queue entry is removed by the caller). */
  cancel(key: string): void {
    for (const s of this.lanes) {
      if (s.entry?.key === key) {
        s.killReason = 'cancel';
        s.lane.kill();
      }
    }
    this.kick();
  }

  /** Interrupts running transfers to `remote` (all when undefined); they stay queued and resume. */
  pause(remote?: string): void {
    for (const s of this.lanes) {
      if (remote === undefined || s.lane.remote === remote) {
        if (s.entry) s.killReason = 'pause';
        s.lane.kill();
      }
    }
    this.kick();
  }

  /** Sets (or clears, with null) the bandwidth limit for a remote; applies from its next key. */
  setBandwidthLimit(remote: string, limit: string | null): void {
    if (limit === null) this.bw.delete(remote);
    else this.bw.set(remote, limit);
    for (const s of this.lanes) if (s.lane.remote === remote) s.stale = true;
    this.kick();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        this.fill();
      } catch (err) {
        this.o.log.error({ err: String(err) }, 'transfer scheduling failed');
      }
      this.armTimer();
      await this.wakeup.wait();
    }
  }

  /** Wakes the loop when the earliest backed-off entry becomes startable. */
  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    let next = Infinity;
    for (const e of this.o.queue.all()) if (e.notBefore > now && e.notBefore < next) next = e.notBefore;
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.kick(), Math.min(next - now + 5, RETRY_MAX_MS));
    this.timer.unref();
  }

  private startable(e: TransferEntry, now: number): boolean {
    return e.notBefore <= now && !this.o.queue.isPaused(e.remote) && !this.isActive(entryId(e));
  }

  private fill(): void {
    if (this.stopping) return;
    const now = Date.now();
    const q = this.o.queue;
    for (const e of q.all()) {
      if (this.busyCount() >= this.slots) break;
      if (!this.startable(e, now)) continue;
      if (this.runningElsewhere(e)) {
        const deferrals = (e.deferrals ?? 0) + 1;
        if (deferrals > MAX_DEFERRALS) q.fail(entryId(e), 'another process kept transferring this key');
        else q.update(entryId(e), { notBefore: now + DEFER_MS, deferrals });
        continue;
      }
      let slot = this.lanes.find(
        (s) =>
          !s.entry &&
          !s.closing &&
          !s.stale &&
          s.lane.alive &&
          s.lane.remote === e.remote &&
          s.lane.direction === e.direction,
      );
      if (!slot) {
        if (this.lanes.length >= this.slots) {
          // All lanes exist; free one that is idle on another remote, and come back when it is closed.
          const idle = this.lanes.find((s) => !s.entry && !s.closing);
          if (idle) void this.closeLane(idle);
          break;
        }
        slot = this.openLane(e.direction, e.remote);
      }
      this.runOn(slot, e);
    }
    // Lanes with nothing left to start close now, which commits the location log.
    for (const s of this.lanes) {
      if (s.entry || s.closing) continue;
      const more =
        !s.stale &&
        q
          .all()
          .some(
            (e) =>
              e.remote === s.lane.remote &&
              e.direction === s.lane.direction &&
              this.startable(e, now) &&
              !this.runningElsewhere(e),
          );
      if (!more || !s.lane.alive) void this.closeLane(s);
    }
  }

  private busyCount(): number {
    return this.lanes.filter((s) => s.entry !== null).length;
  }

  /** Another process (not one of our lanes) holds git-annex's transfer lock for this entry. */
  private runningElsewhere(e: TransferEntry): boolean {
    const td = this.o.transferDir;
    const r =
      e.direction === 'upload'
        ? td.running('upload', this.o.remoteUuid(e.remote), e.key)
        : td.running('download', null, e.key);
    if (!r) return false;
    const ours = this.lanes.some((s) => s.lane.pid !== null && s.lane.pid === r.pid);
    return !ours;
  }

  private openLane(direction: Direction, remote: string): LaneSlot {
    const slot: LaneSlot = {
      lane: null as unknown as AnnexLane,
      entry: null,
      bytes: 0,
      size: 0,
      transferred: 0,
      killReason: null,
      stale: false,
      closing: false,
    };
    slot.lane = new AnnexLane({
      repoDir: this.o.repoDir,
      direction,
      remote,
      bwlimit: this.bw.get(remote),
      annexBinary: this.o.annexBinary,
      stallMs: this.o.stallMs,
      onProgress: (key, bytes, size) => {
        if (slot.entry?.key !== key) return;
        slot.bytes = bytes;
        if (size !== null) slot.size = size;
      },
    });
    slot.lane.start();
    this.lanes.push(slot);
    this.o.log.debug({ direction, remote, pid: slot.lane.pid }, 'git-annex lane started');
    return slot;
  }

  private async closeLane(s: LaneSlot): Promise<void> {
    s.closing = true;
    await s.lane.close();
    this.lanes = this.lanes.filter((x) => x !== s);
    this.o.log.debug({ remote: s.lane.remote, transferred: s.transferred }, 'git-annex lane closed');
    if (s.transferred > 0 && !this.stopping) {
      try {
        this.o.onBatchDone(s.transferred, s.lane.direction);
      } catch (err) {
        this.o.log.warn({ err: String(err) }, 'onBatchDone threw');
      }
    }
    this.kick();
  }

  private runOn(s: LaneSlot, e: TransferEntry): void {
    s.entry = e;
    s.bytes = 0;
    s.size = e.size ?? keySize(e.key) ?? 0;
    s.killReason = null;
    this.o.bus?.emit('transfer', { direction: e.direction, key: e.key, remote: e.remote, state: 'started' });
    void s.lane.transfer(e.key).then((res) => this.finish(s, e, res));
  }

  private finish(s: LaneSlot, e: TransferEntry, res: LaneResult): void {
    const q = this.o.queue;
    const id = entryId(e);
    const reason = s.killReason;
    s.entry = null;
    s.killReason = null;
    const emit = (state: string) =>
      this.o.bus?.emit('transfer', { direction: e.direction, key: e.key, remote: e.remote, state });
    if (res.ok) {
      q.remove(id);
      if (!res.noop) s.transferred++;
      this.o.onTransferDone?.(e);
      emit(res.noop ? 'skipped' : 'done');
      this.o.log.info(
        { direction: e.direction, key: e.key, remote: e.remote, noop: res.noop },
        'transfer done',
      );
    } else if (reason === 'cancel' || reason === 'stop' || reason === 'pause') {
      emit(reason === 'cancel' ? 'cancelled' : 'interrupted');
    } else if (res.busy) {
      q.update(id, { notBefore: Date.now() + DEFER_MS, deferrals: (e.deferrals ?? 0) + 1 });
      emit('deferred');
    } else {
      const attempts = e.attempts + 1;
      const err = res.error ?? 'failed';
      this.o.log.warn(
        { direction: e.direction, key: e.key, remote: e.remote, attempts, err },
        'transfer failed',
      );
      if (attempts < this.maxAttempts) {
        const delay = backoffDelay(attempts, this.o.retryBaseMs ?? RETRY_BASE_MS, RETRY_MAX_MS);
        q.update(id, { attempts, notBefore: Date.now() + delay, lastError: err });
        emit('retrying');
      } else if (e.direction === 'download' && e.fallbacks && e.fallbacks.length > 0) {
        const [next, ...rest] = e.fallbacks;
        q.update(id, { remote: next, fallbacks: rest, attempts: 0, notBefore: 0, lastError: err });
        emit('fallback');
      } else {
        q.fail(id, err);
        emit('failed');
      }
    }
    if (s.stale || !s.lane.alive) void this.closeLane(s);
    this.kick();
  }
}
