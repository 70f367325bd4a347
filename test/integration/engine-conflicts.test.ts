// Concurrent conflicting edits: syncing never stops, every version written survives, and every peer
// ends with the identical tree (and the identical commit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { write, git } from '../helpers/repos.js';
import { converged, clean, cli, type AgentProc } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { direct, cloud, using } from '../helpers/topology.js';

/** Pauses every agent's remotes, so edits made now are concurrent: nobody hears of the others. */
function pauseAll(agents: AgentProc[]): void {
  for (const a of agents) assert.equal(cli(['-C', a.repo, 'pause']).code, 0);
}
function resumeAll(agents: AgentProc[]): void {
  for (const a of agents) assert.equal(cli(['-C', a.repo, 'resume']).code, 0);
}
const head = (r: string) => git(r, 'rev-parse', 'HEAD').trim();

/** Waits until the agent has committed the given path as it is on disk. */
async function committed(repo: string, path: string) {
  await waitFor(
    () =>
      git(repo, 'status', '--porcelain', '--', path).trim() === '' &&
      git(repo, 'ls-files', path).trim() !== '',
    {
      what: `${path} committed in ${repo}`,
    },
  );
}

test('two peers edit the same text and binary files at once: both versions kept, identical trees', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  write(a, 'shared.txt', 'base\n');
  write(a, 'doomed.txt', 'base\n');
  git(a, 'add', '.');
  git(a, 'commit', '-q', '-m', 'base');
  git(b, 'pull', '-q', 'a', 'main');
  await topo.startAll();
  pauseAll(topo.agents);

  write(a, 'shared.txt', 'version from a\n');
  write(b, 'shared.txt', 'version from b\n');
  write(a, 'image.bin', Buffer.from([0, 1, 2, 255, 0, 10]));
  write(b, 'image.bin', Buffer.from([0, 9, 9, 255, 0, 13]));
  // Modify against delete: the modified file must survive.
  write(a, 'doomed.txt', 'modified on a\n');
  rmSync(join(b, 'doomed.txt'));
  await committed(a, 'shared.txt');
  await committed(b, 'shared.txt');
  await committed(a, 'doomed.txt');
  await waitFor(() => git(b, 'ls-files', 'doomed.txt').trim() === '', { what: 'delete committed on b' });

  resumeAll(topo.agents);
  const final = await converged(topo.clones, { what: 'both peers to agree after the conflict' });
  const contents = [...final.values()];
  assert.ok(contents.includes('version from a\n'), 'a version survives');
  assert.ok(contents.includes('version from b\n'), 'b version survives');
  assert.equal(final.get('doomed.txt'), 'modified on a\n');
  const variants = [...final.keys()].filter((p) => p.includes('.variant-'));
  assert.equal(variants.length, 2, `one variant each for shared.txt and image.bin: ${variants.join(', ')}`);
  assert.ok(variants.some((v) => v.endsWith('.bin')));
  for (const c of topo.clones) {
    assert.ok(clean(c), 'no MERGE_HEAD, nothing uncommitted');
  }
  for (const v of final.values()) assert.ok(!v.includes('<<<<<<<'), 'no conflict markers in any file');
  assert.equal(head(a), head(b), 'the same merge commit on both peers');
  // Syncing goes on after the conflict.
  write(b, 'after.txt', 'still syncing\n');
  await waitFor(() => existsSync(join(a, 'after.txt')), { what: 'sync after a conflict' });
});

test('three peers edit the same file at once: all three versions kept, identical trees', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b', 'c']));
  await topo.startAll();
  pauseAll(topo.agents);
  for (const [i, c] of topo.clones.entries()) write(c, 'plan.md', `plan ${i}\n`);
  for (const c of topo.clones) await committed(c, 'plan.md');
  resumeAll(topo.agents);
  const final = await converged(topo.clones, { what: 'three peers to agree', timeoutMs: 40_000 });
  const plans = [...final.entries()].filter(([p]) => p.startsWith('plan'));
  assert.deepEqual(plans.map(([, v]) => v).sort(), ['plan 0\n', 'plan 1\n', 'plan 2\n']);
  for (const c of topo.clones) assert.ok(clean(c));
});
