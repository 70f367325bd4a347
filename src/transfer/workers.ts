// The worker pool: drains the TransferQueue through at most `slots` git-annex lanes (batch.ts) at a
// time, one transfer per lane. It is the queue's one owner for taking entries out.
//
// Waits on: kick() (the queue grew, a pause lifted, settings changed), its own timer (the earliest
//   backed-off entry or down remote becomes startable), and its lanes' answers.
// Produces: git-annex transfers, queue updates, `transfer` events on the bus, onTransferDone per key
//   and onBatchDone when a lane that moved content closed.
//
// Before a transfer starts, git-annex's own transfer locks are read (transferinfo.ts): a key that some
// other process is already sending to that remote, or already fetching from anywhere, is deferred
// rather than started, so nothing is sent or fetched twice, whoever started it. git-annex also refuses
// a second transfer under a held lock; that answer counts as "busy", not as a failure.
//
// What an outcome means (retry after N, fall back, fail, defer, keep, which file to put back) is
// decided in outcome.ts, and which lane takes an entry (large content first and in a lane of its
// own, and when a lane is recycled) in lane-choice.ts; this file applies both. A lane and what the
// pool knows of it is a LaneSlot (lane-slot.ts); files a dead lane left missing are put back by
// putback.ts.
// A lane is closed when it has no more startable work: git-annex commits the location log on exit,
// and then `onBatchDone` lets the agent push the git-annex branch and signal peers.
import { Wakeup } from '../core/queue.js';
import type { EventBus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { LaneResult } from './batch.js';
import { activeTransfers, closeAtStop, openSlot, type ActiveTransfer, type LaneSlot } from './lane-slot.js';

export type { ActiveTransfer } from './lane-slot.js';
import { keySize } from '../annex/keys.js';
import { PutBacks } from './putback.js';
import { DownRemotes } from './down-remotes.js';
import {
  capacity,
  dueForRecycle,
  fairOrder,
  isLarge,
  othersWaiting,
  pickLane,
  usable,
} from './lane-choice.js';
import {
  afterTransfer,
  putBackAfter,
  whenHeldElsewhere,
  DEFAULT_MAX_ATTEMPTS,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  type KillReason,
} from './outcome.js';
import { entryId, type Direction, type TransferEntry, type TransferQueue } from './queue.js';
import type { TransferDir } from './transferinfo.js';
import { background } from '../core/background.js';

/** Two concurrent transfers keep a link busy while one waits on latency; more mostly adds seeks. */
const DEFAULT_SLOTS = 2;

export interface WorkerPoolOptions {
  repoDir: string;
  /** The repository's git directory: a stale index.lock a killed lane left is removed from it. */
  gitDir?: string;
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
  /** A remote that was down answered again, or its down period ran out: what was planned while it
   * was left out of the plans (files added meanwhile) must be planned again. */
  onRemoteBack?: (remote: string) => void;
}

export class WorkerPool {
  private lanes: LaneSlot[] = [];
  private readonly wakeup = new Wakeup();
  private stopping = false;
  private loop: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private slots: number;
  private readonly maxAttempts: number;
  private readonly bw: Map<string, string>;
  private readonly down = new DownRemotes();
  /** Files a lane that ended mid-download left missing, while they are put back (putback.ts). */
  private readonly putBacks: PutBacks;

  constructor(private readonly o: WorkerPoolOptions) {
    this.slots = Math.max(1, Math.min(32, Math.floor(o.slots ?? DEFAULT_SLOTS)));
    this.maxAttempts = Math.max(1, o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    this.bw = new Map(Object.entries(o.bwlimit ?? {}));
    this.putBacks = new PutBacks(o.repoDir, o.log);
  }

  start(): void {
    this.stopping = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    // A lane in the middle of a transfer is killed: stopping must not wait for a large file, and
    // the transfer resumes from git-annex's temporary file next time (see interrupt for a lane
    // that is putting a file back). An idle lane is closed, so git-annex finishes its own exit
    // work (location log, index refresh of the files it filled); killing it there left a stale
    // index.lock.
    for (const s of this.lanes) if (s.entries.length > 0) this.interrupt(s, 'stop');
    // Wakeup.interrupt() would not end wait() (it loops until a request); a request does.
    this.wakeup.request();
    await this.loop;
    await closeAtStop(this.lanes, { gitDir: this.o.gitDir, workTree: this.o.repoDir }, this.o.log);
    this.lanes = [];
    // The killed lanes' answers (and so their put-backs) come in just after their exit.
    await new Promise((r) => setImmediate(r));
    await this.putBacks.settle();
  }

  /**
   * Stops a lane's running work for a reason (cancel, pause, stop). A download whose bytes have all
   * arrived is being verified and put into the work tree: git-annex has unlinked the file and is
   * writing it back, so a kill then left the file missing, and the next commit recorded it as
   * deleted (on every peer). Such a lane is killed as soon as that key is answered instead.
   */
  private interrupt(s: LaneSlot, reason: KillReason): void {
    s.killReason = reason;
    const head = s.entries[0];
    if (head?.direction === 'download' && s.size > 0 && s.bytes >= s.size) s.killAfterHead = true;
    else s.lane.kill();
  }

  /**
   * autosync.transferSlots changed while we run: new lanes open up to the new number; idle lanes
   * above it are closed, busy ones finish what they were given first.
   */
  setSlots(n: number): void {
    this.slots = Math.max(1, Math.min(32, Math.floor(n)));
    const idle = this.lanes.filter((s) => s.entries.length === 0 && !s.closing);
    for (const s of idle.slice(0, Math.max(0, this.lanes.length - this.slots)))
      background(this.closeLane(s), this.o.log, 'closing a git-annex lane');
    this.kick();
  }

  /** Something changed (queue grew, pause lifted): look for startable work. */
  kick(): void {
    this.wakeup.request();
  }

  /** Transfers git-annex is working on now (one per lane). */
  active(): ActiveTransfer[] {
    return activeTransfers(this.lanes);
  }

  /** Running now (head of a lane). Pipelined entries still count as queued for status. */
  isRunning(id: string): boolean {
    return this.lanes.some((s) => s.entries[0] !== undefined && entryId(s.entries[0]) === id);
  }

  /** Remotes currently considered down (unreachable); the planner picks other sources. */
  downRemotes(): Set<string> {
    return this.down.list(Date.now());
  }

  /** A remote seen answering elsewhere (a push, a mount): not down, its backed-off entries start now. */
  remoteBack(remote: string): void {
    this.down.up(remote);
    this.o.queue.startNow(remote, Date.now());
    this.kick();
  }

  /** The network came back: every remote left alone after failing is tried now (not a drive away). */
  networkBack(): void {
    for (const r of this.down.failing(Date.now())) this.remoteBack(r);
  }

  /** Its drive went away: its transfers stop, kept queued (not failed), until remoteBack. */
  remoteAway(remote: string): void {
    this.down.away(remote);
    this.pause(remote);
  }

  /** Keys handed to lanes (running or pipelined). */
  busyKeys(): Set<string> {
    return new Set(this.lanes.flatMap((s) => s.entries.map((e) => e.key)));
  }

  /** Work-tree files our download lanes may be filling now (running or pipelined). */
  fillingFiles(): Set<string> {
    const out = new Set<string>();
    for (const s of this.lanes)
      for (const e of s.entries) if (e.direction === 'download' && e.file !== undefined) out.add(e.file);
    for (const f of this.putBacks.filling()) out.add(f);
    return out;
  }

  /** Handed to a lane (running or pipelined): must not be handed out again. */
  isActive(id: string): boolean {
    return this.lanes.some((s) => s.entries.some((e) => entryId(e) === id));
  }

  /** Stops any running transfer of `key` (the queue entry is removed by the caller). Entries
   * pipelined behind it in the same lane go back to the queue untouched. */
  cancel(key: string): void {
    for (const s of this.lanes) {
      if (s.entries.some((e) => e.key === key)) this.interrupt(s, 'cancel');
    }
    this.kick();
  }

  /** Interrupts running transfers to `remote` (all when undefined); they stay queued and resume. */
  pause(remote?: string): void {
    for (const s of this.lanes) {
      if (remote === undefined || s.lane.remote === remote) {
        if (s.entries.length > 0) this.interrupt(s, 'pause');
        else s.lane.kill();
      }
    }
    this.kick();
  }

  /** Sets (or clears, with null) the bandwidth limit for a remote; applies from its next lane. */
  setBandwidthLimit(remote: string, limit: string | null): void {
    if (limit === null) this.bw.delete(remote);
    else this.bw.set(remote, limit);
    for (const s of this.lanes) if (s.lane.remote === remote) s.stale = true;
    this.kick();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        // Down periods that ran out: planned on again, once per period (bounded by its backoff).
        for (const r of this.down.takeExpired(Date.now())) this.remoteBackCall(r);
        this.fill();
      } catch (err) {
        this.o.log.error({ err: String(err) }, 'transfer scheduling failed');
      }
      this.armTimer();
      await this.wakeup.wait();
    }
  }

  private remoteBackCall(remote: string): void {
    background(
      Promise.resolve().then(() => this.o.onRemoteBack?.(remote)),
      this.o.log,
      'onRemoteBack',
    );
  }

  /** Wakes the loop when the earliest backed-off entry becomes startable. */
  private armTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    let next = Infinity;
    for (const e of this.o.queue.all()) if (e.notBefore > now && e.notBefore < next) next = e.notBefore;
    next = Math.min(next, this.down.nextExpiry(now));
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.kick(), Math.min(next - now + 5, RETRY_MAX_MS));
    this.timer.unref();
  }

  private startable(e: TransferEntry, now: number, active: ReadonlySet<string>): boolean {
    return (
      e.notBefore <= now &&
      !this.down.isDown(e.remote, now) &&
      !this.o.queue.isPaused(e.remote) &&
      !active.has(entryId(e))
    );
  }

  private fill(): void {
    if (this.stopping) return;
    const now = Date.now();
    const q = this.o.queue;
    const locks = this.o.transferDir.snapshot();
    const active = new Set(this.lanes.flatMap((s) => s.entries.map(entryId)));
    const all = q.all();
    this.recycle(all, now, active);
    // A large entry found no lane: from then on nothing is pipelined, so a lane drains for it.
    let largeWaiting = false;
    // Remotes that have no lane go first, and large content first within them (see fairOrder).
    for (const e of fairOrder(all, this.lanes)) {
      // Nothing more can be handed out: stop walking what may be a very long queue.
      if (capacity(this.lanes, this.slots, largeWaiting) === 0) break;
      if (!this.startable(e, now, active)) continue;
      if (this.runningElsewhere(e, locks)) {
        this.o.queue.apply(entryId(e), whenHeldElsewhere(e, now));
        this.o.bus?.emit('transferChanged', {
          direction: e.direction,
          key: e.key,
          remote: e.remote,
          state: 'deferred',
        });
        continue;
      }
      // An idle lane for this remote first, then a new lane while slots allow, then pipelining
      // behind a running key of the same remote.
      const pick = pickLane(this.lanes, this.slots, e, largeWaiting);
      const slot = pick === 'open' ? this.openLane(e.direction, e.remote) : pick;
      if (!slot) {
        if (isLarge(e)) largeWaiting = true;
        // No lane for this remote can take it; free one that sits idle on another remote.
        const idle = this.lanes.find((s) => s.entries.length === 0 && !s.closing);
        if (idle) background(this.closeLane(idle), this.o.log, 'closing a git-annex lane');
        continue;
      }
      active.add(entryId(e));
      this.runOn(slot, e);
    }
    // Idle lanes with nothing left to start close now, which commits the location log.
    for (const s of this.lanes) {
      if (s.entries.length > 0 || s.closing) continue;
      const more =
        !s.stale && s.lane.alive && q.all().some((e) => usable(s, e) && this.startable(e, now, active));
      if (!more) background(this.closeLane(s), this.o.log, 'closing a git-annex lane');
    }
  }

  /** Marks lanes stale when they are due for recycling (see dueForRecycle). */
  private recycle(all: readonly TransferEntry[], now: number, active: ReadonlySet<string>): void {
    const waiting = othersWaiting(all, this.lanes, (e) => this.startable(e, now, active));
    for (const s of this.lanes) {
      if (s.stale || s.closing) continue;
      if (dueForRecycle(s, now, waiting && this.lanes.length >= this.slots)) {
        s.stale = true;
        if (s.entries.length === 0) background(this.closeLane(s), this.o.log, 'closing a git-annex lane');
      }
    }
  }

  /** Another process (not one of our lanes) holds git-annex's transfer lock for this entry. */
  private runningElsewhere(e: TransferEntry, td: ReturnType<TransferDir['snapshot']>): boolean {
    const r =
      e.direction === 'upload'
        ? td.running('upload', this.o.remoteUuid(e.remote), e.key)
        : td.running('download', null, e.key);
    if (!r) return false;
    const ours = this.lanes.some((s) => s.lane.pid !== null && s.lane.pid === r.pid);
    return !ours;
  }

  private openLane(direction: Direction, remote: string): LaneSlot {
    const slot = openSlot({
      repoDir: this.o.repoDir,
      direction,
      remote,
      bwlimit: this.bw.get(remote),
      annexBinary: this.o.annexBinary,
      stallMs: this.o.stallMs,
    });
    this.lanes.push(slot);
    this.o.log.info({ direction, remote, pid: slot.lane.pid }, 'git-annex lane started');
    return slot;
  }

  private async closeLane(s: LaneSlot): Promise<void> {
    if (s.closing) return;
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

  private resetHead(s: LaneSlot): void {
    const head = s.entries[0];
    s.bytes = 0;
    s.size = head ? (head.size ?? keySize(head.key) ?? 0) : 0;
    if (head) {
      this.o.bus?.emit('transferChanged', {
        direction: head.direction,
        key: head.key,
        remote: head.remote,
        state: 'started',
      });
    }
  }

  private runOn(s: LaneSlot, e: TransferEntry): void {
    s.entries.push(e);
    s.handled++;
    if (s.entries.length === 1) this.resetHead(s);
    background(
      s.lane.transfer(e.key).then((res) => this.finish(s, e, res)),
      this.o.log,
      'a git-annex transfer',
    );
  }

  private finish(s: LaneSlot, e: TransferEntry, res: LaneResult): void {
    const q = this.o.queue;
    const id = entryId(e);
    const reason = s.killReason;
    const wasHead = s.entries[0] === e;
    // Before the entry leaves the lane, so the file never stops counting as being filled.
    // Only the entry git-annex was working on when the lane died can have been mid-fill; the ones
    // pipelined behind it never started, and a missing file among them is the user's deletion.
    if (!res.ok && !s.lane.alive && s.deadHead === undefined) s.deadHead = s.entries[0] ?? null;
    const put = putBackAfter({ entry: e, ok: res.ok, laneAlive: s.lane.alive, deadHead: e === s.deadHead });
    if (put !== null) this.putBacks.putBack(put);
    s.entries = s.entries.filter((x) => x !== e);
    if (wasHead) this.resetHead(s);
    if (wasHead && s.killAfterHead) {
      // The file is back in the work tree: now the interruption asked for (see interrupt).
      s.killAfterHead = false;
      s.lane.kill();
    }
    if (s.entries.length === 0) s.killReason = null;
    const out = afterTransfer({
      entry: e,
      result: res,
      killReason: reason,
      held: reason === 'cancel' && q.isHeld(e.key),
      downStrikes: this.down.strikes(e.remote),
      maxAttempts: this.maxAttempts,
      retryBaseMs: this.o.retryBaseMs ?? RETRY_BASE_MS,
      now: Date.now(),
    });
    // Captured now: a fallback moves the entry to another remote.
    const remote = e.remote;
    if (out.failure) {
      const { attempts, unreachable, error: err } = out.failure;
      this.o.log.warn(
        { direction: e.direction, key: e.key, remote, attempts, unreachable, err },
        'transfer failed',
      );
    }
    if (out.remote.op === 'up') {
      if (this.down.up(remote)) this.remoteBackCall(remote);
    } else if (out.remote.op === 'down') {
      this.down.down(remote, out.remote.strikes, out.remote.until);
    }
    this.o.queue.apply(id, out.queue);
    if (out.transferred) s.transferred++;
    if (res.ok) this.o.onTransferDone?.(e);
    this.o.bus?.emit('transferChanged', { direction: e.direction, key: e.key, remote, state: out.event });
    if (res.ok) {
      this.o.log.info({ direction: e.direction, key: e.key, remote, noop: res.noop }, 'transfer done');
    }
    if (s.entries.length === 0 && (s.stale || !s.lane.alive))
      background(this.closeLane(s), this.o.log, 'closing a git-annex lane');
    this.kick();
  }
}
