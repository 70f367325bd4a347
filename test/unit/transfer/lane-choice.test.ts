import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LARGE_BYTES,
  PIPELINE_DEPTH,
  capacity,
  isLarge,
  dueForRecycle,
  fairOrder,
  othersWaiting,
  pickLane,
  usable,
  type LaneView,
} from '../../../src/transfer/lane-choice.js';

type Lane = LaneView & { name: string };
/** A key of n bytes, as git-annex names it (the size is in the key). */
const keyOf = (n: number) => `SHA256E-s${n}--${'0'.repeat(64)}.bin`;
const SMALL = keyOf(1024);
const LARGE = keyOf(20 * 1024 * 1024);
/** `queued` small keys handed to the lane, or with `large` its head is large content. */
function lane(
  name: string,
  remote: string,
  over: Partial<LaneView> & { queued?: number; large?: boolean } = {},
): Lane {
  const { queued = 0, large = false, ...rest } = over;
  return {
    name,
    lane: { remote, direction: 'upload', alive: true },
    entries: Array.from({ length: queued }, (_, i) => ({ key: large && i === 0 ? LARGE : SMALL })),
    killReason: null,
    stale: false,
    closing: false,
    handled: 0,
    startedAt: 0,
    ...rest,
  };
}
const up = (remote: string, key = SMALL) => ({ direction: 'upload' as const, remote, key });

const largeRows: Array<[why: string, e: { key: string; size?: number | null }, want: boolean]> = [
  ['a 20 MiB key', { key: LARGE }, true],
  ['a 1 KiB key', { key: SMALL }, false],
  ['exactly LARGE_BYTES', { key: keyOf(LARGE_BYTES) }, true],
  ['one byte less', { key: keyOf(LARGE_BYTES - 1) }, false],
  ["the queue's size wins over the key's", { key: SMALL, size: LARGE_BYTES }, true],
  ['a key without a size (URL key): small', { key: 'URL--http&c%%example.com%x' }, false],
];
for (const [why, e, want] of largeRows) {
  test(`isLarge: ${why} -> ${want}`, () => assert.equal(isLarge(e), want));
}

const usableRows: Array<[why: string, l: Lane, want: boolean]> = [
  ['same remote and direction, alive', lane('a', 'a'), true],
  ['another remote', lane('a', 'b'), false],
  [
    'another direction',
    { ...lane('a', 'a'), lane: { remote: 'a', direction: 'download', alive: true } },
    false,
  ],
  ['dead', { ...lane('a', 'a'), lane: { remote: 'a', direction: 'upload', alive: false } }, false],
  ['closing', lane('a', 'a', { closing: true }), false],
  ['stale (settings changed, or due for recycling)', lane('a', 'a', { stale: true }), false],
  ['being killed', lane('a', 'a', { killReason: 'pause' }), false],
];
for (const [why, l, want] of usableRows) {
  test(`usable: ${why} -> ${want}`, () => assert.equal(usable(l, up('a')), want));
}

const pickRows: Array<[why: string, lanes: Lane[], slots: number, want: string | null]> = [
  ['no lanes, a free slot: open one', [], 2, 'open'],
  ['an idle lane for the remote comes before a new one', [lane('x', 'a')], 2, 'x'],
  ['a busy lane for the remote and a free slot: open another', [lane('x', 'a', { queued: 1 })], 2, 'open'],
  [
    'all slots taken: behind the least loaded lane of the remote',
    [lane('x', 'a', { queued: 3 }), lane('y', 'a', { queued: 1 })],
    2,
    'y',
  ],
  [
    'all slots taken, the lane is full: none',
    [lane('x', 'a', { queued: PIPELINE_DEPTH }), lane('y', 'b')],
    2,
    null,
  ],
  [
    'all slots taken by other remotes: none (the pool may free an idle one)',
    [lane('x', 'b'), lane('y', 'c')],
    2,
    null,
  ],
  ['an idle but closing lane is not reused', [lane('x', 'a', { closing: true })], 1, null],
];
for (const [why, lanes, slots, want] of pickRows) {
  test(`pickLane: ${why}`, () => {
    const got = pickLane(lanes, slots, up('a'));
    assert.equal(got === 'open' || got === null ? got : got.name, want);
  });
}

// Large content never shares a lane (issue 10: a 20 MiB file waited behind 200 small ones).
const largePickRows: Array<
  [why: string, lanes: Lane[], slots: number, key: string, largeWaiting: boolean, want: string | null]
> = [
  ['large, a free slot: its own new lane', [lane('x', 'a', { queued: 2 })], 2, LARGE, false, 'open'],
  ['large, an idle lane: that one', [lane('x', 'a', { queued: 2 }), lane('y', 'a')], 2, LARGE, false, 'y'],
  [
    'large, every lane busy: never pipelined behind small keys',
    [lane('x', 'a', { queued: 1 }), lane('y', 'a', { queued: 1 })],
    2,
    LARGE,
    false,
    null,
  ],
  [
    'small: not behind a lane running large content, behind the other',
    [lane('x', 'a', { queued: 1, large: true }), lane('y', 'a', { queued: 3 })],
    2,
    SMALL,
    false,
    'y',
  ],
  [
    'small, the only lane with room runs large content: none',
    [lane('x', 'a', { queued: 1, large: true }), lane('y', 'a', { queued: PIPELINE_DEPTH })],
    2,
    SMALL,
    false,
    null,
  ],
  [
    'small while a large one waits: not pipelined, so a lane drains',
    [lane('x', 'a', { queued: 1 }), lane('y', 'a', { queued: 1 })],
    2,
    SMALL,
    true,
    null,
  ],
  [
    'small while a large one waits: an idle lane still takes it',
    [lane('x', 'a', { queued: 1 }), lane('y', 'a')],
    2,
    SMALL,
    true,
    'y',
  ],
];
for (const [why, lanes, slots, key, waiting, want] of largePickRows) {
  test(`pickLane: ${why}`, () => {
    const got = pickLane(lanes, slots, up('a', key), waiting);
    assert.equal(got === 'open' || got === null ? got : got.name, want);
  });
}

const capRows: Array<[why: string, lanes: Lane[], slots: number, want: number]> = [
  ['no lanes: every slot at full depth', [], 2, 2 * PIPELINE_DEPTH],
  ['one lane with one key, one free slot', [lane('x', 'a', { queued: 1 })], 2, 2 * PIPELINE_DEPTH - 1],
  [
    'a stale or killed lane takes nothing',
    [lane('x', 'a', { stale: true, queued: 1 }), lane('y', 'b', { killReason: 'stop', queued: 1 })],
    2,
    0,
  ],
  [
    'full, but an idle lane of another remote can be closed: 1',
    [lane('x', 'a', { queued: PIPELINE_DEPTH }), lane('y', 'b', { stale: true })],
    2,
    1,
  ],
];
for (const [why, lanes, slots, want] of capRows) {
  test(`capacity: ${why}`, () => assert.equal(capacity(lanes, slots), want));
}

test('capacity: a lane running large content takes nothing behind it', () =>
  assert.equal(capacity([lane('x', 'a', { queued: 1, large: true })], 1), 0));
test('capacity: while a large entry waits, only idle lanes and free slots count', () => {
  assert.equal(capacity([lane('x', 'a', { queued: 1 }), lane('y', 'a', { queued: 2 })], 2, true), 0);
  assert.equal(capacity([lane('x', 'a', { queued: 1 }), lane('y', 'a')], 2, true), PIPELINE_DEPTH);
  assert.equal(capacity([lane('x', 'a', { queued: 1 })], 2, true), PIPELINE_DEPTH);
});

const recycleRows: Array<
  [why: string, over: Partial<LaneView>, now: number, crowded: boolean, want: boolean]
> = [
  ['fresh lane', { handled: 3 }, 1_000, false, false],
  ['ran 10 s: recycled so peers learn locations during a long run', { handled: 3 }, 10_000, false, true],
  ['2,000 keys: recycled', { handled: 2_000 }, 1_000, false, true],
  ['crowded, 8 keys: yields to the others', { handled: 8 }, 1_000, true, true],
  ['crowded, 7 keys: not yet', { handled: 7 }, 1_000, true, false],
  ['not crowded, 8 keys: keeps going', { handled: 8 }, 1_000, false, false],
];
for (const [why, over, now, crowded, want] of recycleRows) {
  test(`dueForRecycle: ${why}`, () => assert.equal(dueForRecycle(lane('x', 'a', over), now, crowded), want));
}

test('fairOrder: large content first within remotes without a lane, then within those with one', () => {
  const q = [up('a'), up('a', LARGE), up('b'), up('b', LARGE), up('a')].map((e, i) => ({ ...e, i }));
  const got = fairOrder(q, [lane('x', 'a')]).map((e) => e.i);
  assert.deepEqual(got, [3, 2, 1, 0, 4]);
});

test('fairOrder: remotes without a lane first, queue order otherwise', () => {
  const q = [up('a'), up('b'), up('a'), up('c')].map((e, i) => ({ ...e, i }));
  const got = fairOrder(q, [lane('x', 'a'), lane('y', 'c', { stale: true })]).map((e) => e.i);
  assert.deepEqual(got, [1, 3, 0, 2]);
});

test('othersWaiting: a startable entry for a remote with no open lane', () => {
  const lanes = [lane('x', 'a'), lane('y', 'b', { closing: true })];
  assert.equal(
    othersWaiting([up('a'), up('b')], lanes, () => true),
    true,
  );
  assert.equal(
    othersWaiting([up('a'), up('b')], lanes, (e) => e.remote === 'a'),
    false,
  );
  assert.equal(
    othersWaiting([up('a')], lanes, () => true),
    false,
  );
});
