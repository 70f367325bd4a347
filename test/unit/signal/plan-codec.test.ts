// Plan codec table tests: a key's tree through the wire, the rejections, and v1 compatibility.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type XmlElement } from '@xmpp/client';
import {
  encodePlan,
  parsePlan,
  PlanEncodeError,
  PlanVerifier,
  type PlanFields,
} from '../../../src/signal/plan-codec.js';
import { SignalVerifier } from '../../../src/signal/codec.js';
import { EdgesVerifier } from '../../../src/signal/edges-codec.js';
import { MAX_PLAN_EDGES } from '../../../src/map/tree-plan.js';

const KEY = Buffer.alloc(32, 7);
const NOW = 1_800_000_000_000;
const REPO = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const id = (c: string) => `${c.repeat(8)}-0000-4000-8000-000000000000`;
const [A1, A2, CL, B1] = [id('a'), id('b'), id('e'), id('c')];
const AKEY = 'SHA256E-s4194304--9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.bin';

function fields(over: Partial<PlanFields> = {}): PlanFields {
  return {
    repo: REPO,
    node: 'laptop-a1',
    seq: 10,
    ts: NOW,
    plan: {
      key: AKEY,
      origin: A1,
      edges: [
        { from: A1, to: A2, via: 'download' },
        { from: A1, to: CL, via: 'upload' },
        { from: CL, to: B1, via: 'download' },
      ],
    },
    ...over,
  };
}
const verifier = () => new PlanVerifier({ repoId: REPO, nodeId: 'laptop-b1', key: KEY, now: () => NOW });
const message = (...c: XmlElement[]) => xml('message', { type: 'groupchat', from: 'r@muc/laptop-a1' }, ...c);
function roundTrip(el: XmlElement): XmlElement {
  const p = new xml.Parser();
  let out: XmlElement | null = null;
  p.on('element', (e: XmlElement) => (out = e));
  p.write(`<root>${el.toString()}</root>`);
  if (!out) throw new Error('no element parsed');
  return out;
}

test('a plan survives the wire, in its send order', () => {
  const v = verifier().check(roundTrip(message(encodePlan(fields(), KEY))));
  assert.equal(v.kind, 'accept');
  if (v.kind === 'accept') assert.deepEqual(v.plan, fields().plan);
});

test('reordered edges, a changed via, a replay, another key: rejected', () => {
  const el = encodePlan(fields(), KEY);
  const es = el.getChildren('e');
  es[0]!.attrs.via = 'u';
  assert.equal(verifier().check(message(el)).kind, 'reject');
  const v = verifier();
  assert.equal(v.check(message(encodePlan(fields(), KEY))).kind, 'accept');
  const again = v.check(message(encodePlan(fields(), KEY)));
  assert.equal(again.kind === 'reject' && again.reason, 'replay');
  const other = verifier().check(message(encodePlan(fields(), Buffer.alloc(32, 9))));
  assert.equal(other.kind === 'reject' && other.reason, 'bad-mac');
});

test('what the encoder refuses and the parser rejects', () => {
  const bad: Array<[string, Partial<PlanFields['plan']>]> = [
    ['a key with a slash', { key: 'SHA256E-s4--../../etc/passwd' }],
    [
      'a cycle',
      {
        edges: [
          { from: B1, to: A2, via: 'upload' },
          { from: A2, to: B1, via: 'upload' },
        ],
      },
    ],
    ['an id that is not a UUID', { edges: [{ from: A1, to: 'cloud', via: 'upload' }] }],
    [
      'too many edges',
      {
        edges: Array.from({ length: MAX_PLAN_EDGES + 1 }, () => ({
          from: A1,
          to: B1,
          via: 'upload' as const,
        })),
      },
    ],
  ];
  for (const [name, over] of bad)
    assert.throws(
      () => encodePlan(fields({ plan: { ...fields().plan, ...over } }), KEY),
      PlanEncodeError,
      name,
    );
  const el = encodePlan(fields(), KEY);
  el.getChildren('e')[1]!.attrs.to = A2; // A2 now has two parents
  const r = parsePlan(el);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.detail, /two parents/);
});

test('v1 compatibility: signal and edges receivers ignore a plan', () => {
  const st = roundTrip(message(encodePlan(fields(), KEY)));
  assert.deepEqual(new SignalVerifier({ repoId: REPO, nodeId: 'x', key: KEY, now: () => NOW }).check(st), {
    kind: 'ignore',
    why: 'not-a-signal',
  });
  assert.deepEqual(new EdgesVerifier({ repoId: REPO, nodeId: 'x', key: KEY, now: () => NOW }).check(st), {
    kind: 'ignore',
    why: 'not-edges',
  });
});
