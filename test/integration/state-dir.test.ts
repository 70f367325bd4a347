// The agent's state directory: removed while the agent runs, it is put back (the agent stays
// findable, stoppable, and keeps its key); and `start` never makes a key when XMPP is configured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { git, initRepo, tmpDir, write } from '../helpers/repos.js';
import { cli, logged } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';
import { isAlive, readPidFile } from '../../src/core/pidfile.js';

test('rm -rf .git/autosync while the agent runs: status finds it, the key comes back byte for byte, a second start is refused, stop stops it', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a']));
  const a = topo.clones[0]!;
  const state = join(a, '.git', 'autosync');
  // A background agent is stopped before the topology's clean-up removes its directory.
  const stopAll = topo.stopAll;
  let pid: { pid: number; start: string | null } | null = null;
  topo.stopAll = async () => {
    cli(['-C', a, 'stop']);
    // Without the fix `stop` cannot find it: end it by its pid rather than leave it running.
    if (pid && isAlive(pid.pid, pid.start)) process.kill(pid.pid, 'SIGTERM');
    await stopAll();
  };
  let r = cli(['-C', a, 'start']);
  assert.equal(r.code, 0, r.stderr);
  const key = readFileSync(join(state, 'key'));
  const started = readPidFile(join(state, 'agent.pid'))!;
  pid = started;

  rmSync(state, { recursive: true, force: true });
  await waitFor(
    () => (JSON.parse(cli(['-C', a, 'status', '--json']).stdout) as { running: boolean }).running,
    {
      what: 'status to find the agent again',
      timeoutMs: 20_000,
    },
  );
  assert.deepEqual(readFileSync(join(state, 'key')), key, 'the same key');
  assert.equal(statSync(state).mode & 0o777, 0o700);
  assert.equal(statSync(join(state, 'key')).mode & 0o777, 0o600);
  assert.equal(readPidFile(join(state, 'agent.pid'))?.pid, started.pid);
  await waitFor(
    () => logged(a, 'the state directory was removed while the agent ran; put back what it needs'),
    {
      what: 'the warning, in the new log file',
    },
  );

  // It still syncs, and stays the only agent.
  write(a, 'after.txt', 'still syncing\n');
  await waitFor(() => git(topo.cloud!, 'log', '--format=%s', '-1', 'main').includes('added'), {
    what: 'the change to reach the remote',
  });
  r = cli(['-C', a, 'start']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already running/);
  r = cli(['-C', a, 'stop']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /agent stopped/);
  assert.equal(isAlive(started.pid, started.start), false, 'the agent process is gone');
  assert.deepEqual(readFileSync(join(state, 'key')), key);
});

test('start with XMPP configured and no key is refused with one line, and creates nothing', async (t) => {
  const tmp = tmpDir();
  const repo = initRepo(join(tmp.path, 'r'));
  t.after(() => {
    cli(['-C', repo, 'stop']); // only if a start got through (the bug this test is for)
    tmp.cleanup();
  });
  git(repo, 'config', 'autosync.xmpp.jid', 'alice@localhost');
  git(repo, 'config', 'autosync.xmpp.service', 'xmpp://127.0.0.1:1');
  const state = join(repo, '.git', 'autosync');
  for (const args of [['start'], ['start', '--foreground']]) {
    const r = cli(['-C', repo, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^git-autosync: no repository key at .*\.git\/autosync\/key; run 'git autosync init' here, or copy \.git\/autosync\/key from another clone$/,
    );
    assert.equal(existsSync(state), false, `${args.join(' ')} created ${state}`);
  }
  // init makes it; then start gets past the key.
  assert.equal(cli(['-C', repo, 'init', '--yes']).code, 0);
  assert.ok(existsSync(join(state, 'key')));
});
