// The XMPP signal layer under attack and under faults, against a real Prosody: forged, replayed,
// garbage, oversized and option-injection signals from a room member without the key; a
// members-only room refusing a stranger; a chat client of the same account that must get nothing;
// wrong password; unreachable server; a frozen server caught by the keepalive; a wake() (the
// network back) that reconnects at once instead of after the backoff.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { xml, type XmlElement } from '@xmpp/client';
import {
  startProsody,
  captureLogger,
  rawClient,
  rawJoin,
  freePort,
  type ProsodyServer,
} from '../helpers/prosody.js';
import { waitFor } from '../helpers/wait.js';
import { EventBus } from '../../src/core/bus.js';
import { createTransport, SameAccountTransport, type XmppTransport } from '../../src/signal/index.js';
import { encodeSignal, signalMac, SIGNAL_NS, type SignalFields } from '../../src/signal/codec.js';
import type { PeerAnnouncement } from '../../src/signal/types.js';
import type { XmppTiming } from '../../src/signal/xmpp.js';
import { roomPassword } from '../../src/signal/room.js';
import { findPassword, PASSWORD_ENV } from '../../src/signal/credentials.js';

const PASSWORD = 'pw-' + randomBytes(8).toString('hex');
const MALLORY_PASSWORD = 'pw-' + randomBytes(8).toString('hex');
const KEY = randomBytes(32);
const REPO = 'repo-' + randomBytes(4).toString('hex');
const TIMING: Partial<XmppTiming> = {
  backoffBaseMs: 100,
  backoffMaxMs: 1_000,
  connectTimeoutMs: 3_000,
};
/** Keepalive test only: short, so a frozen server is noticed fast (too short for a 1 MB stanza). */
const FAST_KEEPALIVE: Partial<XmppTiming> = { pingIntervalMs: 1_000, pongTimeoutMs: 1_000 };

let server: ProsodyServer;

before(async () => {
  server = await startProsody();
  await server.register('alice', PASSWORD);
  await server.register('mallory', MALLORY_PASSWORD);
});

after(async () => {
  await server?.stop();
});

interface Clone {
  t: XmppTransport;
  got: PeerAnnouncement[];
  connected: number;
  lines: string[];
  reasons: string[];
}

function makeClone(
  name: string,
  o: {
    repoId?: string;
    key?: Buffer;
    room?: string | null;
    jid?: string;
    password?: string;
    service?: string;
    timing?: Partial<XmppTiming>;
  } = {},
): Clone {
  const { log, lines } = captureLogger();
  const bus = new EventBus();
  const clone: Clone = { t: null as unknown as XmppTransport, got: [], connected: 0, lines, reasons: [] };
  bus.on('signalled', (e) => {
    if (e.direction === 'in' && !e.accepted) clone.reasons.push(e.reason ?? '?');
  });
  clone.t = createTransport({
    jid: o.jid ?? 'alice@localhost',
    service: o.service ?? server.service,
    room: o.room ?? null,
    resource: `res-${name}`,
    password: o.password ?? PASSWORD,
    repoId: o.repoId ?? REPO,
    nodeId: `node-${name}`,
    key: o.key ?? KEY,
    log,
    bus,
    handlers: {
      onPeerRefs: (a) => void clone.got.push(a),
      onConnected: () => void clone.connected++,
    },
    timing: { ...TIMING, ...o.timing },
  });
  return clone;
}

const sha = () => randomBytes(20).toString('hex');
const has = (c: Clone, v: string) => c.got.some((a) => Object.values(a.refs).includes(v));

/** The room's disco#info features (muc_passwordprotected, muc_membersonly, ...), asked by a raw client. */
async function roomFeatures(raw: Awaited<ReturnType<typeof rawClient>>, room: string): Promise<string[]> {
  const id = `disco-${randomBytes(4).toString('hex')}`;
  await raw.client.send(
    xml(
      'iq',
      { type: 'get', to: room, id },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
    ),
  );
  const res = await waitFor(() => raw.received.find((s) => s.attrs.id === id), { what: 'disco#info answer' });
  return (res.getChild('query')?.getChildren('feature') ?? []).map((f) => f.attrs.var ?? '');
}

test('room mode: a key-protected room, and an occupant without the key gets nothing accepted', async (t) => {
  const room = `guarded-${randomBytes(3).toString('hex')}@${server.muc}`;
  const a = makeClone('a', { room });
  const b = makeClone('b', { room });
  const clones = [a, b];
  const tool = await rawClient(server, 'alice', PASSWORD, 'tool');
  const mallory = await rawClient(server, 'mallory', MALLORY_PASSWORD, 'laptop');
  t.after(async () => {
    await Promise.all([...clones.map((c) => c.t.stop()), tool.stop(), mallory.stop()]);
  });
  await a.t.start();
  await waitFor(() => a.t.status().state === 'online', { what: 'A online (creates the room)' });
  await b.t.start();
  await waitFor(() => b.t.status().state === 'online', { what: 'B online' });

  await t.test(
    'the room we created is password-protected, open to any account, persistent, hidden',
    async () => {
      const features = await roomFeatures(tool, room);
      for (const f of ['muc_passwordprotected', 'muc_open', 'muc_persistent', 'muc_hidden'])
        assert.ok(features.includes(f), `${f} missing; features: ${features.join(' ')}`);
    },
  );

  await t.test(
    'without the key no one gets in: clear error in status and log, retried, no crash',
    async () => {
      // Another account with a key of its own: the password derived from it is not the room's.
      const m = makeClone('mallory-agent', {
        room,
        jid: 'mallory@localhost',
        password: MALLORY_PASSWORD,
        key: randomBytes(32),
      });
      try {
        await m.t.start();
        const err = await waitFor(() => m.t.status().error, { what: 'join error in status' });
        assert.match(err, new RegExp(`cannot join room ${room}: not-authorized`));
        assert.match(err, /copy \.git\/autosync\/key from a clone that syncs/);
        assert.notEqual(m.t.status().state, 'online');
        await waitFor(() => m.lines.filter((l) => l.includes('will retry')).length >= 2, {
          what: 'two retries logged',
        });
        assert.ok(m.lines.some((l) => l.includes('not-authorized')));
      } finally {
        await m.t.stop();
      }
      // A plain client with no password at all is refused the same way.
      const refused = await rawJoin(mallory, room, 'mallory-nopw');
      assert.equal(refused.attrs.type, 'error', refused.toString());
      assert.ok(refused.getChild('error')?.getChild('not-authorized'), refused.toString());
    },
  );

  await t.test('forged, replayed, garbage, 1 MB and option-injection signals: all rejected', async (t) => {
    // Someone who knows the room password but not the key (the server's operator sees it): an
    // occupant who sees every signal and can send, but cannot sign.
    const self = await rawJoin(mallory, room, 'mallory', roomPassword(KEY, room));
    assert.notEqual(self.attrs.type, 'error', self.toString());

    // Mallory records a genuine signal to replay it.
    const genuine = sha();
    a.t.announce({ refs: { 'refs/heads/main': genuine }, pushedTo: [] });
    await waitFor(() => has(b, genuine), { what: 'B receives the genuine signal' });
    const captured = await waitFor(
      () =>
        mallory.received
          .filter((s) => s.name === 'message')
          .map((s) => s.getChild('signal', SIGNAL_NS))
          .find((s) => s?.getChild('ref')?.attrs.sha === genuine),
      { what: 'mallory sees the genuine signal' },
    );
    const gotBefore = b.got.length;
    const rejectedBefore = b.t.status().rejected;

    const now = Date.now();
    const fields = (over: Partial<SignalFields>): SignalFields => ({
      repo: REPO,
      node: 'node-a',
      seq: now * 1000 + 5_000_000,
      ts: now,
      refs: { 'refs/heads/main': sha() },
      pushedTo: [],
      ...over,
    });
    /** Builds a <signal/> by hand (the encoder refuses bad values), MAC'd with `key` over the fields. */
    const handmade = (f: SignalFields, key: Buffer): XmlElement =>
      xml(
        'signal',
        { xmlns: SIGNAL_NS, v: '1', repo: f.repo, node: f.node, seq: String(f.seq), ts: String(f.ts) },
        ...Object.entries(f.refs).map(([name, s]) => xml('ref', { name, sha: s })),
        ...f.pushedTo.map((id) => xml('pushed', { to: id })),
        xml('mac', { alg: 'hmac-sha256' }, signalMac(key, f)),
      );
    const wrongKey = randomBytes(32);
    const attacks: Array<[string, XmlElement | XmlElement[], string]> = [
      ['forged with a wrong key', encodeSignal(fields({}), wrongKey), 'bad-mac'],
      ['forged as a new node', encodeSignal(fields({ node: 'node-z' }), wrongKey), 'bad-mac'],
      ['genuine fields, MAC tampered', tamperMac(encodeSignal(fields({}), KEY)), 'bad-mac'],
      ['replayed genuine signal', captured, 'replay'],
      ['stale timestamp (valid MAC)', encodeSignal(fields({ ts: now - 3_600_000 }), KEY), 'stale'],
      ['foreign repository', encodeSignal(fields({ repo: 'other-repo' }), KEY), 'foreign-repo'],
      ['garbage text', xml('signal', { xmlns: SIGNAL_NS }, 'garbage <&> \u00e9'), 'malformed'],
      [
        'no MAC',
        xml('signal', { xmlns: SIGNAL_NS, v: '1', repo: REPO, node: 'x', seq: '1', ts: '1' }),
        'malformed',
      ],
      ['unknown child', xml('signal', { xmlns: SIGNAL_NS, v: '1' }, xml('script', {}, 'x')), 'malformed'],
      [
        'two signals',
        [
          encodeSignal(fields({ seq: now * 1000 + 9e6 }), KEY),
          encodeSignal(fields({ seq: now * 1000 + 9e6 + 1 }), KEY),
        ],
        'malformed',
      ],
      ['1 MB signal', xml('signal', { xmlns: SIGNAL_NS, v: '1', junk: 'A'.repeat(1 << 20) }), 'oversized'],
      [
        'ref --upload-pack=evil',
        handmade(fields({ refs: { '--upload-pack=evil': sha() } }), KEY),
        'malformed',
      ],
      ['ref refs/heads/../x', handmade(fields({ refs: { 'refs/heads/../x': sha() } }), KEY), 'malformed'],
      [
        'sha ext::sh',
        handmade(fields({ refs: { 'refs/heads/main': 'ext::sh -c touch% /tmp/pwned' } }), KEY),
        'malformed',
      ],
      ['node --evil', handmade(fields({ node: '--evil' }), KEY), 'malformed'],
      ['pushedTo ext::', handmade(fields({ pushedTo: ['ext::sh'] }), KEY), 'malformed'],
      ['repo ../../etc', handmade(fields({ repo: '../../etc' }), KEY), 'malformed'],
    ];
    for (const [, payload] of attacks) {
      const children = Array.isArray(payload) ? payload : [payload];
      await mallory.client.send(xml('message', { to: room, type: 'groupchat' }, ...children));
    }
    // A private message through the room is not a room signal, whatever it carries.
    await mallory.client.send(
      xml(
        'message',
        { to: `${room}/node-b`, type: 'chat' },
        encodeSignal(fields({ seq: now * 1000 + 7e6 }), KEY),
      ),
    );
    // (No control characters in the garbage: they are not XML, and the server would close the
    // sender's stream rather than forward them.)
    const expected = attacks.length + 1;
    await waitFor(() => b.t.status().rejected - rejectedBefore >= expected, {
      what: `B counts ${expected} rejections`,
      timeoutMs: 10_000,
    }).catch((e: Error) => {
      throw new Error(
        `${e.message}; reasons so far: ${b.reasons.join(', ')}; mallory got errors: ${mallory.received
          .filter((st) => st.attrs.type === 'error')
          .map((st) => st.toString().slice(0, 300))
          .join(' | ')}`,
      );
    });
    assert.equal(b.t.status().rejected - rejectedBefore, expected);
    assert.equal(b.got.length, gotBefore, 'nothing delivered from the attacks');
    const reasons = b.reasons.slice(-expected);
    assert.deepEqual(
      reasons.slice(0, attacks.length),
      attacks.map(([, , r]) => r),
      'reasons in order',
    );
    assert.equal(reasons[attacks.length], 'wrong-route');
    // A counts them too, except the two with a valid MAC and A's own node id (replay, stale): to A
    // they are its own echo, dropped without counting.
    await waitFor(() => a.t.status().rejected === attacks.length - 2, { what: 'A counts them too' });
    assert.equal(a.connected, 1, 'A never lost its session');
    assert.equal(b.connected, 1, 'B never lost its session');
    t.diagnostic(`${expected} bad signals rejected in ${Date.now() - now} ms`);

    // Normal signals still work afterwards, both ways.
    const after1 = sha();
    a.t.announce({ refs: { 'refs/heads/main': after1 }, pushedTo: [] });
    await waitFor(() => has(b, after1), { what: 'B receives after the attacks' });
    const after2 = sha();
    b.t.announce({ refs: { 'refs/heads/main': after2 }, pushedTo: [] });
    await waitFor(() => has(a, after2), { what: 'A receives after the attacks' });
    assert.equal(a.t.status().state, 'online');
    assert.equal(b.t.status().state, 'online');
  });
});

test('same-account mode: only agent resources get signals; strangers are refused', async (t) => {
  const a = makeClone('acc-a');
  const b = makeClone('acc-b');
  // An agent of another repository on the same account: not a peer, gets nothing, counts nothing.
  const other = makeClone('acc-other', { repoId: 'other-repo', key: randomBytes(32) });
  // The user's chat client on the same account, at a normal (positive) priority.
  const chat = await rawClient(server, 'alice', PASSWORD, 'phone');
  await chat.client.send(xml('presence', {}, xml('priority', {}, '5')));
  const mallory = await rawClient(server, 'mallory', MALLORY_PASSWORD, 'laptop');
  t.after(async () => {
    await Promise.all([a.t.stop(), b.t.stop(), other.t.stop(), chat.stop(), mallory.stop()]);
  });
  await other.t.start();
  await waitFor(() => other.t.status().state === 'online', { what: 'the other repository agent online' });
  await a.t.start();
  await b.t.start();
  await waitFor(
    () =>
      a.t instanceof SameAccountTransport &&
      b.t instanceof SameAccountTransport &&
      a.t.peerAddresses().length === 1 &&
      b.t.peerAddresses().length === 1,
    { what: 'A and B see each other' },
  );
  const bJid = (b.t as SameAccountTransport).peerAddresses()[0];
  assert.equal(bJid, 'alice@localhost/res-acc-a');

  const s = sha();
  a.t.announce({ refs: { 'refs/heads/main': s }, pushedTo: [] });
  await waitFor(() => has(b, s), { what: 'B receives' });
  // A message to the bare JID would reach the chat client (highest priority): it must see none.
  const chatMessages = chat.received.filter((st) => st.name === 'message');
  assert.equal(chatMessages.length, 0, chatMessages.map((m) => m.toString()).join('\n'));
  // The agent's presence is xa with a negative priority: it never takes the user's chats.
  const agentPresence = chat.received.find(
    (st) => st.name === 'presence' && st.attrs.from === 'alice@localhost/res-acc-a',
  );
  assert.ok(agentPresence, 'the chat client sees the agent presence');
  assert.equal(agentPresence.getChildText('show'), 'xa');
  assert.ok(Number(agentPresence.getChildText('priority')) < 0);

  // A signal from another account, sent straight to the agent's full JID: refused.
  const rejected = b.t.status().rejected;
  const now = Date.now();
  await mallory.client.send(
    xml(
      'message',
      { to: 'alice@localhost/res-acc-b', type: 'headline' },
      encodeSignal(
        {
          repo: REPO,
          node: 'node-acc-a',
          seq: now * 1000 + 1e7,
          ts: now,
          refs: { 'refs/heads/main': sha() },
          pushedTo: [],
        },
        randomBytes(32),
      ),
    ),
  );
  await waitFor(() => b.t.status().rejected === rejected + 1, { what: 'B counts the stranger' });
  assert.equal(b.reasons.at(-1), 'wrong-route');
  // From our own account but without the key (a stolen password, say): bad MAC.
  await chat.client.send(
    xml(
      'message',
      { to: 'alice@localhost/res-acc-b', type: 'headline' },
      encodeSignal(
        {
          repo: REPO,
          node: 'node-acc-a',
          seq: now * 1000 + 2e7,
          ts: now,
          refs: { 'refs/heads/main': sha() },
          pushedTo: [],
        },
        randomBytes(32),
      ),
    ),
  );
  await waitFor(() => b.t.status().rejected === rejected + 2, { what: 'B counts the forgery' });
  assert.equal(b.reasons.at(-1), 'bad-mac');
  const s2 = sha();
  a.t.announce({ refs: { 'refs/heads/main': s2 }, pushedTo: [] });
  await waitFor(() => has(b, s2), { what: 'B still receives' });
  assert.deepEqual((other.t as SameAccountTransport).peerAddresses(), []);
  assert.equal(other.got.length, 0);
  assert.equal(other.t.status().rejected, 0, 'other repositories never see our signals');
  assert.equal(a.t.status().rejected, 0);
});

test('wrong password: clear error in status, retried, never logged', async () => {
  const wrong = 'wrong-' + randomBytes(8).toString('hex');
  const c = makeClone('badpw', { password: wrong });
  try {
    await c.t.start();
    const err = await waitFor(() => c.t.status().error, { what: 'auth error' });
    assert.equal(err, 'authentication failed for alice@localhost: not-authorized');
    assert.notEqual(c.t.status().state, 'online');
    await waitFor(() => c.lines.filter((l) => l.includes('will retry')).length >= 3, {
      what: 'three retries',
    });
    assert.ok(!c.lines.join('\n').includes(wrong), 'the password never reaches the log');
  } finally {
    await c.t.stop();
  }
  assert.equal(c.t.status().state, 'offline');
});

test('unreachable server: clear error in status, retried with backoff', async () => {
  const port = await freePort();
  const c = makeClone('nowhere', { service: `xmpp://127.0.0.1:${port}` });
  try {
    await c.t.start();
    const err = await waitFor(() => c.t.status().error, { what: 'connect error' });
    assert.equal(err, `cannot connect to xmpp://127.0.0.1:${port}: ECONNREFUSED`);
    await waitFor(() => c.lines.filter((l) => l.includes('will retry')).length >= 3, {
      what: 'three retries',
    });
    const delays = c.lines
      .filter((l) => l.includes('will retry'))
      .map((l) => (JSON.parse(l) as { retryInMs: number }).retryInMs);
    assert.ok(
      delays.every((d) => d > 0 && d <= 1_000),
      `delays within the cap: ${delays.join(',')}`,
    );
    assert.ok(['offline', 'connecting'].includes(c.t.status().state));
  } finally {
    await c.t.stop();
  }
});

test('a frozen server is caught by the keepalive; the transport recovers when it thaws', async () => {
  const room = `frozen-${randomBytes(3).toString('hex')}@${server.muc}`;
  const a = makeClone('ka-a', { room, timing: FAST_KEEPALIVE });
  const b = makeClone('ka-b', { room, timing: FAST_KEEPALIVE });
  try {
    await a.t.start();
    await b.t.start();
    await waitFor(() => a.t.status().state === 'online' && b.t.status().state === 'online', {
      what: 'online',
    });
    const t0 = Date.now();
    server.freeze();
    try {
      await waitFor(() => a.t.status().state !== 'online', {
        what: 'A notices the dead server',
        timeoutMs: 10_000,
      });
    } finally {
      server.thaw();
    }
    const detectMs = Date.now() - t0;
    assert.match(a.t.status().error ?? '', /keepalive|timed out|closed/);
    await waitFor(() => a.t.status().state === 'online' && b.t.status().state === 'online', {
      what: 'both back online',
      timeoutMs: 20_000,
    });
    const s = sha();
    a.t.announce({ refs: { 'refs/heads/main': s }, pushedTo: [] });
    await waitFor(() => has(b, s), { what: 'B receives after the thaw' });
    assert.ok(detectMs < 5_000, `dead server detected in ${detectMs} ms`);
  } finally {
    await Promise.all([a.t.stop(), b.t.stop()]);
  }
});

test('the network back (wake): a transport waiting out its backoff reconnects at once', async () => {
  // A backoff of half a minute at least: only wake() can bring it back within the wait below.
  const c = makeClone('wake', { timing: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 } });
  server.freeze();
  try {
    await c.t.start();
    await waitFor(() => c.lines.some((l) => l.includes('will retry')), {
      what: 'the first attempt failed (a server that does not answer)',
      timeoutMs: 10_000,
    });
  } finally {
    server.thaw();
  }
  try {
    const retryInMs = (JSON.parse(c.lines.find((l) => l.includes('will retry'))!) as { retryInMs: number })
      .retryInMs;
    assert.ok(retryInMs >= 30_000, `the backoff is long: ${retryInMs} ms`);
    c.t.wake();
    await waitFor(() => c.t.status().state === 'online', {
      what: 'online again before the backoff ran out',
      timeoutMs: 10_000,
    });
    assert.equal(c.connected, 1);
  } finally {
    await c.t.stop();
  }
});

function tamperMac(el: XmlElement): XmlElement {
  const mac = el.getChild('mac');
  if (!mac) throw new Error('no mac');
  const text = mac.text();
  mac.children = [(text[0] === '0' ? '1' : '0') + text.slice(1)];
  return el;
}

test('debug option: stanzas logged with SASL payloads and MACs removed', async () => {
  const { log, lines } = captureLogger('debug');
  const got: PeerAnnouncement[] = [];
  const mk = (name: string, debug: boolean) =>
    createTransport({
      jid: 'alice@localhost',
      service: server.service,
      resource: `res-${name}`,
      password: PASSWORD,
      repoId: REPO,
      nodeId: `node-${name}`,
      key: KEY,
      log: debug ? log : captureLogger().log,
      handlers: { onPeerRefs: (a) => void got.push(a), onConnected: () => {} },
      timing: TIMING,
      debug,
    });
  const a = mk('dbg-a', true);
  const b = mk('dbg-b', false);
  try {
    await a.start();
    await b.start();
    await waitFor(
      () =>
        (a as SameAccountTransport).peerAddresses().length === 1 &&
        (b as SameAccountTransport).peerAddresses().length === 1,
      { what: 'peers known' },
    );
    const s = sha();
    a.announce({ refs: { 'refs/heads/main': s }, pushedTo: [] });
    await waitFor(() => got.some((x) => x.refs['refs/heads/main'] === s), { what: 'delivered' });
    const text = lines.join('\n');
    assert.ok(text.includes('xmpp >') && text.includes('xmpp <'), 'stanzas are logged');
    assert.ok(text.includes(s), 'the signal itself is logged');
    assert.ok(!text.includes('hmac-sha256'), 'no MAC element in the log');
    const plainAuth = Buffer.from(`\u0000alice\u0000${PASSWORD}`).toString('base64');
    assert.ok(!text.includes(PASSWORD) && !text.includes(plainAuth), 'no password, not even base64');
    assert.ok(!text.includes(KEY.toString('hex')) && !text.includes(KEY.toString('base64')));
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('TLS: a certificate that does not verify is refused (STARTTLS and direct TLS), password never sent', async (t) => {
  const tlsServer = await startProsody({ tls: true });
  try {
    await tlsServer.register('alice', PASSWORD);
    for (const service of [tlsServer.service, tlsServer.tlsService!]) {
      const c = makeClone(`tls-${service.startsWith('xmpps') ? 'direct' : 'starttls'}`, { service });
      try {
        await c.t.start();
        const err = await waitFor(() => c.t.status().error, { what: `TLS error for ${service}` });
        assert.match(
          err,
          /TLS certificate of .* not accepted: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/,
        );
        assert.notEqual(c.t.status().state, 'online');
        t.diagnostic(err);
      } finally {
        await c.t.stop();
      }
    }
    assert.ok(!/authenticated|Authenticated/.test(tlsServer.logText()), 'no login happened');
  } finally {
    await tlsServer.stop();
  }
});

test('busy room: joining while the room is flooded keeps the stream-management count right', async (t) => {
  const room = `busy-${randomBytes(3).toString('hex')}@${server.muc}`;
  const chatter = await rawClient(server, 'alice', PASSWORD, 'chatter');
  await rawJoin(chatter, room, 'chatter');
  let flooding = true;
  let sent = 0;
  const flood = (async () => {
    while (flooding) {
      await chatter.client.send(
        xml('message', { to: room, type: 'groupchat' }, xml('body', {}, `line ${sent++}`)),
      );
      if (sent % 20 === 0) await new Promise((r) => setImmediate(r));
    }
  })();
  const clones = ['busy-a', 'busy-b', 'busy-c'].map((n) => makeClone(n, { room }));
  try {
    await Promise.all(clones.map((c) => c.t.start()));
    await waitFor(() => clones.every((c) => c.t.status().state === 'online'), {
      what: 'all online',
      timeoutMs: 15_000,
    });
    // Let several stream-management ack rounds pass under load.
    const until = Date.now() + 1_500;
    await waitFor(() => Date.now() > until, { what: 'load period' });
    const s = sha();
    clones[0]!.t.announce({ refs: { 'refs/heads/main': s }, pushedTo: [] });
    await waitFor(() => has(clones[1]!, s) && has(clones[2]!, s), { what: 'B and C receive under load' });
    flooding = false;
    await flood;
    t.diagnostic(`${sent} chat lines flooded the room`);
    for (const c of clones) {
      assert.equal(c.connected, 1, 'no session was lost');
      assert.equal(
        c.lines.filter((l) => l.includes('will retry')).length,
        0,
        c.lines.filter((l) => l.includes('will retry')).join('\n'),
      );
      assert.equal(c.t.status().rejected, 0, 'chat lines are not signals and are not counted');
    }
  } finally {
    flooding = false;
    await flood.catch(() => {});
    await Promise.all([...clones.map((c) => c.t.stop()), chatter.stop()]);
  }
});

test('password looked up per attempt: missing at first (clear error), found later without a restart', async () => {
  const env: NodeJS.ProcessEnv = {};
  const { log, lines } = captureLogger();
  let connected = 0;
  const t = createTransport({
    jid: 'alice@localhost',
    service: server.service,
    resource: 'res-lookup',
    password: async () => (await findPassword({ jid: 'alice@localhost', env, keyring: null })).password,
    repoId: REPO,
    nodeId: 'node-lookup',
    key: KEY,
    log,
    handlers: { onPeerRefs: () => {}, onConnected: () => void connected++ },
    timing: TIMING,
  });
  try {
    await t.start();
    const err = await waitFor(() => t.status().error, { what: 'missing password error' });
    assert.match(err, /^alice@localhost has no XMPP password; set GIT_AUTOSYNC_XMPP_PASSWORD/);
    assert.equal(t.status().state === 'online', false);
    env[PASSWORD_ENV] = PASSWORD;
    await waitFor(() => t.status().state === 'online' && connected === 1, {
      what: 'online once the password exists',
    });
    assert.equal(t.status().error, null);
    assert.ok(!lines.join('\n').includes(PASSWORD));
  } finally {
    await t.stop();
  }
});

test('room locking (Prosody default): the creator configures the new room and the others get in', async () => {
  const locked = await startProsody({ roomLocking: true });
  try {
    await locked.register('alice', PASSWORD);
    const room = `locked-${randomBytes(3).toString('hex')}@${locked.muc}`;
    const a = makeClone('lock-a', { room, service: locked.service });
    const b = makeClone('lock-b', { room, service: locked.service });
    try {
      await a.t.start();
      await waitFor(() => a.t.status().state === 'online', { what: 'A creates and joins' });
      assert.ok(a.lines.some((l) => l.includes('created the signal room: password-protected')));
      await b.t.start();
      await waitFor(() => b.t.status().state === 'online', { what: 'B joins the configured room' });
      const s = sha();
      a.t.announce({ refs: { 'refs/heads/main': s }, pushedTo: [] });
      await waitFor(() => has(b, s), { what: 'B receives' });
    } finally {
      await Promise.all([a.t.stop(), b.t.stop()]);
    }
  } finally {
    await locked.stop();
  }
});

test('room made members-only by an older agent: the owner reopens it to key holders on join', async (t) => {
  const room = `legacy-${randomBytes(3).toString('hex')}@${server.muc}`;
  // What an older agent left behind: a persistent, members-only room with no password, owned by alice.
  const tool = await rawClient(server, 'alice', PASSWORD, 'old-agent');
  const created = await rawJoin(tool, room, 'old-agent');
  assert.notEqual(created.attrs.type, 'error', created.toString());
  const id = 'legacy-cfg';
  await tool.client.send(
    xml(
      'iq',
      { type: 'set', to: room, id },
      xml(
        'query',
        { xmlns: 'http://jabber.org/protocol/muc#owner' },
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'submit' },
          ...[
            ['FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'],
            ['muc#roomconfig_persistentroom', '1'],
            ['muc#roomconfig_membersonly', '1'],
          ].map(([v, value]) => xml('field', { var: v }, xml('value', {}, value))),
        ),
      ),
    ),
  );
  await waitFor(() => tool.received.find((s) => s.attrs.id === id && s.attrs.type === 'result'), {
    what: 'the legacy configuration accepted',
  });
  await tool.stop();
  const bob = makeClone('legacy-bob', { room, jid: 'mallory@localhost', password: MALLORY_PASSWORD });
  const owner = makeClone('legacy-owner', { room });
  t.after(async () => {
    await Promise.all([bob.t.stop(), owner.t.stop()]);
  });
  await bob.t.start();
  const err = await waitFor(() => bob.t.status().error, { what: 'the other account locked out at first' });
  assert.match(err, /registration-required/);
  await owner.t.start();
  await waitFor(() => owner.t.status().state === 'online', { what: 'the owner joins' });
  assert.ok(
    owner.lines.some((l) => l.includes('reconfiguring the signal room') && l.includes('members-only')),
  );
  // Bob retries with backoff and now gets in, with the key-derived password.
  await waitFor(() => bob.t.status().state === 'online', {
    what: 'the other account gets in',
    timeoutMs: 20_000,
  });
  const s = sha();
  owner.t.announce({ refs: { 'refs/heads/main': s }, pushedTo: [] });
  await waitFor(() => has(bob, s), { what: 'bob receives from the owner' });
  const s2 = sha();
  bob.t.announce({ refs: { 'refs/heads/main': s2 }, pushedTo: [] });
  await waitFor(() => has(owner, s2), { what: 'the owner receives from bob' });
  const checker = await rawClient(server, 'alice', PASSWORD, 'checker');
  try {
    const features = await roomFeatures(checker, room);
    assert.ok(
      features.includes('muc_passwordprotected') && features.includes('muc_open'),
      features.join(' '),
    );
  } finally {
    await checker.stop();
  }
  // A second join by the owner finds the room right and leaves it alone.
  const before = owner.lines.filter((l) => l.includes('reconfiguring')).length;
  await owner.t.stop();
  await owner.t.start();
  await waitFor(() => owner.t.status().state === 'online', { what: 'the owner rejoins' });
  assert.equal(owner.lines.filter((l) => l.includes('reconfiguring')).length, before);
});

test('an open room nobody of ours owns, and clones whose keys differ: status says why and what to do', async (t) => {
  const room = `open-${randomBytes(3).toString('hex')}@${server.muc}`;
  // The user made the room by hand from a chat client on another account: no password, not ours.
  const human = await rawClient(server, 'mallory', MALLORY_PASSWORD, 'chat');
  const made = await rawJoin(human, room, 'human');
  assert.notEqual(made.attrs.type, 'error', made.toString());
  const a = makeClone('open-a', { room });
  const b = makeClone('open-b', { room, key: randomBytes(32) });
  t.after(async () => {
    await Promise.all([a.t.stop(), b.t.stop(), human.stop()]);
  });
  await a.t.start();
  await b.t.start();
  await waitFor(() => a.t.status().state === 'online' && b.t.status().state === 'online', {
    what: 'both join the open room',
  });
  await waitFor(
    () => a.lines.some((l) => l.includes('the signal room has no password and this account does not own it')),
    { what: 'the note that the room is open' },
  );
  // One at a time: announcements made back to back coalesce into one signal.
  for (let i = 1; i <= 3; i++) {
    a.t.announce({ refs: { 'refs/heads/main': sha() }, pushedTo: [] });
    await waitFor(() => b.t.status().rejected >= i, { what: `rejection ${i} counted` });
  }
  const st = b.t.status();
  assert.match(st.hint!, /^signals from node-open-a were rejected: .*the repository keys differ/);
  assert.match(st.hint!, /copy \.git\/autosync\/key from one clone to the other and restart both agents/);
  assert.match(st.rejectedWhy!, /^bad-mac from node-open-a: /);
  const hinted = b.lines.filter((l) => l.includes('signals from node-open-a were rejected'));
  assert.equal(hinted.length, 1, 'the hint is logged once per peer, not per stanza');
  assert.equal(b.got.length, 0);
});
