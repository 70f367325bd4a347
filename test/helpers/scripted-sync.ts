// A stand-in for GitSync in the pusher and merger unit tests: no git is spawned. Each method the
// services call (needsPush, push, fetch, and a merge pass: incomingRefs and mergeRef, scripted
// together as `mergeIncoming`) does what the test scripts, and every call is recorded, with how
// many of each ran at once. Tests wait on calls (`reached`), never on time.
import type { GitSync, MergeResult, PushResult } from '../../src/git/sync.js';

export type SyncMethod = 'needsPush' | 'push' | 'fetch' | 'mergeIncoming';

export interface SyncCall {
  method: SyncMethod;
  /** The remote it was called for; null for mergeIncoming. */
  remote: string | null;
}

export interface Incoming {
  merges: MergeResult[];
  annexMoved: boolean;
  before: string | null;
}

/** A promise the test opens when it wants: holds a call in flight. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export class ScriptedSync {
  readonly calls: SyncCall[] = [];
  /** The most calls of one method for one remote that were in flight at the same time. */
  readonly maxInFlight = new Map<string, number>();
  private inFlight = new Map<string, number>();
  private waiters: Array<() => void> = [];

  // What each method does. Defaults: there is something to push, pushes and fetches succeed,
  // nothing comes in. A test replaces the ones it needs.
  needsPush: (remote: string) => Promise<boolean> = async () => true;
  push: (remote: string) => Promise<PushResult> = async (remote) => ({
    remote,
    refs: ['refs/heads/synced/main'],
    upToDate: false,
  });
  fetch: (remote: string) => Promise<void> = async () => undefined;
  mergeIncoming: () => Promise<Incoming> = async () => ({ merges: [], annexMoved: false, before: null });

  /** Calls of `method` (for `remote`, when given) so far. */
  count(method: SyncMethod, remote?: string): number {
    return this.calls.filter((c) => c.method === method && (remote === undefined || c.remote === remote))
      .length;
  }

  /** Resolves once `count(method, remote)` is at least n. */
  async reached(method: SyncMethod, n: number, remote?: string): Promise<void> {
    while (this.count(method, remote) < n) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** The sequence of calls as short strings ("fetch a", "merge"), for order checks. */
  trace(): string[] {
    return this.calls.map((c) => (c.method === 'mergeIncoming' ? 'merge' : `${c.method} ${c.remote}`));
  }

  /** The object handed to Pusher and Merger in place of a GitSync. */
  asGitSync(): GitSync {
    const wrap =
      <A extends unknown[], R>(method: SyncMethod, fn: () => (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        const remote = typeof a[0] === 'string' ? a[0] : null;
        const key = `${method} ${remote ?? ''}`;
        this.calls.push({ method, remote });
        const n = (this.inFlight.get(key) ?? 0) + 1;
        this.inFlight.set(key, n);
        this.maxInFlight.set(key, Math.max(n, this.maxInFlight.get(key) ?? 0));
        for (const w of this.waiters.splice(0)) w();
        try {
          return await fn()(...a);
        } finally {
          this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
        }
      };
    // A merge pass is one scripted mergeIncoming: incomingRefs runs it and hands out one ref per
    // merge it returns; mergeRef answers each with that merge.
    let passMerges: MergeResult[] = [];
    const incomingRefs = async () => {
      const inc = await this.mergeIncoming();
      passMerges = inc.merges;
      return {
        refs: inc.merges.map((m, i) => ({ ref: m.from, sha: String(i) })),
        annexMoved: inc.annexMoved,
        before: inc.before,
      };
    };
    return {
      incomingRefs: wrap('mergeIncoming', () => incomingRefs),
      mergeRef: async (_ref: string, sha: string) => ({
        committed: [],
        merged: passMerges[Number(sha)] ?? null,
      }),
      needsPush: wrap('needsPush', () => this.needsPush),
      push: wrap('push', () => this.push),
      fetch: wrap('fetch', () => this.fetch),
    } as unknown as GitSync;
  }
}

/** Lets every promise callback that is already queued run (one turn of the event loop). For
 * "nothing more happened" checks after an action whose effects are all promise callbacks. */
export function drain(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
