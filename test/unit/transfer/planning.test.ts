import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentlyDone, newerSource, plannedItems, type PlanFilter } from '../../../src/transfer/planning.js';
import { dropArgs, dropGroups } from '../../../src/transfer/drops.js';
import type { PlannedDrop } from '../../../src/map/planner.js';

const K1 = 'SHA256E-s10--aaaa.bin';
const K2 = 'SHA256E-s20--bbbb.jpg';
const none: PlanFilter = { isHeld: () => false, recentlyFailed: () => false, recentlyDone: () => false };
const p = {
  downloads: [{ key: K1, remote: 'a', fallbacks: ['b'], file: 'x.bin', size: 10 }],
  uploads: [
    { key: K2, remote: 'a', file: 'y.jpg', size: 20 },
    { key: K2, remote: 'b', file: 'y.jpg', size: null },
  ],
};

const rows: Array<[why: string, f: Partial<PlanFilter>, want: string[]]> = [
  ['all planned: downloads first, then uploads', {}, ['download a K1', 'upload a K2', 'upload b K2']],
  ['a held key (cancel) is not queued', { isHeld: (k) => k === K2 }, ['download a K1']],
  [
    'a transfer given up on recently is not queued again',
    { recentlyFailed: (e) => e.remote === 'b' },
    ['download a K1', 'upload a K2'],
  ],
  [
    'a transfer just done is not queued again',
    { recentlyDone: (e) => e.direction === 'download' },
    ['upload a K2', 'upload b K2'],
  ],
];
for (const [why, f, want] of rows) {
  test(`plannedItems: ${why}`, () => {
    const got = plannedItems(p, { ...none, ...f }).map(
      (e) => `${e.direction} ${e.remote} ${e.key === K1 ? 'K1' : 'K2'}`,
    );
    assert.deepEqual(got, want);
  });
}

test('plannedItems: a download keeps its fallbacks, file and size', () => {
  assert.deepEqual(plannedItems(p, none)[0], {
    direction: 'download',
    key: K1,
    remote: 'a',
    fallbacks: ['b'],
    file: 'x.bin',
    size: 10,
  });
});

test('RecentlyDone: remembers a transfer for two minutes', () => {
  const r = new RecentlyDone();
  const e = { direction: 'upload' as const, key: K1, remote: 'a' };
  r.mark(e, 0);
  r.prune(120_000);
  assert.equal(r.has(e), true);
  assert.equal(r.has({ ...e, remote: 'b' }), false);
  r.prune(120_001);
  assert.equal(r.has(e), false);
});

const d = (file: string, remote: string | null, reason: PlannedDrop['reason'], key = K1): PlannedDrop => ({
  key,
  file,
  remote,
  reason,
});
const drops = [
  d('a.bin', 'c', 'bridge-done'),
  d('b.bin', null, 'unwanted-here'),
  d('c.bin', 'c', 'bridge-done'),
  d('../etc/passwd', 'c', 'bridge-done'),
  d('caf\uFFFD.bin', 'c', 'bridge-done'),
  d('d.bin', 'p', 'bridge-done'),
  d('e.bin', 'c', 'bridge-done', K2),
];
const files = (g: PlannedDrop[][]) => g.map((l) => l.map((x) => x.file));
const dropRows: Array<
  [why: string, paused: (r: string | null) => boolean, busy: (k: string) => boolean, want: string[][]]
> = [
  [
    'grouped by remote and reason; unsafe and unnameable names skipped',
    () => false,
    () => false,
    [['a.bin', 'c.bin', 'e.bin'], ['b.bin'], ['d.bin']],
  ],
  [
    'a paused remote is not dropped from',
    (r) => r === 'p',
    () => false,
    [['a.bin', 'c.bin', 'e.bin'], ['b.bin']],
  ],
  [
    '"all paused" keeps the local copies',
    (r) => r === null,
    () => false,
    [['a.bin', 'c.bin', 'e.bin'], ['d.bin']],
  ],
  ['a key being moved right now is not dropped', () => false, (k) => k === K1, [['e.bin']]],
];
for (const [why, paused, busy, want] of dropRows) {
  test(`dropGroups: ${why}`, () => {
    assert.deepEqual(files(dropGroups(drops, { paused, busy })), want);
  });
}

test('dropArgs: --from for a remote, --auto for unwanted local content', () => {
  const base = ['annex', 'drop', '--batch', '--json', '--json-error-messages'];
  assert.deepEqual(dropArgs({ remote: 'c', reason: 'bridge-done' }), [...base, '--from=c']);
  assert.deepEqual(dropArgs({ remote: null, reason: 'unwanted-here' }), [...base, '--auto']);
});

const sourceRows: Array<
  [why: string, queued: { remote: string; attempts: number }, active: boolean, want: string | null]
> = [
  [
    'queued from the cloud, now planned from the LAN peer: the peer',
    { remote: 'cloud', attempts: 0 },
    false,
    'peer',
  ],
  ['already the planned source: kept', { remote: 'peer', attempts: 0 }, false, null],
  ['in a lane (git-annex runs with --from): kept', { remote: 'cloud', attempts: 0 }, true, null],
  ['failed before and fell back: its chain is kept', { remote: 'cloud', attempts: 1 }, false, null],
];
for (const [why, queued, active, want] of sourceRows) {
  test(`newerSource: ${why}`, () => {
    const got = newerSource({ ...queued, fallbacks: [] }, { remote: 'peer', fallbacks: ['cloud'] }, active);
    assert.deepEqual(got, want === null ? null : { remote: want, fallbacks: ['cloud'] });
  });
}
