// Scan poll: the watcher's stand-in once the kernel is out of inotify watches. Waits on activate()
// (the watcher calls it when its watches ran out) and then on a timer; produces a whole-tree scan
// request for the committer (a `git status` of the work tree) every `everyMs`. Until activated
// it holds no timer and costs nothing.
import type { Service, ServiceContext } from '../core/service.js';

/**
 * Without a watcher, a change waits up to this long to be seen. One scan of a 100,000-file tree
 * costs git about 0.3 s of one core (docs/benchmarks.md, "watcher choice"), so every 5 s is ~6 %
 * of a core: slower than a watch, and cheap enough to run for as long as the limit stays low.
 */
export const SCAN_EVERY_MS = 5_000;

export interface ScanPollDeps {
  /** Asks for a scan of the whole work tree (the committer's noteDir('')). */
  scan: () => void;
  everyMs?: number;
}

export class ScanPoll implements Service {
  readonly name = 'scan-poll';
  private active = false;
  private running = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ScanPollDeps) {}

  /** True once the watcher has handed over: changes are found by scans. */
  get scanning(): boolean {
    return this.active;
  }

  /** From now on the work tree is scanned every everyMs; the first scan is asked for at once. */
  activate(): void {
    if (this.active) return;
    this.active = true;
    if (this.running) this.tick();
  }

  async start(_ctx: ServiceContext): Promise<void> {
    this.running = true;
    if (this.active) this.tick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private tick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.running) return;
    this.deps.scan();
    this.timer = setTimeout(() => this.tick(), this.deps.everyMs ?? SCAN_EVERY_MS);
  }
}
