// The committer in a burst: an event that comes after the commit, for a file exactly as committed
// (the watcher lags the writes by seconds under load), is no edit and starts no second pass; a
// write after the commit, a scan's find, a path GitSync left out, each still is. New folders are
// coalesced to the top-most. A stand-in for GitSync records what reaches a commit; no git runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Committer } from '../../../src/agent/committer.js';
import { topMost } from '../../../src/agent/committer-folders.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { fakeSync } from '../../helpers/fake-sync.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

function committer(f: ReturnType<typeof fakeSync>, openLookup?: (abs: string[]) => Set<string>) {
  return new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
    ...(openLookup ? { openLookup } : {}),
  });
}

test('a late event for a file exactly as committed is not pending again; a later write is', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const c = committer(f);
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  writeFileSync(join(tmp.path, 'a.txt'), 'one');
  writeFileSync(join(tmp.path, 'b.txt'), 'one');
  c.note('a.txt');
  c.note('b.txt');
  await c.flush();
  assert.deepEqual(f.commits, [['a.txt', 'b.txt']]);

  // The watcher's second report of the same write, after the commit.
  c.note('a.txt');
  assert.equal(c.pendingCount, 0, 'the same write seen again is not an edit');
  await c.flush();
  assert.equal(f.commits.length, 1, 'and no second commit');

  // A new write is.
  writeFileSync(join(tmp.path, 'a.txt'), 'two, longer');
  c.note('a.txt');
  assert.equal(c.pendingCount, 1, 'a write after the commit is pending');
  // A scan's find is never taken for a late event (it compared with the index itself).
  c.note('b.txt', Date.now());
  assert.equal(c.pendingCount, 2, 'a scan that finds b.txt changed has it committed again');
  await c.flush();
  assert.deepEqual(f.commits[1], ['a.txt', 'b.txt']);
});

test('a file GitSync left out of the commit (still being written) is not taken for committed', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  // The pass finds nothing open; GitSync, asking as it stages, finds the file open: left out.
  let sweeps = 0;
  const c = committer(f, (abs) => (++sweeps === 2 ? new Set(abs) : new Set()));
  const commit = f.sync.commit.bind(f.sync);
  f.sync.commit = async (paths: string[]) => {
    const out = c.beingWritten(paths);
    return commit(paths.filter((p) => !out.has(p)));
  };
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  writeFileSync(join(tmp.path, 'big.bin'), 'partial');
  c.note('big.bin');
  await c.flush();
  assert.deepEqual(f.commits, [[]], 'left out');
  assert.equal(sweeps, 2);
  // Its writer closes it without another write: the next event must still commit it.
  c.note('big.bin');
  assert.equal(c.pendingCount, 1, 'pending again');
  await c.flush();
  assert.deepEqual(f.commits[1], ['big.bin']);
});

test('a path noted again by retryLater (raw content staged) is pending again', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const c = committer(f);
  const commit = f.sync.commit.bind(f.sync);
  let first = true;
  f.sync.commit = async (paths: string[]) => {
    if (first) c.retryLater(paths, 1);
    first = false;
    return commit(paths);
  };
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  writeFileSync(join(tmp.path, 'x.txt'), 'x');
  c.note('x.txt');
  await c.flush();
  await waitFor(() => f.commits.length === 2, { what: 'the retried path to be committed again' });
  assert.deepEqual(f.commits[1], ['x.txt']);
});

test('topMost: new folders coalesce to the top-most', () => {
  const rows: Array<[string, string[], string[]]> = [
    ['none', [], []],
    ['one', ['a'], ['a']],
    ['a child after its parent', ['a', 'a/b', 'a/b/c'], ['a']],
    ['a parent after its child', ['a/b/c', 'a'], ['a']],
    ['siblings stay', ['a/b', 'a/c'], ['a/b', 'a/c']],
    ['a name that only starts like another', ['ab', 'a'], ['a', 'ab']],
    ['the whole tree covers all', ['x', '', 'y/z'], ['']],
    ['duplicates', ['q', 'q'], ['q']],
  ];
  for (const [name, dirs, want] of rows) assert.deepEqual(topMost(dirs).sort(), want, name);
});
