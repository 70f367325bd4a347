// The session driver: runs one side's state machine (protocol.ts) against a PairChannel.
//   waits on: channel.receive, with a deadline per phase (the offer's expiry while waiting for a
//             hello, a step timeout for an answer, the apply timeout while the new device sets up);
//             for the accepter, its `apply` callback.
//   produces: the other device's label and the verifier (and for the accepter the settings it
//             applied), or a PairError; the channel is closed either way.
// The loop is bounded: a run is at most three messages received per side, so MAX_RECEIVES stops a
// peer that keeps a channel busy, and every receive has a deadline.
import { randomBytes } from 'node:crypto';
import { ChannelError, type ChannelFailure, type PairChannel } from './channel.js';
import type { PairCode } from './code.js';
import { PairError } from './errors.js';
import { MSG } from './wire.js';
import { settingsProblem, type ApplyOutcome, type PairSettings } from './payload.js';
import {
  accepterStep,
  offererStep,
  type AccepterInput,
  type AccepterState,
  type OffererState,
  type Random,
  type Step,
  verifierText,
} from './protocol.js';

/** The offer's life when the user gives no --timeout: long enough to walk to the other device. */
export const DEFAULT_OFFER_MS = 10 * 60_000;
/** How long one side waits for an answer the other can give at once (it is online, a few hundred bytes). */
export const DEFAULT_STEP_MS = 30_000;
/** How long the offerer waits for the new device to clone and set up: a large clone takes minutes. */
export const DEFAULT_APPLY_MS = 10 * 60_000;
/** Three messages reach each side in a whole run; a few more cover aborts, and then we stop. */
const MAX_RECEIVES = 8;

const defaultRandom: Random = (n) => Uint8Array.from(randomBytes(n));

export interface OfferOptions {
  code: PairCode;
  label: string;
  settings: PairSettings;
  /** When the offer expires, in ms since the epoch (now + --timeout). */
  expiresAt: number;
  stepTimeoutMs?: number;
  applyTimeoutMs?: number;
  now?: () => number;
  random?: Random;
}

export interface PairResult {
  /** The other device's label, to show. */
  peer: string;
  /** The short verifier both screens show. */
  verifier: string;
}

export interface AcceptOptions {
  code: PairCode;
  label: string;
  /** Applies the settings (clone or configure, key, agent); its outcome goes back to the offerer. */
  apply: (settings: PairSettings, peer: PairResult) => Promise<ApplyOutcome>;
  stepTimeoutMs?: number;
  now?: () => number;
  random?: Random;
}

type Machine<S, I> = {
  step: (s: S, input: I) => Step<S>;
  /** How long to wait for the next message in this state, or null when it is our turn. */
  waitMs: (s: S) => number | null;
};

function isDone(s: { phase: string }): boolean {
  return s.phase === 'paired' || s.phase === 'failed';
}

async function drive<S extends { phase: string }>(
  channel: PairChannel,
  m: Machine<S, AccepterInput>,
  start: S,
  now: () => number,
  turn: (s: S) => Promise<AccepterInput | null>,
  first?: AccepterInput,
): Promise<S> {
  let state = start;
  const feed = async (input: AccepterInput): Promise<void> => {
    const r = m.step(state, input);
    state = r.state;
    for (const msg of r.send) {
      try {
        await channel.send(msg);
      } catch (e) {
        // An abort that cannot be sent changes nothing; a protocol message that cannot ends the run,
        // the last one too: a new device set up whose "done" never left must not report success
        // while the offerer waits and fails.
        if (msg[1] === MSG.abort) continue;
        if (state.phase === 'paired') state = unsent(state, failureOf(e));
        else if (!isDone(state))
          state = m.step(state, { kind: 'channel', failure: failureOf(e), now: now() }).state;
      }
    }
  };
  try {
    if (first) await feed(first);
    for (let receives = 0; !isDone(state);) {
      const wait = m.waitMs(state);
      if (wait === null) {
        // Our turn (the accepter applying): its input, or a timeout should there be nothing to do.
        await feed((await turn(state)) ?? { kind: 'timeout', now: now() });
        continue;
      }
      if (wait <= 0 || receives++ >= MAX_RECEIVES) {
        await feed({ kind: 'timeout', now: now() });
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = await channel.receive(wait);
      } catch (e) {
        await feed({ kind: 'channel', failure: failureOf(e), now: now() });
        continue;
      }
      await feed({ kind: 'message', bytes, now: now() });
    }
    return state;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** A run that reached 'paired' but could not send its last message: failed, with what was done. */
function unsent<S extends { phase: string }>(s: S, failure: ChannelFailure): S {
  const peer = 'peer' in s && typeof s.peer === 'string' ? s.peer : null;
  const detail = 'this device is set up, but could not tell the other device so';
  return { phase: 'failed', error: new PairError(failure, detail, peer) } as unknown as S;
}

function failureOf(e: unknown): ChannelFailure {
  return e instanceof ChannelError ? e.failure : 'closed';
}

function result<S extends { phase: string }>(s: S): S & { phase: 'paired' } {
  if (s.phase === 'failed') throw (s as unknown as { error: PairError }).error;
  return s as S & { phase: 'paired' };
}

/** Offers the repository on `channel`: resolves once the new device has set itself up. */
export async function runOffer(channel: PairChannel, o: OfferOptions): Promise<PairResult> {
  const now = o.now ?? Date.now;
  const cfg = {
    code: o.code,
    label: o.label,
    settings: o.settings,
    expiresAt: o.expiresAt,
    random: o.random ?? defaultRandom,
  };
  // Found before the code is shown, so nobody spends an attempt on an offer that cannot complete.
  const problem = settingsProblem(o.settings);
  if (problem) {
    await channel.close().catch(() => undefined);
    throw new PairError('bad-settings', problem);
  }
  const step = o.stepTimeoutMs ?? DEFAULT_STEP_MS;
  const apply = o.applyTimeoutMs ?? DEFAULT_APPLY_MS;
  const machine: Machine<OffererState, AccepterInput> = {
    step: (s, input) =>
      input.kind === 'start' || input.kind === 'applied'
        ? { state: s, send: [], ignored: true }
        : offererStep(cfg, s, input),
    waitMs: (s) =>
      s.phase === 'waiting-hello' ? o.expiresAt - now() : s.phase === 'waiting-done' ? apply : step,
  };
  const end = result(
    await drive(channel, machine, { phase: 'waiting-hello' } as OffererState, now, () =>
      Promise.resolve(null),
    ),
  );
  return { peer: end.peer, verifier: end.verifier };
}

/** Accepts an offer on `channel`: says hello, checks the code, applies the settings, answers. */
export async function runAccept(
  channel: PairChannel,
  o: AcceptOptions,
): Promise<PairResult & { settings: PairSettings }> {
  const now = o.now ?? Date.now;
  const cfg = { code: o.code, label: o.label, random: o.random ?? defaultRandom };
  const step = o.stepTimeoutMs ?? DEFAULT_STEP_MS;
  const machine: Machine<AccepterState, AccepterInput> = {
    step: (s, input) => accepterStep(cfg, s, input),
    waitMs: (s) => (s.phase === 'applying' ? null : step),
  };
  const applyTurn = async (s: AccepterState): Promise<AccepterInput | null> => {
    if (s.phase !== 'applying') return null;
    let outcome: ApplyOutcome;
    try {
      outcome = await o.apply(s.settings, { peer: s.peer, verifier: verifierText(s.keys) });
    } catch (e) {
      outcome = { ok: false, step: 'apply', reason: oneLine((e as Error).message ?? String(e)) };
    }
    return { kind: 'applied', outcome, now: now() };
  };
  const end = result(
    await drive(channel, machine, { phase: 'start' } as AccepterState, now, applyTurn, {
      kind: 'start',
      now: now(),
    }),
  );
  return { peer: end.peer, verifier: end.verifier, settings: end.settings };
}

/** A reason that travels to the other screen: one line, printable, bounded (payload.ts checks 400). */
function oneLine(s: string): string {
  const t = s.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ').trim();
  return (t.length > 300 ? t.slice(0, 300) + '…' : t) || 'failed';
}
