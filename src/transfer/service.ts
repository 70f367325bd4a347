// TransferService: content sync for a git-annex repository.
//
// Waits on: scan requests (requestScan(): at start, after merges, after a reconnect: the whole work
//   tree), keys and paths from the committer (enqueueKeys: just those files), and the completion of
//   its own git-annex lanes (just the files moved). All collapse into one pending scan (Wakeup).
// Produces: git-annex uploads, downloads and bridge drops (flood sync, src/map/planner.ts), a
//   persisted queue (.git/autosync/transfers.json), `transfer` events on the bus, status() for
//   `status --json` (the interface's `transfers` object), and onLocationsChanged() after content moved
//   and git-annex committed the location log, which the agent wires to its pusher so peers learn
//   where content is.
//
// Two owners inside: the scan loop (inventory -> plan -> queue, drops) and the worker pool (queue ->
// git-annex). They share only the queue, which the pool alone takes entries out of.
import { Wakeup } from '../agent/queue.js';
import type { Service, ServiceContext } from '../agent/service.js';
import type { EventBus } from '../agent/bus.js';
import type { Runner } from '../git/runner.js';
import type { Logger } from '../log.js';
import { InventoryReader } from '../map/inventory.js';
import { plan, type PlannedDrop } from '../map/planner.js';
import { isSafeRelPath, isValidBwLimit, isValidKey, isValidRemoteName, keySize } from './keys.js';
import { TransferQueue, entryId } from './queue.js';
import { TransferDir } from './transferinfo.js';
import { WorkerPool, type ActiveTransfer } from './workers.js';
import { join } from 'node:path';

/** A transfer given up on is not planned again for this long (a scan would otherwise retry it
 * forever); after that, conditions may have changed (the remote is back). */
const FAILED_COOLDOWN_MS = 30 * 60_000;
/** A transfer that just succeeded and is planned again means the location log lags (or a remote
 * lies); skipping it for this long keeps scan -> transfer -> scan from looping. */
const RECENT_DONE_MS = 2 * 60_000;
/** Beyond this many pending paths a targeted scan is no cheaper than a full one (and the set must
 * stay bounded). */
const MAX_TARGETED_PATHS = 10_000;
/** Rate-limited full scans (requestLocationScan) keep at least this factor × the last full scan's
 * duration between them, so they take at most ~1/(1+factor) of the time (20 % at 4): a 1,000-file
 * tree scans in about a second here, and a burst moved the location logs ~40 times. */
const LOCATION_SCAN_FACTOR = 4;
/** ...and never wait longer than this: a huge tree still learns new locations twice a minute. */
const LOCATION_SCAN_MAX_WAIT_MS = 30_000;

/** How long after the last full scan a rate-limited one may start. Pure (table-tested). */
export function locationScanDelay(lastFullMs: number): number {
  return Math.min(LOCATION_SCAN_MAX_WAIT_MS, Math.max(0, lastFullMs) * LOCATION_SCAN_FACTOR);
}

/**
 * A work-tree name that is not valid UTF-8 reaches us from git and git-annex decoded, with U+FFFD
 * in place of its bytes. git-annex cannot find the file by that name, so a targeted scan (whereis
 * by path) would skip it: such names are planned by a full scan, whose answers are by key.
 */
function unnameable(path: string): boolean {
  return path.includes('\uFFFD');
}

/** Drops of a scan run as one git-annex process per remote; this bounds a hung one. */
const DROP_TIMEOUT_MS = 10 * 60_000;

export interface TransferStatus {
  queued: number;
  active: ActiveTransfer[];
  failed: number;
}

export interface TransferServiceOptions {
  runner: Runner;
  repoDir: string;
  /** .git/autosync of this repository (transfers.json lives here). */
  autosyncDir: string;
  log: Logger;
  bus?: EventBus;
  /** Concurrent transfers (lanes). Default 2. */
  slots?: number;
  /** Called after content moved and git-annex committed the location log: push git-annex, signal. */
  onLocationsChanged: () => void;
  /** A download put content into this work-tree file (git-annex wrote it, not a person). */
  onDownloaded?: (file: string, size: number | null) => void;
  /** Bandwidth limit per remote name, git-annex syntax ("1MiB"); see docs/transfers.md. */
  bwlimit?: Record<string, string>;
  /** Attempts per remote before giving up (default 5). */
  maxAttempts?: number;
  /** First retry delay (default 2 s); tests shorten it. */
  retryBaseMs?: number;
  /** Scan once at start (default true). */
  scanOnStart?: boolean;
  /** A repository with no preferred content wants everything (default true: flood). */
  defaultWantAll?: boolean;
  /** git-annex binary (default "git-annex" on PATH). */
  annexBinary?: string;
  /** Kill a transfer with no output from git-annex for this long (default 10 min). */
  stallMs?: number;
}

export class TransferService implements Service {
  readonly name = 'transfers';
  private queue: TransferQueue | null = null;
  private pool: WorkerPool | null = null;
  private readonly scanWake = new Wakeup();
  private scanLoop: Promise<void> | null = null;
  private stopping = false;
  private readonly remoteUuids = new Map<string, string>();
  private readonly recentDone = new Map<string, number>();
  private readonly reader: InventoryReader;
  private annexDir = '';
  private scans = 0;
  /** What the next scan covers: the whole tree, or just these files (after commits, transfers). */
  private fullScan = false;
  private readonly pendingPaths = new Set<string>();
  private lastScanError: string | null = null;
  /** A rate-limited full scan is wanted (requestLocationScan); see locationScanDelay. */
  private locationScan = false;
  private locationTimer: NodeJS.Timeout | null = null;
  /** When the last full scan ended and how long it took (for the rate limit). */
  private lastFullEnd = 0;
  private lastFullMs = 0;
  private readonly bw: Record<string, string> = {};

  /** Concurrent lanes (autosync.transferSlots); setSlots changes it while we run. */
  private slots: number | undefined;

  constructor(private readonly o: TransferServiceOptions) {
    this.slots = o.slots;
    this.reader = new InventoryReader(o.runner, o.repoDir);
    for (const [r, l] of Object.entries(o.bwlimit ?? {})) {
      if (isValidRemoteName(r) && isValidBwLimit(l)) this.bw[r] = l;
    }
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.stopping = false;
    const gd = await this.o.runner.git(['rev-parse', '--absolute-git-dir']);
    this.annexDir = join(gd.stdout.trim(), 'annex');
    this.queue = new TransferQueue(this.o.autosyncDir);
    // Seed the remote -> uuid map from git config, so the pool can read transfer locks before the
    // first scan finishes.
    await this.refreshRemoteUuids();
    this.pool = new WorkerPool({
      repoDir: this.o.repoDir,
      queue: this.queue,
      transferDir: new TransferDir(this.annexDir),
      remoteUuid: (r) => this.remoteUuids.get(r) ?? null,
      log: this.o.log,
      bus: this.o.bus,
      slots: this.slots,
      maxAttempts: this.o.maxAttempts,
      retryBaseMs: this.o.retryBaseMs,
      bwlimit: this.bw,
      annexBinary: this.o.annexBinary,
      stallMs: this.o.stallMs,
      onTransferDone: (e) => {
        this.recentDone.set(entryId(e), Date.now());
        if (e.direction === 'download' && e.file !== undefined && isSafeRelPath(e.file)) {
          try {
            this.o.onDownloaded?.(e.file, keySize(e.key));
          } catch (err) {
            this.o.log.warn({ err: String(err) }, 'onDownloaded threw');
          }
        }
        // Re-plan this file after the batch: content that just arrived may be wanted elsewhere
        // (flood onward), and a bridge copy may now be droppable.
        if (e.file !== undefined && isSafeRelPath(e.file) && !unnameable(e.file)) this.addPendingPath(e.file);
        else this.fullScan = true;
      },
      onBatchDone: () => {
        this.locationsChanged();
        this.scanWake.request();
      },
    });
    this.pool.start();
    this.scanLoop = this.runScans(ctx);
    if (this.o.scanOnStart !== false) this.requestScan();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.locationTimer) clearTimeout(this.locationTimer);
    this.locationTimer = null;
    this.scanWake.request();
    await this.scanLoop;
    await this.pool?.stop();
    this.queue?.flush();
  }

  /** Work-tree files our downloads are filling now: missing for a moment, not deleted. */
  fillingFiles(): Set<string> {
    return this.pool?.fillingFiles() ?? new Set();
  }

  /** The committer's newly annexed keys. They are planned by the next scan (which knows who wants
   * them); a key held by cancel() is released by this explicit request. */
  enqueueKeys(keys: string[], paths?: string[]): void {
    let n = 0;
    for (const k of keys) {
      if (!isValidKey(k)) continue;
      this.queue?.unhold(k);
      n++;
    }
    if (n === 0) return;
    // With the files' paths (annexedInRange), the scan looks at just those files; without them,
    // at the whole tree.
    const safe = paths?.filter(isSafeRelPath) ?? [];
    if (safe.length === 0 || safe.some(unnameable)) {
      this.requestScan();
      return;
    }
    for (const p of safe) this.addPendingPath(p);
    this.scanWake.request();
  }

  /** Ask for a scan (collapsing: many requests while one runs make one more). */
  requestScan(): void {
    this.fullScan = true;
    this.scanWake.request();
  }

  /** Plan just these work-tree files soon (files a merge brought in, possibly without content). */
  scanPaths(paths: readonly string[]): void {
    if (paths.some(unnameable)) return this.requestScan();
    let n = 0;
    for (const p of paths) {
      if (!isSafeRelPath(p)) continue;
      this.addPendingPath(p);
      n++;
    }
    if (n > 0) this.scanWake.request();
  }

  /**
   * After a merge: `paths` are the annexed files it brought in (possibly without content), and
   * `locationsMoved` says whether peers' location logs moved too. When a location scan may run now
   * anyway, one full scan covers both; otherwise the files are planned at once and the location
   * scan waits for its turn. (Planning the same 1,000 files twice cost 2 s of a burst.)
   */
  afterMerge(paths: readonly string[], locationsMoved: boolean): void {
    if (locationsMoved && Date.now() >= this.lastFullEnd + locationScanDelay(this.lastFullMs)) {
      this.requestScan();
      return;
    }
    this.scanPaths(paths);
    if (locationsMoved) this.requestLocationScan();
  }

  /**
   * The location logs moved (a peer's git-annex branch was merged): content may now be fetchable
   * from somewhere, or a bridge copy droppable. A whole-tree scan, but at a bounded rate: during a
   * burst the logs move with every batch a peer completes, and each full scan re-reads everything.
   */
  requestLocationScan(): void {
    this.locationScan = true;
    this.scanWake.request();
  }

  /** autosync.transferSlots changed while we run (see WorkerPool.setSlots). */
  setSlots(n: number): void {
    this.slots = n;
    this.pool?.setSlots(n);
  }

  pause(remote?: string): void {
    if (remote !== undefined && !isValidRemoteName(remote)) throw new Error(`invalid remote name: ${remote}`);
    this.queue?.setPaused(remote, true);
    this.pool?.pause(remote);
  }

  resume(remote?: string): void {
    if (remote !== undefined && !isValidRemoteName(remote)) throw new Error(`invalid remote name: ${remote}`);
    this.queue?.setPaused(remote, false);
    this.pool?.kick();
  }

  /** Drops every queued transfer of `key`, stops a running one, and keeps scans off it for a day. */
  cancel(key: string): void {
    if (!isValidKey(key)) throw new Error('invalid annex key');
    this.queue?.hold(key);
    this.pool?.cancel(key);
  }

  /** Sets (limit) or clears (null) the bandwidth limit for one remote. */
  setBandwidthLimit(remote: string, limit: string | null): void {
    if (!isValidRemoteName(remote)) throw new Error(`invalid remote name: ${remote}`);
    if (limit !== null && !isValidBwLimit(limit)) throw new Error(`invalid bandwidth limit: ${limit}`);
    if (limit === null) delete this.bw[remote];
    else this.bw[remote] = limit;
    this.pool?.setBandwidthLimit(remote, limit);
  }

  status(): TransferStatus {
    const active = this.pool?.active() ?? [];
    const q = this.queue;
    return {
      queued: q ? q.all().filter((e) => !this.pool?.isRunning(entryId(e))).length : 0,
      active,
      failed: q?.failed.length ?? 0,
    };
  }

  /** For status/debugging: scans done, last scan error, pause state. */
  details(): { scans: number; lastScanError: string | null; paused: { all: boolean; remotes: string[] } } {
    return {
      scans: this.scans,
      lastScanError: this.lastScanError,
      paused: this.queue?.paused ?? { all: false, remotes: [] },
    };
  }

  private addPendingPath(p: string): void {
    if (this.fullScan) return;
    this.pendingPaths.add(p);
    if (this.pendingPaths.size > MAX_TARGETED_PATHS) {
      this.fullScan = true;
      this.pendingPaths.clear();
    }
  }

  private locationsChanged(): void {
    try {
      this.o.onLocationsChanged();
    } catch (err) {
      this.o.log.warn({ err: String(err) }, 'onLocationsChanged threw');
    }
  }

  private async runScans(ctx: ServiceContext): Promise<void> {
    let consecutiveFailures = 0;
    for (;;) {
      await this.scanWake.wait();
      if (this.stopping) return;
      try {
        // A full scan covers any pending paths; a targeted one only those paths. Too many paths and
        // the whole tree is cheaper to read in one go.
        let full = this.fullScan || this.pendingPaths.size > MAX_TARGETED_PATHS;
        if (!full && this.locationScan) {
          const wait = this.lastFullEnd + locationScanDelay(this.lastFullMs) - Date.now();
          if (wait <= 0) full = true;
          else if (!this.locationTimer) {
            this.locationTimer = setTimeout(() => {
              this.locationTimer = null;
              this.scanWake.request();
            }, wait);
          }
        }
        const paths = full ? undefined : [...this.pendingPaths];
        this.fullScan = false;
        this.pendingPaths.clear();
        if (full) {
          this.locationScan = false;
          if (this.locationTimer) clearTimeout(this.locationTimer);
          this.locationTimer = null;
        }
        if (paths && paths.length === 0) continue;
        const t0 = Date.now();
        await this.scanOnce(paths);
        if (full) {
          this.lastFullEnd = Date.now();
          this.lastFullMs = this.lastFullEnd - t0;
        }
        consecutiveFailures = 0;
        this.lastScanError = null;
      } catch (err) {
        consecutiveFailures++;
        this.lastScanError = err instanceof Error ? err.message : String(err);
        this.o.log.warn({ err: this.lastScanError }, 'transfer scan failed');
        // Repeated failures mean something is broken for good (not an annex repo, git-annex gone):
        // let the supervisor restart us with its backoff rather than spin here.
        if (consecutiveFailures >= 3) {
          ctx.fail(err);
          return;
        }
      }
    }
  }

  private async refreshRemoteUuids(): Promise<void> {
    const cfg = await this.o.runner.git(['config', '-z', '--get-regexp', '^remote\\..*\\.annex-uuid$'], {
      okCodes: [1],
    });
    for (const rec of cfg.stdout.split('\0')) {
      const [k, v] = rec.split('\n');
      const m = /^remote\.(.+)\.annex-uuid$/.exec(k ?? '');
      if (m?.[1] && isValidRemoteName(m[1]) && v) this.remoteUuids.set(m[1], v);
    }
  }

  /** One scan: inventory, plan, enqueue transfers, run the drops. Exported behaviour for tests. */
  async scanOnce(paths?: string[]): Promise<void> {
    const q = this.queue;
    if (!q) return;
    const inv = await this.reader.read({
      annexDir: this.annexDir,
      defaultWantAll: this.o.defaultWantAll,
      down: this.pool?.downRemotes(),
      paths,
    });
    // stop() waits for a running scan; do not start work for a service that is going away.
    if (this.stopping) return;
    for (const [r, u] of inv.remoteUuids) this.remoteUuids.set(r, u);
    const p = plan(inv.repos, inv.keys);
    const now = Date.now();
    for (const [id, t] of this.recentDone) if (now - t > RECENT_DONE_MS) this.recentDone.delete(id);
    const ok = (e: { direction: 'upload' | 'download'; key: string; remote: string }) =>
      !q.isHeld(e.key) && !q.recentlyFailed(e, now - FAILED_COOLDOWN_MS) && !this.recentDone.has(entryId(e));
    const items = [
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
    ].filter(ok);
    const added = q.addMany(items);
    this.scans++;
    this.o.log.info(
      {
        scope: paths ? paths.length : 'all',
        downloads: p.downloads.length,
        uploads: p.uploads.length,
        drops: p.drops.length,
        added,
      },
      'transfer scan',
    );
    this.pool?.kick();
    await this.runDrops(p.drops.filter((d) => !q.isHeld(d.key)));
  }

  /** Runs planned drops, one `git annex drop --batch` per remote; git-annex enforces numcopies. */
  private async runDrops(drops: PlannedDrop[]): Promise<void> {
    const groups = new Map<string, PlannedDrop[]>();
    for (const d of drops) {
      // A name git-annex cannot be given back (see unnameable) is not dropped: its copy stays.
      if (!isSafeRelPath(d.file) || unnameable(d.file)) continue;
      if (d.remote !== null && this.queue?.isPaused(d.remote)) continue;
      if (d.remote === null && this.queue?.paused.all) continue;
      // Never drop a key that is being moved right now (it may be the source of an upload).
      if (this.pool?.busyKeys().has(d.key)) continue;
      const g = `${d.remote ?? ''}\n${d.reason}`;
      const list = groups.get(g) ?? [];
      list.push(d);
      groups.set(g, list);
    }
    let dropped = 0;
    for (const [, list] of groups) {
      if (this.stopping) break;
      const first = list[0];
      if (!first) continue;
      const args = ['annex', 'drop', '--batch', '--json', '--json-error-messages'];
      if (first.remote !== null) args.push(`--from=${first.remote}`);
      // Unwanted local content: --auto lets git-annex re-check preferred content and numcopies.
      if (first.reason === 'unwanted-here') args.push('--auto');
      try {
        const r = await this.o.runner.git(args, {
          input: list.map((d) => d.file).join('\n') + '\n',
          okCodes: [1],
          timeoutMs: DROP_TIMEOUT_MS,
        });
        for (const line of r.stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            const o = JSON.parse(line) as { success?: boolean; key?: string };
            if (o.success === true) {
              dropped++;
              this.o.bus?.emit('transfer', {
                direction: 'upload',
                key: isValidKey(o.key) ? o.key : '',
                remote: first.remote ?? 'here',
                state: 'dropped',
              });
            }
          } catch {
            // A line we cannot read is skipped; the next scan sees the real state.
          }
        }
      } catch (err) {
        this.o.log.warn({ remote: first.remote, err: String(err) }, 'drop failed');
      }
    }
    if (dropped > 0) {
      this.o.log.info({ dropped }, 'dropped content no longer needed');
      this.locationsChanged();
    }
  }
}
