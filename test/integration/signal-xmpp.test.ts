// The XMPP signal layer against a real Prosody and a real ejabberd: three "clones" per transport (no git: fake repo
// id and key), delivery, a peer going offline and coming back, and a server restart mid-run.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { captureLogger, type ProsodyServer } from '../helpers/prosody.js';
import { XMPP_SERVERS } from '../helpers/xmpp-servers.js';
import { waitFor } from '../helpers/wait.js';
import { createTransport, SameAccountTransport, type XmppTransport } from '../../src/signal/index.js';
import type { PeerAnnouncement } from '../../src/signal/types.js';

const PASSWORD = 'pw-' + randomBytes(8).toString('hex');
const KEY = randomBytes(32);
const REPO = 'repo-' + randomBytes(4).toString('hex');
/** Fast retries and keepalives: the tests wait on conditions, so short timers only speed them up. */
const TIMING = {
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
  pingIntervalMs: 2_000,
  pongTimeoutMs: 1_500,
  connectTimeoutMs: 5_000,
};

/** The server of the suite running now (the suites run one after the other). */
let server: ProsodyServer;

interface Clone {
  name: string;
  t: XmppTransport;
  got: Array<PeerAnnouncement & { at: number }>;
  connected: number;
  lines: string[];
}

function makeClone(name: string, room: string | null): Clone {
  const { log, lines } = captureLogger();
  const clone: Clone = { name, t: null as unknown as XmppTransport, got: [], connected: 0, lines };
  clone.t = createTransport({
    jid: 'alice@localhost',
    service: server.service,
    room,
    resource: `res-${name}`,
    password: PASSWORD,
    repoId: REPO,
    nodeId: `node-${name}`,
    key: KEY,
    log,
    handlers: {
      onPeerRefs: (a) => void clone.got.push({ ...a, at: performance.now() }),
      onConnected: () => void clone.connected++,
    },
    timing: TIMING,
  });
  return clone;
}

const sha = () => randomBytes(20).toString('hex');

async function allOnline(clones: Clone[]): Promise<void> {
  await waitFor(() => clones.every((c) => c.t.status().state === 'online'), {
    what: 'all clones online',
    timeoutMs: 15_000,
  });
}

/** Same-account mode only knows peers from presence: wait until each sees the others. */
async function peersKnown(clones: Clone[]): Promise<void> {
  await waitFor(
    () =>
      clones.every(
        (c) => !(c.t instanceof SameAccountTransport) || c.t.peerAddresses().length === clones.length - 1,
      ),
    { what: 'every clone sees the others in presence', timeoutMs: 10_000 },
  );
}

function received(c: Clone, value: string) {
  return c.got.find((a) => a.refs['refs/heads/main'] === value);
}

for (const kind of XMPP_SERVERS) {
  describe(kind.name, { skip: kind.skip }, () => {
    before(async () => {
      server = await kind.start();
      await server.register('alice', PASSWORD);
    });
    after(async () => {
      await server?.stop();
    });

    for (const mode of ['room', 'account'] as const) {
      test(`${mode} mode: delivery, offline peer, reconnect, server restart`, async (t) => {
        const room = mode === 'room' ? `sync-${randomBytes(3).toString('hex')}@${server.muc}` : null;
        const [a, b, c] = ['a', 'b', 'c'].map((n) => makeClone(`${mode}-${n}`, room)) as [
          Clone,
          Clone,
          Clone,
        ];
        const clones = [a, b, c];
        t.after(async () => {
          await Promise.all(clones.map((x) => x.t.stop()));
        });
        for (const x of clones) await x.t.start();
        await allOnline(clones);
        await peersKnown(clones);
        assert.equal(a.t.status().transport, mode === 'room' ? 'xmpp-room' : 'xmpp-account');
        assert.ok(
          clones.every((x) => x.connected === 1),
          'onConnected once per clone',
        );

        await t.test('an announce on A reaches B and C, and not A itself', async () => {
          const s1 = sha();
          const sentAt = performance.now();
          a.t.announce({
            refs: { 'refs/heads/main': s1, 'refs/heads/git-annex': sha() },
            pushedTo: ['uuid-origin'],
          });
          const gotB = await waitFor(() => received(b, s1), { what: 'B receives s1' });
          const gotC = await waitFor(() => received(c, s1), { what: 'C receives s1' });
          assert.equal(gotB.from, `node-${mode}-a`);
          assert.deepEqual(gotB.pushedTo, ['uuid-origin']);
          assert.equal(Object.keys(gotC.refs).length, 2);
          assert.equal(received(a, s1), undefined, 'no echo delivered to the sender');
          t.diagnostic(
            `${mode}: announce -> B ${(gotB.at - sentAt).toFixed(1)} ms, C ${(gotC.at - sentAt).toFixed(1)} ms`,
          );
          assert.ok(b.t.status().peers.some((p) => p.id === `node-${mode}-a`));
          assert.equal(b.t.status().rejected, 0);
        });

        await t.test('latency: 50 signals A -> B, announce() to onPeerRefs()', async () => {
          const times: number[] = [];
          for (let i = 0; i < 50; i++) {
            const v = sha();
            const t0 = performance.now();
            a.t.announce({ refs: { 'refs/heads/main': v }, pushedTo: [] });
            const got = await waitFor(() => received(b, v), { what: 'B receives', intervalMs: 1 });
            times.push(got.at - t0);
          }
          times.sort((x, y) => x - y);
          const pct = (p: number) =>
            times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(2);
          t.diagnostic(
            `${mode}: one-way latency on loopback: median ${pct(0.5)} ms, p90 ${pct(0.9)} ms, max ${pct(1)} ms`,
          );
        });

        await t.test('a peer offline then back gets onConnected and later signals', async () => {
          await b.t.stop();
          assert.equal(b.t.status().state, 'offline');
          const whileAway = sha();
          a.t.announce({ refs: { 'refs/heads/main': whileAway }, pushedTo: [] });
          await waitFor(() => received(c, whileAway), { what: 'C receives while B is away' });
          const before = b.connected;
          await b.t.start();
          await waitFor(() => b.connected === before + 1 && b.t.status().state === 'online', {
            what: 'B back online',
          });
          await peersKnown(clones);
          const later = sha();
          a.t.announce({ refs: { 'refs/heads/main': later }, pushedTo: [] });
          await waitFor(() => received(b, later), { what: 'B receives after coming back' });

          // A dropped TCP connection (no clean close): B notices, reconnects by itself.
          const conn = (b.t as unknown as { conn: { client: { socket: { destroy(): void } } } }).conn;
          conn.client.socket.destroy();
          await waitFor(() => b.connected === before + 2 && b.t.status().state === 'online', {
            what: 'B reconnects after a dropped socket',
          });
          await peersKnown(clones);
          const afterDrop = sha();
          c.t.announce({ refs: { 'refs/heads/main': afterDrop }, pushedTo: [] });
          await waitFor(() => received(b, afterDrop), { what: 'B receives after the drop' });
          await waitFor(() => received(a, afterDrop), { what: 'A receives from C' });
        });

        await t.test('announcements made while offline coalesce and go out on reconnect', async () => {
          await a.t.stop();
          const old = sha();
          const newest = sha();
          a.t.announce({ refs: { 'refs/heads/main': old }, pushedTo: [] });
          a.t.announce({ refs: { 'refs/heads/main': newest }, pushedTo: [] });
          await a.t.start();
          await waitFor(() => a.t.status().state === 'online', { what: 'A online' });
          // Same-account mode: the queued announcement goes to the peers A knows when it flushes;
          // B and C see A's presence and A theirs within a round trip, so re-announce if needed.
          if (mode === 'account') {
            await peersKnown(clones);
            if (!received(b, newest)) a.t.announce({ refs: { 'refs/heads/main': newest }, pushedTo: [] });
          }
          await waitFor(() => received(b, newest) && received(c, newest), {
            what: 'B and C receive the newest',
          });
          assert.equal(received(b, old), undefined, 'the superseded announcement is never sent');
        });

        await t.test('server restarted mid-run: all reconnect and signals flow again', async () => {
          const counts = clones.map((x) => x.connected);
          await server.restart();
          await waitFor(
            () => clones.every((x, i) => x.connected > counts[i]! && x.t.status().state === 'online'),
            {
              what: 'all clones reconnected after the restart',
              timeoutMs: 20_000,
            },
          );
          await peersKnown(clones);
          const s = sha();
          b.t.announce({ refs: { 'refs/heads/main': s }, pushedTo: [] });
          await waitFor(() => received(a, s) && received(c, s), {
            what: 'A and C receive after the restart',
          });
          assert.ok(clones.every((x) => x.t.status().error === null));
        });

        await t.test('room mode: the room was configured with the key-derived password', (t2) => {
          if (mode !== 'room') return t2.skip('account mode has no room');
          const all = clones.flatMap((x) => x.lines).join('\n');
          assert.ok(all.includes('created the signal room: password-protected'), 'the creator configured it');
          assert.ok(!all.includes('could not configure the signal room'), 'the server took the whole form');
        });

        await t.test('no secret reaches the logs', () => {
          const all = clones.flatMap((x) => x.lines).join('\n');
          assert.ok(all.length > 0);
          assert.ok(!all.includes(PASSWORD), 'password in a log line');
          assert.ok(!all.includes(KEY.toString('hex')), 'key in a log line');
        });
      });
    }
  });
}
