import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_TARGETED_PATHS,
  chooseScan,
  locationScanDue,
  newKeysFirst,
  unlocatedFiles,
  unnameable,
  type PendingScan,
  type ScanChoice,
} from '../../../src/transfer/scan-policy.js';
import { ScanRequests } from '../../../src/transfer/scans.js';

const NOW = 100_000;
const idle: PendingScan = {
  fullScan: false,
  pendingPaths: 0,
  locationScan: false,
  lastFullEnd: 0,
  lastFullMs: 0,
  now: NOW,
};

// What the next scan covers, from what is pending.
const rows: Array<[why: string, s: Partial<PendingScan>, want: ScanChoice]> = [
  [
    'nothing pending: a targeted scan of no files (the loop skips it)',
    {},
    { full: false, locationWaitMs: null },
  ],
  ['a few files: just those', { pendingPaths: 3 }, { full: false, locationWaitMs: null }],
  [
    'a whole-tree request wins over files',
    { fullScan: true, pendingPaths: 3 },
    { full: true, locationWaitMs: null },
  ],
  [
    'too many files: the whole tree is cheaper',
    { pendingPaths: MAX_TARGETED_PATHS + 1 },
    { full: true, locationWaitMs: null },
  ],
  [
    'a location scan long after the last full one: now, as a full scan',
    { locationScan: true, lastFullEnd: NOW - 10_000, lastFullMs: 1_000 },
    { full: true, locationWaitMs: null },
  ],
  [
    'a location scan exactly at its turn: now',
    { locationScan: true, lastFullEnd: NOW - 4_000, lastFullMs: 1_000 },
    { full: true, locationWaitMs: null },
  ],
  [
    'a location scan too soon: the pending files now, the location scan in 3 s',
    { locationScan: true, pendingPaths: 2, lastFullEnd: NOW - 1_000, lastFullMs: 1_000 },
    { full: false, locationWaitMs: 3_000 },
  ],
  [
    'a location scan too soon but a full scan is asked anyway: full now, nothing to wait for',
    { locationScan: true, fullScan: true, lastFullEnd: NOW, lastFullMs: 1_000 },
    { full: true, locationWaitMs: null },
  ],
];
for (const [why, s, want] of rows) {
  test(`chooseScan: ${why}`, () => {
    assert.deepEqual(chooseScan({ ...idle, ...s }), want);
  });
}

const due: Array<[lastFullEnd: number, lastFullMs: number, want: boolean, why: string]> = [
  [0, 0, true, 'no full scan yet'],
  [NOW - 4_000, 1_000, true, 'its turn has come'],
  [NOW - 3_999, 1_000, false, 'one millisecond early'],
  [NOW - 29_000, 20_000, false, 'a huge tree: waits up to the 30 s cap'],
  [NOW - 30_000, 20_000, true, 'a huge tree: never longer than the cap'],
];
for (const [end, ms, want, why] of due) {
  test(`locationScanDue(${end - NOW}, ${ms}) = ${want}: ${why}`, () => {
    assert.equal(locationScanDue(end, ms, NOW), want);
  });
}

test('unnameable: a name that was not valid UTF-8 (U+FFFD) is planned by a full scan', () => {
  assert.equal(unnameable('photos/caf\uFFFD.jpg'), true);
  assert.equal(unnameable('photos/café.jpg'), false);
});

// Files whose keys no repository holds yet (the commit came before the location log).
const unlocatedRows: Array<
  [why: string, keys: { file: string; present: string[] }[], max: number, want: string[]]
> = [
  ['held somewhere: not waiting', [{ file: 'a', present: ['u1'] }], 10, []],
  ['held nowhere: waits for its location', [{ file: 'a', present: [] }], 10, ['a']],
  [
    'only the unheld ones, in order',
    [
      { file: 'a', present: [] },
      { file: 'b', present: ['u1'] },
      { file: 'c', present: [] },
    ],
    10,
    ['a', 'c'],
  ],
  [
    'bounded: the rate-limited full scan finds the rest',
    [
      { file: 'a', present: [] },
      { file: 'b', present: [] },
    ],
    1,
    ['a'],
  ],
];
for (const [why, keys, max, want] of unlocatedRows) {
  test(`unlocatedFiles: ${why}`, () => assert.deepEqual(unlocatedFiles(keys, max), want));
}

test('ScanRequests: files that waited for their locations are planned at once when the locations move, not after the rate limit', () => {
  const s = new ScanRequests();
  // A full scan just ended and took 10 s: a location scan must wait 40 s.
  s.fullScanDone(Date.now() - 10_000);
  s.awaitLocations(['burst/a.txt', 'burst/b.txt', '../outside']);
  s.afterMerge([], true);
  const job = s.take();
  // Taken once: nothing of them is left for the next scan.
  const again = s.take();
  s.stop();
  assert.deepEqual(job, { full: false, paths: ['burst/a.txt', 'burst/b.txt'] });
  assert.equal(again, null);
});

// New keys of our own commits: ahead of a whole-tree scan, together with a targeted one.
const newKeyRows: Array<[why: string, s: Partial<PendingScan> & { newKeyPaths: number }, want: boolean]> = [
  ['no new keys: nothing to put first', { newKeyPaths: 0, fullScan: true }, false],
  ['a whole-tree scan pending: the new keys first, on their own', { newKeyPaths: 2, fullScan: true }, true],
  ['only files pending: the new keys join that targeted scan', { newKeyPaths: 2, pendingPaths: 5 }, false],
  [
    'a due location scan pending (a full scan): the new keys first',
    { newKeyPaths: 1, locationScan: true, lastFullEnd: NOW - 10_000, lastFullMs: 1_000 },
    true,
  ],
  [
    'more new keys than a targeted scan takes: the whole tree',
    { newKeyPaths: MAX_TARGETED_PATHS + 1, fullScan: true },
    false,
  ],
];
for (const [why, s, want] of newKeyRows) {
  test(`newKeysFirst: ${why}`, () => {
    assert.equal(newKeysFirst({ ...idle, ...s }), want);
  });
}

test('ScanRequests: a new key is planned before the whole-tree scan already pending, which still runs', () => {
  const s = new ScanRequests();
  s.requestFull();
  s.requestNewKeys(['new.bin', '../outside']);
  const first = s.take();
  const second = s.take();
  const third = s.take();
  s.stop();
  assert.deepEqual(first, { full: false, paths: ['new.bin'] });
  assert.deepEqual(second, { full: true, paths: undefined });
  assert.equal(third, null);
});

test('ScanRequests: new keys join the pending files in one targeted scan', () => {
  const s = new ScanRequests();
  s.requestPaths(['merged.txt']);
  s.requestNewKeys(['new.bin']);
  const job = s.take();
  s.stop();
  assert.deepEqual(job, { full: false, paths: ['merged.txt', 'new.bin'] });
});
