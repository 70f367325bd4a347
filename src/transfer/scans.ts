// ScanRequests: what the transfer service's next scan covers, collapsed into one pending scan.
//
// Waits on: requests from the service (a whole-tree scan at start, after a reconnect; files from
//   the committer, a merge or a finished transfer; a rate-limited location scan after peers'
//   location logs moved), and its own timer for a location scan that must still wait.
// Produces: wait() resolving when a scan is due, and take(): the scan to run now (whole tree, or
//   just these files), or nothing. The scan loop itself is in service.ts.
import { Wakeup } from '../core/queue.js';
import { isSafeRelPath } from '../annex/keys.js';
import { MAX_TARGETED_PATHS, chooseScan, locationScanDue, newKeysFirst, unnameable } from './scan-policy.js';

export interface ScanJob {
  full: boolean;
  /** The files to plan (a targeted scan); undefined for the whole tree. */
  paths: string[] | undefined;
}

export class ScanRequests {
  private readonly wake = new Wakeup();
  /** What the next scan covers: the whole tree, or just these files (after commits, transfers). */
  private fullScan = false;
  private readonly pendingPaths = new Set<string>();
  /** Files of keys our own commits just made: planned first (see newKeysFirst). */
  private readonly newKeyPaths = new Set<string>();
  /** A rate-limited full scan is wanted (requestLocationScan); see locationScanDelay. */
  private locationScan = false;
  /** Files whose keys no repository was known to hold at their last scan (unlocatedFiles):
   * rescanned as soon as the location logs move, without the rate limit. */
  private readonly unlocated = new Set<string>();
  private locationTimer: NodeJS.Timeout | null = null;
  /** When the last full scan ended and how long it took (for the rate limit). */
  private lastFullEnd = 0;
  private lastFullMs = 0;

  /** Resolves when a scan was asked for (several requests collapse into one). */
  wait(): Promise<void> {
    return this.wake.wait();
  }

  /** Wakes the scan loop (to scan what is pending, or to see that it is stopping). */
  request(): void {
    this.wake.request();
  }

  /** The next scan reads the whole tree (without waking the loop: a batch end will). */
  wantFull(): void {
    this.fullScan = true;
  }

  /** A whole-tree scan soon (collapsing: many requests while one runs make one more). */
  requestFull(): void {
    this.fullScan = true;
    this.wake.request();
  }

  /** The next scan covers this file (a no-op when it reads the whole tree anyway). */
  addPath(p: string): void {
    if (this.fullScan) return;
    this.pendingPaths.add(p);
    if (this.pendingPaths.size > MAX_TARGETED_PATHS) {
      this.fullScan = true;
      this.pendingPaths.clear();
    }
  }

  /** Files whose keys our commit just made: planned at once, ahead of a pending whole-tree scan. */
  requestNewKeys(paths: readonly string[]): void {
    let n = 0;
    for (const p of paths) {
      if (!isSafeRelPath(p)) continue;
      if (this.newKeyPaths.size >= MAX_TARGETED_PATHS) this.addPath(p);
      else this.newKeyPaths.add(p);
      n++;
    }
    if (n > 0) this.wake.request();
  }

  /** Plan just these work-tree files soon (files a merge brought in, possibly without content). */
  requestPaths(paths: readonly string[]): void {
    if (paths.some(unnameable)) return this.requestFull();
    let n = 0;
    for (const p of paths) {
      if (!isSafeRelPath(p)) continue;
      this.addPath(p);
      n++;
    }
    if (n > 0) this.wake.request();
  }

  /** A rate-limited whole-tree scan (the location logs moved); see locationScanDelay. The files
   * that waited for their locations are planned at once. */
  requestLocation(): void {
    this.locationScan = true;
    this.takeUnlocated();
    this.wake.request();
  }

  /** A scan found these files' keys held nowhere yet; plan them again when the locations move. */
  awaitLocations(paths: readonly string[]): void {
    for (const p of paths) {
      if (this.unlocated.size >= MAX_TARGETED_PATHS) break;
      if (isSafeRelPath(p) && !unnameable(p)) this.unlocated.add(p);
    }
  }

  /** Files that waited for their locations become pending paths (a targeted scan, now). */
  private takeUnlocated(): void {
    for (const p of this.unlocated) this.addPath(p);
    this.unlocated.clear();
  }

  /**
   * After a merge: `paths` are the annexed files it brought in (possibly without content), and
   * `locationsMoved` says whether peers' location logs moved too. When a location scan may run now
   * anyway, one full scan covers both; otherwise the files are planned at once and the location
   * scan waits for its turn. (Planning the same 1,000 files twice cost 2 s of a burst.)
   */
  afterMerge(paths: readonly string[], locationsMoved: boolean): void {
    if (locationsMoved && locationScanDue(this.lastFullEnd, this.lastFullMs, Date.now())) {
      this.unlocated.clear();
      this.requestFull();
      return;
    }
    this.requestPaths(paths);
    if (locationsMoved) this.requestLocation();
  }

  /** The scan to run now, clearing what it covers; null when there is nothing to plan yet. */
  take(): ScanJob | null {
    const pending = {
      fullScan: this.fullScan,
      pendingPaths: this.pendingPaths.size + this.newKeyPaths.size,
      locationScan: this.locationScan,
      lastFullEnd: this.lastFullEnd,
      lastFullMs: this.lastFullMs,
      now: Date.now(),
    };
    if (newKeysFirst({ ...pending, newKeyPaths: this.newKeyPaths.size })) {
      const paths = [...this.newKeyPaths];
      this.newKeyPaths.clear();
      // The whole-tree scan still pending runs next.
      this.wake.request();
      return { full: false, paths };
    }
    for (const p of this.newKeyPaths) this.pendingPaths.add(p);
    this.newKeyPaths.clear();
    const c = chooseScan(pending);
    if (c.locationWaitMs !== null && !this.locationTimer) {
      this.locationTimer = setTimeout(() => {
        this.locationTimer = null;
        this.wake.request();
      }, c.locationWaitMs);
    }
    const paths = c.full ? undefined : [...this.pendingPaths];
    this.fullScan = false;
    this.pendingPaths.clear();
    if (c.full) {
      this.locationScan = false;
      // The full scan sees every file: those still unlocated are named again by it.
      this.unlocated.clear();
      this.clearTimer();
    }
    if (paths && paths.length === 0) return null;
    return { full: c.full, paths };
  }

  /** A full scan that started at `t0` has ended (for the location scans' rate limit). */
  fullScanDone(t0: number): void {
    this.lastFullEnd = Date.now();
    this.lastFullMs = this.lastFullEnd - t0;
  }

  /** Stopping: no more timer; wakes the loop so it sees the stop. */
  stop(): void {
    this.clearTimer();
    this.wake.request();
  }

  private clearTimer(): void {
    if (this.locationTimer) clearTimeout(this.locationTimer);
    this.locationTimer = null;
  }
}
