// The pairing protocol as two pure state machines, the offerer's (the device that has the
// repository) and the accepter's (the new device). Each step takes a state and one input (a message
// from the other side, a timeout, a channel failure; for the accepter also "start" and "applied") and
// returns the next state and the messages to send. No I/O, no clock (the time comes with each input),
// no randomness of its own (cfg.random): the table tests drive every message in every state.
//
// The flow (docs/pairing.md):
//   accepter -> hello(sid, Ya, label)      offerer -> reply(Yb, label)
//   accepter -> confirm(tag A)             offerer -> settings(tag B, sealed)
//   accepter -> done (sealed)
// The new device proves the code first: the reply carries nothing keyed by the code, so a device
// posing as the new one learns nothing it could test a guess against offline, and tag B goes only to a
// device whose tag A verified. The accepter, once its tag A is out, cannot tell a wrong code, a silent
// peer or a forged abort from someone who tested a guess against tag A: until tag B verifies, every
// failure there is 'unconfirmed' (the offer is burned, whatever the other side says).
// Anything else ends the run: a typed PairError in the 'failed' state, and an abort sent so the
// other side learns why. An offer takes one hello only: it is single use, so an attacker gets one
// online guess of the code, and a second hello (a third participant) burns it.
import { PAIR_MESSAGE_MAX, type ChannelFailure } from './channel.js';
import { codeSecret, type PairCode } from './code.js';
import {
  checkTag,
  confirmationTag,
  deriveSession,
  lvCat,
  makeShare,
  concat,
  type CPaceInputs,
  type CPaceShare,
  type SessionKeys,
} from './cpace.js';
import { PairError, failureOfAbort, type PairFailure } from './errors.js';
import {
  open,
  seal,
  validateOutcome,
  validateSettings,
  type ApplyOutcome,
  type PairSettings,
} from './payload.js';
import { PAIR_VERSION, SID_BYTES, decode, encode, header, type Message, type MsgType } from './wire.js';

export type Random = (n: number) => Uint8Array;

/** CPace's channel identifier: the application and the (public) nameplate; never sent. */
const CI_LABEL = new TextEncoder().encode('git-autosync pair');

export function cpaceInputs(code: PairCode, sid: Uint8Array): CPaceInputs {
  return {
    prs: codeSecret(code),
    ci: lvCat(CI_LABEL, new TextEncoder().encode(String(code.nameplate))),
    sid,
  };
}

/** ADa / ADb: the protocol version and the sender's label, sent in clear and authenticated by CPace. */
function ad(label: string): Uint8Array {
  return lvCat(Uint8Array.of(PAIR_VERSION), new TextEncoder().encode(label));
}

/** The short verifier both screens show: six hex digits, "4f-a2-19". */
export function verifierText(keys: SessionKeys): string {
  return [...keys.verifier].map((b) => b.toString(16).padStart(2, '0')).join('-');
}

/** The AEAD's associated data: the frame header and the session id. */
function aad(type: MsgType, sid: Uint8Array): Uint8Array {
  return concat(header(type), sid);
}

export type Input =
  | { kind: 'message'; bytes: Uint8Array; now: number }
  | { kind: 'timeout'; now: number }
  | { kind: 'channel'; failure: ChannelFailure; now: number };
export type AccepterInput =
  Input | { kind: 'start'; now: number } | { kind: 'applied'; outcome: ApplyOutcome; now: number };

export interface Step<S> {
  state: S;
  send: Uint8Array[];
  /** The input meant nothing in this state (a finished run, or a driver input out of place). */
  ignored?: true;
}

type Failed = { phase: 'failed'; error: PairError };

export type OffererState =
  | { phase: 'waiting-hello' }
  | { phase: 'waiting-confirm'; keys: SessionKeys; sid: Uint8Array; peer: string }
  | { phase: 'waiting-done'; keys: SessionKeys; sid: Uint8Array; peer: string }
  | { phase: 'paired'; peer: string; verifier: string }
  | Failed;

export type AccepterState =
  | { phase: 'start' }
  | { phase: 'waiting-reply'; sid: Uint8Array; share: CPaceShare }
  | { phase: 'waiting-settings'; keys: SessionKeys; sid: Uint8Array; peer: string }
  | { phase: 'applying'; keys: SessionKeys; sid: Uint8Array; peer: string; settings: PairSettings }
  | { phase: 'paired'; peer: string; verifier: string; settings: PairSettings }
  | Failed;

export interface OffererConfig {
  code: PairCode;
  label: string;
  settings: PairSettings;
  /** When the offer expires (ms since the epoch): a hello after it is refused. */
  expiresAt: number;
  random: Random;
}

export interface AccepterConfig {
  code: PairCode;
  label: string;
  random: Random;
}

function isTerminal(s: { phase: string }): boolean {
  return s.phase === 'paired' || s.phase === 'failed';
}

function peerOf(s: object): string | null {
  return 'peer' in s && typeof s.peer === 'string' ? s.peer : null;
}

/** Ends the run; `tell` is the reason sent to the other side (none when it told us, or is gone). */
function fail<S>(s: object, failure: PairFailure, detail: string, tell: string | null): Step<S | Failed> {
  const error = new PairError(failure, detail, peerOf(s));
  return { state: { phase: 'failed', error }, send: tell ? [encode({ type: 'abort', reason: tell })] : [] };
}

/** What both machines do with a channel failure or a message that does not decode. */
function common<S>(
  s: S & { phase: string },
  input: Input,
  waitingFirst: PairFailure,
): Step<S | Failed> | Message {
  if (input.kind === 'channel') {
    const f = input.failure;
    // Midway, the other side may still be there to hear that we gave up; before it came, nobody is.
    if (f === 'timeout') return fail(s, waitingFirst, '', waitingFirst === 'timeout' ? 'timeout' : null);
    if (f === 'oversized') return fail(s, 'oversized', '', 'oversized');
    return fail(s, f, '', null);
  }
  if (input.kind === 'timeout')
    return fail(s, waitingFirst, '', waitingFirst === 'timeout' ? 'timeout' : null);
  const d = decode(input.bytes);
  if (!d.ok) return fail(s, d.failure, d.detail, d.failure);
  if (d.msg.type === 'abort') return fail(s, failureOfAbort(d.msg.reason), `it said ${d.msg.reason}`, null);
  return d.msg;
}

function unexpected<S>(s: S & { phase: string }, m: Message): Step<S | Failed> {
  return fail(s, 'unexpected', `a ${m.type} message while ${s.phase}`, 'unexpected');
}

export function offererStep(cfg: OffererConfig, s: OffererState, input: Input): Step<OffererState> {
  if (isTerminal(s)) return { state: s, send: [], ignored: true };
  if (s.phase === 'waiting-hello' && input.now >= cfg.expiresAt) return fail(s, 'expired', '', 'expired');
  const m = common(s, input, s.phase === 'waiting-hello' ? 'expired' : 'timeout');
  if (!('type' in m)) return m;
  if (m.type === 'hello') {
    if (s.phase !== 'waiting-hello') return fail(s, 'crowded', 'a second device said hello', 'crowded');
    const inputs = cpaceInputs(cfg.code, m.sid);
    const share = makeShare(inputs, cfg.random(32));
    let keys: SessionKeys;
    try {
      keys = deriveSession(inputs, share, m.Y, 'B', ad(m.label), ad(cfg.label));
    } catch {
      return fail({ peer: m.label }, 'malformed', 'its key share is not a group element', 'malformed');
    }
    const reply = encode({ type: 'reply', Y: share.Y, label: cfg.label });
    return { state: { phase: 'waiting-confirm', keys, sid: m.sid, peer: m.label }, send: [reply] };
  }
  if (m.type === 'confirm' && s.phase === 'waiting-confirm') {
    if (!checkTag(s.keys, 'A', m.tag))
      return fail(s, 'wrong-code', `${s.peer} typed another code`, 'wrong-code');
    const frame = encode({
      type: 'settings',
      tag: confirmationTag(s.keys, 'B'),
      sealed: seal(s.keys.sealB, aad('settings', s.sid), cfg.settings),
    });
    if (frame.length > PAIR_MESSAGE_MAX)
      return fail(s, 'bad-settings', 'they do not fit one pairing message', 'cancelled');
    return { state: { phase: 'waiting-done', keys: s.keys, sid: s.sid, peer: s.peer }, send: [frame] };
  }
  if (m.type === 'done' && s.phase === 'waiting-done') {
    const v = open(s.keys.sealA, aad('done', s.sid), m.sealed);
    if (v === null) return fail(s, 'malformed', 'its answer does not authenticate', 'malformed');
    let outcome: ApplyOutcome;
    try {
      outcome = validateOutcome(v);
    } catch {
      return fail(s, 'malformed', 'its answer is not valid', 'malformed');
    }
    if (!outcome.ok) return fail(s, 'apply-failed', `on ${s.peer}, ${outcome.step}: ${outcome.reason}`, null);
    return { state: { phase: 'paired', peer: s.peer, verifier: verifierText(s.keys) }, send: [] };
  }
  return unexpected(s, m);
}

export function accepterStep(
  cfg: AccepterConfig,
  s: AccepterState,
  input: AccepterInput,
): Step<AccepterState> {
  if (isTerminal(s)) return { state: s, send: [], ignored: true };
  if (input.kind === 'start') {
    if (s.phase !== 'start') return { state: s, send: [], ignored: true };
    const sid = cfg.random(SID_BYTES);
    const share = makeShare(cpaceInputs(cfg.code, sid), cfg.random(32));
    return {
      state: { phase: 'waiting-reply', sid, share },
      send: [encode({ type: 'hello', sid, Y: share.Y, label: cfg.label })],
    };
  }
  if (input.kind === 'applied') {
    if (s.phase !== 'applying') return { state: s, send: [], ignored: true };
    const done = encode({ type: 'done', sealed: seal(s.keys.sealA, aad('done', s.sid), input.outcome) });
    if (!input.outcome.ok) {
      const f = fail<AccepterState>(
        s,
        'apply-failed',
        `${input.outcome.step}: ${input.outcome.reason}`,
        null,
      );
      return { state: f.state, send: [done] };
    }
    return {
      state: { phase: 'paired', peer: s.peer, verifier: verifierText(s.keys), settings: s.settings },
      send: [done],
    };
  }
  const m = common(s, input, s.phase === 'waiting-reply' ? 'no-offer' : 'timeout');
  if (!('type' in m)) return s.phase === 'waiting-settings' ? unconfirmed(s, m) : m;
  if (m.type === 'reply' && s.phase === 'waiting-reply') {
    let keys: SessionKeys;
    try {
      keys = deriveSession(cpaceInputs(cfg.code, s.sid), s.share, m.Y, 'A', ad(cfg.label), ad(m.label));
    } catch {
      return fail({ peer: m.label }, 'malformed', 'its key share is not a group element', 'malformed');
    }
    return {
      state: { phase: 'waiting-settings', keys, sid: s.sid, peer: m.label },
      send: [encode({ type: 'confirm', tag: confirmationTag(keys, 'A') })],
    };
  }
  if (m.type === 'settings' && s.phase === 'waiting-settings') {
    if (!checkTag(s.keys, 'B', m.tag))
      return fail(s, 'wrong-code', `${s.peer} offers another code`, 'wrong-code');
    // Tag B verified: the other device knows the code, so what follows is its own word.
    const v = open(s.keys.sealB, aad('settings', s.sid), m.sealed);
    if (v === null) return fail(s, 'malformed', 'its settings do not authenticate', 'malformed');
    let settings: PairSettings;
    try {
      settings = validateSettings(v);
    } catch (e) {
      return fail(s, 'malformed', (e as Error).message, 'malformed');
    }
    return { state: { phase: 'applying', keys: s.keys, sid: s.sid, peer: s.peer, settings }, send: [] };
  }
  return s.phase === 'waiting-settings' ? unconfirmed(s, unexpected(s, m)) : unexpected(s, m);
}

/**
 * The accepter sent tag A and the other side has not proved the code: a timeout, a channel gone, an
 * abort (its reason unauthenticated) or a stray message all look alike to one who tested a guess
 * against tag A and stopped. The cause is kept as detail; what is sent back stays as it was.
 */
function unconfirmed(s: { peer: string }, r: Step<AccepterState>): Step<AccepterState> {
  if (r.state.phase !== 'failed') return r;
  const e = r.state.error;
  const error = new PairError('unconfirmed', e.detail ? `${e.failure}: ${e.detail}` : e.failure, s.peer);
  return { state: { phase: 'failed', error }, send: r.send };
}
