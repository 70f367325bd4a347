// The session driver over an in-memory channel pair: a whole pairing, a wrong code (both sides see
// it), an expired offer, a peer that stops answering, an oversized message, a third participant,
// and a new device whose set-up fails (the offerer hears which step).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAIR_MESSAGE_MAX } from '../../../src/pair/channel.js';
import type { PairSettings } from '../../../src/pair/payload.js';
import type { PairError } from '../../../src/pair/errors.js';
import { runAccept, runOffer, type AcceptOptions, type OfferOptions } from '../../../src/pair/session.js';
import { decode } from '../../../src/pair/wire.js';
import { accepterStep, offererStep } from '../../../src/pair/protocol.js';
import { channelPair } from './memory-channel.js';
import { CODE, OTHER_CODE, SETTINGS, seeded } from './fixtures.js';

const offer = (over: Partial<OfferOptions> = {}): OfferOptions => ({
  code: CODE,
  label: 'desktop',
  settings: SETTINGS,
  expiresAt: Date.now() + 60_000,
  random: seeded('offer'),
  ...over,
});

function accept(over: Partial<AcceptOptions> = {}): AcceptOptions & { applied: PairSettings[] } {
  const applied: PairSettings[] = [];
  return {
    code: CODE,
    label: 'laptop',
    random: seeded('accept'),
    apply: (s) => {
      applied.push(s);
      return Promise.resolve({ ok: true });
    },
    applied,
    ...over,
  };
}

async function settle<T>(p: Promise<T>): Promise<{ ok: T } | { err: Error & { code?: string } }> {
  try {
    return { ok: await p };
  } catch (e) {
    return { err: e as Error & { code?: string } };
  }
}

test('a whole pairing: both sides name each other, show the same verifier; the settings are applied once', async () => {
  const [a, b] = channelPair();
  const acc = accept();
  const [o, n] = await Promise.all([runOffer(a, offer()), runAccept(b, acc)]);
  assert.equal(o.peer, 'laptop');
  assert.equal(n.peer, 'desktop');
  assert.equal(o.verifier, n.verifier);
  assert.deepEqual(acc.applied, [SETTINGS]);
  assert.deepEqual(n.settings, SETTINGS);
  assert.equal(a.closed && b.closed, true);
  assert.equal(a.sent.length + b.sent.length, 5);
});

test('a wrong code: the offerer fails with pair-wrong-code, the new device with pair-unconfirmed; nothing is applied', async () => {
  const [a, b] = channelPair();
  const acc = accept({ code: OTHER_CODE });
  const [o, n] = await Promise.all([settle(runOffer(a, offer())), settle(runAccept(b, acc))]);
  assert.ok('err' in o && 'err' in n);
  assert.equal(o.err.code, 'pair-wrong-code');
  assert.match(o.err.message, /burned now, do not retype it/);
  // The new device sent its tag first and only hears an unauthenticated abort back.
  assert.equal(n.err.code, 'pair-unconfirmed');
  assert.match(n.err.message, /it said wrong-code/);
  assert.deepEqual(acc.applied, []);
  // The offerer never sent the settings: its reply, then its abort.
  assert.deepEqual(
    a.sent.map((m) => m[1]),
    [2, 6],
  );
});

test('an offer nobody takes expires; an accepter nobody answers gives no-offer', async () => {
  const [a] = channelPair();
  const o = await settle(runOffer(a, offer({ expiresAt: Date.now() + 30 })));
  assert.ok('err' in o);
  assert.equal(o.err.code, 'pair-expired');
  const [, b] = channelPair();
  const n = await settle(runAccept(b, accept({ stepTimeoutMs: 30 })));
  assert.ok('err' in n);
  assert.equal(n.err.code, 'pair-no-offer');
});

test('an offer already expired answers a hello with expired, and the accepter says so', async () => {
  const [a, b] = channelPair();
  const [o, n] = await Promise.all([
    settle(runOffer(a, offer({ expiresAt: Date.now() - 1, now: () => Date.now() }))),
    settle(runAccept(b, accept())),
  ]);
  assert.ok('err' in o && 'err' in n);
  assert.equal(o.err.code, 'pair-expired');
  // The offerer may stop before the hello arrives: then the accepter sees the channel closed.
  assert.ok(['pair-expired', 'pair-closed'].includes(n.err.code!), n.err.code);
});

test('a peer that stops answering midway: the waiting side times out (unconfirmed, once its tag is out) and tells the other', async () => {
  // The offerer waits for a confirmation that never comes (the accepter is played by hand). The
  // channel's timeouts fire when the test says, so no clock decides which wait runs out.
  const [a, b] = channelPair();
  a.manualTimeouts = true;
  const acc = { code: CODE, label: 'laptop', random: seeded('manual') };
  const hello = accepterStep(acc, { phase: 'start' }, { kind: 'start', now: Date.now() });
  await b.send(hello.send[0]!);
  const offering = settle(runOffer(a, offer()));
  await a.whenWaiting();
  a.expire();
  const o = await offering;
  assert.ok('err' in o);
  assert.equal(o.err.code, 'pair-timeout');
  assert.equal((o.err as PairError).peer, 'laptop');
  const reply = await b.receive(1000);
  assert.equal(reply[1], 2);
  assert.deepEqual(decode(await b.receive(1000)), { ok: true, msg: { type: 'abort', reason: 'timeout' } });

  // The accepter waits for settings that never come (the offerer is played by hand).
  const [c, d] = channelPair();
  d.manualTimeouts = true;
  const accepting = settle(runAccept(d, accept()));
  const cfg = {
    code: CODE,
    label: 'desktop',
    settings: SETTINGS,
    expiresAt: Date.now() + 60_000,
    random: seeded('m'),
  };
  const r = offererStep(
    cfg,
    { phase: 'waiting-hello' },
    { kind: 'message', bytes: await c.receive(1000), now: Date.now() },
  );
  await c.send(r.send[0]!);
  // The accepter reads the reply, confirms, then waits for the settings.
  assert.equal((await c.receive(1000))[1], 3);
  await d.whenWaiting();
  d.expire();
  const n = await accepting;
  assert.ok('err' in n);
  // The silent "offerer" holds tag A and may have tested a guess of the code against it.
  assert.equal(n.err.code, 'pair-unconfirmed');
  assert.equal((n.err as PairError).peer, 'desktop');
});

test('an oversized message: the receiver refuses it, and the other side hears why', async () => {
  const [a, b] = channelPair();
  a.inject(new Uint8Array(PAIR_MESSAGE_MAX + 1));
  const [o, n] = await Promise.all([settle(runOffer(a, offer())), settle(runAccept(b, accept()))]);
  assert.ok('err' in o && 'err' in n);
  assert.equal(o.err.code, 'pair-oversized');
  assert.equal(n.err.code, 'pair-peer-aborted');
  assert.match(n.err.message, /it said oversized/);
});

test('a third participant burns the offer: a second hello, or the rendezvous reporting a crowd', async () => {
  const [a, b] = channelPair();
  const third = accepterStep(
    { code: CODE, label: 'intruder', random: seeded('third') },
    { phase: 'start' },
    { kind: 'start', now: Date.now() },
  ).send[0]!;
  let first = true;
  const spied = {
    send: (m: Uint8Array) => a.send(m),
    close: () => a.close(),
    receive: async (ms: number) => {
      const m = await a.receive(ms);
      // The intruder's hello lands right behind the real one, before any confirmation can.
      if (first) a.inject(third);
      first = false;
      return m;
    },
  };
  const acc = accept();
  const [o, n] = await Promise.all([settle(runOffer(spied, offer())), settle(runAccept(b, acc))]);
  assert.ok('err' in o && 'err' in n);
  assert.equal(o.err.code, 'pair-crowded');
  // The new device had sent its tag: an unauthenticated "crowded" does not tell it who holds it.
  assert.equal(n.err.code, 'pair-unconfirmed');
  assert.match(n.err.message, /it said crowded/);
  assert.deepEqual(acc.applied, []);

  const [c] = channelPair();
  c.fail('crowded');
  const o2 = await settle(runOffer(c, offer()));
  assert.ok('err' in o2);
  assert.equal(o2.err.code, 'pair-crowded');
});

test('the new device fails to set up: both sides say so, the offerer with the step and reason', async () => {
  const [a, b] = channelPair();
  const acc = accept({
    apply: () => Promise.resolve({ ok: false, step: 'clone', reason: 'no space left on device' }),
  });
  const [o, n] = await Promise.all([settle(runOffer(a, offer())), settle(runAccept(b, acc))]);
  assert.ok('err' in o && 'err' in n);
  assert.equal(o.err.code, 'pair-apply-failed');
  assert.match(o.err.message, /on laptop, clone: no space left on device/);
  assert.equal(n.err.code, 'pair-apply-failed');

  const [c, d] = channelPair();
  const throwing = accept({ apply: () => Promise.reject(new Error('boom\nsecond line')) });
  const [o2, n2] = await Promise.all([settle(runOffer(c, offer())), settle(runAccept(d, throwing))]);
  assert.ok('err' in o2 && 'err' in n2);
  assert.match(o2.err.message, /apply: boom second line/);
});

test('settings that cannot be offered fail before any message, with pair-bad-settings', async () => {
  const [a] = channelPair();
  const o = await settle(
    runOffer(a, offer({ settings: { ...SETTINGS, remote: { ...SETTINGS.remote, urls: ['/srv/local'] } } })),
  );
  assert.ok('err' in o);
  assert.equal(o.err.code, 'pair-bad-settings');
  assert.match(o.err.message, /remote\.urls/);
  assert.equal(a.sent.length, 0);
  assert.equal(a.closed, true);
});

test('a done that cannot be sent: the new device does not report success, and the offerer fails too', async () => {
  const [a, b] = channelPair();
  // The new device's channel fails as it sends its last message (type 5, done).
  const flaky = {
    receive: (ms: number) => b.receive(ms),
    close: () => b.close(),
    send: (m: Uint8Array) => (m[1] === 5 ? Promise.reject(new Error('the server went away')) : b.send(m)),
  };
  const acc = accept();
  const [o, n] = await Promise.all([settle(runOffer(a, offer())), settle(runAccept(flaky, acc))]);
  assert.deepEqual(acc.applied, [SETTINGS]);
  assert.ok('err' in n, 'the new device must not report success');
  assert.equal(n.err.code, 'pair-closed');
  assert.match(n.err.message, /this device is set up, but could not tell the other device/);
  assert.equal((n.err as PairError).peer, 'desktop');
  assert.ok('err' in o);
  assert.equal(o.err.code, 'pair-closed');
});
