// Work queues. Each has exactly one owner that drains it.
//
// Wakeup: a request flag that collapses any number of requests into one pending wake-up (like a
// serve loop's channel of capacity one). Ten "refs changed" signals while a fetch runs make one more
// fetch, not ten.
//
// KeyedQueue: a FIFO of distinct keys; adding a key already queued is a no-op.

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

export class KeyedQueue<T> {
  private items = new Map<string, T>();
  readonly wakeup = new Wakeup();

  constructor(private readonly keyOf: (item: T) => string) {}

  push(item: T): boolean {
    const k = this.keyOf(item);
    if (this.items.has(k)) return false;
    this.items.set(k, item);
    this.wakeup.request();
    return true;
  }

  shift(): T | undefined {
    const first = this.items.entries().next();
    if (first.done) return undefined;
    this.items.delete(first.value[0]);
    return first.value[1];
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  delete(key: string): boolean {
    return this.items.delete(key);
  }

  get size(): number {
    return this.items.size;
  }

  values(): T[] {
    return [...this.items.values()];
  }
}
