// The pairing state machines, table-tested: every message kind in every state of both machines
// (in order, out of order, duplicated, replayed, tampered, oversized, another version, garbage), and
// timeouts and channel failures in each waiting state. A row names the phase that follows, the
// failure (PairError code) if any, and what is sent back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAIR_MESSAGE_MAX, type ChannelFailure } from '../../../src/pair/channel.js';
import {
  accepterStep,
  offererStep,
  type AccepterConfig,
  type AccepterState,
  type OffererConfig,
  type OffererState,
  type Step,
} from '../../../src/pair/protocol.js';
import { decode, encode } from '../../../src/pair/wire.js';
import { CODE, OTHER_CODE, SETTINGS, seeded } from './fixtures.js';

const NOW = 1_800_000_000_000;
const EXPIRES = NOW + 600_000;
const offCfg = (code = CODE): OffererConfig => ({
  code,
  label: 'desktop',
  settings: SETTINGS,
  expiresAt: EXPIRES,
  random: seeded('offerer'),
});
const accCfg = (code = CODE): AccepterConfig => ({ code, label: 'laptop', random: seeded('accepter') });
const msg = (bytes: Uint8Array) => ({ kind: 'message' as const, bytes, now: NOW });

function one(step: Step<unknown>): Uint8Array {
  assert.equal(step.send.length, 1);
  return step.send[0]!;
}

/** An honest run, kept step by step: every state and every message of it. */
function honestRun() {
  const off = offCfg();
  const acc = accCfg();
  const a0: AccepterState = { phase: 'start' };
  const s1 = accepterStep(acc, a0, { kind: 'start', now: NOW });
  const hello = one(s1);
  const o0: OffererState = { phase: 'waiting-hello' };
  const s2 = offererStep(off, o0, msg(hello));
  const reply = one(s2);
  const s3 = accepterStep(acc, s1.state, msg(reply));
  const confirm = one(s3);
  const s4 = offererStep(off, s2.state, msg(confirm));
  const settings = one(s4);
  const s5 = accepterStep(acc, s3.state, msg(settings));
  assert.equal(s5.send.length, 0);
  const s6 = accepterStep(acc, s5.state, { kind: 'applied', outcome: { ok: true }, now: NOW });
  const done = one(s6);
  const s7 = offererStep(off, s4.state, msg(done));
  // Wrong variants of each message.
  const wrongReply = one(offererStep(offCfg(OTHER_CODE), o0, msg(hello)));
  const badConfirm = encode({ type: 'confirm', tag: new Uint8Array(64).fill(9) });
  const d4 = decode(settings);
  assert.ok(d4.ok && d4.msg.type === 'settings');
  const badSettingsTag = encode({ ...d4.msg, tag: new Uint8Array(64).fill(9) });
  const tamper = (b: Uint8Array) => {
    const c = Uint8Array.from(b);
    c[c.length - 1] = c[c.length - 1]! ^ 1;
    return c;
  };
  const failedDone = one(
    accepterStep(acc, s5.state, {
      kind: 'applied',
      outcome: { ok: false, step: 'clone', reason: 'no space' },
      now: NOW,
    }),
  );
  const failed = offererStep(off, o0, msg(encode({ type: 'abort', reason: 'cancelled' }))).state;
  return {
    off,
    acc,
    offStates: {
      'waiting-hello': o0,
      'waiting-confirm': s2.state,
      'waiting-done': s4.state,
      paired: s7.state,
      failed,
    },
    accStates: {
      start: a0,
      'waiting-reply': s1.state,
      'waiting-settings': s3.state,
      applying: s5.state,
      paired: s6.state,
      failed,
    } as Record<string, AccepterState>,
    messages: {
      hello,
      reply,
      confirm,
      settings,
      done,
      'reply, other code': wrongReply,
      'confirm, bad tag': badConfirm,
      'settings, tampered': tamper(settings),
      'settings, bad tag': badSettingsTag,
      'done, tampered': tamper(done),
      'done, apply failed': failedDone,
      'abort wrong-code': encode({ type: 'abort', reason: 'wrong-code' }),
      'abort cancelled': encode({ type: 'abort', reason: 'cancelled' }),
      'version 2': Uint8Array.from([2, ...hello.subarray(1)]),
      oversized: new Uint8Array(PAIR_MESSAGE_MAX + 1),
      garbage: Uint8Array.from([1, 1, 0xff, 0xff, 0xff, 0xff]),
      'unknown type': Uint8Array.from([1, 99]),
      empty: new Uint8Array(0),
      'hello, trailing field': Uint8Array.from([...hello, 0]),
    } as Record<string, Uint8Array>,
    s7,
  };
}

const R = honestRun();

/** phase after, the failure code (null: none), the abort reason sent (null: nothing; 'msg': a protocol message). */
type Want = [phase: string, failure: string | null, sent: string | null];

function check(step: Step<{ phase: string }>, want: Want | 'ignored', row: string) {
  if (want === 'ignored') {
    assert.equal(step.ignored, true, row);
    assert.equal(step.send.length, 0, row);
    return;
  }
  const [phase, failure, sent] = want;
  assert.equal(step.state.phase, phase, row);
  const err = (step.state as { error?: { code: string; message: string } }).error;
  assert.equal(err?.code ?? null, failure === null ? null : `pair-${failure}`, `${row}: ${err?.message}`);
  if (sent === null) assert.equal(step.send.length, 0, row);
  else {
    assert.equal(step.send.length, 1, row);
    const d = decode(step.send[0]!);
    assert.ok(d.ok, row);
    if (sent === 'msg') assert.notEqual(d.msg.type, 'abort', row);
    else assert.deepEqual(d.msg, { type: 'abort', reason: sent }, row);
  }
}

const U: Want = ['failed', 'unexpected', 'unexpected'];
const COMMON: Record<string, Want> = {
  // An abort is not authenticated: its reason never makes a wrong-code.
  'abort wrong-code': ['failed', 'peer-aborted', null],
  'abort cancelled': ['failed', 'peer-aborted', null],
  'version 2': ['failed', 'version', 'version'],
  oversized: ['failed', 'oversized', 'oversized'],
  garbage: ['failed', 'malformed', 'malformed'],
  'unknown type': ['failed', 'malformed', 'malformed'],
  empty: ['failed', 'malformed', 'malformed'],
  'hello, trailing field': ['failed', 'malformed', 'malformed'],
};

const OFFERER_TABLE: Record<string, Record<string, Want | 'ignored'>> = {
  'waiting-hello': {
    hello: ['waiting-confirm', null, 'msg'],
    reply: U,
    confirm: U,
    settings: U,
    done: U,
    'reply, other code': U,
    'confirm, bad tag': U,
    'settings, tampered': U,
    'settings, bad tag': U,
    'done, tampered': U,
    'done, apply failed': U,
    ...COMMON,
  },
  'waiting-confirm': {
    hello: ['failed', 'crowded', 'crowded'],
    reply: U,
    confirm: ['waiting-done', null, 'msg'],
    settings: U,
    done: U,
    'reply, other code': U,
    'confirm, bad tag': ['failed', 'wrong-code', 'wrong-code'],
    'settings, tampered': U,
    'settings, bad tag': U,
    'done, tampered': U,
    'done, apply failed': U,
    ...COMMON,
    'hello, trailing field': ['failed', 'malformed', 'malformed'],
  },
  'waiting-done': {
    hello: ['failed', 'crowded', 'crowded'],
    reply: U,
    confirm: U, // a replayed confirmation
    settings: U, // our own message reflected
    done: ['paired', null, null],
    'reply, other code': U,
    'confirm, bad tag': U,
    'settings, tampered': U,
    'settings, bad tag': U,
    'done, tampered': ['failed', 'malformed', 'malformed'],
    'done, apply failed': ['failed', 'apply-failed', null],
    ...COMMON,
  },
  paired: {},
  failed: {},
};

const ACCEPTER_TABLE: Record<string, Record<string, Want | 'ignored'>> = {
  start: Object.fromEntries(Object.keys(R.messages).map((k) => [k, COMMON[k] ?? U])),
  'waiting-reply': {
    hello: U, // our own message reflected
    reply: ['waiting-settings', null, 'msg'],
    confirm: U,
    settings: U,
    done: U,
    // The reply carries no tag: a wrong code shows only once tag A (or tag B) is checked.
    'reply, other code': ['waiting-settings', null, 'msg'],
    'confirm, bad tag': U,
    'settings, tampered': U,
    'settings, bad tag': U,
    'done, tampered': U,
    'done, apply failed': U,
    ...COMMON,
  },
  // Tag A is out and the other side has not proved the code: every failure but a bad tag B is
  // unconfirmed, whatever it says, and the same is sent back as in any other state.
  'waiting-settings': Object.fromEntries(
    Object.keys(R.messages).map((k): [string, Want] => {
      if (k === 'settings') return [k, ['applying', null, null]];
      if (k === 'settings, bad tag') return [k, ['failed', 'wrong-code', 'wrong-code']];
      if (k === 'settings, tampered') return [k, ['failed', 'malformed', 'malformed']];
      return [k, ['failed', 'unconfirmed', (COMMON[k] ?? U)[2]]];
    }),
  ),
  applying: Object.fromEntries(Object.keys(R.messages).map((k) => [k, COMMON[k] ?? U])),
  paired: {},
  failed: {},
};

test('offerer: every message in every state', () => {
  for (const [phase, state] of Object.entries(R.offStates)) {
    for (const [name, bytes] of Object.entries(R.messages)) {
      const want =
        OFFERER_TABLE[phase]![name] ?? (phase === 'paired' || phase === 'failed' ? 'ignored' : undefined);
      assert.ok(want, `no row for offerer ${phase} / ${name}`);
      check(offererStep(R.off, state, msg(bytes)), want, `offerer ${phase} / ${name}`);
    }
  }
});

test('accepter: every message in every state', () => {
  for (const [phase, state] of Object.entries(R.accStates)) {
    for (const [name, bytes] of Object.entries(R.messages)) {
      const want =
        ACCEPTER_TABLE[phase]![name] ?? (phase === 'paired' || phase === 'failed' ? 'ignored' : undefined);
      assert.ok(want, `no row for accepter ${phase} / ${name}`);
      check(accepterStep(R.acc, state, msg(bytes)), want, `accepter ${phase} / ${name}`);
    }
  }
});

test('an honest run: both paired, the same verifier, the settings arrive whole', () => {
  const off = R.s7.state;
  const acc = R.accStates.paired!;
  assert.equal(off.phase, 'paired');
  assert.equal(acc.phase, 'paired');
  if (off.phase !== 'paired' || acc.phase !== 'paired') return;
  assert.equal(off.peer, 'laptop');
  assert.equal(acc.peer, 'desktop');
  assert.match(off.verifier, /^[0-9a-f]{2}-[0-9a-f]{2}-[0-9a-f]{2}$/);
  assert.equal(off.verifier, acc.verifier);
  assert.deepEqual(acc.settings, SETTINGS);
});

test('no message of the run carries the code words or the repository key, in any common encoding', () => {
  const secrets: Array<[string, Buffer]> = [];
  for (const w of [...CODE.words, CODE.words.join('-'), CODE.words.join(' ')]) {
    const b = Buffer.from(w, 'utf8');
    secrets.push(
      [w, b],
      [`${w} upper`, Buffer.from(w.toUpperCase())],
      [`${w} utf16`, Buffer.from(w, 'utf16le')],
    );
    secrets.push(
      [`${w} hex`, Buffer.from(b.toString('hex'))],
      [`${w} base64`, Buffer.from(b.toString('base64'))],
    );
  }
  const key = Buffer.from(SETTINGS.key, 'hex');
  secrets.push(['key hex', Buffer.from(SETTINGS.key)], ['key bytes', key.subarray(0, 8)]);
  secrets.push(['key base64', Buffer.from(key.toString('base64').slice(0, 12))]);
  secrets.push(['key base64url', Buffer.from(key.toString('base64url').slice(0, 12))]);
  for (const [name, b] of Object.entries(R.messages)) {
    const m = Buffer.from(b);
    for (const [what, secret] of secrets)
      assert.equal(m.includes(secret), false, `${name} holds the ${what}`);
  }
});

test('a wrong code: the offerer sees it from tag A; the new device, which cannot tell, says unconfirmed', () => {
  const acc = accCfg(OTHER_CODE);
  const a1 = accepterStep(acc, { phase: 'start' }, { kind: 'start', now: NOW });
  const o1 = offererStep(R.off, { phase: 'waiting-hello' }, msg(one(a1)));
  const a2 = accepterStep(acc, a1.state, msg(one(o1)));
  check(a2, ['waiting-settings', null, 'msg'], 'the accepter proves its code first');
  const o2 = offererStep(R.off, o1.state, msg(one(a2)));
  check(o2, ['failed', 'wrong-code', 'wrong-code'], 'the offerer sees the wrong code');
  if (o2.state.phase === 'failed') assert.equal(o2.state.error.peer, 'laptop');
  const a3 = accepterStep(acc, a2.state, msg(one(o2)));
  check(a3, ['failed', 'unconfirmed', null], 'the accepter hears of it, unauthenticated');
  if (a3.state.phase === 'failed') {
    assert.equal(a3.state.error.peer, 'desktop');
    assert.match(a3.state.error.message, /it said wrong-code.*may have tested a guess.*do not retype/);
  }
  // The burned offer answers nothing more, the right code included.
  check(offererStep(R.off, o2.state, msg(R.messages.hello!)), 'ignored', 'burned offer');
});

test('a device posing as the new one gets nothing to test a guess against; one posing as the offerer is unconfirmed', () => {
  // The reply holds the share and the label only: no tag, nothing keyed by the code.
  const d = decode(R.messages.reply!);
  assert.ok(d.ok && d.msg.type === 'reply');
  assert.deepEqual(Object.keys(d.msg).sort(), ['Y', 'label', 'type']);
  // The offerer's tag goes out only with the settings, after tag A verified.
  const s = decode(R.messages.settings!);
  assert.ok(s.ok && s.msg.type === 'settings' && s.msg.tag.length === 64);
  // After tag A, a peer that falls silent, leaves, or sends a forged abort: unconfirmed, never a
  // plain timeout or the reason it gave.
  const w = R.accStates['waiting-settings']!;
  const rows: Array<[string, Parameters<typeof accepterStep>[2], string | null, RegExp]> = [
    ['silent', { kind: 'timeout', now: NOW }, 'timeout', /\(timeout\)/],
    ['channel timeout', { kind: 'channel', failure: 'timeout', now: NOW }, 'timeout', /\(timeout\)/],
    ['gone', { kind: 'channel', failure: 'closed', now: NOW }, null, /\(closed\)/],
    ['forged abort timeout', msg(encode({ type: 'abort', reason: 'timeout' })), null, /it said timeout/],
    ['forged abort crowded', msg(encode({ type: 'abort', reason: 'crowded' })), null, /it said crowded/],
  ];
  for (const [row, input, sent, detail] of rows) {
    const r = accepterStep(R.acc, w, input);
    check(r, ['failed', 'unconfirmed', sent], row);
    if (r.state.phase === 'failed') assert.match(r.state.error.message, detail, row);
  }
});

test('timeouts, expiry and channel failures, per waiting state', () => {
  const t = { kind: 'timeout' as const, now: NOW };
  check(offererStep(R.off, R.offStates['waiting-hello'], t), ['failed', 'expired', null], 'offer expires');
  check(
    offererStep(R.off, R.offStates['waiting-confirm'], t),
    ['failed', 'timeout', 'timeout'],
    'no confirm',
  );
  check(offererStep(R.off, R.offStates['waiting-done'], t), ['failed', 'timeout', 'timeout'], 'no done');
  const late = { kind: 'message' as const, bytes: R.messages.hello!, now: EXPIRES };
  check(
    offererStep(R.off, R.offStates['waiting-hello'], late),
    ['failed', 'expired', 'expired'],
    'a late hello',
  );
  check(accepterStep(R.acc, R.accStates['waiting-reply']!, t), ['failed', 'no-offer', null], 'nobody offers');
  check(
    accepterStep(R.acc, R.accStates['waiting-settings']!, t),
    ['failed', 'unconfirmed', 'timeout'],
    'no settings',
  );
  const rows: Array<[ChannelFailure, string, string | null]> = [
    ['crowded', 'crowded', null],
    ['closed', 'closed', null],
    ['login', 'login', null],
    ['unreachable', 'unreachable', null],
    ['oversized', 'oversized', 'oversized'],
  ];
  for (const [failure, code, sent] of rows) {
    const c = { kind: 'channel' as const, failure, now: NOW };
    check(offererStep(R.off, R.offStates['waiting-hello'], c), ['failed', code, sent], `offerer ${failure}`);
    check(
      accepterStep(R.acc, R.accStates['waiting-reply']!, c),
      ['failed', code, sent],
      `accepter ${failure}`,
    );
  }
  const ct = { kind: 'channel' as const, failure: 'timeout' as const, now: NOW };
  check(
    offererStep(R.off, R.offStates['waiting-hello'], ct),
    ['failed', 'expired', null],
    'channel timeout, offerer',
  );
  check(
    accepterStep(R.acc, R.accStates['waiting-reply']!, ct),
    ['failed', 'no-offer', null],
    'channel timeout, accepter',
  );
});

test('driver inputs out of place are ignored', () => {
  check(
    accepterStep(R.acc, R.accStates['waiting-reply']!, { kind: 'start', now: NOW }),
    'ignored',
    'start twice',
  );
  const applied = { kind: 'applied' as const, outcome: { ok: true as const }, now: NOW };
  check(accepterStep(R.acc, R.accStates['waiting-settings']!, applied), 'ignored', 'applied early');
  check(accepterStep(R.acc, R.accStates.paired!, applied), 'ignored', 'applied after');
});

test('the offerer refuses to send settings that do not fit one message', () => {
  const big = structuredClone(SETTINGS);
  big.remote.urls = Array.from(
    { length: 16 },
    (_, i) => `https://example.org/${String(i).padStart(2000, 'x')}`,
  );
  const cfg = { ...offCfg(), settings: big };
  const s1 = offererStep(cfg, { phase: 'waiting-hello' }, msg(R.messages.hello!));
  check(
    offererStep(cfg, s1.state, msg(R.messages.confirm!)),
    ['failed', 'bad-settings', 'cancelled'],
    'too large',
  );
});
