// Three real agents on three clones that share only a bare "cloud" remote, with the remote watch
// off: a push into the cloud notifies no one, so every propagation travels over XMPP (a real Prosody
// on loopback). Both transports: a MUC room, and one account's resources.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { read, write, git } from '../helpers/repos.js';
import { converged, type AgentProc } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using, type Topology } from '../helpers/topology.js';
import { startProsody, type ProsodyServer } from '../helpers/prosody.js';

const PASSWORD = 'correct horse';
let server: ProsodyServer;

before(async () => {
  server = await startProsody();
  await server.register('alice', PASSWORD);
});
after(async () => {
  await server?.stop();
});

function configure(topo: Topology, room: string | null, password = PASSWORD): void {
  for (const c of topo.clones) {
    git(c, 'config', 'autosync.xmpp.jid', `alice@${server.domain}`);
    git(c, 'config', 'autosync.xmpp.service', server.service);
    if (room) git(c, 'config', 'autosync.xmpp.room', room);
    // Only XMPP may carry the news: the shared cloud directory is not watched.
    git(c, 'config', 'autosync.watchRemotes', 'false');
    copyFileSync(join(topo.clones[0]!, '.git/autosync/key'), join(c, '.git/autosync/key'));
  }
  for (const a of topo.agents)
    (a as unknown as { env: NodeJS.ProcessEnv }).env.GIT_AUTOSYNC_XMPP_PASSWORD = password;
}

async function online(agents: AgentProc[], peers: number): Promise<void> {
  await waitFor(
    async () => {
      const sts = await Promise.all(agents.map((a) => a.status()));
      return sts.every((s) => s.signal.state === 'online' && s.signal.peers.length >= peers);
    },
    { what: 'agents online and seeing their peers', timeoutMs: 30_000 },
  );
}

for (const mode of ['room', 'account'] as const) {
  test(`xmpp ${mode}: a change on A reaches B and C; an offline peer catches up; a server restart heals`, async (t) => {
    const topo = using(t, (root) => cloud(root, ['a', 'b', 'c']));
    const room = mode === 'room' ? `sync-${randomBytes(3).toString('hex')}@${server.muc}` : null;
    configure(topo, room);
    await topo.startAll();
    const [a, b, c] = topo.clones as [string, string, string];
    const [, , agentC] = topo.agents as [AgentProc, AgentProc, AgentProc];
    await online(topo.agents, 0);
    const st = await topo.agents[0]!.status();
    assert.equal(st.signal.transport, mode === 'room' ? 'xmpp-room' : 'xmpp-account');

    write(a, 'over-xmpp.txt', 'signalled\n');
    await waitFor(
      () => read(b, 'over-xmpp.txt') === 'signalled\n' && read(c, 'over-xmpp.txt') === 'signalled\n',
      {
        what: 'the change to reach b and c over XMPP',
      },
    );

    // C goes offline; A and B change things; C catches up when it comes back.
    await agentC.stop();
    write(a, 'while-c-was-away.txt', 'a\n');
    write(b, 'also-while-away.txt', 'b\n');
    await waitFor(() => read(a, 'also-while-away.txt') === 'b\n', { what: 'a and b to sync without c' });
    await agentC.start();
    await converged(topo.clones, { what: 'c to catch up on reconnect' });

    // The server restarts mid-run: the agents reconnect and converge again.
    await server.restart();
    await online(topo.agents, 0);
    write(b, 'after-restart.txt', 'healed\n');
    await waitFor(
      () => read(a, 'after-restart.txt') === 'healed\n' && read(c, 'after-restart.txt') === 'healed\n',
      {
        what: 'sync after the server restart',
      },
    );
    const rejected = (await Promise.all(topo.agents.map((x) => x.status()))).map((s) => s.signal.rejected);
    assert.deepEqual(rejected, [0, 0, 0], 'peers with the shared key reject nothing');
  });
}

test('xmpp: a wrong password is a clear error in status, and the agent keeps retrying', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a']));
  configure(topo, null, 'wrong password');
  await topo.startAll();
  const st = await waitFor(
    async () => {
      const s = await topo.agents[0]!.status();
      return s.signal.error && /authentication failed/.test(s.signal.error) ? s : null;
    },
    { what: 'an authentication error in status' },
  );
  assert.notEqual(st.signal.state, 'online');
  assert.ok(!JSON.stringify(st).includes('wrong password'), 'the password never appears in status');
  // Local work goes on regardless.
  write(topo.clones[0]!, 'local.txt', 'x\n');
  await waitFor(() => git(topo.clones[0]!, 'log', '-1', '--format=%s').includes('added'), {
    what: 'local commit',
  });
});

test('xmpp account: two clones whose keys differ see no peer, and status says the keys differ', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b']));
  configure(topo, null);
  // Clone b gets a key of its own, as if it had been set up with init instead of a copied key.
  writeFileSync(join(topo.clones[1]!, '.git/autosync/key'), randomBytes(32).toString('hex') + '\n', {
    mode: 0o600,
  });
  await topo.startAll();
  await online(topo.agents, 0);
  for (const agent of topo.agents) {
    const sig = await waitFor(
      async () => {
        const s = (await agent.status()).signal;
        return s.hint ? s : null;
      },
      { what: 'a hint in status' },
    );
    assert.match(
      sig.hint!,
      /^no agent with this clone's repository key is online, but git-autosync\.[^ ]+ on this account uses a different key: .*copy \.git\/autosync\/key from one clone to the other and restart both agents$/,
    );
    assert.equal(sig.peers.length, 0);
  }
});
