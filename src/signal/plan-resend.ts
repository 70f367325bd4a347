// The key plans we sent lately, to send again to a peer that may have missed them. Pure: time comes
// in as `now`; table tests in test/unit/signal/plan-resend.test.ts. Written by the outbox when a
// plan goes out (xmpp-outbox.ts announcePlan), read by it when a peer joins or we reconnect: a plan
// goes out once, and a clone that was away then floods the key (it sees the key with no tree).
//
// Resending is bounded three ways: only the MAX_RECENT_PLANS newest plans are kept, a plan older
// than PLAN_RESEND_MS is not sent again, and no plan is sent again more than MAX_RESENDS times
// (a peer that keeps joining under new node ids cannot make us repeat a burst forever). A receiver
// keeps the first plan it got for a key (map/plan-store.ts), so a resent plan changes nothing there.
import { CONFIRM_MS, type KeyPlan } from '../map/tree-plan.js';

/**
 * Plans remembered for resending. A burst of new files makes one plan each; the 64 newest cover a
 * peer that was away for a few seconds during a burst while bounding what one join sends.
 */
export const MAX_RECENT_PLANS = 64;
/**
 * A plan older than this is not sent again: CONFIRM_MS, since by then the sender has given up
 * waiting for its children's confirmation and floods the key anyway (map/plan-store.ts).
 */
export const PLAN_RESEND_MS = CONFIRM_MS;
/** Times one plan is sent again at most: a join, a reconnect and one more cover the usual gaps. */
export const MAX_RESENDS = 3;

interface Sent {
  plan: KeyPlan;
  at: number;
  resends: number;
}

export class RecentPlans {
  /** By key, oldest first. */
  private readonly sent = new Map<string, Sent>();

  constructor(
    private readonly max = MAX_RECENT_PLANS,
    private readonly maxAgeMs = PLAN_RESEND_MS,
    private readonly maxResends = MAX_RESENDS,
  ) {}

  /** A plan went out for the first time now. A key already remembered keeps its first sending. */
  noteSent(plan: KeyPlan, now: number): void {
    if (this.sent.has(plan.key)) return;
    this.sent.set(plan.key, { plan, at: now, resends: 0 });
    while (this.sent.size > this.max) {
      const oldest = this.sent.keys().next().value;
      if (oldest === undefined) break;
      this.sent.delete(oldest);
    }
  }

  /**
   * The plans to send again now (a peer joined, or we reconnected), oldest first; each is counted
   * as resent. Plans too old, or sent again too often, are forgotten.
   */
  due(now: number): KeyPlan[] {
    const out: KeyPlan[] = [];
    for (const [key, s] of this.sent) {
      if (now - s.at > this.maxAgeMs || s.resends >= this.maxResends) {
        this.sent.delete(key);
        continue;
      }
      s.resends += 1;
      out.push(s.plan);
    }
    return out;
  }

  get size(): number {
    return this.sent.size;
  }
}
