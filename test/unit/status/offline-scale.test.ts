// The offline status in a large tree does not scan the work tree: above scanMaxFiles files in the
// index, pendingChanges counts only what is staged (read from the index) and pendingCounted says
// so; below it, every changed path is counted as before. The index's file count is read from its
// header, which must agree with git.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { offlineStatus, indexEntries } from '../../../src/status/offline.js';
import { discover } from '../../../src/git/repo.js';
import { tmpDir, initRepo, git, write } from '../../helpers/repos.js';

function repoWithChanges(root: string): string {
  const repo = initRepo(join(root, 'clone'));
  for (const n of ['a.txt', 'b.txt', 'c.txt', 'sub/d.txt']) write(repo, n, `${n}\n`);
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'first');
  write(repo, 'a.txt', 'edited, not staged\n');
  write(repo, 'b.txt', 'edited and staged\n');
  git(repo, 'add', 'b.txt');
  write(repo, 'new/untracked.txt', 'x\n');
  return repo;
}

test('the index header gives the same file count as git ls-files', (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const repo = repoWithChanges(tmp.path);
  const listed = git(repo, 'ls-files', '-z').split('\0').filter(Boolean).length;
  assert.equal(indexEntries(join(repo, '.git')), listed);
  assert.equal(indexEntries(join(tmp.path, 'nowhere')), null);
});

test('offline pending count: every change in a small tree, only the staged ones in a large one', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const repo = repoWithChanges(tmp.path);
  const place = await discover(repo, { detachedOk: true });
  const small = await offlineStatus(place);
  assert.equal(small.pendingCounted, 'all');
  assert.equal(small.pendingChanges, 3, 'a.txt, b.txt and the untracked file');
  const large = await offlineStatus(place, { scanMaxFiles: 3 });
  assert.equal(large.pendingCounted, 'staged');
  assert.equal(large.pendingChanges, 1, 'only b.txt: the work tree was not scanned');
  assert.deepEqual(Object.keys(large).sort(), Object.keys(small).sort(), 'the same keys');
});
