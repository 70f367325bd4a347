import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locationScanDelay } from '../../../src/transfer/scan-policy.js';

// Rate-limited full scans (after a peer's location logs were merged) wait 4x the last full scan.
const rows: Array<[lastFullMs: number, delay: number, why: string]> = [
  [0, 0, 'no full scan yet, or an instant one: no wait'],
  [50, 200, 'a small tree: at most a few scans a second'],
  [1_000, 4_000, 'a 1,000-file tree: scans take at most ~20 % of the time'],
  [20_000, 30_000, 'a huge tree: capped, it still learns new locations twice a minute'],
  [-5, 0, 'a clock step backwards never yields a negative delay'],
];
for (const [last, want, why] of rows) {
  test(`locationScanDelay(${last}) = ${want}: ${why}`, () => {
    assert.equal(locationScanDelay(last), want);
  });
}
