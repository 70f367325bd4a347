// Two running agents as direct peers: every key is moved once, by the side that wants it. Before
// this rule both sides moved nearly every key of a burst at the same moment (A uploading to B while
// B downloaded from A), which doubled the work and made some uploads fail mid-way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { deletedInHistory, read, sizeOf, write, git } from '../helpers/repos.js';
import { writeBig } from '../helpers/annex.js';
import { logged, transfersDone } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';

/**
 * A POSIX (fcntl) shared lock on a file, held by a child process until released, as git-annex takes
 * them. Node has no fcntl binding; perl is there wherever git is. struct flock on x86-64 Linux.
 */
async function holdSharedLock(file: string): Promise<{ release: () => void }> {
  closeSync(openSync(file, 'a'));
  const script = [
    'use Fcntl qw(F_SETLK F_RDLCK SEEK_SET);',
    'open(my $fh, "<", $ARGV[0]) or die "open: $!";',
    'my $lk = pack("s s x4 q q i x4", F_RDLCK, SEEK_SET, 0, 0, 0);',
    'fcntl($fh, F_SETLK, $lk) or die "lock: $!";',
    '$| = 1; print "locked\\n"; <STDIN>;',
  ].join(' ');
  const child = spawn('perl', ['-e', script, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`perl lock holder exited with ${code}`)));
  });
  return { release: () => child.stdin.end() };
}

/** Completed (not no-op) transfers in an agent's log, counted per direction. */
function done(repo: string): { upload: number; download: number } {
  const n = { upload: 0, download: 0 };
  for (const t of transfersDone(repo)) {
    if (t.startsWith('upload ')) n.upload++;
    else if (t.startsWith('download ')) n.download++;
  }
  return n;
}

test(
  'two agents as direct peers: each key moves once, fetched by the peer that wants it',
  { timeout: 120_000 },
  async (t) => {
    const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
    const [a, b] = topo.clones as [string, string];
    await topo.startAll();
    const N = 30;
    const body = (i: number) => `file ${i} `.repeat(200 + i);
    for (let i = 0; i < N; i++) write(a, `burst/f${i}.dat`, body(i));
    await waitFor(
      () => {
        for (let i = 0; i < N; i++) if (read(b, `burst/f${i}.dat`) !== body(i)) return false;
        return true;
      },
      {
        // On a timeout: which files are missing or still pointers, and what b's log last said of
        // transfers, so a failure in CI can be read without the (removed) directory.
        what: () => {
          const short = [...Array(N).keys()].filter((i) => read(b, `burst/f${i}.dat`) !== body(i));
          return `every file on b with its content (not yet: ${short.map((i) => `f${i}`).join(' ')}; b's transfers done: ${JSON.stringify(done(b))}, a's: ${JSON.stringify(done(a))})`;
        },
        timeoutMs: 90_000,
      },
    );
    // b fetched every key; a, seeing b's agent running and able to reach it, uploaded none.
    assert.equal(git(a, 'annex', 'find', '--include=*', 'burst').trim().split('\n').length, N);
    await waitFor(() => done(b).download === N, { what: `${N} downloads logged by b` });
    assert.deepEqual(done(a), { upload: 0, download: 0 });
    assert.equal(done(b).upload, 0);
  },
);

test(
  'a large file git-annex is filling on the peer is never committed there as deleted',
  { timeout: 120_000 },
  async (t) => {
    // git-annex unlinks the pointer file before it writes the content in; for 200 MB that gap was
    // 70-550 ms here, longer than the committer's quiet period. The agent committed the gap as a
    // deletion and pushed it, and a's agent then removed the file from a's work tree.
    const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
    const [a, b] = topo.clones as [string, string];
    await topo.startAll();
    const SIZE = 200 * 1024 * 1024;
    const src = join(topo.root, 'big.src');
    writeBig(src, SIZE);
    renameSync(src, join(a, 'big.bin'));
    // b stops the moment git-annex has taken the pointer file away to fill it (or, if that window
    // is missed, once the content is there). The stop must let git-annex put the file back: a kill
    // there left it missing, and the next commit deleted it on every peer.
    let sawPointer = false;
    const at = await waitFor(
      () => {
        const n = sizeOf(join(b, 'big.bin'));
        if (n > 0 && n < SIZE) sawPointer = true;
        return (sawPointer && n === -1) || n === SIZE ? n : null;
      },
      { what: "big.bin's content on b, or the moment it is being filled", timeoutMs: 90_000, intervalMs: 1 },
    );
    // A clean stop (not topo.stopAll, which falls back to kill -9); a's agent after b's.
    for (const agent of [...topo.agents].reverse()) await agent.stop();
    t.diagnostic(at === -1 ? 'stopped while git-annex was filling the file' : 'stopped after the fill');
    for (const c of [a, b]) {
      const deletes = deletedInHistory(c);
      assert.equal(deletes, '', `no commit in ${c} deletes a file`);
      assert.equal(sizeOf(join(c, 'big.bin')), SIZE, `big.bin is whole in ${c}`);
      assert.equal(existsSync(join(c, '.git', 'index.lock')), false, `no index.lock left in ${c}`);
    }
  },
);

test(
  "a file missing while git-annex's replace directory for it exists is held, then not a deletion",
  { timeout: 60_000 },
  async (t) => {
    // What git-annex does when it fills a file, made slow on purpose: the file leaves the work tree
    // and a directory .git/annex/othertmp/<name>.<n>/ holds it until it is renamed back. A person's
    // `git annex get` does the same, outside any lane of the agent's.
    const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
    const [a, b] = topo.clones as [string, string];
    await topo.startAll();
    write(a, 'photo.jpg', 'a photo '.repeat(500));
    await waitFor(() => read(b, 'photo.jpg') === 'a photo '.repeat(500), { what: 'photo.jpg on b' });
    await waitFor(() => done(b).download === 1, { what: 'the download logged by b' });
    // git-annex holds a shared lock on othertmp.lck while it uses othertmp; without it, any
    // git-annex the agent starts clears the directory (and the file in it) as left over.
    const lock = await holdSharedLock(join(b, '.git', 'annex', 'othertmp.lck'));
    t.after(() => lock.release());
    const tmp = join(b, '.git', 'annex', 'othertmp', 'photo.jpg.0');
    mkdirSync(tmp, { recursive: true });
    renameSync(join(b, 'photo.jpg'), join(tmp, 'photo.jpg'));
    await waitFor(
      () =>
        logged(b, 'missing while git-annex rewrites it; not a deletion yet', (o) => o.path === 'photo.jpg'),
      {
        what: "b's agent to hold the deletion",
      },
    );
    renameSync(join(tmp, 'photo.jpg'), join(b, 'photo.jpg'));
    rmdirSync(tmp);
    lock.release();
    // Settled: a later change goes through, and photo.jpg was never deleted anywhere.
    write(b, 'after.txt', 'after');
    await waitFor(() => read(a, 'after.txt') === 'after', { what: 'a later change to reach a' });
    for (const c of [a, b]) {
      assert.equal(deletedInHistory(c), '', `no deletion in ${c}`);
      assert.equal(read(c, 'photo.jpg'), 'a photo '.repeat(500));
    }
  },
);
