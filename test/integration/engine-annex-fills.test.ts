// A file that leaves the work tree while a commit is staging it (git-annex filling it: it unlinks the
// pointer and renames the content in) is not committed as deleted, by the committer's commits nor by
// the one a merge makes first. GitSync asks holdAbsent at the moment it stages a deletion. Made
// deterministic with a clean filter on another file of the same commit that takes b.txt away, as
// git-annex does, while update-index works through the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { git, initRepo, tmpDir, write } from '../helpers/repos.js';
import { GitSync } from '../../src/git/sync.js';
import { Runner } from '../../src/git/runner.js';
import { discover } from '../../src/git/repo.js';
import { createLogger } from '../../src/core/log.js';

/** An annex repo with lists/a.txt and lists/b.txt committed (annexed, unlocked). */
async function setup(path: string): Promise<{ repo: string; sync: GitSync; asked: string[][] }> {
  const repo = initRepo(path, { annex: true });
  write(repo, 'lists/a.txt', 'a\n');
  write(repo, 'lists/b.txt', 'b\n');
  const sync = new GitSync({ info: await discover(repo), runner: new Runner(repo), log: createLogger({}) });
  assert.ok(await sync.commit(['lists/a.txt', 'lists/b.txt']));
  const asked: string[][] = [];
  return { repo, sync, asked };
}

test('a file that vanishes while a commit stages it is held, not deleted; a real deletion still is', async () => {
  const tmp = tmpDir();
  try {
    const { repo, sync, asked } = await setup(join(tmp.path, 'r'));
    // lists/a.txt's clean filter moves lists/b.txt away (after the commit saw it present), then
    // hands a.txt's content on. Later in git-annex's own attributes file, so it wins for a.txt.
    const stash = join(tmp.path, 'b.stash');
    git(repo, 'config', 'filter.away.clean', `sh -c 'mv -f lists/b.txt ${stash} 2>/dev/null; cat'`);
    appendFileSync(join(repo, '.git', 'info', 'attributes'), 'lists/a.txt filter=away\n');
    write(repo, 'lists/a.txt', 'a, edited\n');
    write(repo, 'lists/b.txt', 'b, edited\n');
    const holdAll = {
      holdAbsent: (paths: string[]) => {
        asked.push(paths);
        return new Set(paths);
      },
    };
    await sync.commit(['lists/a.txt', 'lists/b.txt'], undefined, holdAll);
    assert.equal(git(repo, 'log', '--diff-filter=D', '--name-only', '--format=').trim(), '', 'no deletion');
    assert.match(git(repo, 'ls-files', '--', 'lists/b.txt'), /lists\/b\.txt/, 'b.txt still tracked');
    assert.deepEqual(asked, [['lists/b.txt']], 'asked about b.txt once it was gone');
    // Not held: a deletion like any other.
    write(repo, 'lists/a.txt', 'a, edited again\n');
    renameSync(stash, join(repo, 'lists/b.txt'));
    await sync.commit(['lists/a.txt', 'lists/b.txt'], undefined, { holdAbsent: () => new Set() });
    assert.equal(
      git(repo, 'log', '-1', '--diff-filter=D', '--name-only', '--format=').trim(),
      'lists/b.txt',
      'an absence nobody holds is committed as deleted',
    );
  } finally {
    tmp.cleanup();
  }
});

test('the commit a merge makes first leaves out a missing file git-annex is filling', async () => {
  const tmp = tmpDir();
  try {
    const { repo, sync, asked } = await setup(join(tmp.path, 'r'));
    // A peer's commit on synced/main, a descendant of ours: a fast-forward. It touches b.txt, so
    // the commit before the merge looks at b.txt (it looks at what the merge writes).
    git(repo, 'checkout', '-q', '-b', 'synced/main');
    write(repo, 'c.txt', 'c\n');
    write(repo, 'lists/b.txt', 'b, from the peer\n');
    git(repo, 'add', 'c.txt', 'lists/b.txt');
    git(repo, 'commit', '-q', '-m', 'peer');
    git(repo, 'checkout', '-q', 'main');
    renameSync(join(repo, 'lists/b.txt'), join(tmp.path, 'b.stash'));
    write(repo, 'lists/a.txt', 'a, edited\n');
    const { merges } = await sync.mergeIncoming({
      holdAbsent: (paths) => {
        asked.push(paths);
        return new Set(paths.filter((p) => p === 'lists/b.txt'));
      },
    });
    assert.equal(merges.length, 1, 'merged');
    assert.equal(git(repo, 'log', '--diff-filter=D', '--name-only', '--format=').trim(), '', 'no deletion');
    assert.match(git(repo, 'ls-tree', '-r', '--name-only', 'HEAD'), /lists\/b\.txt/, 'b.txt still in HEAD');
    assert.deepEqual(asked, [['lists/b.txt']]);
    // b.txt, which the merge touches, is missing here: the commit before the merge takes the whole
    // status then (a rename not reported yet must land as one), and so a.txt's edit too.
    assert.equal(
      git(repo, 'log', '--format=%h', '--', 'lists/a.txt').trim().split('\n').length,
      2,
      'a.txt edit committed',
    );
  } finally {
    tmp.cleanup();
  }
});
