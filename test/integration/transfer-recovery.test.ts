// Content sync survives the receiving side going away: real agents, real git-annex.
//  - The receiving agent and its git-annex are killed with SIGKILL (a crash, a power cut) in the
//    middle of a 200 MB download that came with 500 small files; after a restart everything
//    arrives, and the big file resumes from its partial instead of starting over.
//  - A peer that is offline while files are added fetches their content from the cloud when it
//    comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  readdirSync,
  readlinkSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { deletedInHistory, git, read, sizeOf, write, GIT_ENV } from '../helpers/repos.js';
import { transfersDone } from '../helpers/agents.js';
import { writeBig } from '../helpers/annex.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, direct, using } from '../helpers/topology.js';

const BIG = 200 * 1024 * 1024;

/** pids of git-annex processes working in `repo` (their cwd), found in /proc. */
function annexPidsIn(repo: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) !== repo) continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('git-annex')) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** The partial download of a key of `size` bytes in a repo's .git/annex/tmp, if any. */
function partial(repo: string, size: number): { size: number; ino: bigint } | null {
  const dir = join(repo, '.git', 'annex', 'tmp');
  try {
    for (const name of readdirSync(dir)) {
      if (!name.includes(`-s${size}--`)) continue;
      const st = statSync(join(dir, name), { bigint: true });
      return { size: Number(st.size), ino: st.ino };
    }
  } catch {
    // no tmp dir yet
  }
  return null;
}

test(
  'a receiving agent killed with SIGKILL mid-transfer (500 small files + 200 MB) resumes after a restart',
  { timeout: 240_000 },
  async (t) => {
    const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
    const [a, b] = topo.clones as [string, string];
    const [, agentB] = topo.agents as [unknown, (typeof topo.agents)[number]];
    // git-annex honours this itself: slow enough that the kill lands in the middle of the big file.
    git(b, 'config', 'remote.a.annex-bwlimit', '40MiB');
    await topo.startAll();
    const N = 500;
    const body = (i: number) => `small file ${i}\n`.repeat(20);
    for (let i = 0; i < N; i++) write(a, `small/f${String(i).padStart(3, '0')}.txt`, body(i));
    writeBig(join(topo.root, 'big.src'), BIG);
    renameSync(join(topo.root, 'big.src'), join(a, 'big.bin'));

    const cut = await waitFor(
      () => {
        const p = partial(b, BIG);
        return p && p.size > 20 * 1024 * 1024 ? p : null;
      },
      { what: 'b to be part-way through the big file', timeoutMs: 120_000 },
    );
    // A crash: the agent, then every git-annex working in b (its lanes live in their own process
    // groups, and one may have started just before the agent died), until none is left.
    await agentB.kill9();
    const realB = realpathSync(b);
    await waitFor(
      () => {
        const pids = annexPidsIn(realB);
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        return pids.length === 0;
      },
      { what: "b's git-annex processes to be gone" },
    );
    const left = partial(b, BIG);
    assert.ok(left && left.size >= cut.size && left.size < BIG, `the partial is kept: ${left?.size}`);

    // The restart resumes: the partial never shrinks and stays the same file until it is complete,
    // and it is seen growing after the restart (the 40 MiB/s limit leaves seconds of it to watch).
    const seen: Array<{ size: number; ino: bigint }> = [];
    let sampling = true;
    let sampler: Promise<void> = Promise.resolve();
    try {
      await agentB.start();
      sampler = (async () => {
        while (sampling) {
          const p = partial(b, BIG);
          if (p) seen.push(p);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await waitFor(() => sizeOf(join(b, 'big.bin')) === BIG, {
        what: 'big.bin whole on b',
        timeoutMs: 120_000,
      });
      await waitFor(
        () => {
          for (let i = 0; i < N; i++)
            if (read(b, `small/f${String(i).padStart(3, '0')}.txt`) !== body(i)) return false;
          return true;
        },
        {
          timeoutMs: 120_000,
          // On a timeout, say what is wrong with the files that are not right (for a post-mortem).
          what: () => {
            const wrong: string[] = [];
            for (let i = 0; i < N && wrong.length < 5; i++) {
              const rel = `small/f${String(i).padStart(3, '0')}.txt`;
              const got = read(b, rel);
              if (got !== body(i))
                wrong.push(`${rel}: ${got === null ? 'missing' : JSON.stringify(got.slice(0, 60))}`);
            }
            const deleted = deletedInHistory(b);
            return `all 500 small files on b with their content; not yet: ${wrong.join('; ')}; deleted in b's history: ${deleted.split('\n').length} ${deleted.slice(0, 200)}`;
          },
        },
      );
    } finally {
      sampling = false;
      await sampler;
    }
    assert.ok(
      seen.some((s) => s.size > left.size),
      `the partial was seen growing after the restart (${seen.length} samples)`,
    );
    for (const s of seen) {
      assert.equal(s.ino, left.ino, 'the same partial file, not a new one');
      assert.ok(s.size >= left.size, `never started over: ${s.size} < ${left.size}`);
    }
    assert.equal(deletedInHistory(b), '');
  },
);

test(
  'a peer offline while files are added fetches their content from the cloud when it is back',
  { timeout: 120_000 },
  async (t) => {
    const topo = using(t, (root) => cloud(root, ['a', 'b'], { annex: true }));
    const [a, b] = topo.clones as [string, string];
    const [, agentB] = topo.agents as [unknown, (typeof topo.agents)[number]];
    execFileSync('git', ['annex', 'init', '-q', 'cloud'], { cwd: topo.cloud!, env: GIT_ENV });
    await topo.startAll();
    write(a, 'first.txt', 'first annexed file\n'.repeat(50));
    await waitFor(() => read(b, 'first.txt') === 'first annexed file\n'.repeat(50), {
      what: 'first.txt on b',
    });

    await agentB.stop();
    const N = 20;
    const body = (i: number) => `added while b was away ${i}\n`.repeat(40);
    for (let i = 0; i < N; i++) write(a, `away/f${i}.txt`, body(i));
    write(a, 'first.txt', 'first annexed file, edited\n'.repeat(50));
    // a has put it all in the cloud (b is not reachable from a: they share only the cloud).
    await waitFor(
      () =>
        git(a, 'annex', 'find', '--in=origin', '--include=*', '.').trim().split('\n').filter(Boolean)
          .length ===
        N + 1, // the N new files and the edited first.txt
      { what: 'every file of a in the cloud', timeoutMs: 60_000 },
    );
    assert.equal(read(b, 'away/f0.txt'), null, 'b saw nothing while it was away');

    await agentB.start();
    await waitFor(
      () => {
        for (let i = 0; i < N; i++) if (read(b, `away/f${i}.txt`) !== body(i)) return false;
        return read(b, 'first.txt') === 'first annexed file, edited\n'.repeat(50);
      },
      { what: 'every file on b with its content', timeoutMs: 60_000 },
    );
    // The log line follows the file by a moment (git-annex answers after it fills the file).
    await waitFor(() => transfersDone(b).filter((x) => x === 'download origin').length >= N + 1, {
      what: 'b to log its downloads of the N new files and the edit',
    });
  },
);

test(
  'a file git-annex was filling when it was killed is put back at start, not deleted',
  { timeout: 60_000 },
  async (t) => {
    const topo = using(t, (root) => direct(root, ['a', 'b'], { annex: true }));
    const [a, b] = topo.clones as [string, string];
    const [, agentB] = topo.agents as [unknown, (typeof topo.agents)[number]];
    await topo.startAll();
    const body = 'a photo\n'.repeat(300);
    write(a, 'photo.jpg', body);
    await waitFor(() => read(b, 'photo.jpg') === body, { what: 'photo.jpg on b' });
    await agentB.stop();
    // As a git-annex killed in the middle of filling it leaves things: the file gone from the work
    // tree, a partial copy in its replace directory.
    const tmp = join(b, '.git', 'annex', 'othertmp', 'photo.jpg.0');
    mkdirSync(tmp, { recursive: true });
    renameSync(join(b, 'photo.jpg'), join(tmp, 'photo.jpg'));
    await agentB.start();
    await waitFor(() => read(b, 'photo.jpg') === body, { what: 'photo.jpg put back on b' });
    // Settled: a later change goes through, and nothing was deleted anywhere.
    write(b, 'after.txt', 'after');
    await waitFor(() => read(a, 'after.txt') === 'after', { what: 'a later change to reach a' });
    for (const c of [a, b]) {
      assert.equal(deletedInHistory(c), '', `no deletion in ${c}`);
      assert.equal(read(c, 'photo.jpg'), body);
    }
  },
);
