// Real agents (separate processes) on clones of a shared bare remote: a burst into folders that did
// not exist a moment before (an unpacked archive: nested folders, depth 1-4) arrives on the peer
// whole, each file committed once, in a few commits. No timing is asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { read, git } from '../helpers/repos.js';
import { converged, clean } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';

/** 1,000 files in 100 new folders: enough to be a burst (and to outrun the watcher on a busy
 * machine), small enough to keep the test quick. */
const FOLDERS = 100;
const PER_FOLDER = 10;

test('a burst into new nested folders: every file arrives, each committed once, in few commits', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b']));
  await topo.startAll();
  const [a, b] = topo.clones as [string, string];
  const before = Number(git(a, 'rev-list', '--count', 'HEAD').trim());

  const files: Array<{ rel: string; content: string }> = [];
  for (let f = 0; f < FOLDERS; f++) {
    // Folders of depth 1 to 4, several under one parent, as an archive unpacks them.
    const depth = 1 + (f % 4);
    const dir = ['pkg', `g${Math.floor(f / 4)}`, 'src', 'lib', 'deep'].slice(0, depth + 1).join('/');
    mkdirSync(join(a, dir), { recursive: true });
    for (let i = 0; i < PER_FOLDER; i++) {
      const rel = `${dir}/f${i}.txt`;
      const content = `${rel} ${'x'.repeat(64 + ((f * PER_FOLDER + i) % 400))}\n`;
      writeFileSync(join(a, rel), content);
      files.push({ rel, content });
    }
  }

  let missing = files.length;
  await waitFor(
    () => {
      missing = files.filter((f) => read(b, f.rel) !== f.content).length;
      return missing === 0;
    },
    { timeoutMs: 120_000, what: () => `every file on b (${missing} missing)` },
  );
  await converged(topo.clones);
  for (const c of topo.clones) assert.ok(clean(c), `${c} has no uncommitted changes`);

  // Each file is in exactly one commit, as an addition: nothing was committed twice.
  const touched = git(a, 'log', '--format=', '--name-status', '--no-renames', 'HEAD', '--', 'pkg')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t') as [string, string]);
  const counts = new Map<string, number>();
  for (const [status, path] of touched) {
    assert.equal(status, 'A', `${path} committed as ${status}, not once as an addition`);
    counts.set(path, (counts.get(path) ?? 0) + 1);
  }
  assert.equal(counts.size, files.length, 'every file is in the history');
  for (const [path, n] of counts) assert.equal(n, 1, `${path} is in ${n} commits`);
  // Batched: a burst is a few commits, not one per file. The bound is loose on purpose, so a slow
  // machine (writes spread over seconds, a commit every 1.5 s) cannot make it fail.
  const commits = Number(git(a, 'rev-list', '--count', 'HEAD').trim()) - before;
  assert.ok(commits >= 1 && commits <= files.length / 20, `${commits} commits for ${files.length} files`);
  assert.equal(git(b, 'rev-parse', 'HEAD').trim(), git(a, 'rev-parse', 'HEAD').trim());
});
