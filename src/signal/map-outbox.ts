// What the network map wants told to the peers: our newest edges and the plans of our new keys.
// One writer (app/map-service.ts), one reader (the XMPP transport, which drains it on each wake-up
// into its own outbox; that one sends when connected, again on reconnect and when a peer joins).
// Created before both, so the map needs no transport and the transport no map.
import { Wakeup } from '../core/queue.js';
import type { Logger } from '../core/log.js';
import type { KeyPlan, OwnEdges } from './types.js';
import { MAX_PENDING_PLANS } from './xmpp-outbox.js';

export class MapOutbox {
  /** Something is waiting: the transport alone waits on it. */
  readonly wake = new Wakeup();
  private edges: OwnEdges | null = null;
  private readonly plans: KeyPlan[] = [];

  constructor(private readonly log: Logger) {}

  /** Our links; only the newest matters, so it replaces any not taken yet. */
  announceEdges(e: OwnEdges): void {
    this.edges = { self: e.self, edges: e.edges.map((x) => ({ ...x })) };
    this.wake.request();
  }

  /** A key's tree, to be sent once. Bounded like the transport's own queue (same limit, same why). */
  announcePlan(p: KeyPlan): void {
    if (this.plans.length >= MAX_PENDING_PLANS) {
      this.log.warn({ key: p.key.slice(0, 100) }, 'too many plans waiting to be sent; this key is flooded');
      return;
    }
    this.plans.push(p);
    this.wake.request();
  }

  /** Everything waiting, emptied (the reader's side). */
  take(): { edges: OwnEdges | null; plans: KeyPlan[] } {
    const edges = this.edges;
    this.edges = null;
    return { edges, plans: this.plans.splice(0, this.plans.length) };
  }
}
