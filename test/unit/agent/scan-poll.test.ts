// The scan poll, the watcher's stand-in past the kernel's watch limit: idle (no timer, no scan)
// until activated; then a scan at once and again every everyMs; none after stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScanPoll } from '../../../src/agent/scan-poll.js';
import { waitFor } from '../../helpers/wait.js';

test('idle until activated, then scans at once and on its timer, and not after stop', async () => {
  let scans = 0;
  const poll = new ScanPoll({ scan: () => scans++, everyMs: 20 });
  await poll.start({ fail: () => assert.fail('no failure') });
  assert.equal(poll.scanning, false);
  assert.equal(scans, 0);
  poll.activate();
  assert.equal(scans, 1, 'the first scan is asked for at once');
  assert.equal(poll.scanning, true);
  await waitFor(() => scans >= 3, { what: 'two more scans on the timer' });
  await poll.stop();
  const stopped = scans;
  poll.activate();
  assert.equal(scans, stopped, 'activating a stopped poll scans nothing');
});

test('activated before start: the first scan comes with start', async () => {
  let scans = 0;
  const poll = new ScanPoll({ scan: () => scans++, everyMs: 60_000 });
  poll.activate();
  assert.equal(scans, 0);
  await poll.start({ fail: () => assert.fail('no failure') });
  assert.equal(scans, 1);
  await poll.stop();
});
