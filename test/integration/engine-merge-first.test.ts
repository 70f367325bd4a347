// The commit a merge makes first, and the agent's own commits, on real git: the commit before a
// merge looks at what the merge writes (the paths where HEAD and the incoming commit differ), and
// takes the whole status when one of them is missing here, so a rename not reported yet still
// lands as a rename. Commits are built with plumbing (write-tree, commit-tree, update-ref of HEAD):
// on an unborn branch too, with the reflog a `git commit` writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { git, initRepo, read, tmpDir, write } from '../helpers/repos.js';
import { GitSync } from '../../src/git/sync.js';
import { Runner } from '../../src/git/runner.js';
import { discover } from '../../src/git/repo.js';
import { createLogger } from '../../src/core/log.js';

async function syncOf(repo: string): Promise<GitSync> {
  return new GitSync({ info: await discover(repo), runner: new Runner(repo), log: createLogger({}) });
}

/** A peer's commit on synced/main, a descendant of main: what incomingRefs merges. */
function peerCommit(repo: string, files: Record<string, string>): void {
  git(repo, 'checkout', '-q', '-b', 'synced/main');
  for (const [p, c] of Object.entries(files)) write(repo, p, c);
  git(repo, 'add', ...Object.keys(files));
  git(repo, 'commit', '-q', '-m', 'peer');
  git(repo, 'checkout', '-q', 'main');
}

test('plumbing commits: an unborn branch gets its first commit, HEAD and the branch their reflog', async () => {
  const tmp = tmpDir();
  try {
    const repo = initRepo(join(tmp.path, 'r'));
    write(repo, 'first.txt', '1\n');
    const sync = await syncOf(repo);
    const c = await sync.commit(['first.txt']);
    assert.ok(c, 'a commit');
    assert.equal(c.parent, null);
    assert.equal(git(repo, 'rev-parse', 'main').trim(), c.sha);
    assert.equal(git(repo, 'symbolic-ref', 'HEAD').trim(), 'refs/heads/main');
    assert.match(git(repo, 'reflog', '-1', '--format=%gs', 'HEAD'), /^commit \(initial\): git-autosync on /);
    write(repo, 'first.txt', '2\n');
    const d = await sync.commit(['first.txt']);
    assert.equal(d?.parent, c.sha);
    assert.equal(git(repo, 'rev-parse', 'HEAD~1').trim(), c.sha);
    assert.match(git(repo, 'reflog', '-1', '--format=%gs', 'main'), /^commit: git-autosync on .*1 modified/);
    assert.equal(git(repo, 'status', '--porcelain').trim(), '', 'the index matches the commit');
  } finally {
    tmp.cleanup();
  }
});

test('before a merge: a file in the way of the merge is committed first; an edit the merge does not touch is left to the committer', async () => {
  const tmp = tmpDir();
  try {
    const repo = initRepo(join(tmp.path, 'r'));
    write(repo, 'x.txt', 'x\n');
    write(repo, 'y.txt', 'y\n');
    const sync = await syncOf(repo);
    assert.ok(await sync.commit(['x.txt', 'y.txt']));
    peerCommit(repo, { 'new.txt': 'from the peer\n' });
    write(repo, 'new.txt', 'mine, not committed yet\n');
    write(repo, 'y.txt', 'y, edited\n');
    const { merges, committed } = await sync.mergeIncoming();
    assert.equal(merges.length, 1, 'merged');
    assert.equal(committed.length, 1, 'one commit before the merge');
    assert.equal(committed[0]!.added, 1, 'new.txt, and only it');
    // Both versions of new.txt are kept: one under its name, one as a variant beside it.
    const names = git(repo, 'ls-files').trim().split('\n');
    const variants = names.filter((n) => n.startsWith('new') && n !== 'new.txt');
    assert.equal(variants.length, 1, `a variant beside new.txt: ${names.join(' ')}`);
    const both = [read(repo, 'new.txt'), read(repo, variants[0]!)].sort();
    assert.deepEqual(both, ['from the peer\n', 'mine, not committed yet\n']);
    assert.equal(read(repo, 'y.txt'), 'y, edited\n', 'the edit is still there');
    assert.match(git(repo, 'status', '--porcelain', '--', 'y.txt'), /^ M y\.txt/, 'and not committed');
  } finally {
    tmp.cleanup();
  }
});

test('before a merge: a rename not reported yet lands as a rename, and the peer edit follows the file', async () => {
  const tmp = tmpDir();
  try {
    const repo = initRepo(join(tmp.path, 'r'));
    const body = Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join('');
    write(repo, 'a.txt', body);
    const sync = await syncOf(repo);
    assert.ok(await sync.commit(['a.txt']));
    peerCommit(repo, { 'a.txt': body.replace('line 39\n', 'line 39, edited by the peer\n') });
    renameSync(join(repo, 'a.txt'), join(repo, 'b.txt'));
    const { merges } = await sync.mergeIncoming();
    assert.equal(merges.length, 1, 'merged');
    assert.equal(existsSync(join(repo, 'a.txt')), false, 'a.txt stays renamed');
    assert.match(read(repo, 'b.txt') ?? '', /line 39, edited by the peer/, "the peer's edit is in b.txt");
  } finally {
    tmp.cleanup();
  }
});
