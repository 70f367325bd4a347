// The peers' edges (map/store.ts): which reports are kept, when they go stale, and how they merge
// into the map. Pure; time is a number passed in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MapEdge, MapNode, NetworkMap } from '../../../src/map/graph.js';
import {
  EDGE_STALE_MS,
  MAX_REPORTED_EDGES,
  mapCounts,
  mergePeerEdges,
  ownWireEdges,
  PeerEdgeStore,
  type PeerReport,
  type ReportedEdge,
} from '../../../src/map/store.js';
import { newKeyTree } from '../../../src/map/render.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000000';
const B = 'bbbbbbbb-0000-4000-8000-000000000000';
const C = 'cccccccc-0000-4000-8000-000000000000';
const D = 'dddddddd-0000-4000-8000-000000000000';
const T0 = 1_800_000_000_000;

function node(id: string, p: Partial<MapNode> = {}): MapNode {
  return {
    id,
    label: '',
    here: false,
    agent: false,
    group: null,
    groups: [],
    trust: 'semitrusted',
    lastSeen: null,
    ...p,
  };
}
function edge(from: string, to: string, remote: string, cost: number, p: Partial<MapEdge> = {}): MapEdge {
  return { from, to, remote, cost, type: 'git-local', reachable: true, source: 'config', stale: false, ...p };
}
function rep(to: string, remote: string, cost: number, p: Partial<ReportedEdge> = {}): ReportedEdge {
  return { to, remote, cost: cost * 1000, type: 'git-local', reachable: true, ...p };
}
function report(node: string, self: string, edges: ReportedEdge[], receivedAt = T0): PeerReport {
  return { node, self, edges, receivedAt };
}

// Laptop A knows its own remote to the cloud C; B and D are on the far side, known only by peers.
const own: NetworkMap = {
  self: A,
  nodes: [node(A, { here: true, agent: true }), node(C, { group: 'transfer', groups: ['transfer'] })],
  edges: [edge(A, C, 'cloud', 1000, { type: 'git-ssh' })],
};

test('a peer report adds its edges (source peer, cost back in map units) and its nodes', () => {
  const m = mergePeerEdges(own, [report('b-node', B, [rep(C, 'cloud', 1000), rep(D, 'desk', 100)])], T0);
  assert.deepEqual(
    m.edges.map((e) => [e.from, e.to, e.remote, e.cost, e.source, e.stale]),
    [
      [A, C, 'cloud', 1000, 'config', false],
      [B, C, 'cloud', 1000, 'peer', false],
      [B, D, 'desk', 100, 'peer', false],
    ],
  );
  const b = m.nodes.find((n) => n.id === B)!;
  assert.equal(b.agent, true);
  assert.equal(b.lastSeen, new Date(T0).toISOString());
  assert.ok(m.nodes.some((n) => n.id === D));
  assert.deepEqual(mapCounts(m), { nodes: 4, edges: 3, stale: 0 });
});

test('staleness: fresh up to the bound, stale past it, and a stale edge is not planned on', () => {
  // Seen from B: its own link to A (config), and A's word that it reaches C.
  const fromB: NetworkMap = {
    self: B,
    nodes: [node(B, { here: true, agent: true }), node(A)],
    edges: [edge(B, A, 'a', 100)],
  };
  const reports = [report('a-node', A, [rep(C, 'cloud', 1000)], T0)];
  const fresh = mergePeerEdges(fromB, reports, T0 + EDGE_STALE_MS);
  assert.equal(fresh.edges.find((e) => e.from === A)!.stale, false);
  assert.equal(fresh.nodes.find((n) => n.id === A)!.agent, true);
  assert.deepEqual(newKeyTree(fresh), {
    tree: [
      { from: B, to: A },
      { from: A, to: C },
    ],
    unreachable: [],
  });
  const late = mergePeerEdges(fromB, reports, T0 + EDGE_STALE_MS + 1);
  assert.equal(late.edges.find((e) => e.from === A)!.stale, true);
  assert.equal(late.nodes.find((n) => n.id === A)!.agent, false);
  assert.equal(mapCounts(late).stale, 1);
  // The stale link is shown, never planned on: C cannot be reached now.
  assert.deepEqual(newKeyTree(late), { tree: [{ from: B, to: A }], unreachable: [C] });
});

test('our own reading stands over a peer report of the same remote; reports about us are refused', () => {
  const m = mergePeerEdges(
    own,
    [report('x', A, [rep(B, 'evil', 1)]), report('c', C, [rep(A, 'cloud', 5)])],
    T0,
    {},
  );
  assert.ok(!m.edges.some((e) => e.remote === 'evil'), 'a report in our name is not merged');
  const withSibling: NetworkMap = { ...own, edges: [...own.edges, edge(C, A, 'back', 1000)] };
  const m2 = mergePeerEdges(withSibling, [report('c', C, [rep(A, 'back', 7)])], T0);
  assert.equal(m2.edges.find((e) => e.from === C && e.remote === 'back')!.source, 'config');
  const store = new PeerEdgeStore(A);
  assert.equal(store.put(report('x', A, [])), false);
  assert.equal(store.all().length, 0);
});

test('dead repositories are not brought back by a peer', () => {
  const m = mergePeerEdges(own, [report('b', B, [rep(D, 'dead', 100)])], T0, { dead: new Set([D]) });
  assert.ok(!m.nodes.some((n) => n.id === D));
  assert.ok(!m.edges.some((e) => e.to === D));
});

test("trust.log's dead repositories (the reading's `dead`) stay out whatever peers report", () => {
  // B reports a link to D and C; D reports its own links. Which of them may come back as nodes?
  const reports = [
    report('b', B, [rep(D, 'old', 100), rep(C, 'cloud', 1000)]),
    report('d', D, [rep(A, 'lap', 100), rep(C, 'cloud', 1000)]),
  ];
  const table: Array<{ name: string; dead?: string[]; opts?: string[]; nodes: string[]; edges: string[] }> = [
    {
      name: 'none dead: both reports merge',
      nodes: [A, B, C, D],
      edges: ['a>c cloud', 'b>c cloud', 'b>d old', 'd>a lap', 'd>c cloud'],
    },
    {
      name: 'D dead in our reading: neither its node, its edges, nor edges to it',
      dead: [D],
      nodes: [A, B, C],
      edges: ['a>c cloud', 'b>c cloud'],
    },
    {
      name: 'B dead: its whole report is dropped',
      dead: [B],
      nodes: [A, C, D],
      edges: ['a>c cloud', 'd>a lap', 'd>c cloud'],
    },
    {
      name: 'the reading and the caller each name one: both stay out',
      dead: [D],
      opts: [B],
      nodes: [A, C],
      edges: ['a>c cloud'],
    },
  ];
  for (const t of table) {
    const reading: NetworkMap = t.dead ? { ...own, dead: t.dead } : own;
    const m = mergePeerEdges(reading, reports, T0, t.opts ? { dead: new Set(t.opts) } : {});
    assert.deepEqual(
      m.nodes.map((n) => n.id),
      t.nodes,
      t.name,
    );
    assert.deepEqual(
      m.edges.map((e) => `${e.from.slice(0, 1)}>${e.to.slice(0, 1)} ${e.remote}`),
      t.edges,
      t.name,
    );
    assert.deepEqual(m.dead, [...(t.dead ?? []), ...(t.opts ?? [])].sort(), `${t.name}: carried on`);
  }
});

test('the store keeps one report per peer and per repository, bounded, oldest dropped first', () => {
  const s = new PeerEdgeStore(A, 3);
  s.put(report('b1', B, [rep(C, 'c', 1)], T0));
  s.put(report('b1', B, [rep(C, 'c', 2)], T0 + 1));
  assert.equal(s.all().length, 1);
  assert.equal(s.all()[0]!.edges[0]!.cost, 2000);
  // B restarted under another node id: its new report replaces the old one.
  s.put(report('b2', B, [], T0 + 2));
  assert.deepEqual(
    s.all().map((r) => r.node),
    ['b2'],
  );
  const ids = ['11111111', '22222222', '33333333', '44444444'].map((p) => `${p}-0000-4000-8000-000000000000`);
  ids.forEach((id, i) => s.put(report(`n${i}`, id, [], T0 + 1000 * i)));
  assert.deepEqual(
    s.all().map((r) => r.node),
    ['n1', 'n2', 'n3'],
  );
  // n1 arrived at T0 + 1 s: at T0 + 1 s + EDGE_STALE_MS + 1 ms it alone is past the bound.
  const now = T0 + 1000 + EDGE_STALE_MS + 1;
  assert.deepEqual(
    s.status(now).map((r) => [r.node, r.ageSeconds, r.stale]),
    [
      ['n1', EDGE_STALE_MS / 1000, true],
      ['n2', EDGE_STALE_MS / 1000 - 1, false],
      ['n3', EDGE_STALE_MS / 1000 - 2, false],
    ],
  );
});

test('ownWireEdges: our config edges only, UUID targets, integer thousandths, cheapest first, bounded', () => {
  const m: NetworkMap = {
    self: A,
    nodes: [node(A), node(B), node(C)],
    edges: [
      edge(A, C, 'cloud', 1000.5, { type: 'git-ssh' }),
      edge(A, B, 'desk', 100),
      edge(A, 'path:/x', 'plain', 100),
      edge(B, C, 'peer-edge', 100, { source: 'peer' }),
    ],
  };
  assert.deepEqual(ownWireEdges(m), [
    { to: B, remote: 'desk', cost: 100_000, type: 'git-local', reachable: true },
    { to: C, remote: 'cloud', cost: 1_000_500, type: 'git-ssh', reachable: true },
  ]);
  const many: NetworkMap = {
    self: A,
    nodes: [node(A), node(B)],
    edges: Array.from({ length: MAX_REPORTED_EDGES + 5 }, (_, i) => edge(A, B, `r${i}`, 100 + i)),
  };
  assert.equal(ownWireEdges(many).length, MAX_REPORTED_EDGES);
});
