// Source-routed tree planning (map/tree-plan.ts): the plan on the six-repository topology of
// issue 11, when a key falls back to flood, the checks a received plan passes, each node's own
// part, and the flood plan narrowed to the tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MapEdge, MapNode, NetworkMap } from '../../../src/map/graph.js';
import type { Plan } from '../../../src/map/planner.js';
import { isValidUuid } from '../../../src/annex/keys.js';
import {
  computeKeyPlan,
  CONFIRM_MS,
  keyMode,
  MAX_PLAN_EDGES,
  narrowToTree,
  nodeActions,
  parsePlanner,
  planCostOf,
  planProblem,
  type KeyPlan,
} from '../../../src/map/tree-plan.js';

const id = (c: string) => `${c.repeat(8)}-0000-4000-8000-000000000000`;
const A1 = id('a');
const A2 = id('b');
const B1 = id('c');
const B2 = id('d');
const CL = id('e');

function node(nid: string, p: Partial<MapNode> = {}): MapNode {
  return {
    id: nid,
    label: '',
    here: false,
    agent: true,
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

/** Two LANs (A1-A2, B1-B2 at 100 each way), joined only through the cloud (transfer, 1000). */
function sixRepos(self = A1, over: Partial<MapEdge> & { which?: string } = {}): NetworkMap {
  const laptops = [A1, A2, B1, B2];
  const edges = [
    edge(A1, A2, 'a2', 100),
    edge(A2, A1, 'a1', 100),
    edge(B1, B2, 'b2', 100),
    edge(B2, B1, 'b1', 100),
    ...laptops.map((l) => edge(l, CL, 'cloud', 1000, { type: 'git-ssh' })),
  ].map((e) => (over.which && `${e.from}>${e.to}` === over.which ? { ...e, ...over, which: undefined } : e));
  return {
    self,
    nodes: [
      ...laptops.map((l) => node(l, { here: l === self })),
      node(CL, { agent: false, group: 'transfer', groups: ['transfer'] }),
    ],
    edges: edges.map(({ which: _w, ...e }: MapEdge & { which?: string }) => e),
  };
}

const everyone = { key: 'SHA256E-s4--k', holders: [A1], wanters: [A1, A2, B1, B2] };

test('six repositories: the key crosses the cloud link twice, each edge carried by the right side', () => {
  const d = computeKeyPlan(sixRepos(), everyone);
  assert.equal(d.kind, 'tree');
  if (d.kind !== 'tree') return;
  assert.deepEqual(d.plan.edges, [
    { from: A1, to: A2, via: 'download' },
    { from: A1, to: CL, via: 'upload' },
    { from: CL, to: B1, via: 'download' },
    { from: B1, to: B2, via: 'download' },
  ]);
  const cloudCrossings = d.plan.edges.filter((e) => e.from === CL || e.to === CL).length;
  assert.equal(cloudCrossings, 2);
  assert.equal(planCostOf(sixRepos(), d.plan), 2200);
  assert.equal(planProblem(d.plan, isValidUuid), null);
});

test('the plan is the same whatever order the map lists its edges in', () => {
  const m = sixRepos();
  const shuffled = { ...m, edges: [...m.edges].reverse(), nodes: [...m.nodes].reverse() };
  assert.deepEqual(computeKeyPlan(shuffled, everyone), computeKeyPlan(m, everyone));
});

test('a repository that does not want the key is pruned unless it carries it on', () => {
  const d = computeKeyPlan(sixRepos(), { ...everyone, wanters: [A1, A2] });
  assert.equal(d.kind, 'tree');
  if (d.kind === 'tree') assert.deepEqual(d.plan.edges, [{ from: A1, to: A2, via: 'download' }]);
  // B2 alone on the far side: the cloud and B1 carry it on, B1 only if it is cheaper than direct.
  const far = computeKeyPlan(sixRepos(), { ...everyone, wanters: [B2] });
  assert.equal(far.kind, 'tree');
  if (far.kind === 'tree')
    assert.deepEqual(far.plan.edges, [
      { from: A1, to: CL, via: 'upload' },
      { from: CL, to: B2, via: 'download' },
    ]);
});

test('fallback to flood: stale, incomplete, no holder, too large', () => {
  const stale = computeKeyPlan(sixRepos(A1, { which: `${B1}>${CL}`, stale: true, source: 'peer' }), everyone);
  assert.equal(stale.kind === 'flood' && stale.why, 'stale');
  // B2 unknown to the map beyond its node: nothing reaches it.
  const m = sixRepos();
  const cut = { ...m, edges: m.edges.filter((e) => e.from !== B2 && e.to !== B2) };
  const incomplete = computeKeyPlan(cut, everyone);
  assert.equal(incomplete.kind === 'flood' && incomplete.why, 'incomplete');
  assert.match(incomplete.kind === 'flood' ? incomplete.detail : '', new RegExp(B2));
  const none = computeKeyPlan(sixRepos(), { ...everyone, holders: [id('f')] });
  assert.equal(none.kind === 'flood' && none.why, 'no-holder');
  // A star of MAX_PLAN_EDGES + 1 wanters.
  const many = Array.from(
    { length: MAX_PLAN_EDGES + 1 },
    (_, i) => `${String(i).padStart(8, '0')}-1111-4000-8000-000000000000`,
  );
  const star: NetworkMap = {
    self: A1,
    nodes: [node(A1, { here: true }), ...many.map((n) => node(n, { agent: false }))],
    edges: many.map((n, i) => edge(A1, n, `r${i}`, 100)),
  };
  const big = computeKeyPlan(star, { key: 'k', holders: [A1], wanters: many });
  assert.equal(big.kind === 'flood' && big.why, 'too-large');
});

test('an unreachable link is not planned on: the far LAN then goes through B2', () => {
  const d = computeKeyPlan(sixRepos(A1, { which: `${B1}>${CL}`, reachable: false }), everyone);
  assert.equal(d.kind, 'tree');
  if (d.kind === 'tree') {
    assert.ok(d.plan.edges.some((e) => e.from === CL && e.to === B2));
    assert.ok(d.plan.edges.some((e) => e.from === B2 && e.to === B1));
  }
});

test('planProblem: what a received plan must be', () => {
  const ok: KeyPlan = {
    key: 'k',
    origin: A1,
    edges: [
      { from: A1, to: CL, via: 'upload' },
      { from: CL, to: B1, via: 'download' },
    ],
  };
  const rows: Array<[string, KeyPlan, RegExp | null]> = [
    ['a tree', ok, null],
    ['bad origin', { ...ok, origin: '../x' }, /origin/],
    ['bad id', { ...ok, edges: [{ from: A1, to: '--upload-pack=x', via: 'upload' }] }, /invalid id/],
    ['bad via', { ...ok, edges: [{ from: A1, to: B1, via: 'teleport' as 'upload' }] }, /via/],
    ['loop', { ...ok, edges: [{ from: A1, to: A1, via: 'upload' }] }, /loops/],
    ['two parents', { ...ok, edges: [...ok.edges, { from: A1, to: B1, via: 'upload' }] }, /two parents/],
    [
      'cycle',
      {
        ...ok,
        edges: [
          { from: B1, to: B2, via: 'upload' },
          { from: B2, to: B1, via: 'upload' },
        ],
      },
      /cycle/,
    ],
    [
      'too many',
      {
        ...ok,
        edges: Array.from({ length: MAX_PLAN_EDGES + 1 }, () => ({
          from: A1,
          to: B1,
          via: 'upload' as const,
        })),
      },
      /more than/,
    ],
  ];
  for (const [name, p, re] of rows) {
    const got = planProblem(p, isValidUuid);
    if (re === null) assert.equal(got, null, name);
    else assert.match(got ?? '', re, name);
  }
});

test('nodeActions: each repository does its own part only', () => {
  const d = computeKeyPlan(sixRepos(), everyone);
  assert.equal(d.kind, 'tree');
  if (d.kind !== 'tree') return;
  const p = d.plan;
  assert.deepEqual(nodeActions(p, A1), { uploads: [CL], download: null, awaiting: [A2] });
  assert.deepEqual(nodeActions(p, A2), { uploads: [], download: A1, awaiting: [] });
  assert.deepEqual(nodeActions(p, B1), { uploads: [], download: CL, awaiting: [B2] });
  assert.deepEqual(nodeActions(p, B2), { uploads: [], download: B1, awaiting: [] });
  assert.deepEqual(nodeActions(p, CL), { uploads: [], download: null, awaiting: [B1] });
});

test('keyMode: a failed child or a late confirmation makes the key flood', () => {
  const p: KeyPlan = {
    key: 'k',
    origin: A1,
    edges: [
      { from: A1, to: CL, via: 'upload' },
      { from: A1, to: A2, via: 'download' },
    ],
  };
  const T = 1_000_000;
  const rows: Array<[string, { confirmed: string[]; failed: string[] }, number, string]> = [
    ['just planned', { confirmed: [], failed: [] }, T, 'tree'],
    ['waiting, within the bound', { confirmed: [CL], failed: [] }, T + CONFIRM_MS, 'tree'],
    ['an upload failed', { confirmed: [], failed: [CL] }, T + 1, 'flood'],
    ['a child late', { confirmed: [CL], failed: [] }, T + CONFIRM_MS + 1, 'flood'],
    ['all confirmed, late is fine', { confirmed: [CL, A2], failed: [] }, T + 10 * CONFIRM_MS, 'tree'],
    ['a failure elsewhere does not count', { confirmed: [], failed: [B1] }, T + 1, 'tree'],
  ];
  for (const [name, pr, now, want] of rows) {
    const got = keyMode(
      p,
      A1,
      { since: T, confirmed: new Set(pr.confirmed), failed: new Set(pr.failed) },
      now,
    );
    assert.equal(got.mode, want, name);
  }
});

test('narrowToTree: only our part of the plan; flood for keys without one; the parent first', () => {
  const d = computeKeyPlan(sixRepos(B2), everyone);
  assert.equal(d.kind, 'tree');
  if (d.kind !== 'tree') return;
  const remotes = new Map([
    [B1, 'b1'],
    [CL, 'cloud'],
  ]);
  const remoteOf = (x: string) => remotes.get(x) ?? null;
  const file = { file: 'f', size: 4 };
  // On B2, flood would download from the cloud while B1 still lacks the key: the third crossing.
  const early: Plan = {
    downloads: [
      { key: 'SHA256E-s4--k', remote: 'cloud', fallbacks: [], ...file },
      { key: 'other', remote: 'cloud', fallbacks: [], ...file },
    ],
    uploads: [],
    drops: [],
  };
  const plans = new Map([[d.plan.key, d.plan]]);
  assert.deepEqual(narrowToTree(early, plans, B2, remoteOf).downloads, [
    { key: 'other', remote: 'cloud', fallbacks: [], ...file },
  ]);
  // Once B1 has it, flood lists b1 as the cheapest holder: the tree takes it, the cloud stays a fallback.
  const later: Plan = {
    downloads: [{ key: 'SHA256E-s4--k', remote: 'b1', fallbacks: ['cloud'], ...file }],
    uploads: [],
    drops: [],
  };
  assert.deepEqual(narrowToTree(later, plans, B2, remoteOf).downloads, [
    { key: 'SHA256E-s4--k', remote: 'b1', fallbacks: ['cloud'], ...file },
  ]);
  // On A1: flood uploads to the cloud; the tree does too, and nothing more.
  const a1 = computeKeyPlan(sixRepos(A1), everyone);
  assert.equal(a1.kind, 'tree');
  if (a1.kind !== 'tree') return;
  const up: Plan = {
    downloads: [],
    uploads: [
      { key: 'SHA256E-s4--k', remote: 'cloud', ...file },
      { key: 'SHA256E-s4--k', remote: 'usb', ...file },
    ],
    drops: [{ key: 'x', file: 'f', remote: 'cloud', reason: 'bridge-done' }],
  };
  const n = narrowToTree(up, new Map([[a1.plan.key, a1.plan]]), A1, (x) => (x === CL ? 'cloud' : null));
  assert.deepEqual(
    n.uploads.map((u) => u.remote),
    ['cloud'],
  );
  assert.deepEqual(n.drops, up.drops);
  // A repository the plan does not name floods the key as before.
  const o = narrowToTree(up, new Map([[a1.plan.key, a1.plan]]), id('9'), () => null);
  assert.deepEqual(o.uploads, up.uploads);
});

test('parsePlanner: tree by default, flood on request, anything else refused with the fix', () => {
  assert.equal(parsePlanner(null), 'tree');
  assert.equal(parsePlanner('Flood'), 'flood');
  assert.equal(parsePlanner('tree'), 'tree');
  assert.throws(() => parsePlanner('mesh'), /autosync.planner takes tree or flood/);
});
