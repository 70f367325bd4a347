// The mount watcher: notices a drive coming and going, and says which remotes it made usable or
// unusable. The pure parts (mountinfo, its diff by mount ID, availability of a path) are
// map/mounts.ts; this service only reads and rereads.
//
// Waits on: `findmnt --poll -P` output (each line only a wake-up: its content is never parsed, as
// `findmnt --poll --json` crashes on its first event in util-linux 2.38), and where findmnt is
// missing or has exited, a timer every FALLBACK_POLL_MS (fs.watch on /proc never fires). After each
// wake-up, /proc/self/mountinfo is read again and compared with the last reading by mount ID; when
// it changed, every local remote's availability is checked again.
// Produces: for each local remote whose availability changed, one call of its port:
// `available(remote)` (the integrator syncs git with it at once, then content) or
// `unavailable(remote)` (no retries, no failure shown; status says `available: false`).
import { killChild } from '../core/kill.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Logger } from '../core/log.js';
import { Wakeup } from '../core/queue.js';
import { background } from '../core/background.js';
import type { Service, ServiceContext } from '../core/service.js';
import { childEnv } from '../git/runner.js';
import type { RemoteDef } from '../map/costs.js';
import {
  availabilityChanges,
  diffMounts,
  parseMountinfo,
  type FsProbe,
  type MountEntry,
} from '../map/mounts.js';
import { realFs, remoteAvailable } from '../map/read.js';

/**
 * How often mountinfo is reread where findmnt cannot tell us: the bound. A mount noticed
 * up to 10 s late still syncs long before a person looks; a shorter period costs one read of a
 * small /proc file each time, which is cheap, but nothing asks for it.
 */
export const FALLBACK_POLL_MS = 10_000;

/** What the watcher tells the agent; the integrator wires it to the merger, pusher and transfers. */
export interface MountPort {
  /** The remote's repository is there again (its drive was mounted): sync git now, then content. */
  available(remote: string): void;
  /** Its drive was unmounted: stop trying it (it is not failing, it is away). */
  unavailable(remote: string): void;
}

/**
 * Which local remotes are away now: written by the mount watcher alone, read by the pusher (not
 * pushed) and the merger (not fetched), as PausedRemotes is. Built before them, so no service is
 * given another built after it. A remote it never heard of is available.
 */
export class AvailableRemotes {
  private readonly away = new Set<string>();

  isAvailable(remote: string): boolean {
    return !this.away.has(remote);
  }

  set(remote: string, available: boolean): void {
    if (available) this.away.delete(remote);
    else this.away.add(remote);
  }

  /** The remotes away now, sorted. */
  list(): string[] {
    return [...this.away].sort();
  }
}

export interface MountWatcherDeps {
  log: Logger;
  port: MountPort;
  /** Shared with the pusher and the merger (see AvailableRemotes); default: the watcher's own. */
  availability?: AvailableRemotes;
  /** The remotes as configured now; asked again after each change of mounts. */
  remotes: () => Promise<readonly RemoteDef[]>;
  /** Default: /proc/self/mountinfo ('' where there is none). */
  readMountinfo?: () => string;
  fs?: FsProbe;
  /** The findmnt to run (tests give a missing one to see the fallback). Default `findmnt`. */
  findmnt?: string;
  pollMs?: number;
}

function procMountinfo(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

export class MountWatcher implements Service {
  readonly name = 'mounts';
  private readonly wake = new Wakeup();
  private mounts: MountEntry[] = [];
  private availability = new Map<string, boolean>();
  private readonly shared: AvailableRemotes;
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private checks = 0;

  constructor(private readonly d: MountWatcherDeps) {
    this.shared = d.availability ?? new AvailableRemotes();
  }

  /** Whether a remote can be used now: false only for a local remote whose repository is not there. */
  isAvailable(remote: string): boolean {
    return this.availability.get(remote) ?? true;
  }

  /** Local remotes that are not available now (for status). */
  unavailableRemotes(): string[] {
    return [...this.availability].filter(([, a]) => !a).map(([r]) => r);
  }

  /** How many times mounts were compared (tests wait on it). */
  get checkCount(): number {
    return this.checks;
  }

  /** Reread mountinfo now (a control verb, or a test): as a findmnt line would. */
  poke(): void {
    this.wake.request();
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    this.mounts = parseMountinfo((this.d.readMountinfo ?? procMountinfo)());
    // The first reading sets what "before" is; what is unavailable at start is told once, so the
    // agent never retries a drive that was out before it started.
    const first = await this.check(true);
    // A stop while the first check ran (the supervisor stops a service whose start it gave up on)
    // must not be followed by a findmnt that nobody kills.
    if (this.stopped) return;
    for (const c of first) if (!c.available) this.d.port.unavailable(c.remote);
    this.watch();
    this.loop = this.run().catch((e: unknown) => ctx.fail(e));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    killChild(this.child);
    this.child = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.wake.interrupt();
    await this.loop;
  }

  private watch(): void {
    if (this.stopped) return;
    killChild(this.child);
    const bin = this.d.findmnt ?? 'findmnt';
    let child: ChildProcess;
    try {
      child = spawn(bin, ['--poll', '-P'], { stdio: ['ignore', 'pipe', 'ignore'], env: childEnv() });
    } catch {
      this.fallback('findmnt could not be started');
      return;
    }
    this.child = child;
    child.stdout?.on('data', () => this.wake.request());
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (this.child === child) this.child = null;
      this.fallback(`findmnt failed (${e.code ?? e.message})`);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (!this.stopped) this.fallback(`findmnt exited (${signal ?? code})`);
    });
  }

  private fallback(why: string): void {
    if (this.stopped || this.timer) return;
    this.d.log.info(
      { why, everyMs: this.d.pollMs ?? FALLBACK_POLL_MS },
      'mounts: rereading mountinfo on a timer',
    );
    this.timer = setInterval(() => this.wake.request(), this.d.pollMs ?? FALLBACK_POLL_MS);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.wake.wait();
      if (this.stopped) break;
      const next = parseMountinfo((this.d.readMountinfo ?? procMountinfo)());
      const diff = diffMounts(this.mounts, next);
      this.mounts = next;
      if (diff.added.length === 0 && diff.removed.length === 0) continue;
      this.d.log.debug(
        { added: diff.added.map((m) => m.mountPoint), removed: diff.removed.map((m) => m.mountPoint) },
        'mounts changed',
      );
      for (const c of await this.check(false)) {
        this.d.log.info(
          { remote: c.remote },
          c.available ? 'remote is available again' : 'remote is not available',
        );
        // The port's work is the agent's; a throwing port must not stop the watcher.
        background(
          Promise.resolve().then(() =>
            c.available ? this.d.port.available(c.remote) : this.d.port.unavailable(c.remote),
          ),
          this.d.log,
          `mount port for ${c.remote}`,
        );
      }
    }
  }

  /** Availability of every local remote now; what changed since the last check. */
  private async check(first: boolean) {
    const now = new Map<string, boolean>();
    for (const r of await this.d.remotes()) {
      if (r.path !== null) now.set(r.name, remoteAvailable(r, this.mounts, this.d.fs ?? realFs));
    }
    const changes = availabilityChanges(first ? new Map() : this.availability, now);
    // A remote no longer configured (or no longer local) is no longer away.
    for (const r of this.availability.keys()) if (!now.has(r)) this.shared.set(r, true);
    for (const [r, a] of now) this.shared.set(r, a);
    this.availability = now;
    this.checks++;
    return changes;
  }
}
