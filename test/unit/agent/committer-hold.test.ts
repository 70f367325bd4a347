// The committer and files git-annex is rewriting: git-annex unlinks an unlocked file before it fills
// it with downloaded content, and that absence must not be committed as a deletion (it was, and the
// peers then removed the file). A stand-in for GitSync records what reaches a commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Committer } from '../../../src/agent/committer.js';
import { EventBus } from '../../../src/agent/bus.js';
import { createLogger } from '../../../src/log.js';
import { heldDeletions } from '../../../src/git/annex-replace.js';
import type { GitSync, CommitResult } from '../../../src/git/sync.js';
import { tmpDir } from '../../helpers/repos.js';
import { waitFor } from '../../helpers/wait.js';

function fakeSync(workTree: string): { sync: GitSync; commits: string[][] } {
  const commits: string[][] = [];
  const sync = {
    info: { workTree, mode: 'annex' },
    pendingPaths: async () => [],
    commit: async (paths: string[]): Promise<CommitResult | null> => {
      commits.push([...paths].sort());
      return {
        sha: 'x'.repeat(40),
        parent: null,
        added: 0,
        modified: 0,
        deleted: paths.length,
        message: 'm',
      };
    },
  } as unknown as GitSync;
  return { sync, commits };
}

test('heldDeletions: which missing paths git-annex is about to put back', () => {
  const none = new Set<string>();
  const cases: Array<[string, string[], string[], Set<string>, string[]]> = [
    ['nothing in othertmp', ['a.bin'], [], none, []],
    [
      "git-annex's replace dir for the name",
      ['dir/big.bin', 'other.bin'],
      ['big.bin.0'],
      none,
      ['dir/big.bin'],
    ],
    ['a higher counter', ['big.bin'], ['big.bin.12'], none, ['big.bin']],
    [
      'other othertmp files are not replace dirs',
      ['x.log', 'jlog1-3'],
      ['x.log', 'jlog1-3', 'c1_2_KEY.log'],
      none,
      [],
    ],
    ['the name must match whole', ['big.bin'], ['ig.bin.0', 'big.bin.x'], none, []],
    [
      'our own lane is filling it',
      ['photos/a.jpg', 'b.jpg'],
      [],
      new Set(['photos/a.jpg']),
      ['photos/a.jpg'],
    ],
    ['filling another path only', ['b.jpg'], [], new Set(['a.jpg']), []],
  ];
  for (const [name, deleted, tmp, filling, want] of cases) {
    assert.deepEqual([...heldDeletions(deleted, tmp, filling)].sort(), want, name);
  }
});

test('a file missing while git-annex fills it is not committed as deleted; a real deletion is', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const c = new Committer(f.sync, createLogger({}), new EventBus(), () => {});
  const filling = new Set(['big.bin']);
  c.holdDeletions = (paths) => new Set(paths.filter((p) => filling.has(p)));
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

test('a hold ends: a file that never comes back is committed as deleted', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const f = fakeSync(tmp.path);
  const c = new Committer(f.sync, createLogger({}), new EventBus(), () => {});
  c.holdDeletions = (paths) => new Set(paths); // a stale replace dir that never goes away
  c.holdMaxMs = 300;
  await c.start({ fail: () => {} } as never);
  t.after(() => c.stop());
  c.note('stale.bin');
  await waitFor(() => f.commits.length > 0, { timeoutMs: 10_000, what: 'the held deletion to be committed' });
  assert.deepEqual(f.commits, [['stale.bin']]);
});
