// An in-memory PairChannel pair: a fake of the rendezvous (the XMPP transport) for the session
// driver's unit tests. Messages arrive in order; receive() rejects with ChannelError 'timeout' at
// its deadline, 'closed' once the other end closed and nothing is left, and any failure a test
// injects. A test may also inject raw bytes, as a third participant or a broken peer would.
import { ChannelError, type ChannelFailure, type PairChannel } from '../../../src/pair/channel.js';

type Item = { bytes: Uint8Array } | { failure: ChannelFailure };

class End implements PairChannel {
  peer!: End;
  private readonly inbox: Item[] = [];
  private waiter: ((i: Item) => void) | null = null;
  closed = false;
  /** Every message this end sent, for assertions on what crossed. */
  readonly sent: Uint8Array[] = [];
  /** When set, a receive times out only when the test calls expire(), never by the clock. */
  manualTimeouts = false;
  private expireWaiter: (() => void) | null = null;
  private onWaiting: (() => void) | null = null;

  /** Resolves once a receive is waiting on an empty inbox. */
  whenWaiting(): Promise<void> {
    if (this.waiter) return Promise.resolve();
    return new Promise((resolve) => (this.onWaiting = resolve));
  }

  /** Times out the receive that is waiting (manualTimeouts). */
  expire(): void {
    this.expireWaiter?.();
  }

  deliver(i: Item): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(i);
    } else this.inbox.push(i);
  }

  send(msg: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new ChannelError('closed', 'closed'));
    this.sent.push(Uint8Array.from(msg));
    this.peer.deliver({ bytes: Uint8Array.from(msg) });
    return Promise.resolve();
  }

  receive(timeoutMs: number): Promise<Uint8Array> {
    const take = (i: Item): Uint8Array => {
      if ('failure' in i) throw new ChannelError(i.failure, i.failure);
      return i.bytes;
    };
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve().then(() => take(queued));
    return new Promise<Uint8Array>((resolve, reject) => {
      const timeout = () => {
        this.waiter = null;
        this.expireWaiter = null;
        reject(new ChannelError('nothing arrived in time', 'timeout'));
      };
      const timer = this.manualTimeouts ? undefined : setTimeout(timeout, timeoutMs);
      this.expireWaiter = timeout;
      this.waiter = (i) => {
        clearTimeout(timer);
        this.expireWaiter = null;
        try {
          resolve(take(i));
        } catch (e) {
          reject(e as Error);
        }
      };
      const w = this.onWaiting;
      this.onWaiting = null;
      w?.();
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.peer.deliver({ failure: 'closed' });
    }
    return Promise.resolve();
  }

  /** As if a third participant (or a broken peer) sent these bytes to this end. */
  inject(bytes: Uint8Array): void {
    this.deliver({ bytes });
  }

  /** As if the rendezvous failed this way for this end. */
  fail(failure: ChannelFailure): void {
    this.deliver({ failure });
  }
}

export function channelPair(): [End, End] {
  const a = new End();
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
