// Transport construction and offline behaviour, without a server: configuration errors are caught
// up front with a clear message, and announce() never throws or blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@xmpp/client';
import { pino } from 'pino';
import {
  createTransport,
  MucRoomTransport,
  SameAccountTransport,
  SignalConfigError,
  type XmppTransportOptions,
} from '../../../src/signal/index.js';
import { redactForLog } from '../../../src/signal/xmpp.js';
import { encodeSignal, SIGNAL_NS } from '../../../src/signal/codec.js';

function opts(over: Partial<XmppTransportOptions> = {}): XmppTransportOptions {
  return {
    jid: 'alice@example.org',
    service: 'xmpps://chat.example.org:5223',
    resource: 'laptop-repo',
    password: 'pw',
    repoId: 'repo-1',
    nodeId: 'node-1',
    key: Buffer.alloc(32, 1),
    log: pino({ level: 'silent' }),
    handlers: { onPeerRefs: () => {}, onConnected: () => {} },
    ...over,
  };
}

test('createTransport: room when a room is configured, same-account otherwise', () => {
  const room = createTransport(opts({ room: 'Sync@conference.example.org' }));
  assert.ok(room instanceof MucRoomTransport);
  assert.equal(room.kind, 'xmpp-room');
  assert.equal((room as MucRoomTransport).room, 'sync@conference.example.org');
  const acc = createTransport(opts());
  assert.ok(acc instanceof SameAccountTransport);
  assert.equal(acc.kind, 'xmpp-account');
});

test('bad configuration fails at construction with a clear message', () => {
  const bad: Array<[Partial<XmppTransportOptions>, RegExp]> = [
    [{ jid: 'example.org' }, /user@domain/],
    [{ jid: '@@' }, /jid/],
    [{ service: 'ws://chat.example.org/xmpp' }, /xmpp:\/\/ \(STARTTLS\) or xmpps:\/\//],
    [{ service: 'xmpp://user:pw@host' }, /nothing more/],
    [{ key: Buffer.alloc(8) }, /at least 16 bytes/],
    [{ nodeId: '--upload-pack=x' }, /node id/],
    [{ repoId: 'a/b' }, /repository id/],
    [{ resource: '' }, /resource/],
    [{ room: 'conference.example.org' }, /room@conference/],
    [{ room: 'r@conference.example.org/nick' }, /room@conference/],
  ];
  for (const [over, re] of bad) {
    assert.throws(
      () => createTransport(opts(over)),
      (e: Error) => e instanceof SignalConfigError && re.test(e.message),
      JSON.stringify(over),
    );
  }
});

test('never started: status is offline, announce() queues without throwing, stop() is harmless', async () => {
  const t = createTransport(opts());
  assert.deepEqual(t.status(), {
    transport: 'xmpp-account',
    state: 'offline',
    peers: [],
    rejected: 0,
    rejectedWhy: null,
    hint: null,
    sent: 0,
    accepted: 0,
    edgesAccepted: 0,
    error: null,
  });
  t.announce({ refs: { 'refs/heads/main': 'a'.repeat(40), '--evil': 'b'.repeat(40) }, pushedTo: ['x', 'x'] });
  await t.stop();
  assert.equal(t.status().state, 'offline');
});

test('debug log text: SASL payloads hidden, MACs removed, bounded', () => {
  const auth = xml(
    'auth',
    { xmlns: 'urn:ietf:params:xml:ns:xmpp-sasl', mechanism: 'PLAIN' },
    'AGFsaWNlAHNlY3JldA==',
  );
  const a = redactForLog(auth);
  assert.ok(!a.includes('AGFsaWNlAHNlY3JldA=='), a);
  const sig = encodeSignal(
    { repo: 'r', node: 'n', seq: 1, ts: 1, refs: { 'refs/heads/main': 'a'.repeat(40) }, pushedTo: [] },
    Buffer.alloc(32, 3),
  );
  const mac = sig.getChild('mac')!.text();
  const msg = xml('message', { to: 'room@c.example.org', type: 'groupchat' }, sig);
  const text = redactForLog(msg);
  assert.ok(text.includes('refs/heads/main'));
  assert.ok(!text.includes(mac), 'MAC removed');
  assert.ok(msg.getChild('signal', SIGNAL_NS)!.getChild('mac'), 'the original stanza is untouched');
  assert.ok(redactForLog(xml('message', {}, xml('body', {}, 'x'.repeat(100_000)))).length <= 4096);
});

test('default resource: stable, distinct per clone path, a valid id', async () => {
  const { defaultResource } = await import('../../../src/signal/index.js');
  const { isId } = await import('../../../src/signal/validate.js');
  const a = defaultResource('/home/u/notes', 'laptop.local');
  assert.equal(a, defaultResource('/home/u/notes', 'laptop.local'));
  assert.notEqual(a, defaultResource('/home/u/notes2', 'laptop.local'));
  assert.match(a, /^git-autosync\.laptop\.local\.[0-9a-f]{10}$/);
  for (const host of ['Ünïcode host', '-dash', '', 'x'.repeat(300)]) {
    const r = defaultResource('/r', host);
    assert.ok(isId(r) && r.length <= 128, r);
  }
});
