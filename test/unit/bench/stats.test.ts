import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, quantile, ratio, summarize } from '../../../bench/lib/stats.js';

test('median: odd and even counts, order does not matter', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

test('quantile: linear interpolation between closest ranks', () => {
  const xs = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  // pos = 9 * 0.9 = 8.1 -> 90 + 0.1 * (100 - 90)
  assert.ok(Math.abs(quantile(xs, 0.9) - 91) < 1e-9);
  assert.equal(quantile(xs, 0), 10);
  assert.equal(quantile(xs, 1), 100);
});

test('quantile: rejects no samples, NaN, and q outside [0, 1]', () => {
  assert.throws(() => quantile([], 0.5), /no samples/);
  assert.throws(() => quantile([1, Number.NaN], 0.5), /NaN/);
  assert.throws(() => quantile([1], 1.5), /outside/);
});

test('summarize: all fields, input left unsorted', () => {
  const xs = [300, 100, 200, 1200, 150, 160, 170, 180, 190, 210, 220, 230];
  const copy = [...xs];
  const s = summarize(xs);
  assert.ok(s);
  assert.equal(s.n, 12);
  assert.equal(s.min, 100);
  assert.equal(s.max, 1200);
  assert.equal(s.median, 195); // sorted middle pair: 190, 200
  // pos = 11 * 0.9 = 9.9 -> 230 + 0.9 * (300 - 230)
  assert.ok(Math.abs(s.p90 - 293) < 1e-9);
  assert.ok(Math.abs(s.mean - 3310 / 12) < 1e-9);
  assert.deepEqual(xs, copy);
});

test('summarize: no samples is null, not zeros', () => {
  assert.equal(summarize([]), null);
});

test('ratio: null when a side is missing or the denominator is zero', () => {
  assert.equal(ratio(50, 200), 0.25);
  assert.equal(ratio(null, 200), null);
  assert.equal(ratio(50, undefined), null);
  assert.equal(ratio(50, 0), null);
  assert.equal(ratio(Number.POSITIVE_INFINITY, 2), null);
});
