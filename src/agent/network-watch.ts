// The network watch: notices the network coming back and the machine waking from sleep, so the
// agent reconnects and resyncs at once instead of waiting out a backoff (issue 11, item 7).
//
// Waits on: `ip -o monitor link address route` output (each line only a wake-up, never parsed:
// nothing a line says becomes an argument or a path); where `ip` is missing or has exited, a timer
// every FALLBACK_POLL_MS comparing os.networkInterfaces(); and a tick every TICK_MS that compares the
// wall clock with the monotonic one (sleep detection). The decisions are network-events.ts.
// Produces: port.changed('network') once a burst of events is over (debounced), and
// port.changed('wake') after a sleep; the integrator (app/network.ts) reconnects and resyncs.
import { killChild } from '../core/kill.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Logger } from '../core/log.js';
import type { Service, ServiceContext } from '../core/service.js';
import { childEnv } from '../git/runner.js';
import {
  cutInFlight,
  debounce,
  fingerprint,
  slept,
  type Burst,
  type Interfaces,
  type Tick,
} from './network-events.js';

/** Where `ip monitor` cannot tell us: reading the interface list is cheap, and 5 s keeps a network
 * that came back well inside the pusher's first retries. */
export const FALLBACK_POLL_MS = 5_000;
/** The sleep-detection tick: a woken laptop is noticed within this long; a timer this slow costs
 * nothing. */
export const TICK_MS = 2_000;
/** `ip monitor` ends on SIGTERM within milliseconds; this only bounds a stop if it does not. */
const STOP_KILL_MS = 2_000;

export type NetworkChange = 'network' | 'wake';

export interface NetworkPort {
  /** Resync now; `cut`: the network commands under way are cut off first (see cutInFlight). */
  changed(why: NetworkChange, cut: boolean): void;
}

export interface NetworkWatchDeps {
  log: Logger;
  port: NetworkPort;
  /** The `ip` binary (tests give a missing one to see the fallback). Default `ip`. */
  ip?: string;
  pollMs?: number;
  tickMs?: number;
  /** Default os.networkInterfaces(). */
  interfaces?: () => Interfaces;
}

export class NetworkWatch implements Service {
  readonly name = 'network-watch';
  private monitor: ChildProcess | null = null;
  private poll: NodeJS.Timeout | null = null;
  private tick: NodeJS.Timeout | null = null;
  private settle: NodeJS.Timeout | null = null;
  private burst: Burst | null = null;
  private lastTick: Tick = now();
  /** The interfaces as last read (at start, at each poll and each resync), for cutInFlight. */
  private lastIfs = '';
  private stopped = true;

  constructor(private readonly d: NetworkWatchDeps) {}

  async start(_ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    this.lastIfs = this.readIfs();
    this.lastTick = now();
    const period = this.d.tickMs ?? TICK_MS;
    this.tick = setInterval(() => this.onTick(period), period);
    this.tick.unref();
    this.startMonitor();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.poll, this.settle]) if (t) clearTimeout(t);
    if (this.tick) clearInterval(this.tick);
    this.poll = this.settle = this.tick = null;
    const m = this.monitor;
    this.monitor = null;
    if (m && m.exitCode === null && m.signalCode === null) {
      const exited = new Promise((r) => m.once('exit', r));
      killChild(m, 'SIGTERM');
      // ip exits on SIGTERM at once; one that does not is killed.
      const t = setTimeout(() => killChild(m, 'SIGKILL'), STOP_KILL_MS);
      await exited;
      clearTimeout(t);
    }
  }

  private startMonitor(): void {
    const child = spawn(this.d.ip ?? 'ip', ['-o', 'monitor', 'link', 'address', 'route'], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.monitor = child;
    createInterface({ input: child.stdout! }).on('line', () => this.event());
    const fallback = (why: string) => {
      if (this.stopped || this.monitor !== child) return;
      this.monitor = null;
      this.d.log.info({ why }, 'ip monitor unavailable: polling the network interfaces instead');
      this.startPolling();
    };
    child.once('error', (e) => fallback(e.message));
    child.once('exit', (code, sig) => fallback(`ip monitor exited (${sig ?? code})`));
  }

  private startPolling(): void {
    const ms = this.d.pollMs ?? FALLBACK_POLL_MS;
    const again = () => {
      this.poll = setTimeout(() => {
        if (this.readIfs() !== this.lastIfs) this.event();
        if (!this.stopped) again();
      }, ms);
      this.poll.unref();
    };
    again();
  }

  private readIfs(): string {
    try {
      return fingerprint((this.d.interfaces ?? networkInterfaces)());
    } catch {
      return this.lastIfs;
    }
  }

  /** One network event: part of a burst that is acted on once it settles (network-events.ts). */
  private event(): void {
    if (this.stopped) return;
    const t = performance.now();
    this.burst = this.burst ? { ...this.burst, lastAt: t } : { firstAt: t, lastAt: t };
    if (!this.settle) this.check();
  }

  private check(): void {
    this.settle = null;
    const b = this.burst;
    if (!b || this.stopped) return;
    const r = debounce(b, performance.now());
    if (!r.fire) {
      this.settle = setTimeout(() => this.check(), r.waitMs);
      return;
    }
    this.burst = null;
    this.tell('network');
  }

  private onTick(period: number): void {
    const cur = now();
    const wasAsleep = slept(this.lastTick, cur, period);
    this.lastTick = cur;
    if (wasAsleep) this.tell('wake');
  }

  private tell(why: NetworkChange): void {
    const ifs = this.readIfs();
    const cut = cutInFlight(why, this.lastIfs, ifs);
    this.lastIfs = ifs;
    const msg = why === 'wake' ? 'woke from sleep: resyncing' : 'network changed: resyncing';
    this.d.log.info({ why, cut }, msg);
    try {
      this.d.port.changed(why, cut);
    } catch (e) {
      this.d.log.warn({ err: String(e) }, 'network port threw');
    }
  }
}

function now(): Tick {
  return { wall: Date.now(), mono: performance.now() };
}
