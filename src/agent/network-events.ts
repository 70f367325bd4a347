// The network watch's decisions, pure and table-tested with a fake clock
// (test/unit/agent/network-events.test.ts): when a burst of network events is over (debounce), when
// a timer's tick says the machine slept, and whether the interface list changed.
//
// Waits on: nothing; the network watch (network-watch.ts) asks with the times it read.
// Produces: "resync now" or "wait this long", "slept", and a stable fingerprint of the interfaces.

/** A link coming up makes a burst of events (link, address, routes) within a few tens of ms; a
 * quarter second of quiet means the burst is over, well inside the 2 s the issue allows. */
export const QUIET_MS = 250;
/** A link that flaps without a pause still resyncs, at most once a second: bounded. */
export const MAX_WAIT_MS = 1_000;
/** A suspend shorter than this loses no connection worth a resync; a laptop's sleep is far longer. */
export const SLEEP_JUMP_MS = 3_000;
/** A tick this late means the process or its VM was frozen (both clocks moved on). Far above any
 * event-loop stall of a loaded machine (a busy CI run stalls for well under a second), so load
 * alone never counts as a sleep. */
export const LATE_TICK_MS = 30_000;

export interface Burst {
  /** The first and the last event not yet acted on (monotonic ms). */
  firstAt: number;
  lastAt: number;
}

/** After events: resync now (`fire`), or look again in `waitMs`. */
export function debounce(b: Burst, now: number): { fire: boolean; waitMs: number } {
  const quietLeft = b.lastAt + QUIET_MS - now;
  const maxLeft = b.firstAt + MAX_WAIT_MS - now;
  const left = Math.min(quietLeft, maxLeft);
  return left <= 0 ? { fire: true, waitMs: 0 } : { fire: false, waitMs: left };
}

export interface Tick {
  /** Wall clock (Date.now) and monotonic clock (performance.now) at the tick, in ms. */
  wall: number;
  mono: number;
}

/**
 * Whether the machine slept between two ticks `periodMs` apart: the wall clock moved past the
 * monotonic one (Linux's monotonic clock stops in suspend), or the tick came late (the process or
 * the VM was frozen). A wall clock set by hand or by NTP looks the same: a resync too many is cheap.
 */
export function slept(prev: Tick, cur: Tick, periodMs: number): boolean {
  const wall = cur.wall - prev.wall;
  const mono = cur.mono - prev.mono;
  return Math.abs(wall - mono) >= SLEEP_JUMP_MS || mono - periodMs >= LATE_TICK_MS;
}

/** What os.networkInterfaces() returns, as far as it is read here. */
export type Interfaces = Record<
  string,
  ReadonlyArray<{ address: string; family: string; internal: boolean }> | undefined
>;

/** The interfaces and their addresses, in a stable order: a changed string is a changed network. */
export function fingerprint(ifs: Interfaces): string {
  const out: string[] = [];
  for (const [name, addrs] of Object.entries(ifs))
    for (const a of addrs ?? []) out.push(`${name} ${a.family} ${a.address}`);
  return out.sort().join('\n');
}

/**
 * Whether the network commands under way are cut off (and run again): after a sleep, or when the
 * interfaces that are up or their addresses changed, a connection made before can hang for minutes
 * (a link that went away drops its packets without a word). A burst that changed neither (a route
 * added for a VPN's peer, say) leaves them alone, so a long fetch is not cut again and again.
 */
export function cutInFlight(why: 'network' | 'wake', before: string, after: string): boolean {
  return why === 'wake' || before !== after;
}
