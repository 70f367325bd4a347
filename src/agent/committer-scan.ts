// The committer's scans: `git status` looks for what the watcher did not report. The watcher is
// the fast path; these are the truth, run when the events cannot be enough:
// - the first scan, at start: whatever changed while no agent ran (or was lost to a kill -9);
// - before a commit pass, when a delete may be half of a rename, new folders may hold files that
//   raised no event, or a burst into new folders goes on (see beforePass);
// - after a burst, which can overflow the kernel's inotify queue (it drops events silently);
// - the new folders' settle scans (committer-folders.ts, which this part owns).
//
// Waits on the committer's calls (start, each pass, a burst committed, a new folder) and on its
// after-burst timer; produces paths noted as pending (through the committer's note) and the answer
// to "is the first scan still running".
import type { Logger } from '../core/log.js';
import { background } from '../core/background.js';
import type { PendingSet } from './committer-pending.js';
import type { RawNames } from './committer-raw.js';
import type { HeldDeletions } from './committer-held.js';
import type { CommittedAs } from './committer-own.js';
import { NewFolders } from './committer-folders.js';

/** After a commit into new folders, the scan for events the kernel dropped waits this long: the
 * burst's own passes scan its folders meanwhile, and a whole-tree scan beside each of them only
 * competed with the writer and the push for the CPU. */
const AFTER_BURST_SCAN_MS = 2_000;

export interface ScanDeps {
  raw: RawNames;
  pending: PendingSet;
  held: HeldDeletions;
  committedAs: CommittedAs;
  log: Logger;
  /** Notes a path the scan found (the committer's note; seenAt: the file's mtime). */
  note: (rel: string, seenAt?: number) => void;
  /** Whether a commit pass runs now, and how many have finished (see reconcile). */
  passes: () => { running: boolean; done: number };
}

export class TreeScans {
  /** The new folders, scanned by this part (committer-folders.ts). */
  readonly folders: NewFolders;
  private readonly d: ScanDeps;
  /** The first scan of the work tree, while it runs (see start). */
  private firstScan: Promise<void> | null = null;
  private afterBurstTimer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(d: ScanDeps) {
    this.d = d;
    this.folders = new NewFolders(
      (dirs) => this.reconcile(dirs, true),
      () => d.pending.size > 0,
      d.log,
    );
  }

  /** True while the first scan of the work tree runs. */
  get scanning(): boolean {
    return this.firstScan !== null;
  }

  /**
   * Starts the first scan. Changes made while no agent ran (or lost to a kill -9) are whatever
   * differs from HEAD now. It runs while the agent answers and the watcher (started before the
   * committer) reports: a change made during it is an event, and a path an event already noted
   * keeps its own timing. At 100,000 files this git status takes seconds, which `ready` must not
   * wait for. A failed scan is a crash like a failed start (fail): the supervisor restarts the
   * committer and the scan runs again.
   */
  start(fail: (e: unknown) => void): void {
    this.stopped = false;
    this.folders.start();
    const scan = (async () => {
      for (const p of await this.scan([], true)) if (!this.d.pending.has(p)) this.d.note(p);
    })();
    this.firstScan = scan.then(
      () => {
        this.firstScan = null;
      },
      (e: unknown) => {
        this.firstScan = null;
        fail(e);
      },
    );
  }

  /** Resolves once the first scan is over (what it finds is pending then). */
  async firstDone(): Promise<void> {
    if (this.firstScan) await this.firstScan;
  }

  stop(): void {
    this.stopped = true;
    this.folders.stop();
    if (this.afterBurstTimer) clearTimeout(this.afterBurstTimer);
    this.afterBurstTimer = null;
  }

  /**
   * Notes every path that differs from HEAD and is not pending yet (after a burst, new dirs, a name
   * the watcher could not decode). '' among the directories means the whole tree. retryStuck: see scan.
   */
  async reconcile(under: string[] = [], retryStuck = false): Promise<number> {
    const { pending, committedAs, raw } = this.d;
    try {
      const before = this.d.passes();
      const found = await this.scan(under.includes('') ? [] : under, retryStuck);
      // A scan beside a commit read the index before that commit staged its batch: a file of the
      // batch still exactly as committed is no change (a settle scan found 2,816 such, and a pass
      // went over them again). Otherwise a scan's find is the truth (a reset moves HEAD back).
      const overlapped = before.running || this.d.passes().done !== before.done;
      const missed = found.filter(
        (p) =>
          !pending.has(p) && !pending.stuck.has(p) && !(overlapped && committedAs.unchanged(p, raw.stat(p))),
      );
      if (missed.length > 0) {
        this.d.log.info({ paths: missed.length }, 'found changes the watcher missed; committing them');
        for (const p of missed) this.d.note(p, raw.stat(p).mtimeMs ?? undefined);
      }
      return missed.length;
    } catch (e) {
      this.d.log.warn({ err: String(e) }, 'reconciliation scan failed');
      return 0;
    }
  }

  /**
   * The scans a commit pass runs before it takes its batch (all: a flush).
   * Directories that just appeared may hold files the watcher has not reported: find them first,
   * so a file moved into a new directory is committed together with its deletion (a rename).
   * A delete may be half of a rename whose new name the watcher has not reported yet (events lag
   * under load). One look at the whole tree finds it, so git records a rename, not delete + add.
   * Deletes are rare next to edits, so this costs one git call now and then. It covers the new
   * directories too; looking only in those missed a partner elsewhere (a rename racing a merge
   * that created directories was committed as delete, then add).
   * A file found in a new directory before its event may be the new half of a rename whose
   * delete has not been reported either (both events lag under load): then the whole tree once.
   * A flush (before a merge, at stop) commits everything at once, whatever the watcher has
   * reported so far: the whole tree too, or a rename racing a merge is split in two commits.
   * Held deletions are not news: only other deletes call for a look at the tree.
   * A burst into new folders: after their settle scan, one scan of them holds every file written
   * there so far (the watcher's events lag); a file found there is the burst, not a rename.
   */
  async beforePass(all: boolean): Promise<void> {
    const { folders } = this;
    await folders.idle();
    const fresh = folders.unscanned();
    if (all || [...this.d.pending.deleted].some((p) => !this.d.held.has(p))) await this.reconcile();
    else if (fresh.length > 0 && (await this.reconcile(fresh)) > 0) await this.reconcile();
    else if (folders.active()) await this.reconcile(folders.roots());
  }

  /**
   * A burst can overflow the kernel's inotify queue, which drops events without telling anyone.
   * After a burst, one whole-tree scan finds whatever the watcher missed: at once, or once a burst
   * into new folders is over. Idle trees never pay this.
   */
  afterBurst(): void {
    if (!this.folders.active()) {
      background(this.reconcile(), this.d.log, 'the scan after a burst');
      return;
    }
    if (this.afterBurstTimer) clearTimeout(this.afterBurstTimer);
    this.afterBurstTimer = setTimeout(() => {
      this.afterBurstTimer = null;
      if (!this.stopped) background(this.reconcile(), this.d.log, 'the scan after a burst');
    }, AFTER_BURST_SCAN_MS);
  }

  /** Paths that differ from HEAD below some directories; raw names found are noted (RawNames.scan). */
  private async scan(under: string[], retryStuck: boolean): Promise<string[]> {
    const { paths, fresh } = await this.d.raw.scan(under, retryStuck, {
      isPending: (k) => this.d.pending.has(k),
      stuck: this.d.pending.stuck,
    });
    for (const key of fresh) this.d.note(key, this.d.raw.stat(key).mtimeMs ?? undefined);
    return paths;
  }
}
