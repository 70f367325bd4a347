// The edges codec: builds and checks the <edges/> element a clone sends to tell its peers its own
// links (for each remote: the target repository's annex UUID, the cost, the type, reachable at the
// last try). Pure: no sockets, no timers; time comes in through `now`, so every rule is
// table-tested (test/unit/signal/edges-codec.test.ts).
//
// Wire compatibility: it is a new element in a namespace of its own, a sibling of <signal/> in the
// message, never a child of it. An agent of wire format v1 that knows only signals routes a message
// without a <signal/> to its session, which ignores it: old agents neither act on it nor count it
// as a rejected signal. Authentication is the signal's: HMAC-SHA256 with the repository key over a
// canonical text of the validated fields (codec.ts `line`), a clock window and a per-sender
// sequence number that must increase. Nothing from it ever becomes a path, an option or a URL: the
// ids are annex UUIDs (regex), the cost an integer in range, the type one of a closed list, the
// remote name only a label for the map.
import { createHmac } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import { isValidRemoteName, isValidUuid } from '../annex/keys.js';
import { COST_MAX, type RemoteType } from '../map/costs.js';
import { MAX_REPORTED_EDGES } from '../map/store.js';
import { byteOrder, CLOCK_WINDOW_MS, line, MIN_KEY_BYTES, macMatches, readMac } from './codec.js';
import { isId } from './validate.js';

export const EDGES_NS = 'urn:git-autosync:edges:1';
export const EDGES_VERSION = '1';
/** Edges per message: map/store.ts MAX_REPORTED_EDGES (a repository's remotes, bounded as pushedTo). */
export const MAX_EDGES = MAX_REPORTED_EDGES;
/**
 * Largest stanza accepted, serialized. One edge is under 200 bytes (36-char UUID, 100-char remote
 * name, 13-digit cost, a type); 32 of them, the MAC and the server's addressing stay under 8 KiB.
 */
export const MAX_EDGES_STANZA_BYTES = 12 * 1024;
/** Costs travel as integer thousandths (map/arborescence.ts planCost): COST_MAX of them at most. */
export const MAX_WIRE_COST = COST_MAX * 1000;
/** Senders whose last sequence number is remembered; only key holders can add one. */
const MAX_TRACKED_SENDERS = 1024;

/** The types a remote can have (map/costs.ts RemoteType), the only values `type` may take. */
export const WIRE_TYPES: ReadonlySet<RemoteType> = new Set<RemoteType>([
  'git-local',
  'git-ssh',
  'git-url',
  'gcrypt',
  'directory',
  'adb',
  'bup',
  'glacier',
  'S3',
  'rsync',
  'webdav',
  'hook',
  'external',
  'special',
]);

/** Decimal without leading zeros, at most 16 digits (below 2^53). */
const DECIMAL_RE = /^(?:0|[1-9][0-9]{0,15})$/;

/** One link of the sender's repository, as it travels. */
export interface WireEdge {
  /** The target repository's annex UUID. */
  to: string;
  /** The remote's name on the sender: a label for the map, nothing else. */
  remote: string;
  /** Integer thousandths of the link cost, 0..MAX_WIRE_COST. */
  cost: number;
  type: RemoteType;
  reachable: boolean;
}

/** The fields an <edges/> element carries; what the MAC covers. */
export interface EdgesFields {
  repo: string;
  node: string;
  seq: number;
  ts: number;
  /** The sender's repository (its annex UUID): the `from` of every edge. */
  self: string;
  edges: WireEdge[];
}

export class EdgesEncodeError extends Error {
  override name = 'EdgesEncodeError';
}

const edgeOrder = (a: WireEdge, b: WireEdge) => byteOrder(a.remote, b.remote) || byteOrder(a.to, b.to);

/** The text the MAC covers: fields in a fixed order, edges sorted by remote name, length-prefixed. */
export function edgesCanonicalForm(f: EdgesFields): string {
  let s = line('edges', EDGES_NS) + line('v', EDGES_VERSION);
  s += line('repo', f.repo) + line('node', f.node) + line('seq', f.seq) + line('ts', f.ts);
  s += line('self', f.self) + line('count', f.edges.length);
  for (const e of [...f.edges].sort(edgeOrder)) {
    s += line('remote', e.remote) + line('to', e.to) + line('cost', e.cost);
    s += line('type', e.type) + line('reachable', e.reachable ? 1 : 0);
  }
  return s;
}

export function edgesMac(key: Buffer, f: EdgesFields): string {
  return createHmac('sha256', key).update(edgesCanonicalForm(f), 'utf8').digest('hex');
}

/** The first problem of one edge, or null. */
export function wireEdgeProblem(e: WireEdge): string | null {
  if (!isValidUuid(e.to)) return 'target is not an annex UUID';
  if (!isValidRemoteName(e.remote)) return 'remote name is not a plain name';
  if (!Number.isSafeInteger(e.cost) || e.cost < 0 || e.cost > MAX_WIRE_COST) return 'cost out of range';
  if (!WIRE_TYPES.has(e.type)) return 'unknown remote type';
  return null;
}

/** Checks fields against the rules a receiver applies; the first problem or null. */
export function edgesFieldsProblem(f: EdgesFields): string | null {
  if (!isId(f.repo)) return 'repository id is not a valid id';
  if (!isId(f.node)) return 'node id is not a valid id';
  if (!Number.isSafeInteger(f.seq) || f.seq < 0) return 'sequence number is not a safe non-negative integer';
  if (!Number.isSafeInteger(f.ts) || f.ts < 0) return 'timestamp is not a safe non-negative integer';
  if (!isValidUuid(f.self)) return 'self is not an annex UUID';
  if (f.edges.length > MAX_EDGES) return `more than ${MAX_EDGES} edges`;
  const names = new Set<string>();
  for (const e of f.edges) {
    const p = wireEdgeProblem(e);
    if (p) return p;
    if (names.has(e.remote)) return 'duplicate remote name';
    names.add(e.remote);
  }
  return null;
}

/** Builds the signed <edges/> element. Throws EdgesEncodeError on fields a receiver would refuse. */
export function encodeEdges(f: EdgesFields, key: Buffer): XmlElement {
  if (key.length < MIN_KEY_BYTES)
    throw new EdgesEncodeError(`repository key shorter than ${MIN_KEY_BYTES} bytes`);
  const problem = edgesFieldsProblem(f);
  if (problem) throw new EdgesEncodeError(problem);
  return xml(
    'edges',
    {
      xmlns: EDGES_NS,
      v: EDGES_VERSION,
      repo: f.repo,
      node: f.node,
      seq: String(f.seq),
      ts: String(f.ts),
      self: f.self,
    },
    ...[...f.edges].sort(edgeOrder).map((e) =>
      xml('edge', {
        remote: e.remote,
        to: e.to,
        cost: String(e.cost),
        type: e.type,
        reachable: e.reachable ? '1' : '0',
      }),
    ),
    xml('mac', { alg: 'hmac-sha256' }, edgesMac(key, f)),
  );
}

export type EdgesParse = { ok: true; fields: EdgesFields; mac: string } | { ok: false; detail: string };

const EDGES_ATTRS = new Set(['xmlns', 'v', 'repo', 'node', 'seq', 'ts', 'self']);
const EDGE_ATTRS = new Set(['xmlns', 'remote', 'to', 'cost', 'type', 'reachable']);

/** Parses and validates an <edges/> element. Strict: an unknown part makes it malformed. */
export function parseEdges(el: XmlElement): EdgesParse {
  const bad = (detail: string): EdgesParse => ({ ok: false, detail });
  const a = el.attrs;
  if (!Object.keys(a).every((k) => EDGES_ATTRS.has(k))) return bad('unknown attribute on <edges>');
  if (a.v !== EDGES_VERSION) return bad('unsupported version');
  const repo = a.repo ?? '';
  const node = a.node ?? '';
  const self = a.self ?? '';
  if (!isId(repo)) return bad('invalid repository id');
  if (!isId(node)) return bad('invalid node id');
  if (!isValidUuid(self)) return bad('invalid self UUID');
  if (!DECIMAL_RE.test(a.seq ?? '') || !DECIMAL_RE.test(a.ts ?? '')) return bad('invalid seq or ts');
  const seq = Number(a.seq);
  const ts = Number(a.ts);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(ts)) return bad('seq or ts out of range');
  if (el.children.length > 2 * (MAX_EDGES + 1) + 1) return bad('too many children');
  const edges: WireEdge[] = [];
  const names = new Set<string>();
  let mac: string | null = null;
  for (const child of el.children) {
    if (typeof child === 'string') {
      if (child.trim() !== '') return bad('text inside <edges>');
      continue;
    }
    if (child.attrs.xmlns !== undefined && child.attrs.xmlns !== EDGES_NS)
      return bad('child in a foreign namespace');
    if (child.name === 'edge') {
      if (child.children.length > 0) return bad('<edge> has content');
      if (!Object.keys(child.attrs).every((k) => EDGE_ATTRS.has(k)))
        return bad('unknown attribute on <edge>');
      const cost = child.attrs.cost ?? '';
      const reachable = child.attrs.reachable;
      if (!DECIMAL_RE.test(cost)) return bad('invalid cost');
      if (reachable !== '0' && reachable !== '1') return bad('invalid reachable flag');
      const e: WireEdge = {
        to: child.attrs.to ?? '',
        remote: child.attrs.remote ?? '',
        cost: Number(cost),
        type: (child.attrs.type ?? '') as RemoteType,
        reachable: reachable === '1',
      };
      const p = wireEdgeProblem(e);
      if (p) return bad(p);
      if (names.has(e.remote)) return bad('duplicate remote name');
      if (edges.length >= MAX_EDGES) return bad('too many edges');
      names.add(e.remote);
      edges.push(e);
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
  return { ok: true, fields: { repo, node, seq, ts, self, edges }, mac };
}

/** A peer's verified word on its links. */
export interface PeerEdges {
  /** The sender's node id (its nickname / resource). */
  node: string;
  /** The sender's repository UUID. */
  self: string;
  edges: WireEdge[];
  /** The sender's clock when it sent them. */
  ts: number;
}

export type EdgesRejectReason = 'oversized' | 'malformed' | 'foreign-repo' | 'bad-mac' | 'stale' | 'replay';

export type EdgesVerdict =
  | { kind: 'accept'; edges: PeerEdges }
  | { kind: 'ignore'; why: 'not-edges' | 'echo' }
  | { kind: 'reject'; reason: EdgesRejectReason; detail: string };

export interface EdgesVerifierOptions {
  repoId: string;
  nodeId: string;
  key: Buffer;
  windowMs?: number;
  now?: () => number;
}

/**
 * Receiver side, as codec.ts SignalVerifier: cheapest checks first, the MAC before any state is
 * touched, then the clock window and the per-sender sequence number (its own, apart from the
 * signals', so the two kinds never refuse each other as replays).
 */
export class EdgesVerifier {
  private readonly lastSeq = new Map<string, number>();
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: EdgesVerifierOptions) {
    if (opts.key.length < MIN_KEY_BYTES)
      throw new Error(`repository key shorter than ${MIN_KEY_BYTES} bytes`);
    this.windowMs = opts.windowMs ?? CLOCK_WINDOW_MS;
    this.now = opts.now ?? Date.now;
  }

  check(stanza: XmlElement): EdgesVerdict {
    const found = stanza.getChildren('edges', EDGES_NS);
    if (found.length === 0) return { kind: 'ignore', why: 'not-edges' };
    const bytes = Buffer.byteLength(stanza.toString(), 'utf8');
    if (bytes > MAX_EDGES_STANZA_BYTES) return rejectEdges('oversized', `${bytes} bytes`);
    if (found.length > 1) return rejectEdges('malformed', 'more than one <edges>');
    const parsed = parseEdges(found[0]!);
    if (!parsed.ok) return rejectEdges('malformed', parsed.detail);
    const f = parsed.fields;
    if (f.repo !== this.opts.repoId) return rejectEdges('foreign-repo', 'edges for another repository');
    if (!macMatches(edgesMac(this.opts.key, f), parsed.mac)) return rejectEdges('bad-mac', 'MAC mismatch');
    if (f.node === this.opts.nodeId) return { kind: 'ignore', why: 'echo' };
    const skew = Math.abs(this.now() - f.ts);
    if (skew > this.windowMs) return rejectEdges('stale', `timestamp ${Math.round(skew / 1000)} s off`);
    const last = this.lastSeq.get(f.node);
    if (last !== undefined && f.seq <= last) return rejectEdges('replay', 'sequence number not increasing');
    this.lastSeq.delete(f.node);
    this.lastSeq.set(f.node, f.seq);
    if (this.lastSeq.size > MAX_TRACKED_SENDERS) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest !== undefined) this.lastSeq.delete(oldest);
    }
    return { kind: 'accept', edges: { node: f.node, self: f.self, edges: f.edges, ts: f.ts } };
  }
}

function rejectEdges(reason: EdgesRejectReason, detail: string): EdgesVerdict {
  return { kind: 'reject', reason, detail };
}
