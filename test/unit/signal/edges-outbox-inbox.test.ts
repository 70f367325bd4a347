// The outbox and inbox parts for edges and plans: when our edges go out (now, after a reconnect,
// when a peer joins), that a plan goes out once and again (bounded) when a peer joins, and that the inbox hands a verified <edges/> or
// <plan/> to its handler and counts a forged one. A fake connection records what is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type XmlElement } from '@xmpp/client';
import pino from 'pino';
import { Outbox } from '../../../src/signal/xmpp-outbox.js';
import { Inbox } from '../../../src/signal/xmpp-inbox.js';
import { EDGES_NS } from '../../../src/signal/edges-codec.js';
import { PLAN_NS } from '../../../src/signal/plan-codec.js';
import { MAX_RESENDS } from '../../../src/signal/plan-resend.js';
import { PlanStore } from '../../../src/map/plan-store.js';
import type { Conn } from '../../../src/signal/xmpp-connection.js';
import type { KeyPlan, OwnEdges, PeerEdges } from '../../../src/signal/types.js';

const KEY = Buffer.alloc(32, 7);
const REPO = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const log = pino({ level: 'silent' });
const own: OwnEdges = {
  self: U1,
  edges: [{ to: U2, remote: 'desk', cost: 100_000, type: 'git-local', reachable: true }],
};
const plan: KeyPlan = { key: 'SHA256E-s4--abcd', origin: U1, edges: [{ from: U1, to: U2, via: 'upload' }] };

function fakeConn(): { conn: Conn; sent: XmlElement[] } {
  const sent: XmlElement[] = [];
  const client = {
    sendMany: async (els: XmlElement[]) => void sent.push(...els),
    streamManagement: { enabled: false },
  };
  return { conn: { client, online: true, dead: false } as unknown as Conn, sent };
}

function outbox(conn: () => Conn | null) {
  return new Outbox({
    kind: () => 'xmpp-room',
    repoId: REPO,
    nodeId: 'laptop-a',
    key: KEY,
    log,
    conn,
    wrap: (els) => els.map((e) => xml('message', { to: 'room@muc', type: 'groupchat' }, e)),
  });
}

/** Lets the flushes the outbox started in the background run to their end (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

const kinds = (sent: XmlElement[]) =>
  sent.map((m) => (m.getChild('edges', EDGES_NS) ? 'edges' : m.getChild('plan', PLAN_NS) ? 'plan' : 'other'));

test('our edges go out when given, again after a reconnect and when a peer joins; a plan once', async () => {
  const { conn, sent } = fakeConn();
  let live: Conn | null = null;
  const o = outbox(() => live);
  o.announceEdges(own);
  await settle();
  assert.deepEqual(sent, [], 'offline: nothing is sent, nothing thrown');
  live = conn;
  await o.flush();
  await settle();
  assert.deepEqual(kinds(sent), ['edges']);
  await settle();
  assert.deepEqual(kinds(sent), ['edges'], 'not sent again without a reason');
  o.reconnected();
  await o.flush();
  await settle();
  o.peerJoined();
  await settle();
  o.announcePlan(plan);
  await settle();
  assert.deepEqual(kinds(sent), ['edges', 'edges', 'edges', 'plan']);
  assert.equal(o.sent, 4);
});

test('a plan goes out again when a peer joins or we reconnect, at most MAX_RESENDS times', async () => {
  const { conn, sent } = fakeConn();
  const o = outbox(() => conn);
  o.announcePlan(plan);
  await settle();
  assert.deepEqual(kinds(sent), ['plan']);
  // No edges given yet: a join sends only the plan again.
  o.peerJoined();
  await settle();
  assert.deepEqual(kinds(sent), ['plan', 'plan'], 'a peer that was away gets the plan it missed');
  o.reconnected();
  await o.flush();
  await settle();
  assert.equal(kinds(sent).length, 3, 'after a reconnect, the plan goes again');
  for (let i = 0; i < MAX_RESENDS + 2; i++) {
    o.peerJoined();
    await settle();
  }
  assert.equal(kinds(sent).filter((k) => k === 'plan').length, 1 + MAX_RESENDS, 'resends are bounded');
  // The receiver keeps the first plan for a key: every resend after it changes nothing.
  const got = { edges: [] as PeerEdges[], plans: [] as KeyPlan[], joined: [] as number[] };
  const i = inbox(got);
  for (const m of sent) i.receivePlan(m);
  assert.equal(got.plans.length, 1 + MAX_RESENDS, 'each resend is a fresh, verified message');
  const store = new PlanStore(U2);
  assert.deepEqual(
    got.plans.map((p) => store.put(p, 0)),
    [true, false, false, false],
  );
});

function inbox(handlers: { edges: PeerEdges[]; plans: KeyPlan[]; joined: number[] }) {
  return new Inbox({
    kind: () => 'xmpp-room',
    repoId: REPO,
    nodeId: 'laptop-b',
    key: KEY,
    log,
    handlers: {
      onPeerRefs: () => undefined,
      onConnected: () => undefined,
      onPeerEdges: (e) => handlers.edges.push(e),
      onPeerPlan: (_n, p) => handlers.plans.push(p),
    },
    routable: () => true,
    newPeer: () => handlers.joined.push(1),
  });
}

test('the inbox hands verified edges and plans on, tells of a new peer once, counts a forgery', async () => {
  const { conn, sent } = fakeConn();
  const o = outbox(() => conn);
  o.announceEdges(own);
  o.announcePlan(plan);
  await settle();
  const got = { edges: [] as PeerEdges[], plans: [] as KeyPlan[], joined: [] as number[] };
  const i = inbox(got);
  for (const m of sent) {
    if (m.getChild('edges', EDGES_NS)) i.receiveEdges(m);
    else i.receivePlan(m);
  }
  assert.equal(got.edges.length, 1);
  assert.deepEqual(got.edges[0]!.edges, own.edges);
  assert.deepEqual(got.plans, [plan]);
  assert.equal(got.joined.length, 1, 'one new peer, told once');
  const forged = xml(
    'message',
    { from: 'room@muc/x', type: 'groupchat' },
    sent[0]!.getChild('edges', EDGES_NS)!,
  );
  forged.getChild('edges', EDGES_NS)!.getChild('edge')!.attrs.cost = '1';
  i.receiveEdges(forged);
  assert.equal(got.edges.length, 1);
  assert.equal(i.status().rejected, 1);
  assert.match(i.status().rejectedWhy ?? '', /^bad-mac from x: edges: MAC mismatch/);
  assert.equal(i.status().edgesAccepted, 1);
});
