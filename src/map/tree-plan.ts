// Source-routed tree planning (issue 11, items 2–3), as pure functions; table tests in
// test/unit/map/tree-plan.test.ts.
//
// The clone that adds a key computes the tree once (`computeKeyPlan`): the minimum-cost
// arborescence of arborescence.ts over the map restricted to the repositories that have the key,
// want it, or are transfer repositories, with the non-wanting leaves pruned. The plan names each
// edge and who carries it out: `upload` (the parent has a remote to the child, and the child runs
// no agent that would fetch it) or `download` (the child's agent fetches from its remote to the
// parent, as flood's rule "the side that wants a key fetches it" says). The plan travels with the
// key's announcement; a receiver checks its shape (`planProblem`) and does only its own part
// (`nodeActions`): it never recomputes the tree, because two maps that differ by one edge give two
// different trees, and two half-trees move a key twice.
//
// Where the map cannot be trusted for a key, that key is flooded (planner.ts), so no key is ever
// stranded: when the map is incomplete (a wanter the tree cannot reach), stale (a peer's edge
// among the key's repositories has gone stale), or contradicted (`keyMode`: a transfer of the
// plan failed, or a child did not confirm within CONFIRM_MS).
import { keyTree, planCost } from './arborescence.js';
import { transferNodes, type NetworkMap } from './graph.js';
import { contentEdges } from './render.js';
import type { Plan, PlannedDownload, PlannedUpload } from './planner.js';

/** `autosync.planner`: the tree of this file, or flood (planner.ts alone). */
export type PlannerMode = 'tree' | 'flood';
export const DEFAULT_PLANNER: PlannerMode = 'tree';

/**
 * Edges one plan may carry. A plan spans the repositories of one key: tens in practice; 64 keeps
 * the announcement that carries it within one signal-sized stanza (64 edges x two 36-char UUIDs).
 */
export const MAX_PLAN_EDGES = 64;
/**
 * How long a child may take to confirm it has the key (its location log reaches us) before the
 * plan counts as contradicted. Ten minutes: a 4 GiB file over a 10 MB/s link takes about seven,
 * and a flood after that costs at most the transfers the tree would have saved.
 */
export const CONFIRM_MS = 10 * 60_000;

/** `autosync.planner` as git config holds it; null when unset. Throws with what a right value is. */
export function parsePlanner(v: string | null): PlannerMode {
  if (v === null) return DEFAULT_PLANNER;
  const t = v.trim().toLowerCase();
  if (t === 'tree' || t === 'flood') return t;
  throw new Error(`autosync.planner takes tree or flood (got ${JSON.stringify(v.slice(0, 40))})`);
}

export type Via = 'upload' | 'download';

export interface PlanEdge {
  from: string;
  to: string;
  /** Who moves the key along this edge: the parent uploads, or the child downloads. */
  via: Via;
}

/** The tree one key travels, as it goes out with the key's announcement. */
export interface KeyPlan {
  key: string;
  /** The repository that computed it (holds the key). */
  origin: string;
  /** Parent to child, in send order: holders first, then by depth, cheaper first. */
  edges: PlanEdge[];
}

export type PlanDecision =
  | { kind: 'tree'; plan: KeyPlan }
  | { kind: 'flood'; why: 'incomplete' | 'stale' | 'too-large' | 'no-holder'; detail: string };

export interface KeyFacts {
  key: string;
  /** Repositories that have the content. */
  holders: readonly string[];
  /** Non-transfer repositories whose preferred content matches the key. */
  wanters: readonly string[];
}

/** Who carries out the move from → to, given the map: `null` when no link allows it. */
export function viaOf(m: NetworkMap, from: string, to: string): Via | null {
  const agents = new Set(m.nodes.filter((n) => n.agent).map((n) => n.id));
  const usable = m.edges.filter((e) => e.reachable && !e.stale);
  const up = usable.some((e) => e.from === from && e.to === to);
  const down = agents.has(to) && usable.some((e) => e.from === to && e.to === from);
  // The side that wants the key fetches it: a child with an agent and a way back downloads.
  if (down) return 'download';
  return up ? 'upload' : null;
}

/**
 * The plan for one key (pure), or why it is flooded instead. Restricted to holders, wanters and
 * transfer repositories; ties by integer cost, then id (arborescence.ts).
 */
export function computeKeyPlan(m: NetworkMap, k: KeyFacts): PlanDecision {
  const transfer = transferNodes(m);
  const holders = [...new Set(k.holders)].filter((h) => m.nodes.some((n) => n.id === h));
  if (holders.length === 0)
    return { kind: 'flood', why: 'no-holder', detail: 'no known repository has the key' };
  const members = new Set([...holders, ...k.wanters, ...transfer]);
  const stale = m.edges.find((e) => e.stale && members.has(e.from) && members.has(e.to));
  if (stale) return { kind: 'flood', why: 'stale', detail: `the link ${stale.from} -> ${stale.to} is stale` };
  const t = keyTree({ edges: contentEdges(m), holders, wanters: k.wanters, transfer });
  if (t.unreachable.length > 0)
    return { kind: 'flood', why: 'incomplete', detail: `no known path reaches ${t.unreachable.join(', ')}` };
  if (t.edges.length > MAX_PLAN_EDGES)
    return {
      kind: 'flood',
      why: 'too-large',
      detail: `${t.edges.length} edges, more than ${MAX_PLAN_EDGES}`,
    };
  const edges: PlanEdge[] = [];
  for (const e of t.edges) {
    const via = viaOf(m, e.from, e.to);
    // contentEdges made this edge from a usable link, so one of the two ways exists.
    if (via === null)
      return { kind: 'flood', why: 'incomplete', detail: `no way to move ${e.from} -> ${e.to}` };
    edges.push({ from: e.from, to: e.to, via });
  }
  return { kind: 'tree', plan: { key: k.key, origin: m.self, edges } };
}

/**
 * The first thing wrong with a plan a peer sent (pure), or null: bounded, every edge well formed,
 * each child with one parent, no edge into the origin, and every node reached from the origin's
 * side (a tree, not a cycle). `isId` is the caller's id rule (annex UUIDs on the wire).
 */
export function planProblem(p: KeyPlan, isId: (s: string) => boolean): string | null {
  if (!isId(p.origin)) return 'origin is not a repository id';
  if (p.edges.length > MAX_PLAN_EDGES) return `more than ${MAX_PLAN_EDGES} edges`;
  const parent = new Map<string, string>();
  for (const e of p.edges) {
    if (!isId(e.from) || !isId(e.to)) return 'an edge names an invalid id';
    if (e.via !== 'upload' && e.via !== 'download') return 'an edge has no valid via';
    if (e.from === e.to) return 'an edge loops on one repository';
    if (parent.has(e.to)) return `${e.to} has two parents`;
    parent.set(e.to, e.from);
  }
  // Walking up from any node must end at a node with no parent (a holder) within |edges| steps.
  for (const start of parent.keys()) {
    let v = start;
    for (let steps = 0; parent.has(v); steps++) {
      if (steps > p.edges.length) return 'the edges make a cycle';
      v = parent.get(v)!;
    }
  }
  return null;
}

/** What one repository does for a key under a plan: its own part, nothing else. */
export interface NodeActions {
  /** Children to upload to, in plan order (cheaper first). */
  uploads: string[];
  /** The parent to download from, when this repository's agent fetches its copy itself. */
  download: string | null;
  /** Children that fetch from us: we only wait for their confirmation. */
  awaiting: string[];
}

export function nodeActions(p: KeyPlan, self: string): NodeActions {
  const out: NodeActions = { uploads: [], download: null, awaiting: [] };
  for (const e of p.edges) {
    if (e.from === self && e.via === 'upload') out.uploads.push(e.to);
    if (e.from === self && e.via === 'download') out.awaiting.push(e.to);
    if (e.to === self && e.via === 'download') out.download = e.from;
  }
  return out;
}

/** What happened so far to the key along our own edges of the plan. */
export interface PlanProgress {
  /** When we took the plan up (computed it, or received it). */
  since: number;
  /** Children that have the key now (their location log says so). */
  confirmed: ReadonlySet<string>;
  /** Children whose transfer failed (after its retries). */
  failed: ReadonlySet<string>;
}

/**
 * Whether a key still follows its tree or falls back to flood (pure). Contradicted: a transfer to
 * one of our children failed, or one has not confirmed within CONFIRM_MS.
 */
export function keyMode(
  p: KeyPlan,
  self: string,
  progress: PlanProgress,
  now: number,
  confirmMs = CONFIRM_MS,
): { mode: 'tree' } | { mode: 'flood'; why: string } {
  const children = p.edges.filter((e) => e.from === self).map((e) => e.to);
  const failed = children.find((c) => progress.failed.has(c));
  if (failed) return { mode: 'flood', why: `the transfer to ${failed} failed` };
  if (now - progress.since > confirmMs) {
    const late = children.find((c) => !progress.confirmed.has(c));
    if (late)
      return { mode: 'flood', why: `${late} did not confirm within ${Math.round(confirmMs / 1000)} s` };
  }
  return { mode: 'tree' };
}

/**
 * The flood plan narrowed to the tree (pure): for each key that follows a plan here, the uploads
 * and downloads are only those of our own part of it, uploads in plan order (cheaper first);
 * every other key keeps its flood transfers. Drops are flood's (a bridge copy goes once every
 * wanter has the key). `remoteOf` names our remote for a repository id.
 */
export function narrowToTree(
  flood: Plan,
  plans: ReadonlyMap<string, KeyPlan>,
  self: string,
  remoteOf: (id: string) => string | null,
): Plan {
  // A plan this repository has no place in (it did not want the key when the tree was made) says
  // nothing about what it should do: such a key is flooded here.
  const ours = new Map(
    [...plans].filter(([, p]) => p.origin === self || p.edges.some((e) => e.from === self || e.to === self)),
  );
  const inTree = (key: string) => ours.has(key);
  const uploads: PlannedUpload[] = flood.uploads.filter((u) => !inTree(u.key));
  const downloads: PlannedDownload[] = flood.downloads.filter((d) => !inTree(d.key));
  const byKeyUp = new Map<string, PlannedUpload[]>();
  for (const u of flood.uploads) if (inTree(u.key)) byKeyUp.set(u.key, [...(byKeyUp.get(u.key) ?? []), u]);
  const byKeyDown = new Map(flood.downloads.filter((d) => inTree(d.key)).map((d) => [d.key, d]));
  for (const [key, p] of ours) {
    const a = nodeActions(p, self);
    const planned = byKeyUp.get(key) ?? [];
    for (const child of a.uploads) {
      const remote = remoteOf(child);
      // Only what flood would also do: the child still lacks and wants the key (or bridges it).
      const u = planned.find((x) => x.remote === remote);
      if (u) uploads.push(u);
    }
    const d = byKeyDown.get(key);
    if (a.download !== null && d) {
      const remote = remoteOf(a.download);
      // The plan's parent first; flood's holders stay as fallbacks, so the key is never stranded.
      if (remote !== null && (d.remote === remote || d.fallbacks.includes(remote))) {
        const fallbacks = [d.remote, ...d.fallbacks].filter((r) => r !== remote);
        downloads.push({ ...d, remote, fallbacks });
      }
    }
  }
  return { uploads, downloads, drops: flood.drops };
}

/** The planner's cost of a plan, in map units (for the bench and the log). */
export function planCostOf(m: NetworkMap, p: KeyPlan): number {
  const edges = contentEdges(m);
  let sum = 0;
  for (const e of p.edges) {
    const c = edges.filter((x) => x.from === e.from && x.to === e.to).map((x) => x.cost);
    sum += c.length > 0 ? Math.min(...c) : 0;
  }
  return sum / planCost(1);
}
