// The signal codec: builds and checks the one namespaced element a signal stanza carries. Pure: no
// sockets, no timers; time comes in through `now`, so every rule is table-tested. The MAC covers a
// canonical text form built from the parsed, validated fields in a fixed order, never the raw XML,
// because servers (Prosody among them) reorder attributes and re-serialize stanzas in transit.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import type { PeerAnnouncement } from './types.js';
import { isSha } from '../git/sha.js';
import { isId, refNameProblem } from './validate.js';

export const SIGNAL_NS = 'urn:git-autosync:signal:1';
/** Wire format version; bumped only with an incompatible change (and a new namespace). */
export const SIGNAL_VERSION = '1';
/** Enough for every branch plus git-annex and synced refs; more are split over several signals. */
export const MAX_REFS = 64;
/** A repository rarely has more than a handful of remotes; 32 bounds the work a signal can cause. */
export const MAX_PUSHED_TO = 32;
/**
 * Largest stanza accepted, serialized. The largest valid signal (64 refs x 200-char names x
 * SHA-256, 32 ids x 128 chars) is about 24 KiB with the server's addressing; anything bigger is
 * not ours, and is dropped before any parsing work beyond the size check.
 */
export const MAX_STANZA_BYTES = 32 * 1024;
/** Clocks of the clones may drift by minutes; a replay older than this is refused outright. */
export const CLOCK_WINDOW_MS = 10 * 60_000;
/** HMAC-SHA256 keys shorter than 128 bits are guessable; the agent generates 32 bytes. */
export const MIN_KEY_BYTES = 16;
/** Senders whose last sequence number is remembered; only key holders can add one. */
const MAX_TRACKED_SENDERS = 1024;

const MAC_RE = /^[0-9a-f]{64}$/;

/**
 * The <mac> child of a signal, an edges report or a plan: one hmac-sha256 attribute, 64 hex
 * characters of text and nothing else. The MAC's text, or what is wrong with it.
 */
export function readMac(child: XmlElement): { mac: string } | { problem: string } {
  if (child.attrs.alg !== 'hmac-sha256' || !onlyAttrs(child, ['alg', 'xmlns']))
    return { problem: 'bad <mac> algorithm' };
  if (child.children.some((c) => typeof c !== 'string')) return { problem: '<mac> holds elements' };
  const text = child.text().trim();
  return MAC_RE.test(text) ? { mac: text } : { problem: 'malformed MAC' };
}

/** Whether a received MAC is the one expected (both hex), compared in constant time. */
export function macMatches(expectedHex: string, gotHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const got = Buffer.from(gotHex, 'hex');
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** Decimal without leading zeros, at most 16 digits (below 2^53). */
const DECIMAL_RE = /^(?:0|[1-9][0-9]{0,15})$/;

/** The fields a signal carries; what the MAC covers. */
export interface SignalFields {
  repo: string;
  node: string;
  seq: number;
  /** Sender's clock, milliseconds since the epoch. */
  ts: number;
  refs: Record<string, string>;
  pushedTo: string[];
}

export class SignalEncodeError extends Error {
  override name = 'SignalEncodeError';
}

/** Byte-order comparison, so the canonical order does not depend on the locale. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One canonical line: name, then the value's length, then the value. Unambiguous for any value. */
export function line(name: string, value: string | number): string {
  const v = String(value);
  return `${name}=${Buffer.byteLength(v, 'utf8')}:${v}\n`;
}

/**
 * The text the MAC is computed over. Fields in a fixed order, refs sorted by name and ids sorted,
 * each length-prefixed: independent of attribute order, child order and XML escaping.
 */
export function canonicalForm(f: SignalFields): string {
  const refs = Object.keys(f.refs).sort(byteOrder);
  const pushed = [...f.pushedTo].sort(byteOrder);
  let s = line('signal', SIGNAL_NS) + line('v', SIGNAL_VERSION);
  s += line('repo', f.repo) + line('node', f.node) + line('seq', f.seq) + line('ts', f.ts);
  s += line('refs', refs.length);
  for (const name of refs) s += line('ref', name) + line('sha', f.refs[name] ?? '');
  s += line('pushed', pushed.length);
  for (const id of pushed) s += line('to', id);
  return s;
}

export function signalMac(key: Buffer, f: SignalFields): string {
  return createHmac('sha256', key).update(canonicalForm(f), 'utf8').digest('hex');
}

/** Checks fields against the same rules a receiver applies; returns the first problem or null. */
export function fieldsProblem(f: SignalFields): string | null {
  if (!isId(f.repo)) return 'repository id is not a valid id';
  if (!isId(f.node)) return 'node id is not a valid id';
  if (!Number.isSafeInteger(f.seq) || f.seq < 0) return 'sequence number is not a safe non-negative integer';
  if (!Number.isSafeInteger(f.ts) || f.ts < 0) return 'timestamp is not a safe non-negative integer';
  const names = Object.keys(f.refs);
  if (names.length > MAX_REFS) return `more than ${MAX_REFS} refs`;
  for (const name of names) {
    const p = refNameProblem(name);
    if (p) return `ref name ${JSON.stringify(name.slice(0, 80))} ${p}`;
    if (!isSha(f.refs[name] ?? '')) return `SHA of ${name} is not 40 or 64 lower-case hex digits`;
  }
  if (f.pushedTo.length > MAX_PUSHED_TO) return `more than ${MAX_PUSHED_TO} pushedTo ids`;
  if (new Set(f.pushedTo).size !== f.pushedTo.length) return 'duplicate pushedTo id';
  for (const id of f.pushedTo) if (!isId(id)) return 'pushedTo holds an invalid id';
  return null;
}

/** Builds the signed <signal/> element. Throws SignalEncodeError on fields a receiver would refuse. */
export function encodeSignal(f: SignalFields, key: Buffer): XmlElement {
  if (key.length < MIN_KEY_BYTES)
    throw new SignalEncodeError(`repository key shorter than ${MIN_KEY_BYTES} bytes`);
  const problem = fieldsProblem(f);
  if (problem) throw new SignalEncodeError(problem);
  const refs = Object.keys(f.refs).sort(byteOrder);
  return xml(
    'signal',
    { xmlns: SIGNAL_NS, v: SIGNAL_VERSION, repo: f.repo, node: f.node, seq: String(f.seq), ts: String(f.ts) },
    ...refs.map((name) => xml('ref', { name, sha: f.refs[name] })),
    ...[...f.pushedTo].sort(byteOrder).map((id) => xml('pushed', { to: id })),
    xml('mac', { alg: 'hmac-sha256' }, signalMac(key, f)),
  );
}

export type ParseResult = { ok: true; fields: SignalFields; mac: string } | { ok: false; detail: string };

const SIGNAL_ATTRS = new Set(['xmlns', 'v', 'repo', 'node', 'seq', 'ts']);

function onlyAttrs(el: XmlElement, allowed: readonly string[]): boolean {
  return Object.keys(el.attrs).every((a) => allowed.includes(a));
}

/** Parses and validates a <signal/> element. Structure is strict: unknown parts are malformed. */
export function parseSignal(el: XmlElement): ParseResult {
  const bad = (detail: string): ParseResult => ({ ok: false, detail });
  const a = el.attrs;
  if (!Object.keys(a).every((k) => SIGNAL_ATTRS.has(k))) return bad('unknown attribute on <signal>');
  if (a.v !== SIGNAL_VERSION) return bad('unsupported version');
  const repo = a.repo ?? '';
  const node = a.node ?? '';
  if (!isId(repo)) return bad('invalid repository id');
  if (!isId(node)) return bad('invalid node id');
  if (!DECIMAL_RE.test(a.seq ?? '') || !DECIMAL_RE.test(a.ts ?? '')) return bad('invalid seq or ts');
  const seq = Number(a.seq);
  const ts = Number(a.ts);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ts)) return bad('seq or ts out of range');
  if (el.children.length > 2 * (MAX_REFS + MAX_PUSHED_TO + 1) + 1) return bad('too many children');

  const refs: Record<string, string> = Object.create(null) as Record<string, string>;
  const pushedTo: string[] = [];
  let mac: string | null = null;
  let refCount = 0;
  for (const child of el.children) {
    if (typeof child === 'string') {
      if (child.trim() !== '') return bad('text inside <signal>');
      continue;
    }
    if (child.children.length > 0 && child.name !== 'mac') return bad(`<${child.name}> has content`);
    if (child.attrs.xmlns !== undefined && child.attrs.xmlns !== SIGNAL_NS)
      return bad('child in a foreign namespace');
    switch (child.name) {
      case 'ref': {
        if (!onlyAttrs(child, ['name', 'sha', 'xmlns'])) return bad('unknown attribute on <ref>');
        const name = child.attrs.name ?? '';
        const sha = child.attrs.sha ?? '';
        if (refNameProblem(name)) return bad('invalid ref name');
        if (!isSha(sha)) return bad('invalid SHA');
        if (Object.prototype.hasOwnProperty.call(refs, name)) return bad('duplicate ref');
        if (++refCount > MAX_REFS) return bad('too many refs');
        refs[name] = sha;
        break;
      }
      case 'pushed': {
        if (!onlyAttrs(child, ['to', 'xmlns'])) return bad('unknown attribute on <pushed>');
        const id = child.attrs.to ?? '';
        if (!isId(id)) return bad('invalid pushedTo id');
        if (pushedTo.includes(id)) return bad('duplicate pushedTo id');
        if (pushedTo.length >= MAX_PUSHED_TO) return bad('too many pushedTo ids');
        pushedTo.push(id);
        break;
      }
      case 'mac': {
        if (mac !== null) return bad('more than one <mac>');
        const m = readMac(child);
        if ('problem' in m) return bad(m.problem);
        mac = m.mac;
        break;
      }
      default:
        return bad('unknown child element');
    }
  }
  if (mac === null) return bad('no <mac>');
  // Plain object again: the null-prototype map guarded against "__proto__" keys while parsing.
  return { ok: true, fields: { repo, node, seq, ts, refs: { ...refs }, pushedTo }, mac };
}

export type RejectReason = 'oversized' | 'malformed' | 'foreign-repo' | 'bad-mac' | 'stale' | 'replay';

export type Verdict =
  | { kind: 'accept'; announcement: PeerAnnouncement; seq: number; ts: number }
  /** Not a signal at all (a chat line, a room subject), or our own echo: dropped, not counted. */
  | { kind: 'ignore'; why: 'not-a-signal' | 'echo' }
  | { kind: 'reject'; reason: RejectReason; detail: string };

export interface VerifierOptions {
  repoId: string;
  nodeId: string;
  key: Buffer;
  windowMs?: number;
  now?: () => number;
}

/**
 * Receiver side: decides accept / ignore / reject for one stanza, and keeps the per-sender last
 * sequence number that makes replays detectable. Checks run cheapest first, and the MAC before
 * any state is touched, so an unauthenticated stanza can change nothing but the rejected count.
 */
export class SignalVerifier {
  private readonly lastSeq = new Map<string, number>();
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: VerifierOptions) {
    if (opts.key.length < MIN_KEY_BYTES)
      throw new Error(`repository key shorter than ${MIN_KEY_BYTES} bytes`);
    this.windowMs = opts.windowMs ?? CLOCK_WINDOW_MS;
    this.now = opts.now ?? Date.now;
  }

  check(stanza: XmlElement): Verdict {
    const found = stanza.getChildren('signal', SIGNAL_NS);
    if (found.length === 0) return { kind: 'ignore', why: 'not-a-signal' };
    const bytes = Buffer.byteLength(stanza.toString(), 'utf8');
    if (bytes > MAX_STANZA_BYTES) return reject('oversized', `${bytes} bytes`);
    if (found.length > 1) return reject('malformed', 'more than one <signal>');
    const parsed = parseSignal(found[0]!);
    if (!parsed.ok) return reject('malformed', parsed.detail);
    const f = parsed.fields;
    if (f.repo !== this.opts.repoId) return reject('foreign-repo', 'signal for another repository');
    if (!macMatches(signalMac(this.opts.key, f), parsed.mac)) return reject('bad-mac', 'MAC mismatch');
    if (f.node === this.opts.nodeId) return { kind: 'ignore', why: 'echo' };
    const skew = Math.abs(this.now() - f.ts);
    if (skew > this.windowMs) return reject('stale', `timestamp ${Math.round(skew / 1000)} s off`);
    const last = this.lastSeq.get(f.node);
    if (last !== undefined && f.seq <= last) return reject('replay', 'sequence number not increasing');
    this.remember(f.node, f.seq);
    return {
      kind: 'accept',
      announcement: { from: f.node, refs: f.refs, pushedTo: f.pushedTo },
      seq: f.seq,
      ts: f.ts,
    };
  }

  private remember(node: string, seq: number): void {
    this.lastSeq.delete(node);
    this.lastSeq.set(node, seq);
    if (this.lastSeq.size > MAX_TRACKED_SENDERS) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest !== undefined) this.lastSeq.delete(oldest);
    }
  }
}

function reject(reason: RejectReason, detail: string): Verdict {
  return { kind: 'reject', reason, detail };
}

/**
 * Sender side sequence numbers. Microseconds of the wall clock, bumped past the last one issued:
 * they keep increasing across restarts of the agent (no state file needed) as long as the clock
 * does not step back by more than the time between two restarts. 1e3 * Date.now() stays below
 * 2^53 until the year 2255.
 */
export class SequenceCounter {
  private last = 0;
  constructor(private readonly now: () => number = Date.now) {}

  next(): number {
    this.last = Math.max(this.last + 1, this.now() * 1000);
    return this.last;
  }
}
