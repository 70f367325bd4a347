// Edges codec table tests: round trip through the wire, the canonical form, every rejection rule
// (bad MAC, replay, stale clock, foreign repository, each field's validation, the size and count
// bounds), and v1 compatibility: a signal-only receiver ignores an <edges/> message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type XmlElement } from '@xmpp/client';
import {
  EDGES_NS,
  EdgesEncodeError,
  EdgesVerifier,
  encodeEdges,
  edgesCanonicalForm,
  parseEdges,
  MAX_EDGES,
  MAX_WIRE_COST,
  type EdgesFields,
  type WireEdge,
} from '../../../src/signal/edges-codec.js';
import { SignalVerifier } from '../../../src/signal/codec.js';
import { routeStanza } from '../../../src/signal/xmpp-inbox.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const NOW = 1_800_000_000_000;
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const U3 = '33333333-3333-4333-8333-333333333333';
const REPO = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

function edge(over: Partial<WireEdge> = {}): WireEdge {
  return { to: U2, remote: 'peer', cost: 100_000, type: 'git-local', reachable: true, ...over };
}

function fields(over: Partial<EdgesFields> = {}): EdgesFields {
  return {
    repo: REPO,
    node: 'laptop-a',
    seq: NOW * 1000,
    ts: NOW,
    self: U1,
    edges: [edge(), edge({ to: U3, remote: 'cloud', cost: 1_000_000, type: 'git-ssh', reachable: false })],
    ...over,
  };
}

function verifier(over: { now?: number; nodeId?: string } = {}) {
  return new EdgesVerifier({
    repoId: REPO,
    nodeId: over.nodeId ?? 'laptop-b',
    key: KEY,
    now: () => over.now ?? NOW,
  });
}

function message(...children: XmlElement[]): XmlElement {
  return xml('message', { from: 'room@conference.localhost/laptop-a', type: 'groupchat' }, ...children);
}

function roundTrip(el: XmlElement): XmlElement {
  const p = new xml.Parser();
  let out: XmlElement | null = null;
  p.on('element', (e: XmlElement) => (out = e));
  p.write(`<root>${el.toString()}</root>`);
  if (!out) throw new Error('no element parsed');
  return out;
}

test('an encoded edges message verifies after a trip through the wire', () => {
  const st = roundTrip(message(encodeEdges(fields(), KEY)));
  const v = verifier().check(st);
  assert.equal(v.kind, 'accept');
  if (v.kind !== 'accept') return;
  assert.equal(v.edges.node, 'laptop-a');
  assert.equal(v.edges.self, U1);
  assert.deepEqual(
    v.edges.edges.map((e) => [e.remote, e.to, e.cost, e.type, e.reachable]),
    [
      ['cloud', U3, 1_000_000, 'git-ssh', false],
      ['peer', U2, 100_000, 'git-local', true],
    ],
  );
});

test('the canonical form does not depend on the order edges are given in', () => {
  const f = fields();
  assert.equal(edgesCanonicalForm(f), edgesCanonicalForm({ ...f, edges: [...f.edges].reverse() }));
});

test('rejections: key, repository, clock, replay, echo', () => {
  const cases: Array<[string, XmlElement, string, { now?: number; nodeId?: string }?]> = [
    ['signed with another key', message(encodeEdges(fields(), OTHER_KEY)), 'bad-mac'],
    ['another repository', message(encodeEdges(fields({ repo: 'other' }), KEY)), 'foreign-repo'],
    ['clock 11 minutes off', message(encodeEdges(fields(), KEY)), 'stale', { now: NOW + 11 * 60_000 }],
    ['our own echo', message(encodeEdges(fields(), KEY)), 'echo', { nodeId: 'laptop-a' }],
  ];
  for (const [name, st, want, over] of cases) {
    const v = verifier(over).check(roundTrip(st));
    const got = v.kind === 'reject' ? v.reason : v.kind === 'ignore' ? v.why : 'accept';
    assert.equal(got, want, name);
  }
  const v = verifier();
  assert.equal(v.check(message(encodeEdges(fields({ seq: 5 }), KEY))).kind, 'accept');
  const again = v.check(message(encodeEdges(fields({ seq: 5 }), KEY)));
  assert.equal(again.kind === 'reject' && again.reason, 'replay');
  assert.equal(v.check(message(encodeEdges(fields({ seq: 6 }), KEY))).kind, 'accept');
});

test('a tampered field fails the MAC', () => {
  const el = encodeEdges(fields(), KEY);
  const e = el.getChild('edge')!;
  e.attrs.cost = '1';
  const v = verifier().check(message(el));
  assert.equal(v.kind === 'reject' && v.reason, 'bad-mac');
});

test('every field is validated, and the encoder refuses what a receiver would', () => {
  const bad: Array<[string, Partial<EdgesFields>]> = [
    ['target not a UUID', { edges: [edge({ to: '../../etc' })] }],
    ['upper-case UUID', { edges: [edge({ to: 'ABCDEF22-2222-4222-8222-222222222222' })] }],
    ['remote name an option', { edges: [edge({ remote: '--upload-pack=x' })] }],
    ['remote name with a slash', { edges: [edge({ remote: 'a/b' })] }],
    ['negative cost', { edges: [edge({ cost: -1 })] }],
    ['fractional cost', { edges: [edge({ cost: 1.5 })] }],
    ['cost over the bound', { edges: [edge({ cost: MAX_WIRE_COST + 1 })] }],
    ['unknown type', { edges: [edge({ type: 'ftp' as WireEdge['type'] })] }],
    ['duplicate remote', { edges: [edge(), edge({ to: U3 })] }],
    ['self not a UUID', { self: 'laptop' }],
    ['too many edges', { edges: Array.from({ length: MAX_EDGES + 1 }, (_, i) => edge({ remote: `r${i}` })) }],
  ];
  for (const [name, over] of bad) {
    assert.throws(() => encodeEdges(fields(over), KEY), EdgesEncodeError, name);
  }
  assert.doesNotThrow(() =>
    encodeEdges(
      fields({ edges: Array.from({ length: MAX_EDGES }, (_, i) => edge({ remote: `r${i}` })) }),
      KEY,
    ),
  );
});

test('malformed elements are refused by the parser, each for its reason', () => {
  const good = () => encodeEdges(fields(), KEY);
  const mutate: Array<[string, (el: XmlElement) => void, RegExp]> = [
    ['unknown attribute', (el) => (el.attrs.extra = '1'), /unknown attribute on <edges>/],
    ['version 2', (el) => (el.attrs.v = '2'), /unsupported version/],
    ['bad cost digits', (el) => (el.getChild('edge')!.attrs.cost = '01'), /invalid cost/],
    ['reachable yes', (el) => (el.getChild('edge')!.attrs.reachable = 'yes'), /invalid reachable/],
    [
      'edge attribute url',
      (el) => (el.getChild('edge')!.attrs.url = 'file:///'),
      /unknown attribute on <edge>/,
    ],
    ['unknown child', (el) => el.append(xml('path', {}, '/etc')), /unknown child/],
    ['text', (el) => el.append('hello'), /text inside/],
    [
      'no mac',
      (el) => (el.children = el.children.filter((c) => typeof c === 'string' || c.name !== 'mac')),
      /no <mac>/,
    ],
    ['bad seq', (el) => (el.attrs.seq = '-1'), /invalid seq/],
  ];
  for (const [name, f, re] of mutate) {
    const el = good();
    f(el);
    const r = parseEdges(el);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(r.detail, re, name);
  }
});

test('an oversized stanza is refused before it is parsed', () => {
  const st = message(encodeEdges(fields(), KEY), xml('body', {}, 'x'.repeat(20_000)));
  const v = verifier().check(st);
  assert.equal(v.kind === 'reject' && v.reason, 'oversized');
});

test('v1 compatibility: a signal-only receiver ignores edges, and routing keeps them apart', () => {
  const st = roundTrip(message(encodeEdges(fields(), KEY)));
  const old = new SignalVerifier({ repoId: REPO, nodeId: 'laptop-b', key: KEY, now: () => NOW });
  assert.deepEqual(old.check(st), { kind: 'ignore', why: 'not-a-signal' });
  assert.equal(routeStanza(st, null), 'edges');
  const bounced = xml(
    'message',
    { type: 'error', from: 'room@conference.localhost' },
    encodeEdges(fields(), KEY),
  );
  assert.equal(routeStanza(bounced, null), 'other');
  assert.equal(st.getChild('edges', EDGES_NS)?.attrs.self, U1);
});
