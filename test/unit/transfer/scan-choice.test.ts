import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_TARGETED_PATHS,
  chooseScan,
  locationScanDue,
  unnameable,
  type PendingScan,
  type ScanChoice,
} from '../../../src/transfer/scan-policy.js';

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
