// Two running agents as direct peers: every key is moved once, by the side that wants it. Before
// this rule both sides moved nearly every key of a burst at the same moment (A uploading to B while
// B downloaded from A), which doubled the work and made some uploads fail mid-way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { read, write, git } from '../helpers/repos.js';
import { transfersDone } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';

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
      { what: 'every file on b with its content', timeoutMs: 90_000 },
    );
    // b fetched every key; a, seeing b's agent running and able to reach it, uploaded none.
    assert.equal(git(a, 'annex', 'find', '--include=*', 'burst').trim().split('\n').length, N);
    await waitFor(() => done(b).download === N, { what: `${N} downloads logged by b` });
    assert.deepEqual(done(a), { upload: 0, download: 0 });
    assert.equal(done(b).upload, 0);
  },
);
