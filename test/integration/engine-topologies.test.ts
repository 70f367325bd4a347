// Real agents (separate processes) on real clones: every topology converges, for every kind of change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { read, write, git } from '../helpers/repos.js';
import { converged, commitCount, clean } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { direct, chain, cloud, using } from '../helpers/topology.js';

test('A<->B direct: add, modify, delete, rename, nested directories, empty files', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  await topo.startAll();
  const [a, b] = topo.clones as [string, string];

  write(a, 'hello.txt', 'hello\n');
  await waitFor(() => read(b, 'hello.txt') === 'hello\n', { what: 'add to reach b' });

  write(b, 'hello.txt', 'hello again\n');
  await waitFor(() => read(a, 'hello.txt') === 'hello again\n', { what: 'modify to reach a' });

  write(a, 'deep/er/still/nested.md', '# nested\n');
  write(a, 'empty', '');
  await waitFor(() => read(b, 'deep/er/still/nested.md') === '# nested\n' && read(b, 'empty') === '', {
    what: 'nested and empty files to reach b',
  });

  renameSync(join(b, 'hello.txt'), join(b, 'deep/renamed.txt'));
  await waitFor(() => read(a, 'deep/renamed.txt') === 'hello again\n' && read(a, 'hello.txt') === null, {
    what: 'rename to reach a',
  });

  rmSync(join(a, 'empty'));
  await waitFor(() => read(b, 'empty') === null, { what: 'delete to reach b' });

  // A moved directory arrives as a whole.
  mkdirSync(join(b, 'moved'), { recursive: true });
  renameSync(join(b, 'deep/er'), join(b, 'moved/er'));
  await waitFor(() => read(a, 'moved/er/still/nested.md') === '# nested\n', {
    what: 'directory move to reach a',
  });

  await converged(topo.clones);
  for (const c of topo.clones) assert.ok(clean(c), `${c} has no uncommitted changes`);
  // The rename is recorded as a rename, not a lost file: one commit that git reads as a rename, or,
  // when the move raced a merge on a loaded machine (the watcher reports the two halves late and
  // the merge commits what it has), the delete and the add in two commits next to each other.
  const log = git(a, 'log', '--name-status', '-M', '--format=%x00', '-n', '20')
    .split('\0')
    .map((c) => c.trim())
    .filter(Boolean);
  const renamed = log.findIndex((c) => /^R\d+\thello\.txt\tdeep\/renamed\.txt$/m.test(c));
  const added = log.findIndex((c) => /^A\tdeep\/renamed\.txt$/m.test(c));
  const deleted = log.findIndex((c) => /^D\thello\.txt$/m.test(c));
  assert.ok(
    renamed >= 0 || (added >= 0 && deleted >= 0 && Math.abs(added - deleted) === 1),
    `rename not recorded: ${JSON.stringify(log)}`,
  );
});

test('chain A-B-C: changes travel through B in both directions', async (t) => {
  const topo = using(t, (root) => chain(root, ['a', 'b', 'c']));
  await topo.startAll();
  const [a, , c] = topo.clones as [string, string, string];
  write(a, 'from-a.txt', 'a\n');
  await waitFor(() => read(c, 'from-a.txt') === 'a\n', { what: 'a change on A to reach C' });
  write(c, 'from-c.txt', 'c\n');
  await waitFor(() => read(a, 'from-c.txt') === 'c\n', { what: 'a change on C to reach A' });
  await converged(topo.clones);
});

test('shared bare cloud: three clones converge, and a burst of 5,000 files takes a few commits', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b', 'c']));
  await topo.startAll();
  const [a, b, c] = topo.clones as [string, string, string];
  write(b, 'x.txt', 'from b\n');
  await converged(topo.clones, { what: 'x.txt everywhere' });
  assert.equal(read(a, 'x.txt'), 'from b\n');

  const before = commitCount(a);
  mkdirSync(join(a, 'burst'));
  for (let i = 0; i < 5000; i++)
    writeFileSync(join(a, 'burst', `f${String(i).padStart(4, '0')}.txt`), `${i}\n`, { flag: 'w' });
  await waitFor(() => git(c, 'ls-files', 'burst').split('\n').filter(Boolean).length === 5000, {
    timeoutMs: 120_000,
    what: '5,000 files on c',
  });
  await converged(topo.clones, { timeoutMs: 60_000 });
  const commits = commitCount(a) - before;
  assert.ok(commits >= 1 && commits <= 5, `5,000 files took ${commits} commits`);
  assert.equal(read(b, 'burst/f4999.txt'), '4999\n');
});

test('gitignored files and directories are never committed, even when written in bulk', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  write(a, '.gitignore', '*.log\nbuild/\n');
  git(a, 'add', '.gitignore');
  git(a, 'commit', '-q', '-m', 'ignore');
  git(b, 'pull', '-q', 'a', 'main');
  await topo.startAll();
  write(a, 'debug.log', 'noise\n');
  for (let i = 0; i < 300; i++) write(a, `build/out/${i}.o`, 'obj');
  write(a, 'kept.txt', 'kept\n');
  await waitFor(() => read(b, 'kept.txt') === 'kept\n', { what: 'the tracked file to arrive' });
  await waitFor(() => git(a, 'rev-parse', 'HEAD') === git(b, 'rev-parse', 'HEAD'), {
    what: 'heads to agree',
  });
  assert.equal(git(a, 'ls-files', 'build', 'debug.log').trim(), '', 'ignored paths stay out of git');
  assert.equal(read(b, 'debug.log'), null);
});

test('git gc (refs packed, ref directories recreated) and a branch named work/notes do not stop syncing', async (t) => {
  const topo = using(t, (root) => {
    const tp = direct(root, ['a', 'b']);
    for (const c of tp.clones) git(c, 'checkout', '-q', '-b', 'work/notes');
    return tp;
  });
  const [a, b] = topo.clones as [string, string];
  await topo.startAll();
  write(a, 'one.txt', '1\n');
  await waitFor(() => read(b, 'one.txt') === '1\n', { what: 'a change on a branch with a slash' });
  // gc packs refs and deletes the empty ref directories; the next push creates them again.
  git(a, 'gc', '-q');
  git(b, 'gc', '-q');
  write(b, 'two.txt', '2\n');
  await waitFor(() => read(a, 'two.txt') === '2\n', { what: 'b to a after gc' });
  write(a, 'three.txt', '3\n');
  await waitFor(() => read(b, 'three.txt') === '3\n', { what: 'a to b after gc' });
  await converged(topo.clones);
});

test('a remote added while the agent runs is used without a restart', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  // a starts knowing no remote; b knows a (but a is not bare, so b hears nothing from a by itself).
  git(a, 'remote', 'remove', 'b');
  await topo.startAll();
  write(a, 'before.txt', 'committed while a had no remote\n');
  await waitFor(() => clean(a) && git(a, 'ls-files', 'before.txt').trim() === 'before.txt', {
    what: 'a to commit locally',
  });
  assert.equal(read(b, 'before.txt'), null);
  git(a, 'remote', 'add', 'b', b);
  // The config change alone is enough: a pushes what it has to the new remote.
  await waitFor(() => read(b, 'before.txt') === 'committed while a had no remote\n', {
    what: 'the new remote to get what a committed before it was added',
  });
  write(a, 'after.txt', 'and later changes too\n');
  await waitFor(() => read(b, 'after.txt') === 'and later changes too\n', {
    what: 'a later change to reach b',
  });
  const st = await topo.agents[0]!.status();
  assert.deepEqual(
    st.remotes.map((r: { name: string }) => r.name),
    ['b'],
  );
});
