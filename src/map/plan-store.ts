// The key plans this clone follows (map/tree-plan.ts), ours and those peers sent with their keys.
// Pure: time comes in as `now`; table tests in test/unit/map/plan-store.test.ts. Written by the
// agent's map service (a plan we computed, a verified <plan/> from a peer), read by the transfer
// scan (`inTree`), which narrows its flood plan to our part of each tree.
//
// A key follows its plan only while the plan holds: every child of ours confirms (has the key, as
// its location log says) within CONFIRM_MS and no transfer to one fails (tree-plan.ts keyMode);
// and a clone still waiting for its own copy waits for its parent at most CONFIRM_MS. After that
// the key is flooded, so no key is ever stranded by a plan.
import { CONFIRM_MS, keyMode, type KeyPlan, type PlanProgress } from './tree-plan.js';

/**
 * Plans kept at most. A burst of new files makes one plan each; 4,096 covers a large import while
 * bounding the memory a peer with the key can make us use (the oldest plan goes first: its key is
 * then flooded, never lost).
 */
export const MAX_PLANS = 4096;

interface Entry {
  plan: KeyPlan;
  since: number;
  confirmed: Set<string>;
  failed: Set<string>;
  /** Flooded for good, and why (logged once). */
  flooded: string | null;
}

export class PlanStore {
  private readonly plans = new Map<string, Entry>();

  constructor(
    private readonly self: string,
    private readonly max = MAX_PLANS,
    private readonly confirmMs = CONFIRM_MS,
  ) {}

  /** Takes up a plan. A plan for a key we already follow is kept as it is: the first one stands. */
  put(plan: KeyPlan, now: number): boolean {
    if (this.plans.has(plan.key)) return false;
    this.plans.set(plan.key, { plan, since: now, confirmed: new Set(), failed: new Set(), flooded: null });
    while (this.plans.size > this.max) {
      const oldest = this.plans.keys().next().value;
      if (oldest === undefined) break;
      this.plans.delete(oldest);
    }
    return true;
  }

  has(key: string): boolean {
    return this.plans.has(key);
  }

  /** A transfer of `key` to or from `peer` failed for good: the plan is contradicted. */
  failed(key: string, peer: string): void {
    this.plans.get(key)?.failed.add(peer);
  }

  /**
   * The plans to follow now, for keys with the given holders (what the scan's inventory found):
   * holders count as confirmations. Returns them by key, and the keys that just left their tree
   * with why (for one log line each). A plan whose every repository has the key is done and
   * forgotten.
   */
  inTree(
    keys: ReadonlyArray<{ key: string; present: readonly string[] }>,
    now: number,
  ): { plans: Map<string, KeyPlan>; leftTree: Array<{ key: string; why: string }> } {
    const plans = new Map<string, KeyPlan>();
    const leftTree: Array<{ key: string; why: string }> = [];
    for (const k of keys) {
      const e = this.plans.get(k.key);
      if (!e) continue;
      for (const p of k.present) e.confirmed.add(p);
      const members = new Set(e.plan.edges.flatMap((x) => [x.from, x.to]));
      if ([...members].every((m) => e.confirmed.has(m))) {
        this.plans.delete(k.key);
        continue;
      }
      if (e.flooded !== null) continue;
      const why = this.contradiction(e, now);
      if (why !== null) {
        e.flooded = why;
        leftTree.push({ key: k.key, why });
        continue;
      }
      plans.set(k.key, e.plan);
    }
    return { plans, leftTree };
  }

  private contradiction(e: Entry, now: number): string | null {
    const progress: PlanProgress = { since: e.since, confirmed: e.confirmed, failed: e.failed };
    const m = keyMode(e.plan, this.self, progress, now, this.confirmMs);
    if (m.mode === 'flood') return m.why;
    const parent = e.plan.edges.find((x) => x.to === this.self);
    if (parent && !e.confirmed.has(this.self) && now - e.since > this.confirmMs) {
      return `our copy did not come from ${parent.from} within ${Math.round(this.confirmMs / 1000)} s`;
    }
    if (parent && e.failed.has(parent.from)) return `the download from ${parent.from} failed`;
    return null;
  }
}
