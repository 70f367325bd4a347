// The plan codec: the <plan/> element that carries one key's tree (map/tree-plan.ts KeyPlan) from
// the clone that added the key to its peers. Pure; table tests in test/unit/signal/plan-codec.test.ts.
//
// Like <edges/> (edges-codec.ts) it is a message kind of its own, a sibling of <signal/>, so an
// agent of wire format v1 ignores it; and it is authenticated the same way (HMAC-SHA256 with the
// repository key over a canonical text, clock window, a per-sender sequence number of its own).
// Every field is checked: the key by annex/keys.ts isValidKey, every id a git-annex UUID, `via`
// one of two letters, the plan a bounded tree (tree-plan.ts planProblem). A key never becomes a
// path: the transfer queue looks it up among the keys its own inventory found.
import { createHmac } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { isValidKey, isValidUuid } from '../annex/keys.js';
import { MAX_PLAN_EDGES, planProblem, type KeyPlan, type PlanEdge } from '../map/tree-plan.js';
import { CLOCK_WINDOW_MS, line, macMatches, MIN_KEY_BYTES, readMac } from './codec.js';
import { isId } from './validate.js';

export const PLAN_NS = 'urn:git-autosync:plan:1';
export const PLAN_VERSION = '1';
/**
 * Largest stanza accepted. A plan of MAX_PLAN_EDGES edges is 64 x about 100 bytes, a key at most
 * about 430 bytes, the MAC and the server's addressing: under 10 KiB; 16 KiB leaves margin.
 */
export const MAX_PLAN_STANZA_BYTES = 16 * 1024;
/** Senders whose last sequence number is remembered; only key holders can add one. */
const MAX_TRACKED_SENDERS = 1024;

const DECIMAL_RE = /^(?:0|[1-9][0-9]{0,15})$/;

export interface PlanFields {
  repo: string;
  node: string;
  seq: number;
  ts: number;
  plan: KeyPlan;
}

export class PlanEncodeError extends Error {
  override name = 'PlanEncodeError';
}

export function planCanonicalForm(f: PlanFields): string {
  let s = line('plan', PLAN_NS) + line('v', PLAN_VERSION);
  s += line('repo', f.repo) + line('node', f.node) + line('seq', f.seq) + line('ts', f.ts);
  s += line('key', f.plan.key) + line('origin', f.plan.origin) + line('count', f.plan.edges.length);
  // Edge order is the send order, part of the plan: it is covered as given.
  for (const e of f.plan.edges) s += line('from', e.from) + line('to', e.to) + line('via', e.via);
  return s;
}

export function planMac(key: Buffer, f: PlanFields): string {
  return createHmac('sha256', key).update(planCanonicalForm(f), 'utf8').digest('hex');
}

export function planFieldsProblem(f: PlanFields): string | null {
  if (!isId(f.repo)) return 'repository id is not a valid id';
  if (!isId(f.node)) return 'node id is not a valid id';
  if (!Number.isSafeInteger(f.seq) || f.seq < 0) return 'sequence number is not a safe non-negative integer';
  if (!Number.isSafeInteger(f.ts) || f.ts < 0) return 'timestamp is not a safe non-negative integer';
  if (!isValidKey(f.plan.key)) return 'not a git-annex key';
  return planProblem(f.plan, isValidUuid);
}

export function encodePlan(f: PlanFields, key: Buffer): XmlElement {
  if (key.length < MIN_KEY_BYTES)
    throw new PlanEncodeError(`repository key shorter than ${MIN_KEY_BYTES} bytes`);
  const problem = planFieldsProblem(f);
  if (problem) throw new PlanEncodeError(problem);
  return xml(
    'plan',
    {
      xmlns: PLAN_NS,
      v: PLAN_VERSION,
      repo: f.repo,
      node: f.node,
      seq: String(f.seq),
      ts: String(f.ts),
      key: f.plan.key,
      origin: f.plan.origin,
    },
    ...f.plan.edges.map((e) => xml('e', { from: e.from, to: e.to, via: e.via === 'upload' ? 'u' : 'd' })),
    xml('mac', { alg: 'hmac-sha256' }, planMac(key, f)),
  );
}

export type PlanParse = { ok: true; fields: PlanFields; mac: string } | { ok: false; detail: string };

const PLAN_ATTRS = new Set(['xmlns', 'v', 'repo', 'node', 'seq', 'ts', 'key', 'origin']);
const E_ATTRS = new Set(['xmlns', 'from', 'to', 'via']);

export function parsePlan(el: XmlElement): PlanParse {
  const bad = (detail: string): PlanParse => ({ ok: false, detail });
  const a = el.attrs;
  if (!Object.keys(a).every((k) => PLAN_ATTRS.has(k))) return bad('unknown attribute on <plan>');
  if (a.v !== PLAN_VERSION) return bad('unsupported version');
  const repo = a.repo ?? '';
  const node = a.node ?? '';
  if (!isId(repo) || !isId(node)) return bad('invalid repository or node id');
  if (!DECIMAL_RE.test(a.seq ?? '') || !DECIMAL_RE.test(a.ts ?? '')) return bad('invalid seq or ts');
  const seq = Number(a.seq);
  const ts = Number(a.ts);
  if (!isValidKey(a.key)) return bad('invalid key');
  if (!isValidUuid(a.origin)) return bad('invalid origin');
  if (el.children.length > 2 * (MAX_PLAN_EDGES + 1) + 1) return bad('too many children');
  const edges: PlanEdge[] = [];
  let mac: string | null = null;
  for (const child of el.children) {
    if (typeof child === 'string') {
      if (child.trim() !== '') return bad('text inside <plan>');
      continue;
    }
    if (child.attrs.xmlns !== undefined && child.attrs.xmlns !== PLAN_NS)
      return bad('child in a foreign namespace');
    if (child.name === 'e') {
      if (child.children.length > 0) return bad('<e> has content');
      if (!Object.keys(child.attrs).every((k) => E_ATTRS.has(k))) return bad('unknown attribute on <e>');
      const via = child.attrs.via;
      if (via !== 'u' && via !== 'd') return bad('invalid via');
      if (!isValidUuid(child.attrs.from) || !isValidUuid(child.attrs.to)) return bad('invalid edge id');
      if (edges.length >= MAX_PLAN_EDGES) return bad('too many edges');
      edges.push({ from: child.attrs.from, to: child.attrs.to, via: via === 'u' ? 'upload' : 'download' });
    } else if (child.name === 'mac') {
      if (mac !== null) return bad('more than one <mac>');
      const m = readMac(child);
      if ('problem' in m) return bad(m.problem);
      mac = m.mac;
    } else {
      return bad('unknown child element');
    }
  }
  if (mac === null) return bad('no <mac>');
  const plan: KeyPlan = { key: a.key, origin: a.origin, edges };
  const problem = planProblem(plan, isValidUuid);
  if (problem) return bad(problem);
  return { ok: true, fields: { repo, node, seq, ts, plan }, mac };
}

export type PlanVerdict =
  | { kind: 'accept'; node: string; plan: KeyPlan }
  | { kind: 'ignore'; why: 'not-a-plan' | 'echo' }
  | {
      kind: 'reject';
      reason: 'oversized' | 'malformed' | 'foreign-repo' | 'bad-mac' | 'stale' | 'replay';
      detail: string;
    };

/** Receiver side, as codec.ts SignalVerifier: cheapest checks first, the MAC before any state. */
export class PlanVerifier {
  private readonly lastSeq = new Map<string, number>();
  private readonly now: () => number;
  private readonly windowMs: number;

  constructor(
    private readonly opts: {
      repoId: string;
      nodeId: string;
      key: Buffer;
      now?: () => number;
      windowMs?: number;
    },
  ) {
    if (opts.key.length < MIN_KEY_BYTES)
      throw new Error(`repository key shorter than ${MIN_KEY_BYTES} bytes`);
    this.now = opts.now ?? Date.now;
    this.windowMs = opts.windowMs ?? CLOCK_WINDOW_MS;
  }

  check(stanza: XmlElement): PlanVerdict {
    const found = stanza.getChildren('plan', PLAN_NS);
    if (found.length === 0) return { kind: 'ignore', why: 'not-a-plan' };
    const bytes = Buffer.byteLength(stanza.toString(), 'utf8');
    if (bytes > MAX_PLAN_STANZA_BYTES)
      return { kind: 'reject', reason: 'oversized', detail: `${bytes} bytes` };
    if (found.length > 1) return { kind: 'reject', reason: 'malformed', detail: 'more than one <plan>' };
    const parsed = parsePlan(found[0]!);
    if (!parsed.ok) return { kind: 'reject', reason: 'malformed', detail: parsed.detail };
    const f = parsed.fields;
    if (f.repo !== this.opts.repoId)
      return { kind: 'reject', reason: 'foreign-repo', detail: 'plan for another repository' };
    if (!macMatches(planMac(this.opts.key, f), parsed.mac))
      return { kind: 'reject', reason: 'bad-mac', detail: 'MAC mismatch' };
    if (f.node === this.opts.nodeId) return { kind: 'ignore', why: 'echo' };
    const skew = Math.abs(this.now() - f.ts);
    if (skew > this.windowMs)
      return { kind: 'reject', reason: 'stale', detail: `timestamp ${Math.round(skew / 1000)} s off` };
    const last = this.lastSeq.get(f.node);
    if (last !== undefined && f.seq <= last)
      return { kind: 'reject', reason: 'replay', detail: 'sequence number not increasing' };
    this.lastSeq.delete(f.node);
    this.lastSeq.set(f.node, f.seq);
    if (this.lastSeq.size > MAX_TRACKED_SENDERS) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest !== undefined) this.lastSeq.delete(oldest);
    }
    return { kind: 'accept', node: f.node, plan: f.plan };
  }
}
