import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MapEdge, MapNode, NetworkMap } from '../../../src/map/graph.js';
import { mapJson, renderDot, renderText } from '../../../src/map/render.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000000';
const B = 'bbbbbbbb-0000-4000-8000-000000000000';
const C = 'cccccccc-0000-4000-8000-000000000000';
const X = 'eeeeeeee-0000-4000-8000-000000000000';

function node(id: string, label: string, p: Partial<MapNode> = {}): MapNode {
  return {
    id,
    label,
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

// Laptop A with a desk B (100) and a cloud C (transfer, 1000) that also reaches a laptop X on the
// other LAN; the drive link A -> X is there but not reachable (the drive is out).
const map: NetworkMap = {
  self: A,
  nodes: [
    node(A, 'laptop', { here: true, agent: true }),
    node(B, 'desk "main"'),
    node(C, 'cloud', { group: 'transfer', groups: ['transfer'] }),
    node(X, 'far'),
  ],
  edges: [
    edge(A, B, 'desk', 100),
    edge(A, C, 'cloud', 1000, { type: 'git-ssh' }),
    edge(C, X, 'far', 1000, { source: 'peer' }),
    edge(A, X, 'drive', 100, { reachable: false }),
  ],
};

test('mapJson: the fields of interface.md, and the tree a new key here would travel', () => {
  const j = mapJson(map);
  assert.equal(j.self, A);
  assert.deepEqual(Object.keys(j.nodes[0]!).slice(0, 6), [
    'id',
    'label',
    'here',
    'agent',
    'group',
    'lastSeen',
  ]);
  assert.deepEqual(Object.keys(j.edges[0]!).slice(0, 6), [
    'from',
    'to',
    'remote',
    'cost',
    'reachable',
    'source',
  ]);
  // Not the unreachable drive link: through the cloud.
  assert.deepEqual(j.tree, [
    { from: A, to: B },
    { from: A, to: C },
    { from: C, to: X },
  ]);
  assert.deepEqual(j.unreachable, []);
});

test('mapJson: a stale peer edge is not planned on, and what it alone reached is unreachable', () => {
  const stale: NetworkMap = {
    ...map,
    edges: map.edges.map((e) => (e.remote === 'far' ? { ...e, stale: true } : e)),
  };
  const j = mapJson(stale);
  assert.deepEqual(j.tree, [{ from: A, to: B }]);
  assert.deepEqual(j.unreachable, [X]);
});

test('mapJson: a clone that runs an agent downloads over its own remote: content flows back along it', () => {
  // X's remote points at the bare cloud (X -> C), as a laptop on the far LAN has it; C cannot upload.
  const pulls: NetworkMap = {
    ...map,
    nodes: map.nodes.map((n) => (n.id === X ? { ...n, agent: true } : n)),
    edges: map.edges.map((e) => (e.remote === 'far' ? { ...e, from: X, to: C, remote: 'origin' } : e)),
  };
  assert.deepEqual(mapJson(pulls).tree.slice(-1), [{ from: C, to: X }]);
  assert.match(renderText(mapJson(pulls)), /cloud -> far \(far downloads over origin, cost 1000\)/);
  // Without an agent there, nothing would fetch it: X is unreachable.
  const noAgent = { ...pulls, nodes: map.nodes };
  assert.deepEqual(mapJson(noAgent).unreachable, [X]);
});

test('renderText: repositories, links, the tree, in a table', () => {
  const t = renderText(mapJson(map));
  assert.match(t, /^network map of laptop \(aaaaaaaa-/);
  assert.match(t, /\* laptop +- +semitrusted +yes/);
  assert.match(t, /laptop +far +drive +100 +git-local +no +config/);
  assert.match(t, /laptop -> cloud \(cloud, cost 1000\)\n {2}cloud -> far \(far, cost 1000\)/);
});

test('renderDot: quoted ids and labels, the tree drawn bold, unusable links dashed', () => {
  const d = renderDot(mapJson(map));
  assert.match(d, /^digraph autosync_map \{/);
  assert.ok(d.includes(`"${B}" [label="desk \\"main\\""];`), d);
  assert.ok(d.includes(`"${A}" -> "${X}" [label="drive 100", style=dashed];`), d);
  assert.ok(d.includes(`"${A}" -> "${C}" [label="cloud 1000", penwidth=3, color=blue];`), d);
  assert.match(d, /\}$/);
});
