// RemotePoll service: the last-resort signal. Waits on a timer; produces fetch requests (to the
// merger) for remotes that no other signal covers.
//
// A remote on a local path tells us of changes through the refs watch (its refs, or ours when its
// agent pushes into us); with XMPP every peer announces its pushes. A remote reached over the
// network (ssh, https) with XMPP off has neither: a change a peer pushed there was only seen after
// our own next push bounced, or never on a clone nobody edits (a headless mirror). Those remotes
// are fetched every `autosync.pollInterval` seconds. The merger collapses requests into one fetch
// per remote, and a fetch with nothing new costs one round trip.
import type { Service, ServiceContext } from '../core/service.js';
import { isNetworkUrl } from '../git/remote-url.js';

/** Default poll period: a change waits at most this long where nothing else can signal it. Five
 * minutes costs a headless clone ~300 small requests a day per remote, which any host accepts. */
export const DEFAULT_POLL_MS = 5 * 60_000;
/** Each wait is drawn from 80-120 % of the period, so clones started together do not poll in step. */
const JITTER = 0.2;

/**
 * The remotes to poll: those reached over the network, and only when XMPP is off (with XMPP, the
 * peers' announcements and the catch-up after every reconnect cover them). Pure.
 */
export function pollTargets(
  remotes: ReadonlyArray<{ name: string; url: string }>,
  xmppOn: boolean,
): string[] {
  if (xmppOn) return [];
  return remotes.filter((r) => isNetworkUrl(r.url)).map((r) => r.name);
}

/** The next wait, jittered (see JITTER). `rnd` is in [0, 1). Pure. */
export function pollDelay(periodMs: number, rnd: number): number {
  return Math.round(periodMs * (1 - JITTER + 2 * JITTER * rnd));
}

export interface RemotePollDeps {
  /** autosync.pollMs at start (setPeriod changes it; 0: off). */
  periodMs: number;
  /** The remotes to poll now (the list can change while we run: see app/reload.ts). */
  targets: () => string[];
  requestFetch: (remotes: string[]) => void;
}

export class RemotePoll implements Service {
  readonly name = 'remote-poll';
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  private periodMs: number;
  private readonly targets: () => string[];
  private readonly requestFetch: (remotes: string[]) => void;

  constructor(d: RemotePollDeps) {
    this.periodMs = d.periodMs;
    this.targets = d.targets;
    this.requestFetch = d.requestFetch;
  }

  async start(_ctx: ServiceContext): Promise<void> {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** autosync.pollInterval changed while we run: the next wait uses it (0 ends the timer). */
  setPeriod(ms: number): void {
    if (ms === this.periodMs) return;
    this.periodMs = ms;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.arm();
  }

  /** The remote list changed: start polling if there is now something to poll. */
  refresh(): void {
    if (!this.timer) this.arm();
  }

  private arm(): void {
    // Nothing to poll (every remote is local, or XMPP is on): no timer at all, idle stays idle.
    if (this.stopped || this.periodMs <= 0 || this.targets().length === 0) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        const names = this.targets();
        if (names.length > 0) this.requestFetch(names);
        this.arm();
      },
      pollDelay(this.periodMs, Math.random()),
    );
    // The agent's life is its other services; a pending poll alone must not keep it running.
    this.timer.unref();
  }
}
