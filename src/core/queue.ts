// Work queues and their primitives. Each queue has exactly one owner that drains it.
//
// Mutex: runs async sections one at a time, in the order they asked (git/sync.ts serialises the
// sections that move the index or HEAD with it). A section that fails does not block the next.
//
// Wakeup: a request flag that collapses any number of requests into one pending wake-up (like a
// serve loop's channel of capacity one). Ten "refs changed" signals while a fetch runs make one more
// fetch, not ten.

export class Wakeup {
  private pending = false;
  private waiter: (() => void) | null = null;

  /** Ask for one more run of the owner's loop. Never blocks. */
  request(): void {
    this.pending = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  get isPending(): boolean {
    return this.pending;
  }

  /** Resolves once a request is pending (consuming it) or on interrupt(); owners re-check their state. */
  async wait(): Promise<void> {
    if (!this.pending) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.pending = false;
  }

  /** Wakes a waiter without a request (used on stop so the owner can see it should exit). */
  interrupt(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** Runs async sections one after another, in call order; a rejection reaches only its own caller. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
