// The planner's suite: how long the tree for one key takes (map/arborescence.ts keyTree) at 100 and
// 1,000 repositories, how long the whole planner takes for a key (map/tree-plan.ts computeKeyPlan:
// the map's usable links, the tree, and who moves the key along each edge), and how often that tree
// crosses the expensive link on issue 11's six-repository topology. Pure computation, no agents: it
// measures the algorithm, not the transfers (the `six` suite moves real keys).
//
// The large graphs are LANs of ten laptops, meshed at cost 100, each laptop linked both ways to one
// of n/50 clouds (transfer repositories) at 1000, the clouds meshed with each other at 1000: a shape
// with many equal-cost choices, which is where Chu–Liu/Edmonds contracts the most cycles.
import { keyTree, planCost, type WeightedEdge } from '../../src/map/arborescence.js';
import type { MapNode, NetworkMap } from '../../src/map/graph.js';
import { computeKeyPlan } from '../../src/map/tree-plan.js';
import { median } from '../lib/stats.js';
import { fmtMs, renderTable } from '../lib/table.js';
import type { SuiteResult } from './xmpp.js';

/** Laptops per LAN in the large graphs: a home or a small office. */
const LAN_SIZE = 10;
/** Laptops per cloud in the large graphs. */
const PER_CLOUD = 50;

/**
 * Wanters of the key in the computeKeyPlan timing: 40, so the tree (39 laptop edges and the clouds
 * on the way, at most 20 at 1,000 nodes) stays under MAX_PLAN_EDGES (64) and the planner goes all
 * the way to a plan; with every laptop wanting it, it would stop at `too-large`.
 */
const PLAN_WANTERS = 40;

/** Mulberry32: the same graphs on every run. */
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

function largeGraph(n: number): { laptops: string[]; clouds: string[]; edges: WeightedEdge[] } {
  const rand = prng(n);
  const laptops = Array.from({ length: n }, (_, i) => `n${String(i).padStart(5, '0')}`);
  const clouds = Array.from({ length: Math.max(1, Math.floor(n / PER_CLOUD)) }, (_, i) => `c${i}`);
  const edges: WeightedEdge[] = [];
  const cheap = planCost(100);
  const dear = planCost(1000);
  laptops.forEach((a, i) => {
    const lan = Math.floor(i / LAN_SIZE) * LAN_SIZE;
    for (let j = lan; j < Math.min(n, lan + LAN_SIZE); j++)
      if (j !== i) edges.push({ from: a, to: laptops[j]!, cost: cheap });
    const c = clouds[Math.floor(rand() * clouds.length)]!;
    edges.push({ from: a, to: c, cost: dear }, { from: c, to: a, cost: dear });
  });
  for (const a of clouds) for (const b of clouds) if (a !== b) edges.push({ from: a, to: b, cost: dear });
  return { laptops, clouds, edges };
}

/** The same graph as a map (every repository runs an agent, every link reachable). */
function asMap(g: ReturnType<typeof largeGraph>): NetworkMap {
  const node = (id: string, transfer: boolean): MapNode => ({
    id,
    label: id,
    here: id === g.laptops[0],
    agent: !transfer,
    group: transfer ? 'transfer' : null,
    groups: transfer ? ['transfer'] : [],
    trust: 'semitrusted',
    lastSeen: null,
  });
  return {
    self: g.laptops[0]!,
    nodes: [...g.laptops.map((id) => node(id, false)), ...g.clouds.map((id) => node(id, true))],
    edges: g.edges.map((e, i) => ({
      from: e.from,
      to: e.to,
      remote: `r${i}`,
      cost: e.cost / 1000,
      type: 'git-local',
      reachable: true,
      source: 'config',
      stale: false,
    })),
  };
}

export function run(opts: { quick: boolean; log: (s: string) => void }): Promise<SuiteResult> {
  const records: unknown[] = [];
  const rows: string[][] = [];
  for (const n of [100, 1000]) {
    const g = largeGraph(n);
    const reps = opts.quick ? 3 : n >= 1000 ? 7 : 25;
    const times: number[] = [];
    let edgesInTree = 0;
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const t = keyTree({ edges: g.edges, holders: [g.laptops[0]!], wanters: g.laptops, transfer: g.clouds });
      times.push(performance.now() - t0);
      edgesInTree = t.edges.length;
    }
    const m = asMap(g);
    const planTimes: number[] = [];
    let decision = '';
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const d = computeKeyPlan(m, {
        key: 'SHA256E-s1--bench',
        holders: [g.laptops[0]!],
        wanters: g.laptops.slice(0, PLAN_WANTERS),
      });
      planTimes.push(performance.now() - t0);
      decision = d.kind === 'tree' ? `tree, ${d.plan.edges.length} edges` : `flood (${d.why})`;
    }
    opts.log(
      `planner: ${n} repositories, ${g.edges.length} links: tree ${median(times).toFixed(1)} ms, ` +
        `computeKeyPlan ${median(planTimes).toFixed(1)} ms (${decision})`,
    );
    records.push({
      nodes: n + g.clouds.length,
      links: g.edges.length,
      medianMs: median(times),
      reps,
      edgesInTree,
      computeKeyPlanMedianMs: median(planTimes),
      computeKeyPlanWanters: PLAN_WANTERS,
      computeKeyPlanDecision: decision,
    });
    rows.push([
      String(n + g.clouds.length),
      String(g.edges.length),
      fmtMs(median(times)),
      fmtMs(median(planTimes)),
      decision,
      String(reps),
    ]);
  }

  // Issue 11's topology: two LANs of two laptops (100), one cloud in the transfer group (1000).
  const six: WeightedEdge[] = [];
  const lans = [
    ['a1', 'a2'],
    ['b1', 'b2'],
  ];
  for (const [x, y] of lans) six.push({ from: x!, to: y!, cost: 100 }, { from: y!, to: x!, cost: 100 });
  for (const l of lans.flat())
    six.push({ from: l, to: 'cloud', cost: 1000 }, { from: 'cloud', to: l, cost: 1000 });
  const tree = keyTree({ edges: six, holders: ['a1'], wanters: lans.flat(), transfer: ['cloud'] });
  const crossings = tree.edges.filter((e) => e.from === 'cloud' || e.to === 'cloud').length;
  records.push({ topology: 'two LANs + cloud', treeCloudCrossings: crossings });
  const table =
    renderTable(
      [
        { header: 'repositories' },
        { header: 'links', align: 'right' },
        { header: 'tree for one key (all want it)', align: 'right' },
        { header: `computeKeyPlan (${PLAN_WANTERS} want it)`, align: 'right' },
        { header: 'plan' },
        { header: 'runs (median)', align: 'right' },
      ],
      rows,
    ) +
    `\nTwo LANs and a cloud (issue 11): the tree crosses the cloud link ${crossings} times (one upload, one download).\n`;
  return Promise.resolve({ title: 'planner (map/arborescence.ts)', table, records });
}
