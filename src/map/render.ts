// What `git autosync map` prints, as pure functions of the map (unit tests in
// test/unit/map/render.test.ts): the JSON object of interface.md (`map --json`), a text table, and
// Graphviz dot. Labels come from the git-annex branch, which peers write: they were cut to
// printable characters when the map was built (graph.ts cleanLabel), and dot's quoting escapes the
// rest here.
import { keyTree, planCost, type WeightedEdge } from './arborescence.js';
import { transferNodes, type MapEdge, type NetworkMap } from './graph.js';

export interface MapJson {
  self: string;
  nodes: Array<{
    id: string;
    label: string;
    here: boolean;
    agent: boolean;
    group: string | null;
    lastSeen: string | null;
    groups: string[];
    trust: string;
  }>;
  edges: Array<{
    from: string;
    to: string;
    remote: string;
    cost: number;
    reachable: boolean;
    source: string;
    type: string;
    stale: boolean;
  }>;
  tree: Array<{ from: string; to: string }>;
  unreachable: string[];
}

/** Links the planner may use: reachable, and not a peer's stale word. */
export function usableEdges(m: NetworkMap): MapEdge[] {
  return m.edges.filter((e) => e.reachable && !e.stale);
}

/**
 * The ways content can move, parent to child: along each usable link (`from` uploads to `to`), and
 * back along a link whose `from` runs an agent, which downloads what it wants by itself (a laptop
 * behind a bare cloud repository gets content that way; the cloud cannot upload). Integer costs.
 */
export function contentEdges(m: NetworkMap): WeightedEdge[] {
  const agents = new Set(m.nodes.filter((n) => n.agent).map((n) => n.id));
  return usableEdges(m).flatMap((e) => {
    const cost = planCost(e.cost);
    const up = { from: e.from, to: e.to, cost };
    return agents.has(e.from) ? [up, { from: e.to, to: e.from, cost }] : [up];
  });
}

/**
 * The tree a new key added here would travel: this clone holds it; every repository outside the
 * `transfer` group wants it (what a repository without a preferred-content expression does, and,
 * with no key to ask git-annex about, the most any repository could want); transfer repositories
 * may carry it.
 */
export function newKeyTree(m: NetworkMap): {
  tree: Array<{ from: string; to: string }>;
  unreachable: string[];
} {
  const transfer = transferNodes(m);
  const wanters = m.nodes.filter((n) => !transfer.includes(n.id)).map((n) => n.id);
  const t = keyTree({
    edges: contentEdges(m),
    holders: [m.self],
    wanters,
    transfer,
  });
  return { tree: t.edges.map((e) => ({ from: e.from, to: e.to })), unreachable: t.unreachable };
}

export function mapJson(m: NetworkMap): MapJson {
  const { tree, unreachable } = newKeyTree(m);
  return {
    self: m.self,
    nodes: m.nodes.map((n) => ({
      id: n.id,
      label: n.label,
      here: n.here,
      agent: n.agent,
      group: n.group,
      lastSeen: n.lastSeen,
      groups: n.groups,
      trust: n.trust,
    })),
    edges: m.edges.map((e) => ({
      from: e.from,
      to: e.to,
      remote: e.remote,
      cost: e.cost,
      reachable: e.reachable,
      source: e.source,
      type: e.type,
      stale: e.stale,
    })),
    tree,
    unreachable,
  };
}

/** A short name for a node: its label, else the first block of its UUID, else its id. */
function namer(j: MapJson): (id: string) => string {
  const names = new Map<string, string>();
  for (const n of j.nodes) names.set(n.id, n.label || (/^[0-9a-f]{8}-/.test(n.id) ? n.id.slice(0, 8) : n.id));
  // Two repositories with one description are told apart by their UUID's first block.
  const counts = new Map<string, number>();
  for (const v of names.values()) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (const [id, v] of names) if ((counts.get(v) ?? 0) > 1) names.set(id, `${v} (${id.slice(0, 8)})`);
  return (id) => names.get(id) ?? id;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '  ' + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export function renderText(j: MapJson): string {
  const name = namer(j);
  const lines: string[] = [`network map of ${name(j.self)} (${j.self})`, '', 'repositories:'];
  lines.push(
    ...table([
      ['NAME', 'GROUP', 'TRUST', 'AGENT', 'ID'],
      ...j.nodes.map((n) => [
        (n.here ? '* ' : '  ') + name(n.id),
        n.groups.join(',') || '-',
        n.trust,
        n.agent ? 'yes' : 'no',
        n.id,
      ]),
    ]),
  );
  lines.push('', 'links:');
  if (j.edges.length === 0) lines.push('  (none: no remote points at a known repository)');
  else
    lines.push(
      ...table([
        ['FROM', 'TO', 'REMOTE', 'COST', 'TYPE', 'REACHABLE', 'SOURCE'],
        ...j.edges.map((e) => [
          name(e.from),
          name(e.to),
          e.remote,
          String(e.cost),
          e.type,
          e.stale ? 'stale' : e.reachable ? 'yes' : 'no',
          e.source,
        ]),
      ]),
    );
  lines.push('', 'a new key added here would travel:');
  if (j.tree.length === 0) lines.push('  (nowhere)');
  for (const t of j.tree) {
    const up = j.edges.find((x) => x.from === t.from && x.to === t.to && x.reachable && !x.stale);
    const down = j.edges.find((x) => x.from === t.to && x.to === t.from && x.reachable && !x.stale);
    const how = up
      ? ` (${up.remote}, cost ${up.cost})`
      : down
        ? ` (${name(t.to)} downloads over ${down.remote}, cost ${down.cost})`
        : '';
    lines.push(`  ${name(t.from)} -> ${name(t.to)}${how}`);
  }
  if (j.unreachable.length > 0)
    lines.push('', `unreachable from here: ${j.unreachable.map(name).join(', ')}`);
  return lines.join('\n');
}

/** A dot double-quoted string: backslash and quote escaped; labels carry no control characters. */
function q(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function renderDot(j: MapJson): string {
  const name = namer(j);
  const inTree = new Set(j.tree.map((t) => `${t.from}\0${t.to}`));
  const lines = ['digraph autosync_map {', '  rankdir=LR;', '  node [shape=box];'];
  for (const n of j.nodes) {
    const attrs = [`label=${q(name(n.id))}`];
    if (n.here) attrs.push('peripheries=2');
    if (n.groups.includes('transfer')) attrs.push('shape=ellipse');
    if (j.unreachable.includes(n.id)) attrs.push('color=red');
    lines.push(`  ${q(n.id)} [${attrs.join(', ')}];`);
  }
  for (const e of j.edges) {
    const attrs = [`label=${q(`${e.remote} ${e.cost}`)}`];
    if (!e.reachable || e.stale) attrs.push('style=dashed');
    if (inTree.has(`${e.from}\0${e.to}`) && e.reachable && !e.stale) attrs.push('penwidth=3', 'color=blue');
    lines.push(`  ${q(e.from)} -> ${q(e.to)} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n');
}
