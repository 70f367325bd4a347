// Why a pairing failed: one typed cause each, and one line for the user saying what happened and what
// to do next (docs/pairing.md "Errors"). A code is never to be retyped after a failed attempt: the
// messages say "start a new offer" wherever the offer is burned.
import { AutosyncError } from '../core/errors.js';

export type PairFailure =
  | 'wrong-code' // the confirmation failed: the codes differ (or an attacker guessed wrong)
  | 'unconfirmed' // we proved the code, the other side stopped before it did: a guess may have been tested
  | 'expired' // the offer's time ran out
  | 'crowded' // a third participant: someone else answered first, or joined the room
  | 'no-offer' // the accepter heard nothing back: no device offers that code now
  | 'timeout' // the other side stopped answering midway
  | 'version' // the other side speaks another protocol version
  | 'oversized' // the other side sent a message larger than PAIR_MESSAGE_MAX
  | 'malformed' // a message that does not decode, or settings that do not validate
  | 'unexpected' // a message out of order, duplicated or replayed
  | 'peer-aborted' // the other side stopped, for a reason of its own
  | 'apply-failed' // paired, but the new device could not set itself up
  | 'bad-settings' // this repository's own settings cannot be offered (invalid, or too large)
  | 'closed' // the other side left the rendezvous
  | 'login' // the XMPP server refused the login
  | 'unreachable'; // the XMPP server could not be reached

const NEW_OFFER = "start a new offer with 'git autosync pair --offer' and use its new code";

/** The line shown for each cause; `detail` adds what only the moment knows. */
export function failureMessage(f: PairFailure, detail = ''): string {
  const d = detail ? ` (${detail})` : '';
  switch (f) {
    case 'wrong-code':
      return `the code did not match${d}: this code is burned now, do not retype it; ${NEW_OFFER}`;
    case 'unconfirmed':
      return `the pairing stopped after this device proved the code and before the other device did${d}: someone posing as that device may have tested a guess of the code, so the offer is burned; do not retype the code: stop the offer on the other device, then ${NEW_OFFER}`;
    case 'expired':
      return `the code expired before a device used it${d}; ${NEW_OFFER}`;
    case 'crowded':
      return `another device answered this offer${d}, so it is burned; ${NEW_OFFER}, and give it only to the device you mean`;
    case 'no-offer':
      return `no device is offering this code${d}: check the number at the start of the code, and that 'git autosync pair --offer' is still running on the other device`;
    case 'timeout':
      return `the other device stopped answering during the pairing${d}; check it, then ${NEW_OFFER}`;
    case 'version':
      return `the other device speaks another pairing version${d}; update git-autosync on both devices, then ${NEW_OFFER}`;
    case 'oversized':
      return `the other device sent a message larger than pairing allows${d}; the offer is burned; ${NEW_OFFER}`;
    case 'malformed':
      return `the other device sent a message that is not valid${d}; the offer is burned; ${NEW_OFFER}`;
    case 'unexpected':
      return `the other device sent a message out of order${d}; the offer is burned; ${NEW_OFFER}`;
    case 'peer-aborted':
      return `the other device stopped the pairing${d}; ${NEW_OFFER}`;
    case 'apply-failed':
      return `the devices paired, but setting up the new clone failed${d}; fix that, then ${NEW_OFFER}`;
    case 'bad-settings':
      return `this repository's settings cannot be offered${d}; fix the shared remote's configuration, then ${NEW_OFFER}`;
    case 'closed':
      return `the other device left before the pairing finished${d}; ${NEW_OFFER}`;
    case 'login':
      return `the XMPP server refused the login${d}; check the account and its password, then try again`;
    case 'unreachable':
      return `the XMPP server could not be reached${d}; check the network and autosync.xmpp.service, then try again`;
  }
}

export class PairError extends AutosyncError {
  /** What only the moment knew (already in the message). */
  readonly detail: string;
  constructor(
    readonly failure: PairFailure,
    detail = '',
    /** The other device's label, when it had told us (both sides show it). */
    readonly peer: string | null = null,
  ) {
    super(failureMessage(failure, detail), `pair-${failure}`);
    this.name = 'PairError';
    this.detail = detail;
  }
}

/**
 * What an abort from the other side means here: its reason, when ours too, else peer-aborted. An
 * abort is not authenticated, so it only picks the wording, and never says wrong-code: each side
 * finds a wrong code itself, from a tag. After this side sent its tag, protocol.ts reports any abort
 * as unconfirmed whatever its reason.
 */
export function failureOfAbort(reason: string): PairFailure {
  const mirrored: PairFailure[] = ['expired', 'crowded', 'version', 'timeout'];
  return (mirrored as string[]).includes(reason) ? (reason as PairFailure) : 'peer-aborted';
}
