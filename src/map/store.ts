// The peers' word on their links, and the one map it merges into. Pure: time comes in as `now`;
// table tests in test/unit/map/store.test.ts. Fed by the signal layer (a verified <edges/> message,
// signal/edges-codec.ts) through the agent's map service (app/map-service.ts), read by the `map`
// verb, by `status` and by the tree planner.
//
// A peer tells its edges when they change, when a peer joins, and every EDGE_REFRESH_MS in between
// (the refresh). A report not renewed within EDGE_STALE_MS is stale: its edges are still shown,
// marked stale, and never planned on (render.ts usableEdges). What a peer says is bounded: at most
// MAX_PEER_REPORTS senders, each at most MAX_EDGES edges (checked by the codec), the oldest report
// dropped first.
import { isValidRemoteName, isValidUuid } from '../annex/keys.js';
import { planCost } from './arborescence.js';
import type { RemoteType } from './costs.js';
import type { MapEdge, MapNode, NetworkMap } from './graph.js';

/**
 * How often an agent tells its edges again when nothing changed. Five minutes: a handful of
 * stanzas an hour per clone, while a peer that went away stops being planned on within minutes.
 */
export const EDGE_REFRESH_MS = 5 * 60_000;
/**
 * A report older than this is stale: three refresh periods, so two refreshes lost in a row (a
 * reconnect, a server restart) do not yet count, and one lost for good (the peer gone) does.
 */
export const EDGE_STALE_MS = 3 * EDGE_REFRESH_MS;
/** Peers whose reports are kept. A handful of clones share a repository; 64 bounds the memory. */
export const MAX_PEER_REPORTS = 64;
/**
 * Edges one report carries at most (signal/edges-codec.ts MAX_EDGES is this): a repository rarely
 * has more than a handful of remotes, and 32 is the signal's own bound on the remotes it names.
 */
export const MAX_REPORTED_EDGES = 32;

/** One link, as a peer reported it (costs in integer thousandths on the wire). */
export interface ReportedEdge {
  to: string;
  remote: string;
  cost: number;
  type: RemoteType;
  reachable: boolean;
}

/** What one peer last told us. */
export interface PeerReport {
  /** The peer's node id (its XMPP nickname or resource). */
  node: string;
  /** Its repository's annex UUID: the `from` of every edge. */
  self: string;
  edges: ReportedEdge[];
  /** When we received it (our clock: the sender's may be off by minutes). */
  receivedAt: number;
}

/** A peer report as status shows it. */
export interface PeerReportStatus {
  node: string;
  repo: string;
  edges: number;
  ageSeconds: number;
  stale: boolean;
}

export function isStale(r: Pick<PeerReport, 'receivedAt'>, now: number, staleMs = EDGE_STALE_MS): boolean {
  return now - r.receivedAt > staleMs;
}

/** The latest report of each peer, by node id; oldest-received first. Bounded. */
export class PeerEdgeStore {
  private readonly reports = new Map<string, PeerReport>();

  constructor(
    private readonly self: string | null,
    private readonly max = MAX_PEER_REPORTS,
  ) {}

  /**
   * Keeps a peer's report, replacing its last one. A report that claims to be about our own
   * repository is refused: we know our links better than anyone. Returns whether it was kept.
   */
  put(r: PeerReport): boolean {
    if (r.self === this.self) return false;
    // One repository, one report: a clone that restarted under a new node id replaces its old one.
    for (const [node, old] of this.reports)
      if (old.self === r.self && node !== r.node) this.reports.delete(node);
    this.reports.delete(r.node);
    this.reports.set(r.node, { ...r, edges: r.edges.map((e) => ({ ...e })) });
    while (this.reports.size > this.max) {
      const oldest = this.reports.keys().next().value;
      if (oldest === undefined) break;
      this.reports.delete(oldest);
    }
    return true;
  }

  all(): PeerReport[] {
    return [...this.reports.values()];
  }

  status(now: number, staleMs = EDGE_STALE_MS): PeerReportStatus[] {
    return this.all()
      .map((r) => ({
        node: r.node,
        repo: r.self,
        edges: r.edges.length,
        ageSeconds: Math.max(0, Math.round((now - r.receivedAt) / 1000)),
        stale: isStale(r, now, staleMs),
      }))
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The map with the peers' edges merged in (pure). An edge our own reading already has (the same
 * `from` and remote name, read from a config on this machine) stands; a peer's report adds the
 * rest, with source `peer`, and its nodes (a repository only a peer knows of is added unlabelled).
 * A stale report's edges are kept, marked stale; its repository's node loses `agent` and keeps
 * `lastSeen`. Repositories trust.log marks dead (the reading's `m.dead`, and any in `opts.dead`) are
 * never added back, nor any edge to or from one.
 */
export function mergePeerEdges(
  m: NetworkMap,
  reports: readonly PeerReport[],
  now: number,
  opts: { staleMs?: number; dead?: ReadonlySet<string> } = {},
): NetworkMap {
  const staleMs = opts.staleMs ?? EDGE_STALE_MS;
  const dead = new Set<string>([...(m.dead ?? []), ...(opts.dead ?? [])]);
  const nodes = new Map<string, MapNode>(m.nodes.map((n) => [n.id, { ...n }]));
  const edges = new Map<string, MapEdge>(m.edges.map((e) => [`${e.from}\0${e.remote}`, e]));
  const node = (id: string): MapNode | null => {
    if (dead.has(id)) return null;
    let n = nodes.get(id);
    if (!n) {
      n = {
        id,
        label: '',
        here: id === m.self,
        agent: false,
        group: null,
        groups: [],
        trust: 'semitrusted',
        lastSeen: null,
      };
      nodes.set(id, n);
    }
    return n;
  };
  for (const r of reports) {
    if (r.self === m.self) continue;
    const from = node(r.self);
    if (!from) continue;
    const stale = isStale(r, now, staleMs);
    const seen = new Date(r.receivedAt).toISOString();
    if (from.lastSeen === null || from.lastSeen < seen) from.lastSeen = seen;
    if (!stale) from.agent = true;
    for (const e of r.edges) {
      if (e.to === r.self || !node(e.to)) continue;
      const k = `${r.self}\0${e.remote}`;
      if (edges.has(k)) continue;
      edges.set(k, {
        from: r.self,
        to: e.to,
        remote: e.remote,
        cost: e.cost / 1000,
        type: e.type,
        reachable: e.reachable,
        source: 'peer',
        stale,
      });
    }
  }
  const edgeOrder = (a: MapEdge, b: MapEdge) =>
    a.from < b.from
      ? -1
      : a.from > b.from
        ? 1
        : a.to < b.to
          ? -1
          : a.to > b.to
            ? 1
            : a.remote < b.remote
              ? -1
              : 1;
  return {
    self: m.self,
    nodes: [...nodes.values()].sort(byId),
    edges: [...edges.values()].sort(edgeOrder),
    dead: [...dead].sort(),
  };
}

/** Our own edges as the wire carries them: annex UUID targets only, costs in integer thousandths. */
export function ownWireEdges(m: NetworkMap): ReportedEdge[] {
  return m.edges
    .filter(
      (e) => e.from === m.self && e.source === 'config' && isValidUuid(e.to) && isValidRemoteName(e.remote),
    )
    .sort((a, b) => a.cost - b.cost || (a.remote < b.remote ? -1 : 1))
    .slice(0, MAX_REPORTED_EDGES)
    .map((e) => ({
      to: e.to,
      remote: e.remote,
      cost: planCost(e.cost),
      type: e.type,
      reachable: e.reachable,
    }));
}

/** Counts for status's `map` object (interface.md): nodes, edges, and how many edges are stale. */
export function mapCounts(m: NetworkMap): { nodes: number; edges: number; stale: number } {
  return { nodes: m.nodes.length, edges: m.edges.length, stale: m.edges.filter((e) => e.stale).length };
}
