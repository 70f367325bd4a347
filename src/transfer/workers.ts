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
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { Wakeup } from '../agent/queue.js';
import { backoffDelay } from '../agent/service.js';
import type { EventBus } from '../agent/bus.js';
import type { Logger } from '../log.js';
import { AnnexLane, type LaneResult } from './batch.js';
import { isSafeRelPath, keySize } from './keys.js';
import { runProcess } from '../git/runner.js';
import { entryId, type Direction, type TransferEntry, type TransferQueue } from './queue.js';
import type { TransferDir } from './transferinfo.js';
import { background } from '../core/background.js';

/** Failed attempts per remote before giving up on it (a download then tries the next holder). */
const DEFAULT_MAX_ATTEMPTS = 5;
/** First retry after 2 s (a blip), doubling up to 5 min (a remote that is down for a while). */
const RETRY_BASE_MS = 2_000;
const RETRY_MAX_MS = 5 * 60_000;
/** How long to wait before re-checking a key another process is transferring. */
const DEFER_MS = 2_000;
/** Deferrals before we stop waiting for someone else's transfer (~1 h at DEFER_MS): bounded. */
const MAX_DEFERRALS = 1_800;
/** A remote that failed as unreachable is left alone for 5 s, doubling to 10 min while it stays
 * down, so a laptop away from its LAN does not burn attempts on every queued key. */
const DOWN_BASE_MS = 5_000;
const DOWN_MAX_MS = 10 * 60_000;
/** Errors that say the remote is not there at all, as opposed to a problem with one key. */
const UNREACHABLE_RE =
  /unable to check|unable to access|not available|Connection refused|Could not resolve|No route to host|timed out|Network is unreachable|does not exist|not a git repository/i;

/** At stop, an idle lane gets this long to finish git-annex's exit work (its index refresh re-reads
 * the files it filled: ~1 s per 200 MB here) before it is killed. */
const STOP_CLOSE_MS = 20_000;
/** Two concurrent transfers keep a link busy while one waits on latency; more mostly adds seeks. */
const DEFAULT_SLOTS = 2;
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
const PIPELINE_DEPTH = 4;

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
  /** Entries handed to the lane, in order; the head is running, the rest are pipelined. */
  entries: TransferEntry[];
  /** Progress of the head entry. */
  bytes: number;
  size: number;
  transferred: number;
  /** Why we killed it, so the results are not counted as failures. */
  killReason: 'cancel' | 'pause' | 'stop' | null;
  /** Killed as soon as the head answers (see interrupt: it was putting a file back). */
  killAfterHead: boolean;
  /** Settings changed (bandwidth), or time to recycle: take no more keys, close when drained. */
  stale: boolean;
  closing: boolean;
  /** Keys handed to this lane so far, and when it started (for recycling). */
  handled: number;
  startedAt: number;
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
  private readonly downUntil = new Map<string, number>();
  private readonly downStrikes = new Map<string, number>();
  /** Files a lane that ended mid-download left missing, while they are put back (see putBack). */
  private readonly puttingBack = new Set<string>();
  private readonly putBacks = new Set<Promise<void>>();

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
    // A lane in the middle of a transfer is killed: stopping must not wait for a large file, and
    // the transfer resumes from git-annex's temporary file next time (see interrupt for a lane
    // that is putting a file back). An idle lane is closed, so git-annex finishes its own exit
    // work (location log, index refresh of the files it filled); killing it there left a stale
    // index.lock.
    for (const s of this.lanes) if (s.entries.length > 0) this.interrupt(s, 'stop');
    // Wakeup.interrupt() would not end wait() (it loops until a request); a request does.
    this.wakeup.request();
    await this.loop;
    await Promise.all(this.lanes.map((s) => s.lane.close(STOP_CLOSE_MS)));
    this.lanes = [];
    // The killed lanes' answers (and so their put-backs) come in just after their exit.
    await new Promise((r) => setImmediate(r));
    while (this.putBacks.size > 0) await Promise.all([...this.putBacks]);
  }

  /**
   * Stops a lane's running work for a reason (cancel, pause, stop). A download whose bytes have all
   * arrived is being verified and put into the work tree: git-annex has unlinked the file and is
   * writing it back, so a kill then left the file missing, and the next commit recorded it as
   * deleted (on every peer). Such a lane is killed as soon as that key is answered instead.
   */
  private interrupt(s: LaneSlot, reason: 'cancel' | 'pause' | 'stop'): void {
    s.killReason = reason;
    const head = s.entries[0];
    if (head?.direction === 'download' && s.size > 0 && s.bytes >= s.size) s.killAfterHead = true;
    else s.lane.kill();
  }

  /** Something changed (queue grew, pause lifted): look for startable work. */
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

  kick(): void {
    this.wakeup.request();
  }

  /** Transfers git-annex is working on now (one per lane). */
  active(): ActiveTransfer[] {
    const out: ActiveTransfer[] = [];
    for (const s of this.lanes) {
      const e = s.entries[0];
      if (e) out.push({ direction: e.direction, key: e.key, remote: e.remote, bytes: s.bytes, size: s.size });
    }
    return out;
  }

  /** Running now (head of a lane). Pipelined entries still count as queued for status. */
  isRunning(id: string): boolean {
    return this.lanes.some((s) => s.entries[0] !== undefined && entryId(s.entries[0]) === id);
  }

  /** Remotes currently considered down (unreachable); the planner picks other sources. */
  downRemotes(): Set<string> {
    const now = Date.now();
    return new Set([...this.downUntil].filter(([, t]) => t > now).map(([r]) => r));
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
    for (const f of this.puttingBack) out.add(f);
    return out;
  }

  /**
   * A lane that ended (killed by a stop, pause or cancel, or crashed) in the middle of a download
   * may have been filling this file: git-annex had moved the content into the annex and unlinked
   * the pointer file, and died before renaming the content in. Nothing else puts such a file back
   * (the othertmp copy is cleared by the next git-annex to run), and the next commit recorded it as
   * deleted on every peer (seen at the stop of `demo --annex`: a small file reports no progress, so
   * interrupt cannot tell its bytes are in). It is written again from the index, as at start
   * (Agent.repairInterruptedFills): git-annex's smudge filter fills it from the local annex, or
   * writes the pointer if the content never arrived. Until then it counts as being filled, so the
   * committer holds its deletion.
   */
  private putBack(file: string): void {
    if (!isSafeRelPath(file) || this.puttingBack.has(file)) return;
    const abs = join(this.o.repoDir, file);
    if (existsNoFollow(abs)) return;
    this.puttingBack.add(file);
    const done: Promise<void> = runProcess('git', ['checkout-index', '-f', '-z', '--stdin'], {
      cwd: this.o.repoDir,
      input: file + '\0',
      okCodes: [1],
    })
      .then((r) => {
        if (existsNoFollow(abs))
          this.o.log.warn({ path: file }, 'put back a file git-annex was filling when its lane ended');
        else
          this.o.log.warn(
            { path: file, err: r.stderr.trim() },
            'could not put back a file git-annex was filling',
          );
      })
      .catch((e: unknown) =>
        this.o.log.warn({ path: file, err: String(e) }, 'could not put back a file git-annex was filling'),
      )
      .finally(() => {
        this.puttingBack.delete(file);
        this.putBacks.delete(done);
      });
    this.putBacks.add(done);
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
    for (const t of this.downUntil.values()) if (t > now && t < next) next = t;
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.kick(), Math.min(next - now + 5, RETRY_MAX_MS));
    this.timer.unref();
  }

  private startable(e: TransferEntry, now: number, active: ReadonlySet<string>): boolean {
    return (
      e.notBefore <= now &&
      (this.downUntil.get(e.remote) ?? 0) <= now &&
      !this.o.queue.isPaused(e.remote) &&
      !active.has(entryId(e))
    );
  }

  private usable(s: LaneSlot, e: TransferEntry): boolean {
    return (
      !s.closing &&
      !s.stale &&
      s.lane.alive &&
      s.killReason === null &&
      s.lane.remote === e.remote &&
      s.lane.direction === e.direction
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
    // Remotes that have no lane go first, so a freed slot goes round instead of back to the remote
    // that happens to be first in the queue. Stable otherwise (queue order).
    const group = (x: { direction: Direction; remote: string }) => `${x.direction} ${x.remote}`;
    const withLane = new Set(this.lanes.filter((s) => !s.closing && !s.stale).map((s) => group(s.lane)));
    const ordered = [
      ...all.filter((e) => !withLane.has(group(e))),
      ...all.filter((e) => withLane.has(group(e))),
    ];
    for (const e of ordered) {
      // Nothing more can be handed out: stop walking what may be a very long queue.
      if (this.capacity() === 0) break;
      if (!this.startable(e, now, active)) continue;
      if (this.runningElsewhere(e, locks)) {
        const deferrals = (e.deferrals ?? 0) + 1;
        if (deferrals > MAX_DEFERRALS) q.fail(entryId(e), 'another process kept transferring this key');
        else q.update(entryId(e), { notBefore: now + DEFER_MS, deferrals });
        this.o.bus?.emit('transfer', {
          direction: e.direction,
          key: e.key,
          remote: e.remote,
          state: 'deferred',
        });
        continue;
      }
      // An idle lane for this remote first, then a new lane while slots allow, then pipelining
      // behind a running key of the same remote.
      let slot = this.lanes.find((s) => s.entries.length === 0 && this.usable(s, e));
      if (!slot && this.lanes.length < this.slots) slot = this.openLane(e.direction, e.remote);
      if (!slot) {
        slot = this.lanes
          .filter((s) => s.entries.length < PIPELINE_DEPTH && this.usable(s, e))
          .sort((a, b) => a.entries.length - b.entries.length)[0];
      }
      if (!slot) {
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
        !s.stale && s.lane.alive && q.all().some((e) => this.usable(s, e) && this.startable(e, now, active));
      if (!more) background(this.closeLane(s), this.o.log, 'closing a git-annex lane');
    }
  }

  /** How many more keys the lanes could take now (new lanes count at full pipeline depth). */
  private capacity(): number {
    let n = Math.max(0, this.slots - this.lanes.length) * PIPELINE_DEPTH;
    for (const s of this.lanes) {
      if (!s.closing && !s.stale && s.lane.alive && s.killReason === null)
        n += PIPELINE_DEPTH - s.entries.length;
    }
    // Idle lanes of other remotes can be closed to make room.
    if (n === 0 && this.lanes.some((s) => s.entries.length === 0 && !s.closing)) n = 1;
    return Math.max(0, n);
  }

  /** Marks lanes stale when they are due for recycling (see LANE_MAX_KEYS, LANE_FAIR_KEYS). */
  private recycle(all: readonly TransferEntry[], now: number, active: ReadonlySet<string>): void {
    const laneGroups = new Set(
      this.lanes.filter((s) => !s.closing).map((s) => `${s.lane.direction} ${s.lane.remote}`),
    );
    const othersWaiting = all.some(
      (e) => this.startable(e, now, active) && !laneGroups.has(`${e.direction} ${e.remote}`),
    );
    for (const s of this.lanes) {
      if (s.stale || s.closing) continue;
      if (
        s.handled >= LANE_MAX_KEYS ||
        now - s.startedAt >= LANE_MAX_MS ||
        (othersWaiting && this.lanes.length >= this.slots && s.handled >= LANE_FAIR_KEYS)
      ) {
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
    const slot: LaneSlot = {
      lane: null as unknown as AnnexLane,
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
    slot.lane = new AnnexLane({
      repoDir: this.o.repoDir,
      direction,
      remote,
      bwlimit: this.bw.get(remote),
      annexBinary: this.o.annexBinary,
      stallMs: this.o.stallMs,
      onProgress: (key, bytes, size) => {
        if (slot.entries[0]?.key !== key) return;
        slot.bytes = bytes;
        if (size !== null) slot.size = size;
      },
    });
    slot.lane.start();
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
      this.o.bus?.emit('transfer', {
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
    if (!res.ok && e.direction === 'download' && e.file !== undefined && !s.lane.alive) this.putBack(e.file);
    s.entries = s.entries.filter((x) => x !== e);
    if (wasHead) this.resetHead(s);
    if (wasHead && s.killAfterHead) {
      // The file is back in the work tree: now the interruption asked for (see interrupt).
      s.killAfterHead = false;
      s.lane.kill();
    }
    if (s.entries.length === 0) s.killReason = null;
    // Captured now: a fallback below moves the entry to another remote.
    const remote = e.remote;
    const emit = (state: string) =>
      this.o.bus?.emit('transfer', { direction: e.direction, key: e.key, remote, state });
    if (res.ok) {
      this.downUntil.delete(e.remote);
      this.downStrikes.delete(e.remote);
      q.remove(id);
      if (!res.noop) s.transferred++;
      this.o.onTransferDone?.(e);
      emit(res.noop ? 'skipped' : 'done');
      this.o.log.info(
        { direction: e.direction, key: e.key, remote: e.remote, noop: res.noop },
        'transfer done',
      );
    } else if (reason === 'cancel' || reason === 'stop' || reason === 'pause' || res.notStarted) {
      // Not a failure: it stays queued (unless cancel removed it) and resumes later.
      emit(reason === 'cancel' && q.isHeld(e.key) ? 'cancelled' : 'interrupted');
    } else if (res.busy) {
      q.update(id, { notBefore: Date.now() + DEFER_MS, deferrals: (e.deferrals ?? 0) + 1 });
      emit('deferred');
    } else {
      const attempts = e.attempts + 1;
      const err = res.error ?? 'failed';
      const unreachable = UNREACHABLE_RE.test(err);
      this.o.log.warn(
        { direction: e.direction, key: e.key, remote: e.remote, attempts, unreachable, err },
        'transfer failed',
      );
      if (unreachable) {
        const strikes = (this.downStrikes.get(e.remote) ?? 0) + 1;
        this.downStrikes.set(e.remote, strikes);
        this.downUntil.set(e.remote, Date.now() + backoffDelay(strikes, DOWN_BASE_MS, DOWN_MAX_MS));
      }
      if (unreachable && e.direction === 'download' && e.fallbacks && e.fallbacks.length > 0) {
        // Another holder may be right here on the LAN: do not wait for this one to come back.
        // The list only shrinks, so this is bounded by the number of holders.
        const [next, ...rest] = e.fallbacks;
        q.update(id, { remote: next, fallbacks: rest, attempts: 0, notBefore: 0, lastError: err });
        emit('fallback');
      } else if (attempts < this.maxAttempts) {
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
    if (s.entries.length === 0 && (s.stale || !s.lane.alive))
      background(this.closeLane(s), this.o.log, 'closing a git-annex lane');
    this.kick();
  }
}

function existsNoFollow(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}
