// State watch: notices that the agent's state directory (.git/autosync), or a file in it that
// others find the agent by, was removed while the agent runs (`rm -rf .git/autosync`, a clean-up
// script). Without it the agent went on syncing unseen: `status` said "not running", `stop` found no
// agent, and a second `start` launched a second agent with a new key.
// Waits on the kernel (fs.watch on the git directory for the `autosync` entry, and on the state
// directory for the files below; no polling). Produces one onGone() call per settled burst of
// removals (`rm -rf` removes the files, then the directory); the agent puts back what is missing
// (Agent.restoreState) and then calls rearm(), since a new directory needs a new watch.
import { watch, existsSync, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';
import type { Service, ServiceContext } from '../core/service.js';
import { STATE_FILES } from '../git/state-paths.js';

/** `rm -rf` of the directory is a few events within a millisecond or two: one repair for the lot. */
const SETTLE_MS = 100;

/** The files others find a running agent by, or that it cannot make again without us. */
export function watchedStateFiles(stateDir: string, keyFile: string): string[] {
  const names: string[] = [STATE_FILES.pid, STATE_FILES.sock, STATE_FILES.log];
  if (join(stateDir, basename(keyFile)) === keyFile) names.push(basename(keyFile));
  return names;
}

/** Which of the watched paths are missing now (the directory itself first). */
export function missingState(stateDir: string, names: readonly string[]): string[] {
  if (!existsSync(stateDir)) return [stateDir];
  return names.filter((n) => !existsSync(join(stateDir, n))).map((n) => join(stateDir, n));
}

export interface StateWatchDeps {
  gitDir: string;
  stateDir: string;
  /** The files in the state directory whose removal counts (see watchedStateFiles). */
  names: readonly string[];
  /** Some of them, or the directory, are gone: these. */
  onGone: (missing: string[]) => void;
}

export class StateWatch implements Service {
  readonly name = 'state-watch';
  private parent: FSWatcher | null = null;
  private dir: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  private readonly gitDir: string;
  private readonly stateDir: string;
  private readonly names: readonly string[];
  private readonly onGone: (missing: string[]) => void;

  constructor(d: StateWatchDeps) {
    this.gitDir = d.gitDir;
    this.stateDir = d.stateDir;
    this.names = d.names;
    this.onGone = d.onGone;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    const entry = basename(this.stateDir);
    this.parent = watch(this.gitDir, { persistent: true }, (_ev, name) => {
      if (name !== null && String(name) === entry) this.soon();
    });
    // The git directory going away is fatal for the whole agent; the supervisor reports it.
    this.parent.on('error', (e) => ctx.fail(e));
    this.rearm();
  }

  /** Watches the state directory (again: a restored directory is a new inode). */
  rearm(): void {
    this.dir?.close();
    this.dir = null;
    if (this.stopped || !existsSync(this.stateDir)) return;
    try {
      const w = watch(this.stateDir, { persistent: false }, (ev, name) => {
        // 'change' is a write (the log grows all the time); only a rename or removal matters.
        if (ev === 'rename' && name !== null && this.names.includes(String(name))) this.soon();
      });
      // Removed with the directory: the git directory's watch sees that and rearms us.
      w.on('error', () => w.close());
      this.dir = w;
    } catch {
      // removed again this instant: the parent's event follows
    }
  }

  private soon(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped) return;
      const missing = missingState(this.stateDir, this.names);
      if (missing.length > 0) this.onGone(missing);
      else this.rearm();
    }, SETTLE_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.parent?.close();
    this.parent = null;
    this.dir?.close();
    this.dir = null;
  }
}
