// The committer's first scan (changes made while no agent ran) at start: start() returns before the
// scan's git status answers, so the agent answers status and takes events meanwhile ('scanning' is
// true then); a change noted during the scan is not lost, the scan's paths are added, and a stop
// during the scan waits for it and commits both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Committer } from '../../../src/agent/committer.js';
import { createLogger } from '../../../src/core/log.js';
import { EventBus } from '../../../src/core/bus.js';
import { tmpDir } from '../../helpers/repos.js';
import { fakeSync } from '../../helpers/fake-sync.js';
import { waitFor } from '../../helpers/wait.js';

function blockedScan(workTree: string) {
  const f = fakeSync(workTree);
  let answer: (paths: string[]) => void = () => {};
  let asked = 0;
  // The first call (the first scan) waits for answer(); later ones (a scan after a pass) find nothing.
  (f.sync as unknown as { pendingPaths: () => Promise<string[]> }).pendingPaths = () => {
    if (asked++ > 0) return Promise.resolve([]);
    return new Promise<string[]>((resolve) => (answer = resolve));
  };
  return { ...f, answer: (p: string[]) => answer(p), asked: () => asked };
}

test('start returns while the first scan runs; an event meanwhile and the scan both count', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  for (const n of ['offline.txt', 'during.txt']) writeFileSync(join(tmp.path, n), n);
  const f = blockedScan(tmp.path);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
  });
  await c.start({ fail: (e) => assert.fail(String(e)) });
  t.after(() => c.stop());
  assert.equal(f.asked(), 1, 'the scan is under way');
  assert.equal(f.commits.length, 0);
  assert.equal(c.scanning, true);
  c.note('during.txt');
  assert.equal(c.pendingCount, 1, 'an event during the scan is pending at once');
  f.answer(['offline.txt', 'during.txt']);
  await waitFor(() => !c.scanning, { what: 'the scan to end' });
  await c.flush();
  assert.equal(c.pendingCount, 0);
  assert.deepEqual(f.commits.flat().sort(), ['during.txt', 'offline.txt'], 'each committed once');
});

test('a stop during the first scan waits for it and commits what it found', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  writeFileSync(join(tmp.path, 'offline.txt'), 'x');
  const f = blockedScan(tmp.path);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
  });
  await c.start({ fail: (e) => assert.fail(String(e)) });
  const stopped = c.stop();
  f.answer(['offline.txt']);
  await stopped;
  assert.deepEqual(f.commits, [['offline.txt']]);
});

test('a failed first scan is a crash of the committer (the supervisor restarts it and it scans again)', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  (f.sync as unknown as { pendingPaths: () => Promise<string[]> }).pendingPaths = async () => {
    throw new Error('git status failed');
  };
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
  });
  const failures: unknown[] = [];
  await c.start({ fail: (e) => failures.push(e) });
  t.after(() => c.stop());
  await waitFor(() => failures.length === 1, { what: 'the failure reported' });
  assert.match(String(failures[0]), /git status failed/);
  assert.equal(c.scanning, false);
});
