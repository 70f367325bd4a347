import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanBytes, renderProgress } from '../../../src/transfer/progress.js';

const KEY = 'SHA256E-s200000000--5373144a0f2d645d971400547a9c5ebe80cb00432b4af260e803d820f862da4d.bin';

test('progress: summary line and one bar per active transfer, within width', () => {
  const lines = renderProgress(
    {
      queued: 3,
      failed: 1,
      active: [
        { direction: 'upload', key: KEY, remote: 'cloud', bytes: 50_000_000, size: 200_000_000 },
        { direction: 'download', key: 'SHA256E-s4--ab.jpg', remote: 'desk', bytes: 0, size: 0 },
      ],
    },
    80,
  );
  assert.equal(lines[0], 'transfers: 2 active, 3 queued, 1 failed');
  assert.equal(lines.length, 3);
  for (const l of lines) assert.ok(l.length <= 80, `too wide: ${l}`);
  assert.match(lines[1]!, /^↑ cloud …[0-9a-f]+\.bin \[#+-+\]  25% 50\.0 MB\/200\.0 MB$/);
  assert.match(lines[2]!, /^↓ desk ab\.jpg \[-+\]   \?% 0 B$/);
});

test('progress: a full bar at 100%, and narrow widths degrade to text', () => {
  const t = {
    queued: 0,
    failed: 0,
    active: [{ direction: 'upload' as const, key: KEY, remote: 'c', bytes: 10, size: 10 }],
  };
  const [, full] = renderProgress(t, 70);
  assert.ok(full!.includes('[#') && !full!.includes('-]'), full);
  assert.ok(full!.includes('100%'));
  const narrow = renderProgress(t, 20);
  for (const l of narrow) assert.ok(l.length <= 20, l);
  assert.ok(!narrow[1]!.includes('['));
});

test('progress: empty status', () => {
  assert.deepEqual(renderProgress({ queued: 0, failed: 0, active: [] }, 60), [
    'transfers: 0 active, 0 queued, 0 failed',
  ]);
});

test('humanBytes', () => {
  assert.equal(humanBytes(0), '0 B');
  assert.equal(humanBytes(999), '999 B');
  assert.equal(humanBytes(1500), '1.5 KB');
  assert.equal(humanBytes(200_000_000), '200.0 MB');
  assert.equal(humanBytes(-1), '?');
});
