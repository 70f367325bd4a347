// Control of the transfer service on real git-annex: pause/resume (all, one remote) surviving a
// restart through transfers.json, cancel of a running transfer, bandwidth limit, live progress in
// status(), and the committer's helper that lists keys added by a commit range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { git, write } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import {
  addAndCommit,
  annex,
  hasKey,
  initAnnex,
  initBareAnnex,
  startService,
  writeBig,
  scratch,
} from '../helpers/annex.js';
import { Runner } from '../../src/git/runner.js';
import { annexedInRange, keysAddedInRange } from '../../src/transfer/commitkeys.js';
import { renderProgress } from '../../src/transfer/progress.js';
import { EventBus } from '../../src/core/bus.js';

function setup(root: string) {
  const C = initBareAnnex(join(root, 'C'), 'cloud');
  const D = initBareAnnex(join(root, 'D'), 'desk');
  const A = initAnnex(join(root, 'A'), 'laptop A');
  git(A, 'remote', 'add', 'cloud', C);
  git(A, 'remote', 'add', 'desk', D);
  return { A, C, D };
}

test('pause survives a restart; resume per remote and for all', { timeout: 60_000 }, async (t) => {
  const d = scratch(t);
  const { A, C, D } = setup(d.path);
  write(A, 'x.txt', 'x\n');
  write(A, 'y.txt', 'y\n');
  const [kx, ky] = addAndCommit(A, ['x.txt', 'y.txt']);
  annex(A, 'sync', '--no-content', '--quiet');

  const s1 = await startService(A, { scanOnStart: false });
  s1.svc.pause();
  s1.svc.requestScan();
  await waitFor(() => s1.svc.status().queued === 4, { what: '4 uploads queued (2 keys x 2 remotes)' });
  assert.equal(s1.svc.status().active.length, 0);
  await s1.stop();

  // A new service (agent restart) finds the queue and the pause in transfers.json.
  const s2 = await startService(A, { scanOnStart: false });
  d.defer(s2.stop);
  assert.equal(s2.svc.status().queued, 4);
  assert.deepEqual(s2.svc.details().paused, { all: true, remotes: [] });
  s2.svc.resume();
  s2.svc.pause('desk');
  await waitFor(() => hasKey(C, kx!) && hasKey(C, ky!), { what: 'cloud got both' });
  await waitFor(() => s2.svc.status().queued === 2 && s2.svc.status().active.length === 0, {
    what: 'desk waits',
  });
  assert.equal(hasKey(D, kx!), false, 'paused remote got nothing');
  s2.svc.resume('desk');
  await waitFor(() => hasKey(D, kx!) && hasKey(D, ky!), { what: 'desk got both after resume' });
  await waitFor(() => s2.locationsChanged >= 2, { what: 'locations signalled per batch' });
});

test(
  'cancel stops a running transfer and keeps scans off the key; status shows progress',
  { timeout: 60_000 },
  async (t) => {
    const d = scratch(t);
    const { A, C } = setup(d.path);
    git(A, 'config', 'remote.desk.annex-ignore', 'true');
    writeBig(join(A, 'big.bin'), 64 * 1024 * 1024);
    const [k] = addAndCommit(A, ['big.bin']);
    annex(A, 'sync', '--no-content', '--quiet');
    // 4 MiB/s: 16 s for the file, so it is surely still running when we cancel.
    const s = await startService(A, { bwlimit: { cloud: '4MiB' } });
    d.defer(s.stop);
    const active = await waitFor(
      () => {
        const a = s.svc.status().active[0];
        return a && a.bytes > 0 ? a : null;
      },
      { timeoutMs: 20_000, what: 'progress reported' },
    );
    assert.equal(active.direction, 'upload');
    assert.equal(active.remote, 'cloud');
    assert.equal(active.key, k);
    assert.equal(active.size, 64 * 1024 * 1024);
    const lines = renderProgress(s.svc.status(), 80);
    assert.match(lines[1]!, /^↑ cloud .*%/);
    s.svc.cancel(k!);
    await waitFor(() => s.svc.status().active.length === 0, { what: 'transfer stopped' });
    s.svc.requestScan();
    await waitFor(() => s.svc.details().scans >= 2, { what: 'another scan' });
    assert.equal(s.svc.status().queued, 0, 'held key not re-queued');
    assert.equal(hasKey(C, k!), false);
    assert.equal(s.svc.status().failed, 0, 'a cancel is not a failure');
    // An explicit enqueue (the committer) releases the hold.
    s.svc.setBandwidthLimit('cloud', null);
    s.svc.enqueueKeys([k!]);
    await waitFor(() => hasKey(C, k!), { timeoutMs: 20_000, what: 'uploaded after re-enqueue' });
  },
);

test('bandwidth limit per remote is honoured (git remote, annex-bwlimit)', { timeout: 60_000 }, async (t) => {
  const d = scratch(t);
  const { A, C } = setup(d.path);
  git(A, 'config', 'remote.desk.annex-ignore', 'true');
  const size = 16 * 1024 * 1024;
  writeBig(join(A, 'm.bin'), size);
  const [k] = addAndCommit(A, ['m.bin']);
  annex(A, 'sync', '--no-content', '--quiet');
  const t0 = Date.now();
  const s = await startService(A, { bwlimit: { cloud: '8MiB' } });
  d.defer(s.stop);
  await waitFor(() => hasKey(C, k!), { timeoutMs: 30_000, what: 'uploaded' });
  const secs = (Date.now() - t0) / 1000;
  // 16 MiB at 8 MiB/s: at least ~2 s (unlimited, a local copy takes well under 0.5 s).
  assert.ok(secs >= 1.8, `took ${secs}s`);
});

test('keysAddedInRange lists annexed keys of new and changed files only', async (t) => {
  const d = scratch(t);
  const A = initAnnex(join(d.path, 'A'), 'A');
  write(A, 'a.bin', 'aaa\n');
  const [ka] = addAndCommit(A, ['a.bin']);
  const first = git(A, 'rev-parse', 'HEAD').trim();
  write(A, 'b.bin', 'bbb\n');
  write(A, 'plain.txt', 'not annexed\n');
  annex(A, 'add', '--quiet', 'b.bin');
  git(A, 'add', 'plain.txt');
  git(A, 'commit', '-q', '-m', 'b');
  // An unlocked file (pointer file in git) counts too.
  write(A, 'u.bin', 'uuu\n');
  annex(A, 'add', '--quiet', 'u.bin');
  annex(A, 'unlock', 'u.bin');
  git(A, 'commit', '-q', '-m', 'u', '-a');
  const kb = annex(A, 'lookupkey', 'b.bin').trim();
  const ku = annex(A, 'lookupkey', 'u.bin').trim();
  const r = new Runner(A);
  assert.deepEqual(await keysAddedInRange(r, null, first), [ka]);
  assert.deepEqual((await keysAddedInRange(r, first, 'HEAD')).sort(), [kb, ku].sort());
});

test(
  'one slot, two remotes: the lane goes round instead of finishing one remote first',
  { timeout: 60_000 },
  async (t) => {
    const d = scratch(t);
    const { A } = setup(d.path);
    const files: string[] = [];
    for (let i = 0; i < 40; i++) {
      write(A, `f/${i}.txt`, `file ${i}\n`);
      files.push(`f/${i}.txt`);
    }
    addAndCommit(A, files);
    annex(A, 'sync', '--no-content', '--quiet');
    const done: string[] = [];
    const bus = new EventBus();
    bus.on('transferChanged', (e) => e.state === 'done' && done.push(e.remote));
    const s = await startService(A, { bus, slots: 1 });
    d.defer(s.stop);
    await waitFor(() => done.length === 80, { timeoutMs: 40_000, what: `80 uploads (have ${done.length})` });
    const firstCloud = done.indexOf('cloud');
    const firstDesk = done.indexOf('desk');
    const lastCloud = done.lastIndexOf('cloud');
    const lastDesk = done.lastIndexOf('desk');
    // Without round robin, one remote would get all 40 before the other got any.
    assert.ok(Math.max(firstCloud, firstDesk) < Math.min(lastCloud, lastDesk), done.join(','));
    assert.ok(
      Math.max(firstCloud, firstDesk) <= 16,
      `second remote waited ${Math.max(firstCloud, firstDesk)} keys`,
    );
    // And the lanes were recycled along the way: more than one location-log commit.
    assert.ok(s.locationsChanged >= 2, `locations signalled ${s.locationsChanged} times`);
  },
);

test('enqueueKeys with paths plans just those files (targeted scan)', { timeout: 60_000 }, async (t) => {
  const d = scratch(t);
  const { A, C } = setup(d.path);
  git(A, 'config', 'remote.desk.annex-ignore', 'true');
  write(A, 'old.txt', 'committed before, never enqueued\n');
  const [kOld] = addAndCommit(A, ['old.txt']);
  annex(A, 'sync', '--no-content', '--quiet');
  const before = git(A, 'rev-parse', 'HEAD').trim();
  write(A, 'new/one.bin', 'one\n');
  write(A, 'new/two.bin', 'two\n');
  addAndCommit(A, ['new/one.bin', 'new/two.bin']);
  const changed = await annexedInRange(new Runner(A), before, 'HEAD');
  assert.deepEqual(changed.map((c) => c.path).sort(), ['new/one.bin', 'new/two.bin']);
  const s = await startService(A, { scanOnStart: false });
  d.defer(s.stop);
  s.svc.enqueueKeys(
    changed.map((c) => c.key),
    changed.map((c) => c.path),
  );
  await waitFor(() => changed.every((c) => hasKey(C, c.key)), { what: 'the two new files uploaded' });
  await waitFor(() => s.svc.status().queued === 0 && s.svc.status().active.length === 0, { what: 'idle' });
  assert.equal(hasKey(C, kOld!), false, 'a file outside the targeted paths was not planned');
  // A full scan (as after a merge) then picks it up.
  s.svc.requestScan();
  await waitFor(() => hasKey(C, kOld!), { what: 'old file uploaded after a full scan' });
});
