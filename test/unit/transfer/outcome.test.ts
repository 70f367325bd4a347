import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  afterTransfer,
  putBackAfter,
  whenHeldElsewhere,
  MAX_DEFERRALS,
  type Outcome,
  type OutcomeFacts,
  type QueueAction,
} from '../../../src/transfer/outcome.js';

// With rand = 1 the backoff has no jitter: attempt n waits base * 2^(n-1), capped.
const NOW = 1_000_000;
const ok = { ok: true, noop: false, busy: false, error: null };
const fail = (error: string | null) => ({ ok: false, noop: false, busy: false, error });
const unreachable = 'ssh: Could not resolve hostname nas';

function facts(
  over: Omit<Partial<OutcomeFacts>, 'entry'> & { entry?: Partial<OutcomeFacts['entry']> },
): OutcomeFacts {
  return {
    result: ok,
    killReason: null,
    held: false,
    downStrikes: 0,
    maxAttempts: 5,
    retryBaseMs: 2_000,
    now: NOW,
    rand: () => 1,
    ...over,
    entry: { direction: 'upload', attempts: 0, ...over.entry },
  };
}

const rows: Array<[why: string, f: OutcomeFacts, want: Partial<Outcome>]> = [
  [
    'done: removed, remote up, counts towards the batch',
    facts({}),
    { queue: { op: 'remove' }, remote: { op: 'up' }, event: 'done', transferred: true, failure: null },
  ],
  [
    'already there (noop): removed, does not count',
    facts({ result: { ...ok, noop: true } }),
    { queue: { op: 'remove' }, remote: { op: 'up' }, event: 'skipped', transferred: false },
  ],
  [
    'done even though a kill was asked for: the content moved',
    facts({ killReason: 'stop' }),
    { queue: { op: 'remove' }, event: 'done', transferred: true },
  ],
  [
    'killed by a stop: kept, resumes next time, not a failure',
    facts({ result: fail('killed'), killReason: 'stop' }),
    { queue: { op: 'keep' }, remote: { op: 'none' }, event: 'interrupted', failure: null },
  ],
  [
    'killed by a pause: kept',
    facts({ result: fail('killed'), killReason: 'pause' }),
    { queue: { op: 'keep' }, event: 'interrupted', failure: null },
  ],
  [
    'cancelled while the key is held: "cancelled"',
    facts({ result: fail('killed'), killReason: 'cancel', held: true }),
    { queue: { op: 'keep' }, event: 'cancelled' },
  ],
  [
    'a pipelined key behind a cancelled one (not held): "interrupted"',
    facts({ result: fail('killed'), killReason: 'cancel', held: false }),
    { queue: { op: 'keep' }, event: 'interrupted' },
  ],
  [
    'lane died before git-annex started the key: kept',
    facts({ result: { ...fail('lane exited'), notStarted: true } }),
    { queue: { op: 'keep' }, event: 'interrupted', failure: null },
  ],
  [
    'busy (another process holds the lock): deferred 2 s, one more deferral',
    facts({ result: { ...fail('transfer already in progress'), busy: true }, entry: { deferrals: 3 } }),
    {
      queue: { op: 'update', patch: { notBefore: NOW + 2_000, deferrals: 4 } },
      remote: { op: 'none' },
      event: 'deferred',
      failure: null,
    },
  ],
  [
    'first failure: retry after 2 s',
    facts({ result: fail('checksum mismatch') }),
    {
      queue: { op: 'update', patch: { attempts: 1, notBefore: NOW + 2_000, lastError: 'checksum mismatch' } },
      remote: { op: 'none' },
      event: 'retrying',
      failure: { attempts: 1, unreachable: false, error: 'checksum mismatch' },
    },
  ],
  [
    'stalled (the lane killed git-annex after no output): an ordinary failure, retried',
    facts({ result: fail('no progress from git-annex; transfer stalled') }),
    { remote: { op: 'none' }, event: 'retrying' },
  ],
  [
    'third failure: retry after 8 s (doubling)',
    facts({ result: fail('checksum mismatch'), entry: { attempts: 2 } }),
    {
      queue: { op: 'update', patch: { attempts: 3, notBefore: NOW + 8_000, lastError: 'checksum mismatch' } },
    },
  ],
  [
    'a failure with no message reads "failed"',
    facts({ result: fail(null) }),
    {
      queue: { op: 'update', patch: { attempts: 1, notBefore: NOW + 2_000, lastError: 'failed' } },
      event: 'retrying',
    },
  ],
  [
    'the retry delay is capped at 5 min',
    facts({ result: fail('x'), entry: { attempts: 20 }, maxAttempts: 100 }),
    { queue: { op: 'update', patch: { attempts: 21, notBefore: NOW + 300_000, lastError: 'x' } } },
  ],
  [
    'last attempt of an upload: marked failed',
    facts({ result: fail('disk full'), entry: { attempts: 4 } }),
    {
      queue: { op: 'fail', error: 'disk full' },
      event: 'failed',
      failure: { attempts: 5, unreachable: false, error: 'disk full' },
    },
  ],
  [
    'last attempt of a download with another holder: falls back to it, attempts reset',
    facts({
      result: fail('disk full'),
      entry: { direction: 'download', attempts: 4, fallbacks: ['b', 'c'] },
    }),
    {
      queue: {
        op: 'update',
        patch: { remote: 'b', fallbacks: ['c'], attempts: 0, notBefore: 0, lastError: 'disk full' },
      },
      event: 'fallback',
    },
  ],
  [
    'last attempt of a download with no holder left: failed',
    facts({ result: fail('disk full'), entry: { direction: 'download', attempts: 4, fallbacks: [] } }),
    { queue: { op: 'fail', error: 'disk full' }, event: 'failed' },
  ],
  [
    'unreachable download with another holder: falls back at once, remote down 5 s',
    facts({ result: fail(unreachable), entry: { direction: 'download', fallbacks: ['b'] } }),
    {
      queue: {
        op: 'update',
        patch: { remote: 'b', fallbacks: [], attempts: 0, notBefore: 0, lastError: unreachable },
      },
      remote: { op: 'down', strikes: 1, until: NOW + 5_000 },
      event: 'fallback',
      failure: { attempts: 1, unreachable: true, error: unreachable },
    },
  ],
  [
    'unreachable upload: retried, and the remote is down for longer with each strike',
    facts({ result: fail('Connection refused'), downStrikes: 2 }),
    {
      queue: {
        op: 'update',
        patch: { attempts: 1, notBefore: NOW + 2_000, lastError: 'Connection refused' },
      },
      remote: { op: 'down', strikes: 3, until: NOW + 20_000 },
      event: 'retrying',
    },
  ],
  [
    'unreachable: the down time is capped at 10 min',
    facts({ result: fail('timed out'), downStrikes: 30 }),
    { remote: { op: 'down', strikes: 31, until: NOW + 600_000 } },
  ],
  [
    'unreachable on the last attempt, no holder left: failed, remote still marked down',
    facts({ result: fail('No route to host'), entry: { attempts: 4 } }),
    {
      queue: { op: 'fail', error: 'No route to host' },
      remote: { op: 'down', strikes: 1, until: NOW + 5_000 },
      event: 'failed',
    },
  ],
  [
    'the attempts setting is honoured (1: no retry)',
    facts({ result: fail('x'), maxAttempts: 1 }),
    { queue: { op: 'fail', error: 'x' }, event: 'failed' },
  ],
  [
    'a shorter retry base (tests) is honoured',
    facts({ result: fail('x'), retryBaseMs: 100 }),
    { queue: { op: 'update', patch: { attempts: 1, notBefore: NOW + 100, lastError: 'x' } } },
  ],
];

for (const [why, f, want] of rows) {
  test(`afterTransfer: ${why}`, () => {
    const got = afterTransfer(f);
    const picked = Object.fromEntries(Object.keys(want).map((k) => [k, got[k as keyof Outcome]]));
    assert.deepEqual(picked, want);
  });
}

test('afterTransfer: the jitter spreads a retry over half to all of its step', () => {
  const f = facts({ result: fail('x'), entry: { attempts: 1 } });
  const at = (r: number) => afterTransfer({ ...f, rand: () => r }).queue;
  assert.deepEqual(at(0), { op: 'update', patch: { attempts: 2, notBefore: NOW + 2_000, lastError: 'x' } });
  assert.deepEqual(at(1), { op: 'update', patch: { attempts: 2, notBefore: NOW + 4_000, lastError: 'x' } });
});

const held: Array<[deferrals: number | undefined, want: QueueAction, why: string]> = [
  [
    undefined,
    { op: 'update', patch: { notBefore: NOW + 2_000, deferrals: 1 } },
    'first time: look again in 2 s',
  ],
  [
    MAX_DEFERRALS - 1,
    { op: 'update', patch: { notBefore: NOW + 2_000, deferrals: MAX_DEFERRALS } },
    'still within the bound (~1 h)',
  ],
  [MAX_DEFERRALS, { op: 'fail', error: 'another process kept transferring this key' }, 'bounded: give up'],
];
for (const [deferrals, want, why] of held) {
  test(`whenHeldElsewhere(deferrals=${deferrals}): ${why}`, () => {
    assert.deepEqual(whenHeldElsewhere({ deferrals }, NOW), want);
  });
}

// Which ended entry's file is put back (putback.ts): only the download git-annex was working on
// when its lane died.
const dl = { direction: 'download' as const, file: 'a.bin' };
const putBackRows: Array<[why: string, f: Parameters<typeof putBackAfter>[0], want: string | null]> = [
  [
    'the dead lane head, a download: its file',
    { entry: dl, ok: false, laneAlive: false, deadHead: true },
    'a.bin',
  ],
  ['answered ok: nothing', { entry: dl, ok: true, laneAlive: false, deadHead: true }, null],
  [
    'the lane still runs (a failure of its own): nothing',
    { entry: dl, ok: false, laneAlive: true, deadHead: true },
    null,
  ],
  [
    "pipelined behind the head: never started, a missing file is the user's deletion",
    { entry: dl, ok: false, laneAlive: false, deadHead: false },
    null,
  ],
  [
    'an upload: the file was never touched',
    { entry: { direction: 'upload', file: 'a.bin' }, ok: false, laneAlive: false, deadHead: true },
    null,
  ],
  [
    'a download without a file (a key only)',
    { entry: { direction: 'download' }, ok: false, laneAlive: false, deadHead: true },
    null,
  ],
];
for (const [why, f, want] of putBackRows) {
  test(`putBackAfter: ${why}`, () => assert.equal(putBackAfter(f), want));
}
