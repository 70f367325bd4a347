// Remotes the worker pool left alone after transfers to them failed as unreachable: until when, and
// how many strikes in a row (the next period doubles, outcome.ts). Owned by the pool (workers.ts);
// a small clock-keyed memory, every time passed in.
//
// Waits on: nothing; the pool marks a remote down or up after a transfer's answer, and tells it of a
// remote that answered elsewhere (back) or whose drive went away (away).
// Produces: whether a remote is down now, the down set for the scan, the next expiry for the pool's
// timer, and the remotes whose down period ran out (the pool has them planned again).
export class DownRemotes {
  private readonly until = new Map<string, number>();
  private readonly strikeCount = new Map<string, number>();

  /** Unreachable again: left alone until `until`, with `strikes` in a row. */
  down(remote: string, strikes: number, until: number): void {
    this.strikeCount.set(remote, strikes);
    this.until.set(remote, until);
  }

  /** Its drive went away (agent/mounts.ts): down until up() says it is back, whatever the time. */
  away(remote: string): void {
    this.until.set(remote, Infinity);
  }

  /** It answered: forgotten. Whether it had been down (strikes not yet cleared). */
  up(remote: string): boolean {
    const was = this.strikeCount.has(remote);
    this.until.delete(remote);
    this.strikeCount.delete(remote);
    return was;
  }

  strikes(remote: string): number {
    return this.strikeCount.get(remote) ?? 0;
  }

  isDown(remote: string, now: number): boolean {
    return (this.until.get(remote) ?? 0) > now;
  }

  /** Down now (for the planner, which plans them as unreachable). */
  list(now: number): Set<string> {
    return new Set([...this.until].filter(([, t]) => t > now).map(([r]) => r));
  }

  /** Down for a while after failing (not away with their drive): what a network back retries. */
  failing(now: number): string[] {
    return [...this.until].filter(([, t]) => t > now && t !== Infinity).map(([r]) => r);
  }

  /** The earliest end of a down period after `now`, or Infinity. */
  nextExpiry(now: number): number {
    let next = Infinity;
    for (const t of this.until.values()) if (t > now && t < next) next = t;
    return next;
  }

  /** The remotes whose down period has run out, each named once; their strikes are kept, so a
   * remote still down is left alone longer next time. */
  takeExpired(now: number): string[] {
    const out: string[] = [];
    for (const [r, t] of this.until) if (t <= now) out.push(r);
    for (const r of out) this.until.delete(r);
    return out;
  }
}
