// The decisions inside the XMPP transport, without a server: where an incoming stanza goes, what an
// announcement becomes before it is signed, when a rejection gets a log line, and the one line
// status().error shows for each kind of connection failure; and, per mode, what a stanza from the
// room or the account means for the session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type XmlElement } from '@xmpp/client';
import { encodeSignal, MAX_PUSHED_TO, MAX_REFS, SIGNAL_NS } from '../../../src/signal/codec.js';
import { CredentialError, InsecureConnectionError } from '../../../src/signal/credentials.js';
import { countRejection, routeStanza, type StanzaRoute } from '../../../src/signal/xmpp-inbox.js';
import { planSignals } from '../../../src/signal/xmpp-outbox.js';
import { describeXmppError, SignalConfigError, StepError } from '../../../src/signal/xmpp-errors.js';
import { roomSessionBroken } from '../../../src/signal/room.js';
import { accountPresence, isOwnOtherResource, type AccountPresence } from '../../../src/signal/account.js';

const SHA1 = 'a'.repeat(40);
const SHA256 = 'b'.repeat(64);

test('routeStanza: keepalive answers, signals, and everything else', () => {
  const signal = encodeSignal(
    { repo: 'r', node: 'n', seq: 1, ts: 1, refs: { 'refs/heads/main': SHA1 }, pushedTo: [] },
    Buffer.alloc(32, 1),
  );
  const rows: Array<[string, XmlElement, string | null, StanzaRoute]> = [
    ['ping result', xml('iq', { type: 'result', id: 'ping-1' }), 'ping-1', 'keepalive'],
    ['ping error still proves the stream', xml('iq', { type: 'error', id: 'ping-1' }), 'ping-1', 'keepalive'],
    ['another iq', xml('iq', { type: 'result', id: 'gas-2' }), 'ping-1', 'other'],
    ['an iq while no ping waits', xml('iq', { type: 'result', id: 'ping-1' }), null, 'other'],
    ['an iq without id', xml('iq', { type: 'result' }), 'ping-1', 'other'],
    ['groupchat signal', xml('message', { type: 'groupchat' }, signal), null, 'signal'],
    ['headline signal', xml('message', { type: 'headline' }, signal), 'ping-1', 'signal'],
    ['signal without a type', xml('message', {}, signal), null, 'signal'],
    ['bounced signal', xml('message', { type: 'error' }, signal), null, 'other'],
    ['chat message', xml('message', { type: 'chat' }, xml('body', {}, 'hi')), null, 'other'],
    ['signal in another namespace', xml('message', {}, xml('signal', { xmlns: 'urn:x' })), null, 'other'],
    ['presence', xml('presence', { from: 'room@c/n' }), null, 'other'],
    [
      'presence with a signal inside',
      xml('presence', {}, xml('signal', { xmlns: SIGNAL_NS })),
      null,
      'other',
    ],
  ];
  for (const [name, st, pingId, want] of rows) assert.equal(routeStanza(st, pingId), want, name);
});

test('planSignals: invalid refs left out with why, the rest sorted and chunked, ids deduplicated and cut', () => {
  const one = planSignals({
    refs: { 'refs/heads/b': SHA1, 'refs/heads/a': SHA256, '--evil': SHA1, 'refs/heads/c': 'A'.repeat(40) },
    pushedTo: ['u2', 'u1', 'u2', 'ext::sh', 'a/b'],
  });
  assert.deepEqual(one.chunks, [{ 'refs/heads/a': SHA256, 'refs/heads/b': SHA1 }]);
  assert.deepEqual(Object.keys(one.chunks[0]!), ['refs/heads/a', 'refs/heads/b'], 'name order');
  assert.deepEqual(
    one.leftOut.map((l) => l.ref),
    ['--evil', 'refs/heads/c'],
    'in the announcement order',
  );
  assert.equal(one.leftOut[1]!.problem, 'SHA is not 40/64 lower-case hex');
  assert.ok(one.leftOut[0]!.problem.length > 0);
  assert.deepEqual(one.pushedTo, ['u2', 'u1']);
  assert.equal(one.pushedToCount, 2);

  const none = planSignals({ refs: {}, pushedTo: [] });
  assert.deepEqual(none, { chunks: [{}], pushedTo: [], leftOut: [], pushedToCount: 0 }, 'one empty signal');

  const rows: Array<[number, number[]]> = [
    [1, [1]],
    [MAX_REFS, [MAX_REFS]],
    [MAX_REFS + 1, [MAX_REFS, 1]],
    [2 * MAX_REFS + 3, [MAX_REFS, MAX_REFS, 3]],
  ];
  for (const [n, sizes] of rows) {
    const refs = Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`refs/heads/b${String(i).padStart(3, '0')}`, SHA1]),
    );
    const plan = planSignals({ refs, pushedTo: [] });
    assert.deepEqual(
      plan.chunks.map((c) => Object.keys(c).length),
      sizes,
      `${n} refs`,
    );
    assert.deepEqual(
      plan.chunks.flatMap((c) => Object.keys(c)),
      Object.keys(refs).sort(),
      `${n} refs, in order`,
    );
  }

  const ids = Array.from({ length: MAX_PUSHED_TO + 5 }, (_, i) => `r${i}`);
  const cut = planSignals({ refs: {}, pushedTo: ids });
  assert.deepEqual(cut.pushedTo, ids.slice(0, MAX_PUSHED_TO));
  assert.equal(cut.pushedToCount, MAX_PUSHED_TO + 5);
});

test('countRejection: ten log lines per minute, then only counted, then a new window', () => {
  let w = { windowStart: 0, count: 0 };
  const logged: boolean[] = [];
  const at = (now: number) => {
    const r = countRejection(w, now);
    w = r.window;
    logged.push(r.log);
  };
  const t0 = 1_000_000;
  for (let i = 0; i < 12; i++) at(t0 + i);
  assert.deepEqual(logged, [...Array(10).fill(true), false, false]);
  assert.deepEqual(w, { windowStart: t0, count: 12 });
  at(t0 + 60_000);
  assert.equal(logged.at(-1), false, 'exactly a minute later: the same window');
  at(t0 + 60_001);
  assert.equal(logged.at(-1), true, 'past the minute: a new window');
  assert.deepEqual(w, { windowStart: t0 + 60_001, count: 1 });
  const before = { windowStart: t0, count: 3 };
  countRejection(before, t0 + 1);
  assert.deepEqual(before, { windowStart: t0, count: 3 }, 'the window passed in is not changed');
});

test('describeXmppError: one line per kind of failure, naming the server and account, no secret', () => {
  const where = {
    service: 'xmpps://chat.example.org:5223',
    bareJid: 'alice@example.org',
    resource: 'laptop',
  };
  const rows: Array<[string, unknown, string]> = [
    [
      'SASL',
      { name: 'SASLError', condition: 'not-authorized' },
      'authentication failed for alice@example.org: not-authorized',
    ],
    ['SASL without condition', { name: 'SASLError' }, 'authentication failed for alice@example.org: failure'],
    ['our own step', new StepError('cannot join room r@c: timed out'), 'cannot join room r@c: timed out'],
    ['credentials', new CredentialError('the keyring is locked'), 'the keyring is locked'],
    [
      'insecure',
      new InsecureConnectionError('refusing PLAIN over plain text'),
      'refusing PLAIN over plain text',
    ],
    [
      'stream conflict',
      { name: 'StreamError', condition: 'conflict' },
      'xmpps://chat.example.org:5223 closed the stream: conflict; another client logged in as alice@example.org/laptop',
    ],
    [
      'stream error with text',
      { name: 'StreamError', condition: 'system-shutdown', text: 'bye' },
      'xmpps://chat.example.org:5223 closed the stream: system-shutdown (bye)',
    ],
    ['stream error, bare', { name: 'StreamError' }, 'xmpps://chat.example.org:5223 closed the stream: error'],
    [
      'certificate',
      Object.assign(new Error('self signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      'TLS certificate of xmpps://chat.example.org:5223 not accepted: DEPTH_ZERO_SELF_SIGNED_CERT',
    ],
    [
      'host name',
      { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
      'TLS certificate of xmpps://chat.example.org:5223 not accepted: ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    [
      'socket',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'cannot connect to xmpps://chat.example.org:5223: ECONNREFUSED',
    ],
    ['numeric code is not a socket code', { code: 5, message: 'odd' }, 'xmpps://chat.example.org:5223: odd'],
    ['plain error', new Error('boom'), 'xmpps://chat.example.org:5223: boom'],
    ['a string', 'weird', 'xmpps://chat.example.org:5223: weird'],
    ['null', null, 'xmpps://chat.example.org:5223: null'],
    [
      'a secret in the message',
      new Error('login failed password=hunter2'),
      'xmpps://chat.example.org:5223: login failed password=[redacted]',
    ],
  ];
  for (const [name, err, want] of rows) assert.equal(describeXmppError(err, where), want, name);
  assert.equal(describeXmppError(new Error('x'.repeat(1000)), where).length, 400, 'bounded');
});

test('the transport errors carry a code', () => {
  assert.equal(new SignalConfigError('x').code, 'SIGNAL_CONFIG');
  assert.equal(new StepError('x').code, 'XMPP_STEP');
  assert.equal(new StepError('x').name, 'StepError');
});

test('roomSessionBroken: our own exit or a bounced message means rejoin; the rest is nothing', () => {
  const room = 'sync@conference.example.org';
  const me = `${room}/node-1`;
  const user = (code?: string) =>
    xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, code ? xml('status', { code }) : null);
  const bounce = xml(
    'message',
    { from: room, type: 'error' },
    xml(
      'error',
      { type: 'cancel' },
      xml('not-acceptable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
      xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'you are\nnot here'),
    ),
  );
  const rows: Array<[string, XmlElement, string | null]> = [
    [
      'kicked',
      xml('presence', { from: me, type: 'unavailable' }, user('307')),
      `removed from room ${room} (status 307); rejoining`,
    ],
    [
      'room JID in other case',
      xml('presence', { from: 'SYNC@conference.example.org/node-1', type: 'unavailable' }, user()),
      `removed from room ${room} (status none); rejoining`,
    ],
    ['another occupant leaves', xml('presence', { from: `${room}/node-2`, type: 'unavailable' }), null],
    [
      'nickname in other case is someone else',
      xml('presence', { from: `${room}/NODE-1`, type: 'unavailable' }),
      null,
    ],
    ['our self-presence', xml('presence', { from: me }, user('110')), null],
    [
      'bounced signal',
      bounce,
      `room ${room} refused our signal (not-acceptable - you are not here); rejoining`,
    ],
    ['a groupchat message', xml('message', { from: `${room}/node-2`, type: 'groupchat' }), null],
    [
      'our exit, from another room',
      xml('presence', { from: 'other@conference.example.org/node-1', type: 'unavailable' }),
      null,
    ],
    ['a bounce from elsewhere', xml('message', { from: 'alice@example.org', type: 'error' }), null],
    ['no sender', xml('presence', { type: 'unavailable' }), null],
  ];
  for (const [name, st, want] of rows) assert.equal(roomSessionBroken(st, room, me), want, name);
});

test('accountPresence: which resources of the account get our signals', () => {
  const tag = 'f'.repeat(32);
  const bare = 'alice@example.org';
  const own = `${bare}/laptop`;
  const agent = (t: string) => xml('agent', { xmlns: SIGNAL_NS, tag: t });
  const rows: Array<[string, XmlElement, AccountPresence]> = [
    ['agent with our tag', xml('presence', { from: `${bare}/desk` }, agent(tag)), 'agent'],
    ['type available', xml('presence', { from: `${bare}/desk`, type: 'available' }, agent(tag)), 'agent'],
    ['account in other case', xml('presence', { from: `Alice@Example.org/desk` }, agent(tag)), 'agent'],
    ['agent with another tag', xml('presence', { from: `${bare}/desk` }, agent('0'.repeat(32))), 'other-key'],
    [
      'agent marker without tag',
      xml('presence', { from: `${bare}/desk` }, xml('agent', { xmlns: SIGNAL_NS })),
      'other-key',
    ],
    [
      'marker in another namespace',
      xml('presence', { from: `${bare}/phone` }, xml('agent', { xmlns: 'urn:x', tag })),
      'not-an-agent',
    ],
    ['chat client', xml('presence', { from: `${bare}/phone` }, xml('priority', {}, '5')), 'not-an-agent'],
    ['went away', xml('presence', { from: `${bare}/desk`, type: 'unavailable' }), 'gone'],
    ['presence error', xml('presence', { from: `${bare}/desk`, type: 'error' }), 'gone'],
    ['subscription request', xml('presence', { from: `${bare}/desk`, type: 'subscribe' }), 'ignore'],
    ['our own session', xml('presence', { from: own }, agent(tag)), 'ignore'],
    ['another account', xml('presence', { from: 'bob@example.org/desk' }, agent(tag)), 'ignore'],
    ['the bare JID', xml('presence', { from: bare }, agent(tag)), 'ignore'],
    ['a message', xml('message', { from: `${bare}/desk` }, agent(tag)), 'ignore'],
  ];
  for (const [name, st, want] of rows) assert.equal(accountPresence(st, tag, bare, own), want, name);
});

test('isOwnOtherResource: a full JID of our account that is not our session', () => {
  const rows: Array<[string, boolean]> = [
    ['alice@example.org/desk', true],
    ['ALICE@example.org/desk', true],
    ['alice@example.org/laptop', false],
    ['alice@example.org/Laptop', true],
    ['alice@example.org', false],
    ['alice@example.org/', false],
    ['/desk', false],
    ['bob@example.org/desk', false],
    ['', false],
  ];
  for (const [from, want] of rows)
    assert.equal(isOwnOtherResource(from, 'alice@example.org', 'alice@example.org/laptop'), want, from);
});
