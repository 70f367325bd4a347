// The kernel out of inotify watches, for a real agent (the limit injected with
// GIT_AUTOSYNC_MAX_WATCHES: lowering fs.inotify.max_user_watches would hit every program of the
// user on this machine). The agent starts and answers, status says once what happened and names
// the sysctl, the watcher is not restarted, and changes still reach the peer, found by scans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { read, write } from '../helpers/repos.js';
import { cli, converged } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';
import { AgentProc } from '../helpers/agents.js';

test('out of watches: status says so once with the sysctl, and syncing goes on from scans', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  for (let i = 0; i < 4; i++) write(a, `dir${i}/seed.txt`, `${i}\n`);
  // b runs as usual; a's watcher may hold two watches, and the tree has five folders.
  const agentA = new AgentProc(a, { GIT_AUTOSYNC_MAX_WATCHES: '2' });
  // Stopped by the topology's clean-up, before its directory is removed (an after hook of this
  // test would run after that one, and a running agent puts .git/autosync back during the rm).
  topo.agents.push(agentA);
  await Promise.all([agentA.start(), topo.agents[1]!.start()]);
  await waitFor(() => read(b, 'dir3/seed.txt') === '3\n', { what: 'the start-up scan to sync the seeds' });
  const st = await agentA.status();
  const w = st.services.find((s) => s.name === 'watcher');
  assert.equal(w?.state, 'failed');
  assert.equal(w?.restarts, 0);
  assert.match(w?.lastError ?? '', /out of inotify watches/);
  assert.match(w?.hint ?? '', /fs\.inotify\.max_user_watches/);
  assert.ok(
    st.services.every((s) => s.name === 'watcher' || s.state === 'running'),
    'the rest runs',
  );
  // Edits, new folders and deletes still sync: the scan poll finds them.
  write(a, 'dir1/seed.txt', 'edited\n');
  write(a, 'fresh/deep/new.txt', 'new\n');
  await waitFor(() => read(b, 'dir1/seed.txt') === 'edited\n' && read(b, 'fresh/deep/new.txt') === 'new\n', {
    what: 'the edit and the new file on b',
  });
  await converged([a, b]);
  const human = cli(['-C', a, 'status']).stdout;
  const lines = human.split('\n').filter((l) => l.includes('max_user_watches'));
  assert.equal(lines.length, 1, `said once:\n${human}`);
  assert.match(lines[0]!, /service watcher failed/);
  const again = (await agentA.status()).services.find((s) => s.name === 'watcher');
  assert.equal(again?.restarts, 0, 'never restarted');
});
