// The six repositories of issue 11: two LANs, each of two laptops that have each other as local
// remotes (cost 100), joined only through one bare annex cloud in the `transfer` group (cost
// 1000), the four agents peers over XMPP through a real Prosody. A key added on one laptop must
// cross the cloud link exactly twice with the tree planner (one upload, one download); flood is
// measured on the same topology and its count reported. Crossings are counted from the agents'
// transfer logs: every upload to and download from the cloud remote.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../helpers/repos.js';
import { cli, transfersDone } from '../helpers/agents.js';
import { annex, hasKey, uuidOf, writeBig } from '../helpers/annex.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';
import { startProsody, type ProsodyServer } from '../helpers/prosody.js';
import type { MapJson } from '../../src/map/render.js';

const PASSWORD = 'correct horse';
/** The measurement used 4 MiB files. */
const SIZE = 4 * 1024 * 1024;
let server: ProsodyServer;

before(async () => {
  server = await startProsody();
  await server.register('alice', PASSWORD);
});
after(async () => {
  await server?.stop();
});

function mapOf(repo: string): MapJson {
  const r = cli(['-C', repo, 'map', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as MapJson;
}

/** Uploads to and downloads from the cloud remote (`origin` on every laptop), over all laptops. */
function crossings(laptops: string[]): number {
  return laptops.flatMap((l) => transfersDone(l)).filter((t) => t.endsWith(' origin')).length;
}

async function sixRepos(t: TestContext, planner: 'tree' | 'flood') {
  const topo = using(t, (root) => cloud(root, ['a1', 'a2', 'b1', 'b2'], { annex: true }));
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
    git(l, 'config', 'autosync.xmpp.jid', `alice@${server.domain}`);
    git(l, 'config', 'autosync.xmpp.service', server.service);
    git(l, 'config', 'autosync.planner', planner);
    copyFileSync(join(a1, '.git/autosync/key'), join(l, '.git/autosync/key'));
  }
  annex(a1, 'group', 'origin', 'transfer');
  // The helper's seed repository is in the git-annex branch, wants everything and is reachable by
  // no one: a map with such a wanter is incomplete, and every key would be flooded. Gone for good.
  annex(a1, 'dead', '--quiet', uuidOf(join(topo.root, 'seed')));
  for (const ag of topo.agents)
    (ag as unknown as { env: NodeJS.ProcessEnv }).env.GIT_AUTOSYNC_XMPP_PASSWORD = PASSWORD;
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
  return { topo, laptops, a1, cl };
}

async function addAndSpread(laptops: string[], a1: string, cl: string): Promise<string> {
  writeBig(join(a1, 'big.bin'), SIZE);
  let key = '';
  await waitFor(
    () => {
      try {
        key = git(a1, 'annex', 'lookupkey', 'big.bin').trim();
      } catch {
        return false;
      }
      return key !== '';
    },
    { what: 'the file committed into the annex on a1', timeoutMs: 30_000 },
  );
  await waitFor(() => laptops.every((l) => hasKey(l, key)), {
    what: 'every laptop to have the content',
    timeoutMs: 120_000,
  });
  await waitFor(() => !hasKey(cl, key), { what: 'the cloud to drop its bridge copy', timeoutMs: 60_000 });
  return key;
}

test(
  'six repositories, tree planner: the key crosses the cloud link exactly twice',
  { timeout: 300_000 },
  async (t) => {
    const { laptops, a1, cl } = await sixRepos(t, 'tree');
    await addAndSpread(laptops, a1, cl);
    const n = crossings(laptops);
    t.diagnostic(`tree: ${n} crossings of the cloud link, ${n * SIZE} bytes`);
    assert.equal(
      n,
      2,
      `transfers through the cloud: ${laptops.map((l) => transfersDone(l).join(',')).join(' | ')}`,
    );
  },
);

test(
  'six repositories, flood planner: the same key crosses the cloud link more often',
  { timeout: 300_000 },
  async (t) => {
    const { laptops, a1, cl } = await sixRepos(t, 'flood');
    await addAndSpread(laptops, a1, cl);
    const n = crossings(laptops);
    t.diagnostic(`flood: ${n} crossings of the cloud link, ${n * SIZE} bytes`);
    // Flood's count depends on timing (3 in the runs, once 4); never fewer than the tree's.
    assert.ok(n >= 2, `${n} crossings`);
  },
);
