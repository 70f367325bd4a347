// The minimum-cost spanning arborescence (Chu–Liu/Edmonds) and the tree one key travels. Pure; table
// and property tests (against brute force on random small graphs) in test/unit/map/arborescence.test.ts.
//
// The plain O(V·E) form: every node but the root takes its cheapest incoming edge; if those edges
// make no cycle they are the answer; otherwise each cycle is contracted into one node, the costs of
// edges entering it are lowered by the cost of the cycle edge they would replace, the smaller graph
// is solved, and each cycle is opened where the chosen edge enters it. At tens of repositories
// (1,000 in the bench) this is fast enough, and it is short enough to check by eye.
//
// Ties are broken one way only: edges are put in one canonical order first (integer cost, then the
// `from` id, then the `to` id, in code-unit order, which for UUIDs is their hex order), and among
// incoming edges of equal reduced cost the earlier one in that order wins. So the tree depends
// only on the set of edges, never on the order they were given in.

export interface WeightedEdge {
  from: string;
  to: string;
  /** A non-negative integer (planning works in integers so that reduced costs stay exact). */
  cost: number;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Canonical order, and one edge per (from, to): the cheapest. */
export function canonicalEdges(edges: readonly WeightedEdge[]): WeightedEdge[] {
  const best = new Map<string, WeightedEdge>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const k = `${e.from}\0${e.to}`;
    const b = best.get(k);
    if (!b || e.cost < b.cost) best.set(k, { from: e.from, to: e.to, cost: e.cost });
  }
  return [...best.values()].sort((a, b) => a.cost - b.cost || cmp(a.from, b.from) || cmp(a.to, b.to));
}

/** An edge of the working graph: node indices, the reduced cost, and the index of the input edge. */
interface Arc {
  u: number;
  v: number;
  w: number;
  orig: number;
}

/**
 * Edmonds on nodes 0..n-1 with `root`; returns, per node, the index into `arcs`' `orig` of its
 * chosen incoming edge (-1 for the root), or null when some node has no incoming edge.
 */
function solve(n: number, root: number, arcs: readonly Arc[]): number[] | null {
  // Cheapest incoming arc per node; arcs are in canonical order, so `<` keeps the earliest on a tie.
  const inArc: Array<Arc | null> = new Array<Arc | null>(n).fill(null);
  for (const a of arcs) {
    if (a.u === a.v || a.v === root) continue;
    const cur = inArc[a.v];
    if (cur === null || cur === undefined || a.w < cur.w) inArc[a.v] = a;
  }
  for (let v = 0; v < n; v++) if (v !== root && inArc[v] === null) return null;

  // Cycles among the chosen arcs: walk back from each node until the root, a visited node, or a
  // node already on this walk (a new cycle).
  const comp = new Array<number>(n).fill(-1);
  const seenBy = new Array<number>(n).fill(-1);
  let count = 0;
  const cycles: number[][] = [];
  for (let s = 0; s < n; s++) {
    let v = s;
    while (v !== root && seenBy[v] === -1 && comp[v] === -1) {
      seenBy[v] = s;
      v = inArc[v]!.u;
    }
    if (v !== root && seenBy[v] === s && comp[v] === -1) {
      const cycle: number[] = [];
      let x = v;
      do {
        cycle.push(x);
        comp[x] = count;
        x = inArc[x]!.u;
      } while (x !== v);
      cycles.push(cycle);
      count++;
    }
  }
  if (cycles.length === 0) return inArc.map((a) => (a === null ? -1 : a.orig));

  for (let v = 0; v < n; v++) if (comp[v] === -1) comp[v] = count++;
  const inCycle = (v: number) => comp[v]! < cycles.length;
  const next: Arc[] = [];
  for (const a of arcs) {
    const cu = comp[a.u]!;
    const cv = comp[a.v]!;
    if (cu === cv) continue;
    next.push({ u: cu, v: cv, w: inCycle(a.v) ? a.w - inArc[a.v]!.w : a.w, orig: a.orig });
  }
  const sub = solve(count, comp[root]!, next);
  if (sub === null) return null;

  // Expand: outside the cycles, the sub-solution's edge stands; inside each cycle, every cycle edge
  // stands but the one into the node where the chosen entering edge lands.
  const origArc = new Map<number, Arc>();
  for (const a of arcs) if (!origArc.has(a.orig)) origArc.set(a.orig, a);
  const out = new Array<number>(n).fill(-1);
  for (let v = 0; v < n; v++) if (v !== root) out[v] = inArc[v]!.orig;
  for (let c = 0; c < count; c++) {
    const o = sub[c]!;
    if (o < 0) continue;
    const entering = origArc.get(o)!;
    out[entering.v] = o;
  }
  return out;
}

export interface Arborescence {
  /** The chosen edges, parent to child, in canonical order. */
  edges: WeightedEdge[];
  cost: number;
}

/**
 * The minimum-cost arborescence rooted at `root` spanning `nodes`, or null when some node cannot be
 * reached from the root. Edges whose ends are not both in `nodes` are ignored.
 */
export function minArborescence(
  nodes: readonly string[],
  root: string,
  edges: readonly WeightedEdge[],
): Arborescence | null {
  const ids = [...new Set([root, ...nodes])].sort(cmp);
  const index = new Map(ids.map((id, i) => [id, i]));
  const canon = canonicalEdges(edges).filter((e) => index.has(e.from) && index.has(e.to) && e.to !== root);
  const arcs = canon.map((e, i) => ({ u: index.get(e.from)!, v: index.get(e.to)!, w: e.cost, orig: i }));
  const chosen = solve(ids.length, index.get(root)!, arcs);
  if (chosen === null) return null;
  const picked = chosen.filter((o) => o >= 0).sort((a, b) => a - b);
  const out = picked.map((o) => canon[o]!);
  return { edges: out, cost: out.reduce((s, e) => s + e.cost, 0) };
}

/** Ids reachable from `starts` along `edges`. */
export function reachableFrom(starts: Iterable<string>, edges: readonly WeightedEdge[]): Set<string> {
  const out = new Map<string, string[]>();
  for (const e of edges) {
    let l = out.get(e.from);
    if (!l) out.set(e.from, (l = []));
    l.push(e.to);
  }
  const seen = new Set(starts);
  const todo = [...seen];
  while (todo.length > 0) {
    for (const w of out.get(todo.pop()!) ?? []) {
      if (!seen.has(w)) {
        seen.add(w);
        todo.push(w);
      }
    }
  }
  return seen;
}

export interface KeyTreeInput {
  /** The usable links (not stale, reachable), with integer costs. */
  edges: readonly WeightedEdge[];
  /** Repositories that have the key. */
  holders: readonly string[];
  /** Repositories that want it (holders among them need nothing). */
  wanters: readonly string[];
  /** Repositories in the `transfer` group: may carry it on, need not keep it. */
  transfer: readonly string[];
}

export interface KeyTree {
  /** Parent to child, holders first, then by depth, cost and id: the order to send in. */
  edges: WeightedEdge[];
  /** Wanters that lack the key and that no usable path from a holder reaches. */
  unreachable: string[];
  cost: number;
}

/** A name no repository id can take (ids are UUIDs or start with `path:`/`url:`/`remote:`). */
const VIRTUAL_ROOT = '\0root';

/**
 * The tree one key travels: restricted to holders, wanters and transfer repositories; a virtual
 * root with zero-cost edges to each holder; unreachable wanters found first and left out; leaves
 * that do not want the key pruned, again and again, so no transfer repository is a dead end.
 */
export function keyTree(input: KeyTreeInput): KeyTree {
  const holders = new Set(input.holders);
  const wanters = new Set(input.wanters);
  const members = new Set([...holders, ...wanters, ...input.transfer]);
  // Nothing flows into a holder: it has the key already.
  const usable = canonicalEdges(input.edges).filter(
    (e) => members.has(e.from) && members.has(e.to) && !holders.has(e.to),
  );
  const reach = reachableFrom(holders, usable);
  const unreachable = [...wanters].filter((w) => !holders.has(w) && !reach.has(w)).sort(cmp);
  if (holders.size === 0) return { edges: [], unreachable, cost: 0 };

  const nodes = [...members].filter((m) => reach.has(m));
  const rootEdges = [...holders].map((h) => ({ from: VIRTUAL_ROOT, to: h, cost: 0 }));
  const inside = usable.filter((e) => reach.has(e.from) && reach.has(e.to));
  const arb = minArborescence(nodes, VIRTUAL_ROOT, [...rootEdges, ...inside]);
  // Every node in `nodes` is reachable by construction, so the arborescence exists.
  let tree = (arb?.edges ?? []).filter((e) => e.from !== VIRTUAL_ROOT);

  for (;;) {
    const parents = new Set(tree.map((e) => e.from));
    const kept = tree.filter((e) => parents.has(e.to) || wanters.has(e.to));
    if (kept.length === tree.length) break;
    tree = kept;
  }
  return { edges: sendOrder(tree, holders), unreachable, cost: tree.reduce((s, e) => s + e.cost, 0) };
}

/** Breadth first from the holders; siblings cheapest first, then by id. */
function sendOrder(tree: readonly WeightedEdge[], holders: ReadonlySet<string>): WeightedEdge[] {
  const children = new Map<string, WeightedEdge[]>();
  for (const e of tree) {
    let l = children.get(e.from);
    if (!l) children.set(e.from, (l = []));
    l.push(e);
  }
  for (const l of children.values()) l.sort((a, b) => a.cost - b.cost || cmp(a.to, b.to));
  const out: WeightedEdge[] = [];
  let level = [...holders].sort(cmp);
  while (level.length > 0) {
    const nextLevel: string[] = [];
    const edges = level.flatMap((p) => children.get(p) ?? []);
    edges.sort((a, b) => a.cost - b.cost || cmp(a.to, b.to));
    for (const e of edges) {
      out.push(e);
      nextLevel.push(e.to);
    }
    level = nextLevel;
  }
  return out;
}

/** A link cost as the planner counts it: integer thousandths, so fractional annex-costs still order. */
export function planCost(cost: number): number {
  return Math.round(cost * 1000);
}
