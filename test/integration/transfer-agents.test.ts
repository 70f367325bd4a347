// Two running agents as direct peers: every key is moved once, by the side that wants it. Before
// this rule both sides moved nearly every key of a burst at the same moment (A uploading to B while
// B downloaded from A), which doubled the work and made some uploads fail mid-way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { read, write, git } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';

/** Completed (not no-op) transfers in an agent's log, per direction. */
function transfersDone(repo: string): { upload: number; download: number } {
  const n = { upload: 0, download: 0 };
  let text = '';
  try {
    text = readFileSync(join(repo, '.git', 'autosync', 'agent.log'), 'utf8');
  } catch {
    return n;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"transfer done"')) continue;
    const o = JSON.parse(line) as { direction?: string; noop?: boolean };
    if (o.noop === false && (o.direction === 'upload' || o.direction === 'download')) n[o.direction]++;
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
    await waitFor(() => transfersDone(b).download === N, { what: `${N} downloads logged by b` });
    assert.deepEqual(transfersDone(a), { upload: 0, download: 0 });
    assert.equal(transfersDone(b).upload, 0);
  },
);
