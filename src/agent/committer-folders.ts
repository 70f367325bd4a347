// The committer's new folders. A folder that appears is the start of a burst (an unpacked archive,
// `cp -r`, a `git clone` of a dependency): its watch is set up asynchronously, so files written
// before it is armed raise no event, and under load the watcher's events lag the writes by seconds.
// So the folders are scanned with git instead of waiting for their events:
// - once they settle (DIR_SETTLE_MS after the last new one), one scan at a time, coalesced to the
//   top-most new folders (a scan of `a` covers `a/b/c`), for files that raise no event at all;
// - by every commit pass while the burst goes on (the committer asks `roots()`), so a pass holds
//   every file written there so far, whatever the watcher has reported.
// A burst ends when nothing new has been seen in its folders for BURST_TTL_MS.
//
// Waits on noteDir calls and its settle timer; produces scans (through TreeScans.reconcile in
// committer-scan.ts) and the answer to "is a burst into new folders going on, and where".
import type { Logger } from '../core/log.js';
import { background } from '../core/background.js';

/** New directories arrive in bursts (a merge, `cp -r`); one scan after they settle covers them all. */
const DIR_SETTLE_MS = 150;
/** A burst into new folders is over once nothing new was seen in them for this long: longer than
 * a writer's pause between files under load (tens of ms), short enough that a later lone save in
 * the same folder is again committed after the short quiet period. */
const BURST_TTL_MS = 2_000;

/** The top-most of these folders: one that lies inside another is covered by it. */
export function topMost(dirs: Iterable<string>): string[] {
  const sorted = [...new Set(dirs)].sort((a, b) => a.length - b.length);
  const out: string[] = [];
  for (const d of sorted) if (!out.some((r) => r === '' || d === r || d.startsWith(r + '/'))) out.push(d);
  return out;
}

export class NewFolders {
  /** Folders noted since their settle scan. */
  private readonly toScan = new Set<string>();
  /** The top-most new folders of the burst going on ('' never: the whole tree is no burst). */
  private burstRoots: string[] = [];
  private activeAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private stopped = false;

  constructor(
    /** Scans these folders ('' is the whole tree) and notes what it finds; resolves with how many. */
    private readonly scan: (dirs: string[]) => Promise<number>,
    /** Whether a commit pass is coming anyway (something is pending): it scans the burst's folders. */
    private readonly passComing: () => boolean,
    private readonly log: Logger,
  ) {}

  note(rel: string, now = Date.now()): void {
    // A folder inside a burst's folders is covered by the pass that is coming: a settle scan of it
    // beside that pass only doubled the work (5,000 files in 250 folders: 33 scans, 7.6 s of git).
    const covered = this.active(now) && this.covers(rel) && this.passComing();
    if (!covered) this.toScan.add(rel);
    if (rel !== '') {
      this.burstRoots = topMost([...this.burstRoots, rel]);
      this.activeAt = now;
    }
    if (!covered) this.arm();
  }

  /** Something new was seen in a burst folder (an event, or a scan that found files). */
  touched(now = Date.now()): void {
    this.activeAt = now;
  }

  /** Whether a burst into new folders goes on; an expired one is forgotten. */
  active(now = Date.now()): boolean {
    if (this.burstRoots.length > 0 && now - this.activeAt > BURST_TTL_MS) {
      // Over: one last scan of its folders finds whatever a pass was left to find (see note).
      for (const r of this.burstRoots) this.toScan.add(r);
      this.burstRoots = [];
      this.arm();
    }
    return this.burstRoots.length > 0;
  }

  roots(): string[] {
    return this.burstRoots;
  }

  /** Whether a path lies inside a folder of the burst. */
  covers(rel: string): boolean {
    return this.burstRoots.some((r) => rel.startsWith(r + '/'));
  }

  /** Folders noted and not scanned yet. */
  unscanned(): string[] {
    return [...this.toScan];
  }

  /** Resolves once no settle scan is under way (a commit pass scans after it, not beside it). */
  async idle(): Promise<void> {
    while (this.scanning) await this.scanning;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  start(): void {
    this.stopped = false;
  }

  private arm(): void {
    if (this.timer || this.scanning || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const dirs = topMost(this.toScan);
      this.toScan.clear();
      this.scanning = this.scan(dirs).then(
        (found) => {
          if (found > 0) this.touched();
        },
        (e: unknown) => this.log.warn({ err: String(e) }, 'scanning new directories failed'),
      );
      background(
        this.scanning.finally(() => {
          this.scanning = null;
          if (this.toScan.size > 0) this.arm();
        }),
        this.log,
        'scanning new directories',
      );
    }, DIR_SETTLE_MS);
  }
}
