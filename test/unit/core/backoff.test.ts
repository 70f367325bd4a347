import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, RECONNECT_BASE_MS, RECONNECT_MAX_MS } from '../../../src/core/backoff.js';

test('backoff doubles from the base, with jitter between 50% and 100%, capped at 5 min', () => {
  const lo = new Backoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS, () => 0);
  const hi = new Backoff(RECONNECT_BASE_MS, RECONNECT_MAX_MS, () => 1);
  const los = Array.from({ length: 12 }, () => lo.next());
  const his = Array.from({ length: 12 }, () => hi.next());
  assert.deepEqual(his.slice(0, 5), [1000, 2000, 4000, 8000, 16000]);
  assert.deepEqual(los.slice(0, 3), [500, 1000, 2000]);
  assert.equal(his[11], RECONNECT_MAX_MS);
  assert.equal(los[11], RECONNECT_MAX_MS / 2);
  assert.equal(RECONNECT_MAX_MS, 300_000);
  for (let i = 0; i < 1000; i++) hi.next();
  assert.equal(hi.next(), RECONNECT_MAX_MS, 'no overflow after many failures');
});

test('random jitter stays within bounds; reset starts over', () => {
  const b = new Backoff(100, 1_000);
  for (let i = 1; i <= 20; i++) {
    const d = b.next();
    const step = Math.min(1_000, 100 * 2 ** (i - 1));
    assert.ok(d >= step / 2 && d <= step, `attempt ${i}: ${d}`);
  }
  assert.equal(b.attempts, 20);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.ok(b.next() <= 100);
});
