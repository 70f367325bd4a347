// One signal room shared by clones on different XMPP accounts, with real agents on a real Prosody
// that locks new rooms until they are configured (its default). No room exists beforehand: the
// first agent in creates it, protected by the password derived from the repository key, and the
// agents on the other accounts get in with the same key. The remote watch is off, so every change
// travels over the room. Clones whose keys differ are kept out (password room) or told why their
// signals are rejected (a room that is open because someone else made it by hand).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { xml } from '@xmpp/client';
import { read, write, git } from '../helpers/repos.js';
import { type AgentProc } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using, type Topology } from '../helpers/topology.js';
import {
  startProsody,
  registerAccounts,
  rawClient,
  rawJoin,
  type ProsodyServer,
} from '../helpers/prosody.js';
import { roomPassword } from '../../src/signal/room.js';

let server: ProsodyServer;
let passwords: Record<string, string>;

before(async () => {
  server = await startProsody({ roomLocking: true });
  passwords = await registerAccounts(server, ['alice', 'bob', 'carol', 'dave']);
});
after(async () => {
  await server?.stop();
});

/** Clone i signs in as users[i]; all share the room, and clone 0's key unless told otherwise. */
function configure(topo: Topology, room: string, users: string[], shareKey = true): void {
  topo.clones.forEach((c, i) => {
    git(c, 'config', 'autosync.xmpp.jid', `${users[i]}@${server.domain}`);
    git(c, 'config', 'autosync.xmpp.service', server.service);
    git(c, 'config', 'autosync.xmpp.room', room);
    // Only the room may carry the news: the shared cloud directory is not watched.
    git(c, 'config', 'autosync.watchRemotes', 'false');
    if (shareKey && i > 0)
      copyFileSync(join(topo.clones[0]!, '.git/autosync/key'), join(c, '.git/autosync/key'));
    // Its own env object: the topology's agents share one, and each signs in as someone else.
    const agent = topo.agents[i] as unknown as { env: NodeJS.ProcessEnv };
    agent.env = { ...agent.env, GIT_AUTOSYNC_XMPP_PASSWORD: passwords[users[i]!] };
  });
}

const newRoom = (what: string) => `${what}-${randomBytes(3).toString('hex')}@${server.muc}`;

test('three accounts, one room nobody made beforehand: a change on each clone reaches the other two', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b', 'c']));
  const room = newRoom('three');
  configure(topo, room, ['alice', 'bob', 'carol']);
  // All at once: whoever is first creates the room, the others may meet it still locked and retry.
  await topo.startAll();
  let errors: Array<string | null | undefined> = [];
  await waitFor(
    async () => {
      const sts = await Promise.all(topo.agents.map((a) => a.status()));
      errors = sts.map((s) => s.signal.error);
      return sts.every((s) => s.signal.state === 'online');
    },
    { what: () => `all three in the room; errors: ${errors.join(' | ')}`, timeoutMs: 60_000 },
  );
  for (const [i, clone] of topo.clones.entries()) {
    const name = `from-${'abc'[i]}.txt`;
    write(clone, name, `${'abc'[i]}\n`);
    const others = topo.clones.filter((o) => o !== clone);
    await waitFor(() => others.every((o) => read(o, name) === `${'abc'[i]}\n`), {
      what: `${name} to reach the other two clones over the room`,
      timeoutMs: 60_000,
    });
  }
  const sts = await Promise.all(topo.agents.map((a) => a.status()));
  for (const s of sts) {
    assert.equal(s.signal.transport, 'xmpp-room');
    assert.equal(s.signal.rejected, 0);
    // The news came as verified room signals (the cloud is not watched): from both other clones.
    assert.ok((s.signal.accepted ?? 0) >= 2, JSON.stringify(s.signal));
    assert.ok(s.signal.peers.length >= 2, JSON.stringify(s.signal.peers));
  }
  // The room is open to any account with the key, closed to everyone else.
  const probe = await rawClient(server, 'dave', passwords.dave!, 'probe');
  try {
    await probe.client.send(
      xml(
        'iq',
        { type: 'get', to: room, id: 'info' },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      ),
    );
    const info = await waitFor(() => probe.received.find((s) => s.attrs.id === 'info'), {
      what: 'disco#info',
    });
    const features = (info.getChild('query')?.getChildren('feature') ?? []).map((f) => f.attrs.var);
    assert.ok(features.includes('muc_passwordprotected'), features.join(' '));
    assert.ok(features.includes('muc_open'), features.join(' '));
    const refused = await rawJoin(probe, room, 'probe');
    assert.equal(refused.attrs.type, 'error', 'no password, no entry');
    assert.ok(refused.getChild('error')?.getChild('not-authorized'), refused.toString());
  } finally {
    await probe.stop();
  }
  // The room password is never logged, and neither is any account password.
  const key = Buffer.from(readFileSync(join(topo.clones[0]!, '.git/autosync/key'), 'utf8').trim(), 'hex');
  for (const c of topo.clones) {
    const log = readFileSync(join(c, '.git/autosync/agent.log'), 'utf8');
    for (const pw of [...Object.values(passwords), roomPassword(key, room)]) assert.ok(!log.includes(pw));
  }
});

test('a clone with another key cannot enter the room: status says the keys differ and what to do', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b']));
  const room = newRoom('keys');
  configure(topo, room, ['alice', 'dave'], false);
  const [agentA, agentB] = topo.agents as [AgentProc, AgentProc];
  await agentA.start();
  await waitFor(async () => (await agentA.status()).signal.state === 'online', {
    what: 'A creates the room',
  });
  await agentB.start();
  const err = await waitFor(async () => (await agentB.status()).signal.error, { what: 'B refused' });
  assert.match(err, new RegExp(`cannot join room ${room}: not-authorized`));
  assert.match(
    err,
    /this clone's key differs .* copy \.git\/autosync\/key from a clone that syncs to this one/,
  );
  // Nothing B does reaches A through the room.
  write(topo.clones[1]!, 'from-b.txt', 'b\n');
  await waitFor(() => git(topo.clones[1]!, 'log', '-1', '--format=%s').includes('added'), {
    what: 'B commits',
  });
  assert.equal((await agentA.status()).signal.accepted ?? 0, 0);
  assert.equal((await agentB.status()).signal.state === 'online', false);
});

test('clones with different keys in an open room: status and log say the keys differ, once per peer', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b']));
  const room = newRoom('open');
  // Made by hand, from a chat client on another account: no password, and none of ours owns it.
  const human = await rawClient(server, 'carol', passwords.carol!, 'chat');
  t.after(() => human.stop());
  const made = await rawJoin(human, room, 'carol');
  assert.notEqual(made.attrs.type, 'error', made.toString());
  await human.client.send(
    xml(
      'iq',
      { type: 'set', to: room, id: 'instant' },
      xml(
        'query',
        { xmlns: 'http://jabber.org/protocol/muc#owner' },
        xml('x', { xmlns: 'jabber:x:data', type: 'submit' }),
      ),
    ),
  );
  await waitFor(() => human.received.find((s) => s.attrs.id === 'instant'), { what: 'room unlocked' });
  configure(topo, room, ['alice', 'alice'], false);
  await topo.startAll();
  const [agentA, agentB] = topo.agents as [AgentProc, AgentProc];
  await waitFor(
    async () =>
      (await agentA.status()).signal.state === 'online' && (await agentB.status()).signal.state === 'online',
    { what: 'both agents in the open room' },
  );
  write(topo.clones[0]!, 'one.txt', '1\n');
  const sig = await waitFor(
    async () => {
      const s = (await agentB.status()).signal;
      return s.hint ? s : null;
    },
    { what: 'a hint in B status', timeoutMs: 30_000 },
  );
  assert.match(
    sig.hint!,
    /signals from git-autosync\.[^ ]+ were rejected: they name another repository, so the repository keys differ/,
  );
  assert.match(sig.hint!, /copy \.git\/autosync\/key from one clone to the other and restart both agents/);
  assert.match(sig.rejectedWhy!, /^foreign-repo from /);
  const rejected = sig.rejected;
  write(topo.clones[0]!, 'two.txt', '2\n');
  await waitFor(async () => (await agentB.status()).signal.rejected > rejected, {
    what: 'another rejection',
  });
  const log = readFileSync(join(topo.clones[1]!, '.git/autosync/agent.log'), 'utf8');
  const hints = log.split('\n').filter((l) => l.includes('they name another repository'));
  assert.equal(hints.length, 1, 'logged once per peer, not once per signal');
  assert.equal((await agentB.status()).signal.accepted ?? 0, 0, 'nothing from A was acted on');
});
