// Edges over XMPP (issue 11, item 1): two annex clones of one bare annex "cloud", each with only
// the cloud as a remote, so neither can read the other's config. Each agent tells the other its
// edges over a real Prosody; `map --json` on one then shows the other's link to the cloud, with
// source `peer`, and `status --json` shows the report with its age and stale flag.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../helpers/repos.js';
import { cli } from '../helpers/agents.js';
import { annex, uuidOf } from '../helpers/annex.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';
import { startProsody, type ProsodyServer } from '../helpers/prosody.js';
import type { MapJson } from '../../src/map/render.js';

const PASSWORD = 'correct horse';
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

test("xmpp: each agent learns the other's edges; map and status show them as a peer's", async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b'], { annex: true }));
  const [a, b] = topo.clones as [string, string];
  const cloudPath = topo.cloud!;
  annex(cloudPath, 'init', '-q', 'cloud');
  const cloudUuid = git(cloudPath, 'config', 'annex.uuid').trim();
  for (const c of topo.clones) {
    // What git-annex records once it has talked to the remote.
    git(c, 'config', 'remote.origin.annex-uuid', cloudUuid);
    git(c, 'config', 'autosync.xmpp.jid', `alice@${server.domain}`);
    git(c, 'config', 'autosync.xmpp.service', server.service);
    git(c, 'config', 'autosync.watchRemotes', 'false');
    copyFileSync(join(a, '.git/autosync/key'), join(c, '.git/autosync/key'));
  }
  for (const ag of topo.agents)
    (ag as unknown as { env: NodeJS.ProcessEnv }).env.GIT_AUTOSYNC_XMPP_PASSWORD = PASSWORD;
  const [ua, ub] = [uuidOf(a), uuidOf(b)];

  // Without agents: a knows only its own link to the cloud.
  const offline = mapOf(a);
  assert.deepEqual(
    offline.edges.filter((e) => e.from === ub),
    [],
    "b's links are not in a's config",
  );

  await topo.startAll();
  const peerEdge = (m: MapJson, from: string) => m.edges.find((e) => e.from === from && e.to === cloudUuid);
  await waitFor(() => peerEdge(mapOf(a), ub) !== undefined && peerEdge(mapOf(b), ua) !== undefined, {
    what: "each agent to hear the other's edges",
    timeoutMs: 30_000,
  });
  const m = mapOf(a);
  const e = peerEdge(m, ub)!;
  assert.deepEqual(
    [e.remote, e.cost, e.source, e.stale, e.type],
    ['origin', 100, 'peer', false, 'git-local'],
  );
  assert.equal(m.nodes.find((n) => n.id === ub)?.agent, true);
  assert.ok(m.nodes.find((n) => n.id === ub)?.lastSeen);
  // Our own link stays as our config says it.
  assert.equal(peerEdge(m, ua)?.source, 'config');

  const st = await topo.agents[0]!.status();
  assert.ok(st.map, 'status has the map');
  const rep = st.map.peers.find((p) => p.repo === ub);
  assert.ok(rep, "status lists b's report");
  assert.equal(rep.stale, false);
  assert.equal(rep.edges, 1);
  assert.ok(rep.ageSeconds >= 0);
  assert.equal(st.signal.rejected, 0);
  assert.ok((st.signal.edgesAccepted ?? 0) >= 1);

  // A changed link is told again: b's cost to the cloud goes up, a sees the new cost.
  git(b, 'config', 'remote.origin.annex-cost', '250');
  await waitFor(() => peerEdge(mapOf(a), ub)?.cost === 250, {
    what: "a to hear b's new cost",
    timeoutMs: 30_000,
  });
});
