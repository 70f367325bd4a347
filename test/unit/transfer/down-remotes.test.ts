import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DownRemotes } from '../../../src/transfer/down-remotes.js';

test('DownRemotes: down until its period ends, then named once as expired, strikes kept', () => {
  const d = new DownRemotes();
  d.down('cloud', 1, 5_000);
  assert.equal(d.isDown('cloud', 4_999), true);
  assert.deepEqual([...d.list(4_999)], ['cloud']);
  assert.equal(d.nextExpiry(0), 5_000);
  assert.deepEqual(d.takeExpired(4_999), []);
  assert.deepEqual(d.takeExpired(5_000), ['cloud']);
  assert.deepEqual(d.takeExpired(6_000), [], 'named once per period');
  assert.equal(d.isDown('cloud', 6_000), false);
  assert.equal(d.strikes('cloud'), 1, 'still down next time: a longer period');
  assert.equal(d.nextExpiry(6_000), Infinity);
});

test('DownRemotes: up says whether it had been down, and forgets it', () => {
  const d = new DownRemotes();
  assert.equal(d.up('lan'), false);
  d.down('lan', 2, 10_000);
  assert.equal(d.up('lan'), true);
  assert.equal(d.strikes('lan'), 0);
  assert.equal(d.isDown('lan', 0), false);
});

test('DownRemotes: a drive away is down whatever the time, never expires, and up brings it back', () => {
  const d = new DownRemotes();
  d.away('drive');
  d.down('cloud', 1, 5_000);
  assert.equal(d.isDown('drive', Number.MAX_SAFE_INTEGER), true);
  assert.deepEqual(d.failing(0), ['cloud'], 'a network back retries the cloud, not the drive');
  assert.deepEqual(d.takeExpired(Number.MAX_SAFE_INTEGER), ['cloud'], 'the drive never expires');
  assert.equal(d.nextExpiry(0), Infinity, 'no timer for it');
  d.up('drive');
  assert.equal(d.isDown('drive', 0), false);
});
