// The network map as one directed graph, built from facts, as a pure function (table tests in
// test/unit/map/graph.test.ts). The reading of those facts is in read.ts.
//
// Nodes are repositories: by annex UUID in an annex repository, else by a plain-git repository id
// (`path:<absolute path>` for a clone on this machine, `url:<url>` for one elsewhere, so the same
// clone has the same id whoever's config names it). Edges are remotes: `from` has a remote that
// points at `to`, with its cost, type, whether it was reachable, where the fact came from, and
// whether it is stale (a peer's edge it stopped announcing; never planned on).
//
// The git-annex branch is written by every peer and is not trusted: a line of uuid.log, group.log
// or trust.log is taken only when its UUID is well formed, a description is cut to printable
// characters and DESCRIPTION_MAX, a group name must look like one, and a trust value must be one
// git-annex writes. Dead repositories (trust `X`) are left out, with every edge to or from them.
import { isValidUuid } from '../annex/keys.js';
import { costOf, type RemoteDef, type RemoteType } from './costs.js';
import { parseUuidLog } from './inventory.js';

/** git-annex's built-in pseudo-repositories (web, bittorrent): not places a clone syncs with. */
const SPECIAL_UUID_PREFIX = '00000000-0000-0000-0000-';
/** A description longer than this is cut: it is only a label, and a peer chooses it. */
const DESCRIPTION_MAX = 200;
/** A group name as git-annex's vicfg and the standard groups spell them. */
const GROUP_RE = /^[A-Za-z0-9_.+-]{1,64}$/;

export type Trust = 'trusted' | 'semitrusted' | 'untrusted' | 'dead';
export type EdgeSource = 'config' | 'peer' | 'annex-branch';

export interface MapNode {
  id: string;
  label: string;
  here: boolean;
  /** Runs a git-autosync agent that we know of (a live pid on this machine, or a peer announcing). */
  agent: boolean;
  /** The first of its groups (`client`, `transfer`, …), or null. */
  group: string | null;
  groups: string[];
  trust: Trust;
  /** When a peer last told us of it; null when known only from config and the git-annex branch. */
  lastSeen: string | null;
}

export interface MapEdge {
  from: string;
  to: string;
  /** The remote's name on `from`. */
  remote: string;
  cost: number;
  type: RemoteType;
  /** At the last try (or, with no agent, whether its path is there now). */
  reachable: boolean;
  source: EdgeSource;
  /** A peer's edge that the peer stopped announcing: shown, never planned on. */
  stale: boolean;
}

export interface NetworkMap {
  self: string;
  nodes: MapNode[];
  edges: MapEdge[];
  /**
   * Repositories trust.log marks dead (sorted): left out of `nodes` and `edges`, and kept here so
   * that a peer's word cannot bring one back (store.ts mergePeerEdges). Absent: none known.
   */
  dead?: string[];
}

/** The remotes of one repository, as read from its config. */
export interface RemotesOf {
  /** The repository whose config these remotes are in. */
  from: string;
  remotes: readonly RemoteDef[];
  source: EdgeSource;
}

export interface MapFacts {
  /** This repository's id (its annex UUID, or its plain-git id). */
  self: string;
  selfLabel: string;
  annex: boolean;
  /** Contents of the git-annex branch's logs ('' when absent or plain git). */
  uuidLog: string;
  groupLog: string;
  trustLog: string;
  /** Our remotes, and those of any repository on this machine whose config we could read. */
  remotes: readonly RemotesOf[];
  /** Whether a remote's target can be reached now (a path that is there, not annex-ignore'd). */
  reachable(from: string, r: RemoteDef): boolean;
  /** Ids of repositories known to run an agent. */
  agents?: ReadonlySet<string>;
}

/** A plain-git id: a path for a clone on this machine, the URL for one elsewhere. */
export function plainGitId(r: Pick<RemoteDef, 'path' | 'url' | 'name'>): string {
  // A remote URL may name the work tree or its .git directory: both are the same clone.
  if (r.path !== null) return `path:${r.path.replace(/\/+$/, '').replace(/\/\.git$/, '') || '/'}`;
  return r.url !== null ? `url:${r.url}` : `remote:${r.name}`;
}

/** The node a remote points at: its annex UUID, else (plain git) its plain-git id. */
export function targetOf(r: RemoteDef, annex: boolean): string | null {
  if (annex) return r.uuid;
  return plainGitId(r);
}

/** Printable characters only, and not too many: a peer wrote it. */
export function cleanLabel(s: string): string {
  const cleaned = s.replace(/[\x00-\x1f\x7f-\x9f]/g, ' ').trim();
  return cleaned.length > DESCRIPTION_MAX ? cleaned.slice(0, DESCRIPTION_MAX) : cleaned;
}

/** trust.log value -> trust: 1 trusted, 0 untrusted, X dead, ? semitrusted (git-annex's letters). */
export function parseTrustLog(text: string): Map<string, Trust> {
  const out = new Map<string, Trust>();
  for (const [u, v] of parseUuidLog(text)) {
    const t = v.trim();
    if (t === '1') out.set(u, 'trusted');
    else if (t === '0') out.set(u, 'untrusted');
    else if (t === 'X') out.set(u, 'dead');
    else if (t === '?') out.set(u, 'semitrusted');
  }
  return out;
}

export function parseGroupLog(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [u, v] of parseUuidLog(text)) {
    const gs = v.split(' ').filter((g) => GROUP_RE.test(g));
    if (gs.length > 0) out.set(u, [...new Set(gs)].sort());
  }
  return out;
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The map from what config and the git-annex branch say. Pure. */
export function buildMap(f: MapFacts): NetworkMap {
  const trust = f.annex ? parseTrustLog(f.trustLog) : new Map<string, Trust>();
  const groups = f.annex ? parseGroupLog(f.groupLog) : new Map<string, string[]>();
  const descriptions = new Map<string, string>();
  if (f.annex) {
    for (const [u, d] of parseUuidLog(f.uuidLog)) {
      if (!u.startsWith(SPECIAL_UUID_PREFIX)) descriptions.set(u, cleanLabel(d));
    }
  }
  const dead = (id: string) => trust.get(id) === 'dead';
  const valid = (id: string) => (f.annex ? isValidUuid(id) && !id.startsWith(SPECIAL_UUID_PREFIX) : true);

  const nodes = new Map<string, MapNode>();
  const node = (id: string, label: string): MapNode | null => {
    if (!valid(id) || dead(id)) return null;
    let n = nodes.get(id);
    if (!n) {
      const gs = groups.get(id) ?? [];
      n = {
        id,
        label: descriptions.get(id) || cleanLabel(label),
        here: id === f.self,
        agent: f.agents?.has(id) ?? false,
        group: gs[0] ?? null,
        groups: gs,
        trust: trust.get(id) ?? 'semitrusted',
        lastSeen: null,
      };
      nodes.set(id, n);
    }
    return n;
  };

  node(f.self, f.selfLabel);
  for (const id of descriptions.keys()) node(id, '');

  const edges = new Map<string, MapEdge>();
  for (const group of f.remotes) {
    if (!node(group.from, '')) continue;
    for (const r of group.remotes) {
      const to = targetOf(r, f.annex);
      if (to === null || to === group.from || !node(to, r.name)) continue;
      const e: MapEdge = {
        from: group.from,
        to,
        remote: r.name,
        cost: costOf(r),
        type: r.type,
        reachable: !r.ignore && f.reachable(group.from, r),
        source: group.source,
        stale: false,
      };
      // The same remote read twice (our config, then a peer's word): the first reading stands.
      const k = `${e.from}\0${e.remote}`;
      if (!edges.has(k)) edges.set(k, e);
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
  const deadIds = [...trust].filter(([, t]) => t === 'dead').map(([id]) => id);
  return {
    self: f.self,
    nodes: [...nodes.values()].sort(byId),
    edges: [...edges.values()].sort(edgeOrder),
    dead: deadIds.sort(),
  };
}

/** Ids of the repositories in the `transfer` group. */
export function transferNodes(m: NetworkMap): string[] {
  return m.nodes.filter((n) => n.groups.includes('transfer')).map((n) => n.id);
}
