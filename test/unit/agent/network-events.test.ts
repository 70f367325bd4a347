import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import {
  MAX_WAIT_MS,
  QUIET_MS,
  LATE_TICK_MS,
  SLEEP_JUMP_MS,
  cutInFlight,
  debounce,
  fingerprint,
  slept,
  type Interfaces,
} from '../../../src/agent/network-events.js';
import { NetworkWatch, type NetworkChange } from '../../../src/agent/network-watch.js';
import { waitFor } from '../../helpers/wait.js';

// A fake clock: every time below is a plain number of ms.
const debounceRows: Array<
  [why: string, first: number, last: number, now: number, fire: boolean, wait: number]
> = [
  ['one event, just now: wait for the quiet', 1_000, 1_000, 1_000, false, QUIET_MS],
  ['quiet long enough since the last event: resync', 1_000, 1_000, 1_000 + QUIET_MS, true, 0],
  ['a burst still going: wait from its last event', 1_000, 1_200, 1_300, false, QUIET_MS - 100],
  [
    'a link that never stops flapping: resync at the bound',
    1_000,
    1_000 + MAX_WAIT_MS,
    1_000 + MAX_WAIT_MS,
    true,
    0,
  ],
  ['near the bound: wait only until it', 1_000, 1_900, 1_950, false, MAX_WAIT_MS - 950],
];
for (const [why, firstAt, lastAt, now, fire, waitMs] of debounceRows) {
  test(`debounce: ${why}`, () => {
    assert.deepEqual(debounce({ firstAt, lastAt }, now), { fire, waitMs });
  });
}

const P = 2_000;
const sleepRows: Array<[why: string, wall: number, mono: number, want: boolean]> = [
  ['a tick on time: awake', P, P, false],
  ['a little late under load: awake', P + 500, P + 500, false],
  ['wall clock jumped an hour past the monotonic one: slept (suspend)', P + 3_600_000, P, true],
  ['the tick came late on both clocks (a frozen VM): slept', P + LATE_TICK_MS, P + LATE_TICK_MS, true],
  ['a loaded machine stalled the loop for seconds: awake', P + 5_000, P + 5_000, false],
  ['wall clock set back a minute: counted too (one resync too many is cheap)', P - 60_000, P, true],
  ['just under the jump: awake', P + SLEEP_JUMP_MS - 1, P, false],
];
for (const [why, wall, mono, want] of sleepRows) {
  test(`slept: ${why}`, () => {
    assert.equal(slept({ wall: 0, mono: 0 }, { wall, mono }, P), want);
  });
}

test('fingerprint: order-free, and an address change is a change', () => {
  const a: Interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [{ address: '10.1.2.3', family: 'IPv4', internal: false }],
  };
  const b: Interfaces = { eth0: a.eth0, lo: a.lo };
  assert.equal(fingerprint(a), fingerprint(b));
  assert.notEqual(fingerprint(a), fingerprint({ ...a, eth0: [{ ...a.eth0![0]!, address: '10.1.2.4' }] }));
  assert.notEqual(fingerprint(a), fingerprint({ lo: a.lo }));
});

test('NetworkWatch: without ip, a change in the interface list is noticed by polling', async () => {
  let ifs: Interfaces = { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }] };
  const told: NetworkChange[] = [];
  const w = new NetworkWatch({
    log: pino({ level: 'silent' }),
    port: { changed: (why) => told.push(why) },
    ip: '/nonexistent/ip',
    pollMs: 20,
    interfaces: () => ifs,
  });
  await w.start({ fail: (e) => assert.fail(String(e)) });
  try {
    ifs = { ...ifs, eth0: [{ address: '10.0.0.2', family: 'IPv4', internal: false }] };
    await waitFor(() => told.length > 0, { what: 'the change told' });
    assert.deepEqual(told, ['network']);
  } finally {
    await w.stop();
  }
});

const cutRows: Array<[why: string, w: 'network' | 'wake', before: string, after: string, want: boolean]> = [
  ['after a sleep: cut, whatever the interfaces say', 'wake', 'lo', 'lo', true],
  ['a link came up (an interface appeared): cut', 'network', '', 'lo IPv4 127.0.0.1', true],
  ['an address changed: cut', 'network', 'eth0 IPv4 10.0.0.2', 'eth0 IPv4 10.0.0.3', true],
  [
    'only routes moved: a long fetch is left alone',
    'network',
    'eth0 IPv4 10.0.0.2',
    'eth0 IPv4 10.0.0.2',
    false,
  ],
];
for (const [why, w, before, after, want] of cutRows) {
  test(`cutInFlight: ${why}`, () => {
    assert.equal(cutInFlight(w, before, after), want);
  });
}
