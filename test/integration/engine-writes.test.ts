// Files still being written, with real agents: a slow writer (a child process that keeps the file
// open and appends a chunk every 200 ms for 3 s) must produce exactly one commit of the file, with
// its final content, in plain git mode and in annex mode; in annex mode that commit holds an annex
// pointer, never raw content (issue 8, wrong 10: one 200 MiB write became four commits, three of
// them raw partial content in git).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, initRepo, tmpDir, write } from '../helpers/repos.js';
import { GitSync } from '../../src/git/sync.js';
import { Runner } from '../../src/git/runner.js';
import { discover } from '../../src/git/repo.js';
import { createLogger } from '../../src/core/log.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';

const CHUNK = 1 << 20;
const CHUNKS = 15; // 15 x 200 ms = 3 s of writing

/** Starts a child that writes `file` in CHUNKS chunks, 200 ms apart, holding it open; resolves on exit. */
function slowWriter(file: string): Promise<void> {
  const script = `
    const fs = require('node:fs');
    const fd = fs.openSync(process.argv[1], 'w');
    let i = 0;
    const t = setInterval(() => {
      const b = Buffer.alloc(${CHUNK}, i);
      b.write('chunk ' + i);
      fs.writeSync(fd, b);
      if (++i === ${CHUNKS}) { clearInterval(t); fs.closeSync(fd); }
    }, 200);`;
  const child = spawn(process.execPath, ['-e', script, file], { stdio: 'inherit' });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`)))),
  );
}

/** A child that appends a 1 MiB chunk every 200 ms, holding the file open, until `stop` exists;
 * resolves with the file's final size once it has closed the file and exited. */
function writerUntil(file: string, stop: string): { done: Promise<number>; child: ChildProcess } {
  const script = `
    const fs = require('node:fs');
    const fd = fs.openSync(process.argv[1], 'w');
    let size = 0;
    const t = setInterval(() => {
      fs.writeSync(fd, Buffer.alloc(${CHUNK}, size / ${CHUNK}));
      size += ${CHUNK};
      if (fs.existsSync(process.argv[2])) { clearInterval(t); fs.closeSync(fd); }
    }, 200);`;
  const child = spawn(process.execPath, ['-e', script, file, stop], { stdio: 'inherit' });
  const done = new Promise<number>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(statSync(file).size) : reject(new Error(`writer exited ${code}`)),
    ),
  );
  return { done, child };
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const commitsTouching = (repo: string, path: string) =>
  git(repo, 'log', '--format=%H', '--', path).trim().split('\n').filter(Boolean);

for (const annex of [false, true]) {
  test(`a slow writer that keeps its file open: one commit, the final content (${annex ? 'annex, largefiles=anything' : 'plain git'})`, async (t) => {
    const topo = using(t, (root) => cloud(root, ['a', 'b'], { annex }));
    const [a, b] = topo.clones as [string, string];
    if (annex) for (const c of topo.clones) git(c, 'config', 'annex.largefiles', 'anything');
    await topo.startAll();
    await slowWriter(join(a, 'slow.bin'));
    const want = sha(join(a, 'slow.bin'));
    await waitFor(
      () =>
        git(a, 'status', '--porcelain', '--', 'slow.bin').trim() === '' &&
        commitsTouching(a, 'slow.bin').length > 0,
      { what: 'slow.bin committed on a', timeoutMs: 60_000 },
    );
    const commits = commitsTouching(a, 'slow.bin');
    assert.equal(commits.length, 1, `exactly one commit touches slow.bin: ${commits.join(' ')}`);
    const blob = git(a, 'cat-file', '-s', 'HEAD:slow.bin').trim();
    if (annex) {
      const pointer = git(a, 'cat-file', '-p', 'HEAD:slow.bin');
      assert.match(pointer, /^\/annex\/objects\/\S+\n?$/, 'the committed blob is an annex pointer');
      assert.match(pointer, new RegExp(`-s${CHUNK * CHUNKS}--`), 'the key is of the whole file');
    } else {
      assert.equal(Number(blob), CHUNK * CHUNKS, 'the committed blob is the whole file');
    }
    // The peer gets the finished file, and nothing else was ever pushed.
    await waitFor(() => existsSync(join(b, 'slow.bin')) && sha(join(b, 'slow.bin')) === want, {
      what: 'the final slow.bin on b',
      timeoutMs: 60_000,
    });
    assert.equal(commitsTouching(b, 'slow.bin').length, 1, 'one commit of slow.bin reached b');
  });
}

test('a merge while a file is being written does not commit the partial file', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  await topo.startAll();
  const stop = join(topo.root, 'stop-writing');
  const { done, child } = writerUntil(join(a, 'slow.bin'), stop);
  t.after(() => void child.kill()); // a failed assertion must not leave it writing
  await waitFor(() => existsSync(join(a, 'slow.bin')) && statSync(join(a, 'slow.bin')).size > 0, {
    what: 'the writer to start',
  });
  // A peer's change arrives while slow.bin is open: a merges it, and commits what is dirty first.
  write(b, 'other.txt', 'from b\n');
  await waitFor(() => existsSync(join(a, 'other.txt')), { what: 'the merge on a', timeoutMs: 60_000 });
  assert.deepEqual(commitsTouching(a, 'slow.bin'), [], 'nothing of slow.bin committed while open');
  writeFileSync(stop, '');
  const size = await done;
  await waitFor(() => commitsTouching(a, 'slow.bin').length > 0, {
    what: 'slow.bin committed after close',
    timeoutMs: 60_000,
  });
  assert.equal(commitsTouching(a, 'slow.bin').length, 1);
  assert.equal(Number(git(a, 'cat-file', '-s', 'HEAD:slow.bin').trim()), size, 'the whole file');
});

test('annex mode: raw content git-annex lets into the index is never committed; the file is tried again', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a'], { annex: true }));
  const [a] = topo.clones as [string];
  git(a, 'config', 'annex.largefiles', 'anything');
  await topo.startAll();
  // Stand in for git-annex's clean filter letting a file through as it is (what it did with a file
  // that changed while it read it): `cat` hands git the raw content.
  // (git prefers filter.annex.process, git-annex's long-running filter, to the clean command.)
  const clean = git(a, 'config', 'filter.annex.clean').trim();
  const processFilter = git(a, 'config', 'filter.annex.process').trim();
  git(a, 'config', '--unset', 'filter.annex.process');
  git(a, 'config', 'filter.annex.clean', 'cat');
  write(a, 'big.bin', Buffer.alloc(100 * 1024, 1));
  // A dotfile goes to git by git-annex's own rule (annex.dotfiles is off): raw is right for it.
  write(a, '.big-dotfile', Buffer.alloc(100 * 1024, 2));
  await waitFor(() => git(a, 'ls-files', '.big-dotfile').trim() !== '', {
    what: 'the dotfile committed',
    timeoutMs: 30_000,
  });
  await waitFor(() => readFileSync(join(a, '.git/autosync/agent.log'), 'utf8').includes('raw content'), {
    what: 'the raw-content log line',
    timeoutMs: 30_000,
  });
  assert.equal(git(a, 'log', '--format=%H', '--', 'big.bin').trim(), '', 'raw big.bin never committed');
  git(a, 'config', 'filter.annex.clean', clean);
  git(a, 'config', 'filter.annex.process', processFilter);
  // No new event: the agent tries it again by itself.
  await waitFor(() => git(a, 'log', '--format=%H', '--', 'big.bin').trim() !== '', {
    what: 'big.bin committed once git-annex annexes it',
    timeoutMs: 30_000,
  });
  assert.match(git(a, 'cat-file', '-p', 'HEAD:big.bin'), /^\/annex\/objects\//);
  assert.equal(commitsTouching(a, 'big.bin').length, 1);
  assert.equal(git(a, 'cat-file', '-s', 'HEAD:.big-dotfile').trim(), String(100 * 1024));
});

test('annex mode: big files that git-annex rules keep in git are committed raw as before', async () => {
  const tmp = tmpDir();
  try {
    const repo = initRepo(join(tmp.path, 'r'), { annex: true });
    write(repo, '.gitattributes', '*.txt annex.largefiles=nothing\n');
    write(repo, 'book.txt', 'x'.repeat(100 * 1024));
    write(repo, 'photo.jpg', Buffer.alloc(100 * 1024, 3));
    const sync = new GitSync({ info: await discover(repo), runner: new Runner(repo), log: createLogger({}) });
    const requeued: string[] = [];
    const guard = { rawStaged: (paths: string[]) => requeued.push(...paths) };
    const c = await sync.commit(['.gitattributes', 'book.txt', 'photo.jpg'], undefined, guard);
    assert.ok(c, 'a commit');
    assert.deepEqual(requeued, []);
    assert.equal(git(repo, 'cat-file', '-s', 'HEAD:book.txt').trim(), String(100 * 1024), 'book.txt in git');
    assert.match(git(repo, 'cat-file', '-p', 'HEAD:photo.jpg'), /^\/annex\/objects\//, 'photo.jpg annexed');
    // With a largefiles rule in git config, git-annex's matchexpression decides: raw content for a
    // file the rule annexes is unstaged, a file the rule leaves to git is not.
    git(repo, 'config', 'annex.largefiles', 'largerthan=50kb');
    git(repo, 'config', '--unset', 'filter.annex.process');
    git(repo, 'config', 'filter.annex.clean', 'cat');
    write(repo, 'video.mp4', Buffer.alloc(100 * 1024, 4));
    write(repo, 'note.md', 'y'.repeat(40 * 1024));
    assert.ok(await sync.commit(['video.mp4', 'note.md'], undefined, guard));
    assert.deepEqual(requeued, ['video.mp4']);
    assert.equal(git(repo, 'ls-files', 'video.mp4').trim(), '', 'raw video.mp4 not committed');
    assert.equal(git(repo, 'cat-file', '-s', 'HEAD:note.md').trim(), String(40 * 1024), 'note.md in git');
    // A rule on the mime type cannot be decided without the file's type (matchexpression exits
    // 42): what git-annex's filter staged stands, and the commit goes through (it failed whole).
    git(repo, 'config', 'annex.largefiles', 'mimeencoding=binary');
    write(repo, 'essay.md', 'z'.repeat(40 * 1024));
    assert.ok(await sync.commit(['essay.md'], undefined, guard), 'a commit');
    assert.equal(git(repo, 'cat-file', '-s', 'HEAD:essay.md').trim(), String(40 * 1024), 'essay.md in git');
    assert.deepEqual(requeued, ['video.mp4']);
  } finally {
    tmp.cleanup();
  }
});
