// The six repositories of issue 11, shared by test/integration/transfer-tree.test.ts and the bench's
// `six` suite (bench/suites/six.ts): two LANs, each of two laptops that have each other as local
// remotes (cost 100), joined only through one bare annex cloud in the `transfer` group (cost 1000),
// the four agents peers over XMPP through a real Prosody. Crossings of the cloud link are counted
// from the agents' own logs: every upload to and download from the cloud remote (`origin`).
import { copyFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { git } from './repos.js';
import { cli, transfersDone } from './agents.js';
import { annex, hasKey, uuidOf, writeBig } from './annex.js';
import { waitFor } from './wait.js';
import { cloud, type Topology } from './topology.js';
import type { ProsodyServer } from './prosody.js';
import type { MapJson } from '../../src/map/render.js';

/** The laptops: a1 and a2 on one LAN, b1 and b2 on the other. */
export const SIX_LAPTOPS = ['a1', 'a2', 'b1', 'b2'] as const;

export interface SixRepos {
  topo: Topology;
  laptops: string[];
  /** The laptop where keys are added. */
  a1: string;
  /** The bare cloud repository. */
  cl: string;
  cloudUuid: string;
}

/** The clones and the cloud, agents not started (give it to `using` in a test). */
export function sixRepoTopology(root: string): Topology {
  return cloud(root, [...SIX_LAPTOPS], { annex: true });
}

function mapOf(repo: string): MapJson {
  const r = cli(['-C', repo, 'map', '--json']);
  if (r.code !== 0) throw new Error(`map --json in ${repo} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as MapJson;
}

/** Uploads to and downloads from the cloud remote (`origin` on every laptop), over all laptops. */
export function cloudCrossings(laptops: readonly string[]): number {
  return laptops.flatMap((l) => transfersDone(l)).filter((t) => t.endsWith(' origin')).length;
}

/**
 * Links the laptops, puts the cloud in the transfer group, starts the agents with the planner
 * given, and waits until every agent knows the whole network (a1's tree reaches all laptops).
 */
export async function wireSixRepos(
  topo: Topology,
  o: {
    server: Pick<ProsodyServer, 'domain' | 'service'>;
    user: string;
    password: string;
    planner: 'tree' | 'flood';
  },
): Promise<SixRepos> {
  const laptops = topo.clones;
  const [a1, a2, b1, b2] = laptops as [string, string, string, string];
  const cl = topo.cloud!;
  annex(cl, 'init', '-q', 'cloud');
  const cloudUuid = uuidOf(cl);
  const pairs: Array<[string, string, string]> = [
    [a1, a2, 'a2'],
    [a2, a1, 'a1'],
    [b1, b2, 'b2'],
    [b2, b1, 'b1'],
  ];
  for (const [from, to, name] of pairs) {
    git(from, 'remote', 'add', name, to);
    git(from, 'config', `remote.${name}.annex-uuid`, uuidOf(to));
    git(from, 'config', `remote.${name}.annex-cost`, '100');
  }
  for (const l of laptops) {
    git(l, 'config', 'remote.origin.annex-uuid', cloudUuid);
    git(l, 'config', 'remote.origin.annex-cost', '1000');
    git(l, 'config', 'autosync.xmpp.jid', `${o.user}@${o.server.domain}`);
    git(l, 'config', 'autosync.xmpp.service', o.server.service);
    git(l, 'config', 'autosync.planner', o.planner);
    copyFileSync(join(a1, '.git/autosync/key'), join(l, '.git/autosync/key'));
  }
  annex(a1, 'group', 'origin', 'transfer');
  // The helper's seed repository is in the git-annex branch, wants everything and is reachable by
  // no one: a map with such a wanter is incomplete, and every key would be flooded. Gone for good.
  annex(a1, 'dead', '--quiet', uuidOf(join(topo.root, 'seed')));
  for (const ag of topo.agents)
    (ag as unknown as { env: NodeJS.ProcessEnv }).env.GIT_AUTOSYNC_XMPP_PASSWORD = o.password;
  await topo.startAll();
  // Every agent knows the whole network before the key is added: a1's tree reaches all laptops,
  // through the cloud, and every laptop knows every repository (the git-annex branch).
  const ids = laptops.map(uuidOf);
  let why = '';
  const ready = (): boolean => {
    const m = mapOf(a1);
    const cloudNode = m.nodes.find((n) => n.id === cloudUuid);
    if (cloudNode?.group !== 'transfer') return !(why = `cloud group ${String(cloudNode?.group)}`);
    if (m.unreachable.length > 0 || m.tree.length !== 4)
      return !(why = `tree ${JSON.stringify(m.tree)} unreachable ${JSON.stringify(m.unreachable)}`);
    for (const l of laptops) {
      const log = git(l, 'show', 'git-annex:uuid.log');
      const groups = git(l, 'show', 'git-annex:group.log');
      if (!ids.every((u) => log.includes(u)) || !groups.includes(cloudUuid))
        return !(why = `${l} lacks the annex logs`);
    }
    return true;
  };
  await waitFor(ready, { what: 'every agent to know the six-repository map', timeoutMs: 60_000 }).catch(
    (e: Error) => {
      throw new Error(`${e.message}: ${why}`);
    },
  );
  return { topo, laptops, a1, cl, cloudUuid };
}

/**
 * Adds a file of `size` bytes on a1 and waits until every laptop has its content and the cloud
 * has dropped its bridge copy; returns the key.
 */
export async function addAndSpread(six: SixRepos, size: number, name = 'big.bin'): Promise<string> {
  const { laptops, a1, cl } = six;
  writeBig(join(a1, name), size);
  let key = '';
  await waitFor(
    () => {
      try {
        key = git(a1, 'annex', 'lookupkey', name).trim();
      } catch {
        return false;
      }
      return key !== '';
    },
    { what: 'the file committed into the annex on a1', timeoutMs: 30_000 },
  );
  await waitFor(() => laptops.every((l) => hasKey(l, key)), {
    what: () =>
      `every laptop to have the content (missing on ${laptops
        .filter((l) => !hasKey(l, key))
        .map((l) => basename(l))
        .join(', ')}; transfers: ${laptops.map((l) => transfersDone(l).join(',')).join(' | ')})`,
    timeoutMs: 120_000,
  });
  await waitFor(() => !hasKey(cl, key), { what: 'the cloud to drop its bridge copy', timeoutMs: 60_000 });
  return key;
}
