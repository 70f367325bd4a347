// TransferService: content sync for a git-annex repository.
//
// Waits on: scan requests (requestScan(): at start, after merges, after a reconnect; remoteBack(): a
//   remote answering again; the whole work tree), keys and paths from the committer (enqueueKeys:
//   just those files), and the completion of its own git-annex lanes (just the files moved). All collapse into one pending scan (scans.ts).
// Produces: git-annex uploads, downloads and bridge drops (flood sync, src/map/planner.ts), a
//   persisted queue (.git/autosync/transfers.json), `transfer` events on the bus, status() for
//   `status --json` (the interface's `transfers` object), and onLocationsChanged() after content moved
//   and git-annex committed the location log, which the agent wires to its pusher so peers learn
//   where content is.
//
// Two owners inside: the scan loop here (inventory -> plan -> queue, drops) and the worker pool
// (queue -> git-annex, workers.ts). They share only the queue, which the pool alone takes entries out
// of. What a scan covers is scans.ts and scan-policy.ts; which planned transfers are queued is
// planning.ts; the drops are drops.ts.
import type { Service, ServiceContext } from '../core/service.js';
import type { EventBus } from '../core/bus.js';
import type { Runner } from '../git/runner.js';
import type { Logger } from '../core/log.js';
import { InventoryReader } from '../map/inventory.js';
import { plan, type KeyInfo, type Plan, type RepoInfo } from '../map/planner.js';
import type { PlanStore } from '../map/plan-store.js';
import { narrowToTree } from '../map/tree-plan.js';
import { dropGroups, runDrops } from './drops.js';
import { isSafeRelPath, isValidBwLimit, isValidKey, isValidRemoteName, keySize } from '../annex/keys.js';
import { readRemoteUuids } from '../annex/remotes.js';
import { FAILED_COOLDOWN_MS, RecentlyDone, newerSource, plannedItems } from './planning.js';
import { TransferQueue, entryId } from './queue.js';
import { unlocatedFiles, unnameable } from './scan-policy.js';
import { ScanRequests } from './scans.js';
import { TransferDir } from './transferinfo.js';
import { WorkerPool, type ActiveTransfer } from './workers.js';
import { join } from 'node:path';

export interface TransferStatus {
  queued: number;
  active: ActiveTransfer[];
  failed: number;
}

/**
 * Tree routing (autosync.planner=tree, app/map-service.ts): the plans this clone follows, and the
 * hook that plans our own new keys. Absent: flood alone.
 */
export interface TreeRouting {
  store: PlanStore;
  /** Our own new keys, as the scan found them: compute their trees, keep and announce them. */
  originate(keys: KeyInfo[]): Promise<void>;
  /** A transfer of `key` with the repository `uuid` failed for good. */
  failed(key: string, uuid: string): void;
}

/** New keys remembered until a scan plans them; a burst beyond this is flooded (none is lost). */
const MAX_NEW_KEYS = 4096;

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
  /** Tree routing; read at each scan (null or absent: flood). */
  routing?: () => TreeRouting | null;
}

export class TransferService implements Service {
  readonly name = 'transfers';
  private queue: TransferQueue | null = null;
  private pool: WorkerPool | null = null;
  private readonly scansWanted = new ScanRequests();
  private scanLoop: Promise<void> | null = null;
  private stopping = false;
  private readonly remoteUuids = new Map<string, string>();
  private readonly recentDone = new RecentlyDone();
  private readonly reader: InventoryReader;
  private annexDir = '';
  private gitDir = '';
  private scans = 0;
  private lastScanError: string | null = null;
  private readonly bw: Record<string, string> = {};
  /** The committer's new keys not planned yet (tree routing plans them at the next scan). */
  private readonly newKeys = new Set<string>();

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
    this.gitDir = gd.stdout.trim();
    this.annexDir = join(this.gitDir, 'annex');
    this.queue = new TransferQueue(this.o.autosyncDir);
    // Seed the remote -> uuid map from git config, so the pool can read transfer locks before the
    // first scan finishes.
    await this.refreshRemoteUuids();
    this.pool = new WorkerPool({
      repoDir: this.o.repoDir,
      gitDir: this.gitDir,
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
        this.recentDone.mark(e, Date.now());
        if (e.direction === 'download' && e.file !== undefined && isSafeRelPath(e.file)) {
          try {
            this.o.onDownloaded?.(e.file, keySize(e.key));
          } catch (err) {
            this.o.log.warn({ err: String(err) }, 'onDownloaded threw');
          }
        }
        // Re-plan this file after the batch: content that just arrived may be wanted elsewhere
        // (flood onward), and a bridge copy may now be droppable.
        if (e.file !== undefined && isSafeRelPath(e.file) && !unnameable(e.file))
          this.scansWanted.addPath(e.file);
        else this.scansWanted.wantFull();
      },
      // Files added while the remote was down were planned without it.
      onRemoteBack: (r) => {
        this.o.log.info({ remote: r }, 'remote back: planning its content again');
        this.requestScan();
      },
      onBatchDone: () => {
        this.locationsChanged();
        this.scansWanted.request();
      },
    });
    this.pool.start();
    this.scanLoop = this.runScans(ctx);
    if (this.o.scanOnStart !== false) this.requestScan();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.scansWanted.stop();
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
      if (this.newKeys.size < MAX_NEW_KEYS) this.newKeys.add(k);
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
    this.scansWanted.requestNewKeys(safe);
  }

  /**
   * The remote answered again (a push to it after failures, its drive mounted): it is not down any
   * more, its backed-off entries start now, and the whole tree is planned again, since what was
   * added while it was away was planned without it (issue 11, item 5).
   */
  remoteBack(remote: string): void {
    if (!isValidRemoteName(remote)) return;
    this.pool?.remoteBack(remote);
    this.requestScan();
  }

  /** The remote's drive was unmounted: its transfers stop and wait, nothing counts as failed. */
  remoteAway(remote: string): void {
    if (isValidRemoteName(remote)) this.pool?.remoteAway(remote);
  }

  /** The network came back or the machine woke: every remote down is tried again now (a drive
   * that is away stays away: only its mount brings it back). */
  networkBack(): void {
    this.pool?.networkBack();
    this.requestScan();
  }

  /** Ask for a scan (collapsing: many requests while one runs make one more). */
  requestScan(): void {
    this.scansWanted.requestFull();
  }

  /** Plan just these work-tree files soon (files a merge brought in, possibly without content). */
  scanPaths(paths: readonly string[]): void {
    this.scansWanted.requestPaths(paths);
  }

  /** After a merge: plan the annexed files it brought in, and rescan locations if peers' location
   * logs moved; one full scan when that may run now anyway (see ScanRequests.afterMerge). */
  afterMerge(paths: readonly string[], locationsMoved: boolean): void {
    this.scansWanted.afterMerge(paths, locationsMoved);
  }

  /**
   * The location logs moved (a peer's git-annex branch was merged): content may now be fetchable
   * from somewhere, or a bridge copy droppable. A whole-tree scan, but at a bounded rate: during a
   * burst the logs move with every batch a peer completes, and each full scan re-reads everything.
   */
  requestLocationScan(): void {
    this.scansWanted.requestLocation();
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
      await this.scansWanted.wait();
      if (this.stopping) return;
      try {
        const job = this.scansWanted.take();
        if (!job) continue;
        const t0 = Date.now();
        await this.scanOnce(job.paths);
        if (job.full) this.scansWanted.fullScanDone(t0);
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

  /** The flood plan narrowed to our part of each key's tree (tree routing), else as it is. */
  private async routed(flood: Plan, inv: { repos: RepoInfo[]; keys: KeyInfo[] }): Promise<Plan> {
    const r = this.o.routing?.() ?? null;
    const here = inv.repos.find((x) => x.here);
    if (!r || !here) return flood;
    const fresh = inv.keys.filter((k) => this.newKeys.has(k.key));
    for (const k of fresh) this.newKeys.delete(k.key);
    // A map that cannot be read costs only the saving: those keys are flooded, the scan goes on.
    if (fresh.length > 0)
      await r
        .originate(fresh)
        .catch((err: unknown) =>
          this.o.log.warn({ err: String(err) }, 'could not plan new keys along the tree; flooding them'),
        );
    const { plans, leftTree } = r.store.inTree(inv.keys, Date.now());
    for (const l of leftTree) this.o.log.info({ key: l.key, why: l.why }, 'key left its tree; flooding it');
    const remotes = new Map(inv.repos.filter((x) => x.remote !== undefined).map((x) => [x.uuid, x.remote!]));
    return narrowToTree(flood, plans, here.uuid, (id) => remotes.get(id) ?? null);
  }

  private async refreshRemoteUuids(): Promise<void> {
    for (const [remote, uuid] of await readRemoteUuids(this.o.runner)) this.remoteUuids.set(remote, uuid);
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
    const p = await this.routed(plan(inv.repos, inv.keys), inv);
    // Keys whose location log has not arrived yet: planned again as soon as it does.
    this.scansWanted.awaitLocations(unlocatedFiles(inv.keys));
    const now = Date.now();
    this.recentDone.prune(now);
    const items = plannedItems(p, {
      isHeld: (k) => q.isHeld(k),
      recentlyFailed: (e) => q.recentlyFailed(e, now - FAILED_COOLDOWN_MS),
      recentlyDone: (e) => this.recentDone.has(e),
    });
    const added = q.addMany(items);
    // A download queued earlier from a dearer holder goes to the one this plan names (planning.ts).
    let resourced = 0;
    for (const it of items) {
      if (it.direction !== 'download') continue;
      const id = entryId(it);
      const queued = q.get(id);
      const src = queued && newerSource(queued, it, this.pool?.isActive(id) ?? false);
      if (!src) continue;
      q.update(id, src);
      resourced++;
    }
    this.scans++;
    this.o.log.info(
      {
        scope: paths ? paths.length : 'all',
        downloads: p.downloads.length,
        uploads: p.uploads.length,
        drops: p.drops.length,
        added,
        resourced,
      },
      'transfer scan',
    );
    this.pool?.kick();
    const busy = this.pool?.busyKeys() ?? new Set<string>();
    const groups = dropGroups(
      p.drops.filter((d) => !q.isHeld(d.key)),
      {
        paused: (r) => (r !== null ? q.isPaused(r) : q.paused.all),
        busy: (k) => busy.has(k),
      },
    );
    const dropped = await runDrops(groups, {
      runner: this.o.runner,
      log: this.o.log,
      bus: this.o.bus,
      stopping: () => this.stopping,
    });
    if (dropped > 0) {
      this.o.log.info({ dropped }, 'dropped content no longer needed');
      this.locationsChanged();
    }
  }
}
