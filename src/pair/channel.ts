// The seam between the pairing protocol (pure: src/pair/protocol*.ts) and the rendezvous that carries
// its messages (XMPP: src/pair/rendezvous*.ts). The protocol sees only opaque, bounded byte strings
// in order; it never sees a JID, a room or a stanza, and the rendezvous never sees a key.
import { AutosyncError } from '../core/errors.js';

/** The largest protocol message a channel carries. Pairing messages are a few hundred bytes (a
 * group element, a MAC, a sealed box of URLs and settings); 16 KiB leaves room for a long remote
 * list and still bounds what a stranger can make us buffer. */
export const PAIR_MESSAGE_MAX = 16 * 1024;

/** Why a channel failed: each has its own line for the user (docs/pairing.md). */
export type ChannelFailure =
  | 'timeout' // nothing from the other side before the deadline (the code expired, or nobody came)
  | 'crowded' // a third participant showed up at the rendezvous: the offer is burned
  | 'closed' // the other side left
  | 'login' // the XMPP server refused the login
  | 'unreachable' // the XMPP server could not be reached
  | 'oversized'; // the other side sent more than PAIR_MESSAGE_MAX

export class ChannelError extends AutosyncError {
  constructor(
    message: string,
    readonly failure: ChannelFailure,
  ) {
    super(message, `pair-channel-${failure}`);
    this.name = 'ChannelError';
  }
}

/** One pairing conversation with exactly one other device. */
export interface PairChannel {
  /** Sends one message (at most PAIR_MESSAGE_MAX bytes) to the other side. */
  send(msg: Uint8Array): Promise<void>;
  /** The next message from the other side, in order; rejects with a ChannelError. */
  receive(timeoutMs: number): Promise<Uint8Array>;
  /** Leaves the rendezvous (a temporary room is destroyed by its owner); idempotent. */
  close(): Promise<void>;
}
