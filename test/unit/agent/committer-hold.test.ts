// The committer and files git-annex is rewriting: git-annex unlinks an unlocked file before it fills
// it with downloaded content, and that absence must not be committed as a deletion (it was, and the
// peers then removed the file). A stand-in for GitSync records what reaches a commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Committer } from '../../../src/agent/committer.js';
import { EventBus } from '../../../src/core/bus.js';
import { createLogger } from '../../../src/core/log.js';
import { heldDeletions } from '../../../src/git/annex-replace.js';
import { fakeSync } from '../../helpers/fake-sync.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

test('heldDeletions: which missing paths git-annex is about to put back, with their progress', () => {
  const none = new Set<string>();
  const long = 'x'.repeat(140) + '.bin';
  const cases: Array<
    [string, string[], Array<[string, number | null]>, Set<string>, Array<[string, string]>]
  > = [
    ['nothing in othertmp', ['a.bin'], [], none, []],
    [
      "git-annex's replace dir for the name",
      ['dir/big.bin', 'other.bin'],
      [['big.bin.0', 5]],
      none,
      [['dir/big.bin', '5']],
    ],
    [
      'a replace dir with no file in it yet',
      ['big.bin'],
      [['big.bin.0', null]],
      none,
      [['big.bin', 'started']],
    ],
    ['a higher counter', ['big.bin'], [['big.bin.12', 7]], none, [['big.bin', '7']]],
    [
      'other othertmp files are not replace dirs',
      ['x.log', 'jlog1-3'],
      [
        ['x.log', null],
        ['jlog1-3', null],
        ['c1_2_KEY.log', null],
      ],
      none,
      [],
    ],
    [
      'the name must match whole',
      ['big.bin'],
      [
        ['ig.bin.0', 1],
        ['big.bin.x', 1],
      ],
      none,
      [],
    ],
    [
      'a long name is matched by the prefix git-annex keeps',
      [`d/${long}`],
      [[`${long.slice(0, 120)}.0`, 9]],
      none,
      [[`d/${long}`, '9']],
    ],
    ['a short prefix is not enough', [long], [[`${long.slice(0, 20)}.0`, 9]], none, []],
    [
      'our own lane is filling it',
      ['photos/a.jpg', 'b.jpg'],
      [],
      new Set(['photos/a.jpg']),
      [['photos/a.jpg', 'filling']],
    ],
    ['filling another path only', ['b.jpg'], [], new Set(['a.jpg']), []],
  ];
  for (const [name, deleted, tmp, filling, want] of cases) {
    assert.deepEqual([...heldDeletions(deleted, new Map(tmp), filling)].sort(), want, name);
  }
});

test('a file missing while git-annex fills it is not committed as deleted; a real deletion is', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const filling = new Set(['big.bin']);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
    holdDeletions: (paths) => new Map(paths.filter((p) => filling.has(p)).map((p) => [p, 'filling'])),
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  const big = join(tmp.path, 'big.bin');
  writeFileSync(join(tmp.path, 'gone.txt'), 'x');

  // Both files go missing; only gone.txt is a deletion.
  rmSync(join(tmp.path, 'gone.txt'));
  c.note('big.bin');
  c.note('gone.txt');
  await c.flush();
  assert.deepEqual(f.commits, [['gone.txt']], 'the held file stays out of the commit');
  assert.equal(c.pendingCount, 1, 'and stays pending');

  // git-annex puts the file back and reports it filled: nothing to commit.
  writeFileSync(big, 'content');
  c.note('big.bin');
  c.ownWrite('big.bin');
  filling.clear();
  await c.flush();
  assert.deepEqual(f.commits, [['gone.txt']]);
  assert.equal(c.pendingCount, 0);
});

test('a hold without progress ends: a file that never comes back is committed as deleted', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
    holdDeletions: (paths) => new Map(paths.map((p) => [p, '123'])), // a stale replace dir
    holdMaxMs: 400,
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  const noted = Date.now();
  c.note('stale.bin');
  await waitFor(() => f.commits.length > 0, { timeoutMs: 10_000, what: 'the held deletion to be committed' });
  assert.deepEqual(f.commits, [['stale.bin']]);
  assert.ok(Date.now() - noted >= 400, 'not before the hold ran out');
});

test('a hold with progress lasts past the limit; the file back and filled ends it with no commit', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  let written = 0;
  let asked = 0;
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
    holdDeletions: (paths) => {
      asked++;
      return new Map(paths.map((p) => [p, String((written += 1000))])); // the file keeps growing
    },
    holdMaxMs: 200,
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  c.note('huge.bin');
  await waitFor(() => asked >= 6, { what: 'several passes to look at the hold', timeoutMs: 10_000 });
  assert.deepEqual(f.commits, [], 'still held well past holdMaxMs while it grows');
  // git-annex reports the file filled before the watcher's event for it arrives.
  writeFileSync(join(tmp.path, 'huge.bin'), 'content');
  c.ownWrite('huge.bin');
  c.note('huge.bin');
  await c.flush();
  assert.deepEqual(f.commits, [], 'nothing to commit: it is what git-annex wrote');
  assert.equal(c.pendingCount, 0);
});

/** A fake GitSync that, like the real one, asks the committer's holdAbsent about the paths missing
 * when it stages them, and commits the rest; `before` runs first (the file going away meanwhile). */
function askingSync(c: () => Committer, workTree: string, before: () => void) {
  const f = fakeSync(workTree);
  const commit = f.sync.commit.bind(f.sync);
  f.sync.commit = async (paths: string[]) => {
    before();
    const missing = paths.filter((p) => !existsSync(join(workTree, p)));
    const held = c().holdAbsent(missing);
    return commit(paths.filter((p) => !held.has(p)));
  };
  return f;
}

test('a file present when the pass looked and gone when it is staged is held by the commit itself', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const item = join(tmp.path, 'item.txt');
  writeFileSync(item, 'pointer');
  let takeAway = true;
  // git-annex unlinks the file after the pass saw it, before git stages it.
  const f = askingSync(
    () => c,
    tmp.path,
    () => {
      if (takeAway) rmSync(item, { force: true });
      takeAway = false;
    },
  );
  const filling = new Set(['item.txt']);
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
    holdDeletions: (paths) => new Map(paths.filter((p) => filling.has(p)).map((p) => [p, 'filling'])),
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  c.note('item.txt');
  await c.flush();
  assert.deepEqual(f.commits, [[]], 'item.txt left out of the commit');
  assert.equal(c.pendingCount, 1, 'and pending again');
  writeFileSync(item, 'content');
  c.note('item.txt');
  c.ownWrite('item.txt');
  filling.clear();
  await c.flush();
  assert.deepEqual(f.commits, [[]], 'never committed as deleted');
  assert.equal(c.pendingCount, 0);
});

test('a hold the commit itself keeps still runs out: the file is then committed as deleted', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = askingSync(
    () => c,
    tmp.path,
    () => {},
  );
  const c = new Committer({
    sync: f.sync,
    log: createLogger({}),
    bus: new EventBus(),
    onCommitted: () => {},
    holdDeletions: (paths) => new Map(paths.map((p) => [p, '123'])), // a stale replace dir
    holdMaxMs: 300,
  });
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  c.note('stale.bin');
  await waitFor(() => f.commits.some((x) => x.includes('stale.bin')), {
    timeoutMs: 10_000,
    what: 'the held deletion to be committed',
  });
});
