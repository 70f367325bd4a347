// `status --json` has one schema: with no agent running it has the same keys as a running agent's
// answer (empty or null where only an agent would know), so a script never meets a missing field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Agent } from '../../../src/app/Agent.js';
import { offlineStatus } from '../../../src/status/offline.js';
import { discover } from '../../../src/git/repo.js';
import { tmpDir, initRepo, git } from '../../helpers/repos.js';

/** Every key path in a JSON value; an array contributes its first element's keys (as `[]`). */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (Array.isArray(v)) return v.length > 0 ? keyPaths(v[0], `${prefix}[]`) : [];
  if (v === null || typeof v !== 'object') return [];
  const out: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    out.push(`${prefix}.${k}`);
    out.push(...keyPaths(x, `${prefix}.${k}`));
  }
  return out.sort();
}

test('offline status --json has the same keys as a running agent, remotes and signal included', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const bare = initRepo(join(tmp.path, 'origin.git'), { bare: true });
  const repo = initRepo(join(tmp.path, 'clone'));
  git(repo, 'commit', '-q', '--allow-empty', '-m', 'first');
  git(repo, 'remote', 'add', 'origin', bare);

  const agent = await Agent.open(repo);
  await agent.start();
  let running;
  try {
    running = await agent.status();
  } finally {
    await agent.stop();
  }
  const offline = await offlineStatus(await discover(repo, { detachedOk: true }));
  assert.equal(running.running, true);
  assert.equal(offline.running, false);
  // Arrays that only a running agent fills are compared by their own presence, above.
  const running_ = keyPaths(running).filter((k) => !k.startsWith('.services[]'));
  assert.deepEqual(keyPaths(offline), running_);
  assert.ok(running.remotes.length === 1 && offline.remotes.length === 1, 'a remote to compare');
  assert.deepEqual(offline.services, []);
  assert.deepEqual(offline.stuck, []);
  assert.deepEqual(offline.errors, { commit: null, merge: null });
  assert.equal(offline.signal.error, null);
  assert.equal(offline.remotes[0]!.lastPushOk, null, 'no agent: unknown, not ok');
});
