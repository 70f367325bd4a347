// An unpacked archive: thousands of files written at once into folders that did not exist a moment
// before, nested 1 to 4 deep. Every file reaches the peer with its content, and each is committed
// exactly once (added once, never re-committed unchanged). Real agents, real git.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { read, git } from '../helpers/repos.js';
import { converged, clean } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';

test('a burst into 150 new nested folders: every file on the peer, each committed once', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  await topo.startAll();
  const [a, b] = topo.clones as [string, string];
  const want: string[] = [];
  for (let i = 0; i < 150; i++) {
    const dir = ['archive', `p${i}`, 'q', 'r', 's'].slice(0, 2 + (i % 4)).join('/');
    mkdirSync(join(a, dir), { recursive: true });
    for (let f = 0; f < 20; f++) {
      const rel = `${dir}/f${f}.txt`;
      writeFileSync(join(a, rel), `${rel}\n`);
      want.push(rel);
    }
  }
  await waitFor(() => git(b, 'ls-files', 'archive').split('\n').filter(Boolean).length === want.length, {
    timeoutMs: 120_000,
    what: `${want.length} files on b`,
  });
  await converged(topo.clones, { timeoutMs: 60_000 });
  for (const rel of [want[0]!, want[1234]!, want.at(-1)!]) assert.equal(read(b, rel), `${rel}\n`);
  // Each path is in exactly one commit of a's history, as an addition.
  const touched = git(a, 'log', '--format=', '--name-only', '--', 'archive').split('\n').filter(Boolean);
  assert.equal(touched.length, want.length, 'no file is committed twice');
  assert.deepEqual(new Set(touched), new Set(want));
  for (const c of topo.clones) assert.ok(clean(c), `${c} has no uncommitted changes`);
});
