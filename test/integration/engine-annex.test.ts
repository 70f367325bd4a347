// Annex mode: files go to git or to the annex by annex.largefiles, annexed files stay unlocked
// (ordinary writable files), their content follows, and the agent interoperates with a person who
// runs `git annex sync` by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { read, write, git, GIT_ENV } from '../helpers/repos.js';
import { cli, converged } from '../helpers/agents.js';
import { waitFor, settles, staysTheSame } from '../helpers/wait.js';
import { cloud, direct, using } from '../helpers/topology.js';

const annex = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['annex', ...args], {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

test('annex mode: largefiles decides git or annex; annexed files stay unlocked; peers converge', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b'], { annex: true }));
  const [a, b] = topo.clones as [string, string];
  for (const c of topo.clones) git(c, 'config', 'annex.largefiles', 'largerthan=10kb');
  await topo.startAll();
  assert.equal((await topo.agents[0]!.status()).mode, 'annex');
  write(a, 'small.txt', 'goes to git\n');
  write(a, 'big.bin', Buffer.alloc(64 * 1024, 7));
  await waitFor(
    () => read(b, 'small.txt') === 'goes to git\n' && git(b, 'ls-files', 'big.bin').trim() === 'big.bin',
    {
      what: 'both files on b',
    },
  );
  // big.bin is annexed (a key), small.txt is not.
  const big = annex(a, 'find', '--include=*', 'big.bin').trim();
  assert.equal(big, 'big.bin');
  assert.equal(annex(a, 'find', '--include=*', 'small.txt').trim(), '');
  // Unlocked: a regular writable file on the writer, not a symlink into .git/annex.
  const st = lstatSync(join(a, 'big.bin'));
  assert.ok(st.isFile() && !st.isSymbolicLink());
  accessSync(join(a, 'big.bin'), constants.W_OK);
  // The content follows the commit (a -> cloud -> b), and the trees converge byte for byte.
  await waitFor(() => read(b, 'big.bin') === Buffer.alloc(64 * 1024, 7).toString('utf8'), {
    what: 'big.bin content on b',
    timeoutMs: 60_000,
  });
  await converged(topo.clones, { timeoutMs: 60_000 });
  assert.match(annex(b, 'whereis', 'big.bin'), /\((\d+) copies\)/);

  // A quiet network stays quiet in annex mode too: no git-annex branch ping-pong between the peers.
  // First both peers hold the same branches (the last location-log merge can come seconds late on
  // a loaded machine), then nothing moves.
  const refs = () => topo.clones.map((c) => git(c, 'for-each-ref', 'refs/heads')).join('|');
  const same = () => new Set(topo.clones.map((c) => git(c, 'for-each-ref', 'refs/heads'))).size === 1;
  await waitFor(same, { timeoutMs: 30_000, what: () => `the peers' branches to be the same: ${refs()}` });
  await settles(refs, { settleMs: 1000, timeoutMs: 20_000, what: 'refs to stop moving' });
  await staysTheSame(refs, { forMs: 3000, what: 'refs of idle annex peers' });
});

test('interop: a clone where a person runs `git annex sync` by hand, in both directions', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'x'], { annex: true }));
  const [a, x] = topo.clones as [string, string];
  for (const c of topo.clones) git(c, 'config', 'annex.largefiles', 'nothing');
  // Only a runs an agent; x is driven by hand.
  await topo.agents[0]!.start();
  write(x, 'by-hand.txt', 'synced by a person\n');
  annex(x, 'add', 'by-hand.txt');
  annex(x, 'sync', '--no-content', '--quiet');
  await waitFor(() => read(a, 'by-hand.txt') === 'synced by a person\n', {
    what: 'hand sync to reach the agent',
  });

  write(a, 'from-agent.txt', 'synced by the agent\n');
  await waitFor(
    () =>
      git(a, 'status', '--porcelain').trim() === '' && git(a, 'log', '-1', '--format=%s').includes('added'),
    {
      what: 'the agent to commit',
    },
  );
  await waitFor(
    () => {
      annex(x, 'sync', '--no-content', '--quiet');
      return read(x, 'from-agent.txt') === 'synced by the agent\n';
    },
    { what: '`git annex sync` on x to get the agent’s change', intervalMs: 300 },
  );
  assert.equal(cli(['-C', a, 'status', '--json']).code, 0);
});

test('annex mode: a concurrent conflict on a file kept in git (a dotfile) resolves, both versions kept', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
  const [a, b] = topo.clones as [string, string];
  for (const c of topo.clones) git(c, 'config', 'annex.largefiles', 'largerthan=10kb');
  await topo.startAll();
  for (const c of topo.clones) assert.equal(cli(['-C', c, 'pause']).code, 0);
  write(a, '.notes', 'from a\n');
  write(b, '.notes', 'from b\n');
  for (const c of topo.clones) {
    await waitFor(
      () => git(c, 'status', '--porcelain').trim() === '' && git(c, 'ls-files', '.notes').trim() !== '',
      {
        what: `.notes committed in ${c}`,
        // Under heavy load a commit's git-annex step once stalled; it is bounded (60 s) and retried.
        timeoutMs: 150_000,
      },
    );
  }
  for (const c of topo.clones) assert.equal(cli(['-C', c, 'resume']).code, 0);
  await waitFor(() => git(a, 'rev-parse', 'HEAD') === git(b, 'rev-parse', 'HEAD'), {
    what: 'the peers to agree',
    timeoutMs: 60_000,
  });
  const contents = ['a', 'b'].flatMap((n) =>
    git(n === 'a' ? a : b, 'ls-files')
      .split('\n')
      .filter((p) => p.startsWith('.notes'))
      .map((p) => read(n === 'a' ? a : b, p)),
  );
  assert.ok(contents.includes('from a\n') && contents.includes('from b\n'), JSON.stringify(contents));
  assert.ok(!existsSync(join(a, '.git', 'MERGE_HEAD')) && !existsSync(join(b, '.git', 'MERGE_HEAD')));
});

test('annex mode: no largefiles config annexes every non-dot file, a .gitattributes rule wins where it applies', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
  const [a] = topo.clones as [string, string];
  await topo.agents[0]!.start();
  write(a, '.gitattributes', '*.txt annex.largefiles=nothing\n');
  write(a, 'notes.txt', 'kept in git by the attribute\n');
  write(a, 'photo.jpg', Buffer.alloc(2048, 3));
  write(a, 'data.bin', 'tiny, but annexed by default\n');
  write(a, '.hidden', 'a dotfile goes to git\n');
  await waitFor(
    () =>
      git(a, 'status', '--porcelain').trim() === '' &&
      ['notes.txt', 'photo.jpg', 'data.bin', '.hidden'].every((p) => git(a, 'ls-files', p).trim() === p),
    { what: 'all four files committed' },
  );
  const annexed = annex(a, 'find', '--include=*').trim().split('\n').sort();
  assert.deepEqual(annexed, ['data.bin', 'photo.jpg']);
  // In git: the blob is the content itself, not an annex pointer.
  assert.equal(git(a, 'cat-file', '-p', 'HEAD:notes.txt'), 'kept in git by the attribute\n');
  assert.equal(git(a, 'cat-file', '-p', 'HEAD:.hidden'), 'a dotfile goes to git\n');
  assert.match(git(a, 'cat-file', '-p', 'HEAD:data.bin'), /^\/annex\/objects\//);
  // Annexed files stay ordinary writable files.
  const st = lstatSync(join(a, 'data.bin'));
  assert.ok(st.isFile() && !st.isSymbolicLink());
  accessSync(join(a, 'data.bin'), constants.W_OK);
});

test('annex mode: concurrent edits of an annexed file keep the original name with one version, the other as a variant, as in plain git', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
  const [a, b] = topo.clones as [string, string];
  for (const c of topo.clones) git(c, 'config', 'annex.largefiles', 'anything');
  await topo.startAll();
  write(a, 'doc.txt', 'base\n');
  await waitFor(() => read(b, 'doc.txt') === 'base\n', { what: 'doc.txt on b', timeoutMs: 60_000 });
  assert.match(git(a, 'cat-file', '-p', 'HEAD:doc.txt'), /^\/annex\/objects\//, 'doc.txt is annexed');
  for (const c of topo.clones) assert.equal(cli(['-C', c, 'pause']).code, 0);
  write(a, 'doc.txt', 'from a\n');
  write(b, 'doc.txt', 'from b\n');
  for (const c of topo.clones)
    await waitFor(() => git(c, 'status', '--porcelain').trim() === '', {
      what: `doc.txt committed in ${c}`,
      timeoutMs: 60_000,
    });
  for (const c of topo.clones) assert.equal(cli(['-C', c, 'resume']).code, 0);
  // Both clones end with the same files and the same contents (the other side's content arrives
  // through git-annex).
  const final = await converged(topo.clones, { what: 'both clones to agree', timeoutMs: 90_000 });
  const names = [...final.keys()].filter((p) => p.startsWith('doc')).sort();
  assert.equal(names.length, 2, `two files: ${names.join(', ')}`);
  assert.ok(names.includes('doc.txt'), `the original name stays: ${names.join(', ')}`);
  const variant = names.find((n) => n !== 'doc.txt')!;
  assert.match(
    variant,
    /^doc\.variant-[0-9a-f]{8}\.txt$/,
    'the other version is a variant, named as in plain git',
  );
  assert.deepEqual(
    [final.get('doc.txt'), final.get(variant)].sort(),
    ['from a\n', 'from b\n'],
    'both versions kept',
  );
  for (const c of topo.clones) {
    assert.match(
      git(c, 'cat-file', '-p', `HEAD:${variant}`),
      /^\/annex\/objects\//,
      'the variant is annexed',
    );
    assert.ok(!existsSync(join(c, '.git', 'MERGE_HEAD')));
  }
});
