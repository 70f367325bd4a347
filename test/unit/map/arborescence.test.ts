import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalEdges,
  keyTree,
  minArborescence,
  planCost,
  type WeightedEdge,
} from '../../../src/map/arborescence.js';

const e = (from: string, to: string, cost: number): WeightedEdge => ({ from, to, cost });
const show = (es: readonly WeightedEdge[]) => es.map((x) => `${x.from}>${x.to}`).sort();

// The two-LAN topology of issue 11: laptops a1,a2 on one LAN, b1,b2 on the other, each pair local
// remotes of each other at 100, and a cloud bridge c (transfer group) at 1000 from everyone.
const twoLans: WeightedEdge[] = [
  e('a1', 'a2', 100),
  e('a2', 'a1', 100),
  e('b1', 'b2', 100),
  e('b2', 'b1', 100),
  ...['a1', 'a2', 'b1', 'b2'].flatMap((x) => [e(x, 'c', 1000), e('c', x, 1000)]),
];

test('minArborescence: table', () => {
  const rows: Array<{
    name: string;
    nodes: string[];
    root: string;
    edges: WeightedEdge[];
    want: string[] | null;
  }> = [
    {
      name: 'a chain',
      nodes: ['r', 'x', 'y'],
      root: 'r',
      edges: [e('r', 'x', 1), e('x', 'y', 1)],
      want: ['r>x', 'x>y'],
    },
    {
      name: 'a cycle cheaper than the way in is opened where the entry is cheapest',
      nodes: ['r', 'x', 'y'],
      root: 'r',
      edges: [e('r', 'x', 10), e('r', 'y', 12), e('x', 'y', 1), e('y', 'x', 1)],
      want: ['r>x', 'x>y'],
    },
    {
      name: 'a nested cycle',
      nodes: ['r', 'a', 'b', 'c'],
      root: 'r',
      edges: [
        e('r', 'a', 20),
        e('a', 'b', 1),
        e('b', 'a', 1),
        e('b', 'c', 1),
        e('c', 'b', 1),
        e('r', 'c', 5),
      ],
      want: ['b>a', 'c>b', 'r>c'],
    },
    {
      name: 'a node nothing reaches',
      nodes: ['r', 'x', 'y'],
      root: 'r',
      edges: [e('r', 'x', 1)],
      want: null,
    },
    {
      name: 'a tie goes to the smaller id',
      nodes: ['r', 'p', 'q', 'z'],
      root: 'r',
      edges: [e('r', 'p', 1), e('r', 'q', 1), e('q', 'z', 5), e('p', 'z', 5)],
      want: ['p>z', 'r>p', 'r>q'],
    },
  ];
  for (const r of rows) {
    const got = minArborescence(r.nodes, r.root, r.edges);
    assert.deepEqual(got === null ? null : show(got.edges), r.want, r.name);
  }
});

test('keyTree: the two LANs — a key added on a1 crosses the cloud link twice (up once, down once)', () => {
  const t = keyTree({ edges: twoLans, holders: ['a1'], wanters: ['a1', 'a2', 'b1', 'b2'], transfer: ['c'] });
  assert.deepEqual(show(t.edges), ['a1>a2', 'a1>c', 'b1>b2', 'c>b1']);
  assert.equal(t.edges.filter((x) => x.from === 'c' || x.to === 'c').length, 2);
  assert.deepEqual(t.unreachable, []);
  // Cheapest first at each level: a1>a2 (100) before a1>c (1000).
  assert.deepEqual(
    t.edges.map((x) => `${x.from}>${x.to}`),
    ['a1>a2', 'a1>c', 'c>b1', 'b1>b2'],
  );
});

test('keyTree: table', () => {
  const rows: Array<{
    name: string;
    input: Parameters<typeof keyTree>[0];
    edges: string[];
    unreachable: string[];
  }> = [
    {
      name: 'a transfer repository nobody beyond needs is pruned',
      input: { edges: twoLans, holders: ['a1'], wanters: ['a1', 'a2'], transfer: ['c'] },
      edges: ['a1>a2'],
      unreachable: [],
    },
    {
      name: 'two holders: each side is served from its own LAN, the cloud not at all',
      input: { edges: twoLans, holders: ['a1', 'b2'], wanters: ['a1', 'a2', 'b1', 'b2'], transfer: ['c'] },
      edges: ['a1>a2', 'b2>b1'],
      unreachable: [],
    },
    {
      name: 'a wanter with no way in is reported, the rest still planned',
      input: { edges: [e('h', 'x', 1)], holders: ['h'], wanters: ['x', 'y'], transfer: [] },
      edges: ['h>x'],
      unreachable: ['y'],
    },
    {
      name: 'a repository that neither has, wants nor carries the key is not a path',
      input: {
        edges: [e('h', 'm', 1), e('m', 'x', 1), e('h', 'x', 50)],
        holders: ['h'],
        wanters: ['x'],
        transfer: [],
      },
      edges: ['h>x'],
      unreachable: [],
    },
    {
      name: 'no holder: every wanter is unreachable',
      input: { edges: [e('h', 'x', 1)], holders: [], wanters: ['x'], transfer: [] },
      edges: [],
      unreachable: ['x'],
    },
    {
      name: 'a chain of transfer repositories is pruned back to the last wanter',
      input: {
        edges: [e('h', 't1', 1), e('t1', 't2', 1), e('h', 'x', 1)],
        holders: ['h'],
        wanters: ['x'],
        transfer: ['t1', 't2'],
      },
      edges: ['h>x'],
      unreachable: [],
    },
  ];
  for (const r of rows) {
    const t = keyTree(r.input);
    assert.deepEqual(show(t.edges), r.edges, r.name);
    assert.deepEqual(t.unreachable, r.unreachable, r.name);
  }
});

test('canonicalEdges keeps the cheapest of parallel edges and drops loops', () => {
  assert.deepEqual(canonicalEdges([e('a', 'b', 5), e('a', 'a', 0), e('a', 'b', 3)]), [e('a', 'b', 3)]);
  assert.equal(planCost(100.5), 100500);
});

/** Mulberry32: a small seeded PRNG, so a failing graph can be rebuilt from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every choice of one incoming edge per non-root node; the cheapest that forms a tree. */
function bruteForce(nodes: string[], root: string, edges: WeightedEdge[]): number | null {
  const others = nodes.filter((n) => n !== root);
  const incoming = others.map((v) => edges.filter((x) => x.to === v && x.from !== v));
  let best: number | null = null;
  const pick: WeightedEdge[] = [];
  const walk = (i: number): void => {
    if (i === others.length) {
      const parent = new Map(pick.map((x) => [x.to, x.from]));
      for (const v of others) {
        let x = v;
        for (let steps = 0; x !== root; steps++) {
          if (steps > nodes.length) return; // a cycle
          x = parent.get(x)!;
        }
      }
      const c = pick.reduce((s, x) => s + x.cost, 0);
      if (best === null || c < best) best = c;
      return;
    }
    for (const x of incoming[i]!) {
      pick.push(x);
      walk(i + 1);
      pick.pop();
    }
  };
  walk(0);
  return best;
}

function randomGraph(rand: () => number): { nodes: string[]; edges: WeightedEdge[] } {
  const n = 2 + Math.floor(rand() * 5); // 2..6 nodes
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
  const edges: WeightedEdge[] = [];
  for (const u of nodes)
    for (const v of nodes)
      if (u !== v && rand() < 0.5)
        edges.push(e(u, v, Math.floor(rand() * 4) * 100 + (rand() < 0.3 ? 1000 : 0)));
  return { nodes, edges };
}

test('property: minArborescence costs what brute force finds, on 300 random graphs of up to 6 nodes', () => {
  const rand = prng(11);
  let solvable = 0;
  for (let g = 0; g < 300; g++) {
    const { nodes, edges } = randomGraph(rand);
    const got = minArborescence(nodes, 'n0', edges);
    const want = bruteForce(nodes, 'n0', edges);
    assert.equal(got === null ? null : got.cost, want, `graph ${g}: ${JSON.stringify(edges)}`);
    if (got === null) continue;
    solvable++;
    // A real arborescence: one parent per non-root node, every edge in the graph.
    assert.equal(got.edges.length, nodes.length - 1, `graph ${g}`);
    assert.equal(new Set(got.edges.map((x) => x.to)).size, nodes.length - 1, `graph ${g}`);
    for (const x of got.edges)
      assert.ok(edges.some((y) => y.from === x.from && y.to === x.to && y.cost === x.cost));
    // The order edges are given in does not change the tree.
    const shuffled = [...edges].sort(() => rand() - 0.5);
    assert.deepEqual(minArborescence(nodes, 'n0', shuffled)?.edges, got.edges, `graph ${g} shuffled`);
  }
  assert.ok(solvable > 100, `only ${solvable} of 300 graphs had an arborescence`);
});

test('property: keyTree reaches every reachable wanter, within the unpruned optimum, on 300 random graphs', () => {
  const rand = prng(1011);
  for (let g = 0; g < 300; g++) {
    const { nodes, edges } = randomGraph(rand);
    const holders = nodes.filter((_, i) => i === 0 || rand() < 0.15);
    const transfer = nodes.filter((n) => !holders.includes(n) && rand() < 0.3);
    const wanters = nodes.filter((n) => !transfer.includes(n) && rand() < 0.7);
    const t = keyTree({ edges, holders, wanters, transfer });
    const members = new Set([...holders, ...wanters, ...transfer]);
    const parent = new Map<string, string>();
    for (const x of t.edges) {
      assert.ok(!parent.has(x.to), `graph ${g}: two parents for ${x.to}`);
      assert.ok(members.has(x.from) && members.has(x.to), `graph ${g}: ${x.from}>${x.to} leaves the members`);
      assert.ok(!holders.includes(x.to), `graph ${g}: sends to a holder`);
      parent.set(x.to, x.from);
    }
    for (const w of wanters) {
      if (holders.includes(w)) continue;
      const inTree = parent.has(w);
      assert.notEqual(
        inTree,
        t.unreachable.includes(w),
        `graph ${g}: ${w} both or neither planned and unreachable`,
      );
      if (!inTree) continue;
      let x = w;
      for (let steps = 0; !holders.includes(x); steps++) {
        assert.ok(steps <= nodes.length, `graph ${g}: a cycle`);
        x = parent.get(x)!;
      }
    }
    // Every leaf wants the key.
    const parents = new Set(t.edges.map((x) => x.from));
    for (const x of t.edges)
      assert.ok(parents.has(x.to) || wanters.includes(x.to), `graph ${g}: leaf ${x.to}`);
    // No dearer than the optimum over the reachable members with a virtual root.
    const usable = edges.filter((x) => !holders.includes(x.to));
    const reach = bruteReach(holders, usable, members);
    for (const w of t.unreachable) assert.ok(!reach.has(w), `graph ${g}: ${w} is reachable`);
    const full = bruteForce(['root', ...reach], 'root', [
      ...holders.map((h) => e('root', h, 0)),
      ...usable.filter((x) => reach.has(x.from) && reach.has(x.to)),
    ]);
    assert.ok(full !== null && t.cost <= full, `graph ${g}: tree ${t.cost} > optimum ${String(full)}`);
  }
});

function bruteReach(holders: string[], edges: WeightedEdge[], members: Set<string>): Set<string> {
  const seen = new Set(holders);
  let grew = true;
  while (grew) {
    grew = false;
    for (const x of edges)
      if (members.has(x.from) && members.has(x.to) && seen.has(x.from) && !seen.has(x.to)) {
        seen.add(x.to);
        grew = true;
      }
  }
  return seen;
}
