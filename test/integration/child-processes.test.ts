// The processes the agent starts: what their environment holds (never a secret of ours), and that
// a notifyCommand ends with everything it started, at its timeout and at the agent's stop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { git, write } from '../helpers/repos.js';
import { AgentProc, cli, logged } from '../helpers/agents.js';
import { groupMembers } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';
import { startProsody, type ProsodyServer } from '../helpers/prosody.js';
import { readPid } from '../../src/core/pidfile.js';

const PASSWORD = 'pw-' + randomBytes(8).toString('hex');
const PAIR_CODE = 'code-' + randomBytes(8).toString('hex');
let server: ProsodyServer;

before(async () => {
  server = await startProsody();
  await server.register('alice', PASSWORD);
});
after(async () => {
  await server?.stop();
});

for (const how of ['foreground', 'background'] as const) {
  test(`${how} start: the XMPP password and pairing code reach no child (notifyCommand, a remote's post-receive), and XMPP still logs in`, async (t) => {
    const topo = using(t, (root) => cloud(root, ['a']));
    const a = topo.clones[0]!;
    const cloudDir = topo.cloud!;
    const hookEnv = join(topo.root, 'notify.env');
    const receiveEnv = join(topo.root, 'post-receive.env');
    writeFileSync(join(cloudDir, 'hooks', 'post-receive'), `#!/bin/sh\nenv > '${receiveEnv}'\n`);
    chmodSync(join(cloudDir, 'hooks', 'post-receive'), 0o755);
    git(a, 'config', 'autosync.notifyCommand', `env > '${hookEnv}'`);
    git(a, 'config', 'autosync.xmpp.jid', `alice@${server.domain}`);
    git(a, 'config', 'autosync.xmpp.service', server.service);
    const env = { GIT_AUTOSYNC_XMPP_PASSWORD: PASSWORD, GIT_AUTOSYNC_PAIR_CODE: PAIR_CODE };
    let agentPid: number;
    if (how === 'foreground') {
      const agent = new AgentProc(a, env);
      topo.agents.push(agent);
      await agent.start();
      agentPid = agent.child!.pid!;
    } else {
      // A background agent is stopped before the topology's clean-up removes its directory.
      const stopAll = topo.stopAll;
      topo.stopAll = async () => {
        cli(['-C', a, 'stop']);
        await stopAll();
      };
      const r = cli(['-C', a, 'start'], { env });
      assert.equal(r.code, 0, r.stderr);
      agentPid = readPid(join(a, '.git', 'autosync', 'agent.pid'))!;
      // Not even in the background agent's own initial environment: it got them on its stdin.
      const environ = readFileSync(`/proc/${agentPid}/environ`, 'utf8');
      assert.ok(!environ.includes(PASSWORD) && !environ.includes(PAIR_CODE), 'secret in the agent env');
    }
    // The password was read and works: the agent is online (it logs in with it).
    const status = () =>
      JSON.parse(cli(['-C', a, 'status', '--json']).stdout) as { signal: { state: string } };
    await waitFor(() => status().signal.state === 'online', { what: 'XMPP online', timeoutMs: 30_000 });

    write(a, 'x.txt', 'pushed\n');
    await waitFor(() => existsSync(hookEnv) && readFileSync(hookEnv, 'utf8').includes('GIT_AUTOSYNC_REFS='), {
      what: 'the notifyCommand to run',
      timeoutMs: 30_000,
    });
    await waitFor(() => existsSync(receiveEnv), { what: "the remote's post-receive to run" });
    for (const f of [hookEnv, receiveEnv]) {
      const text = readFileSync(f, 'utf8');
      assert.ok(text.includes('PATH='), `${f} holds an environment`);
      assert.ok(!text.includes(PASSWORD), `${f} holds the XMPP password`);
      assert.ok(!text.includes(PAIR_CODE), `${f} holds the pairing code`);
      assert.ok(!/GIT_AUTOSYNC_(XMPP_PASSWORD|PAIR_CODE)=/.test(text), `${f} names a secret variable`);
    }
    assert.ok(!readFileSync(join(a, '.git', 'autosync', 'agent.log'), 'utf8').includes(PASSWORD));
    assert.ok(agentPid > 0);
  });
}

test('a hung notifyCommand is killed with all it started: at its timeout, and at stop', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a']));
  const a = topo.clones[0]!;
  const pgFile = join(topo.root, 'hook.pgid');
  // The shell writes its pid (its process group, since the hook runs detached), then waits on a
  // child: killing only /bin/sh would leave that sleep running.
  git(a, 'config', 'autosync.notifyCommand', `echo $$ >> '${pgFile}'; sleep 1000`);
  const agent = new AgentProc(a, { GIT_AUTOSYNC_TEST_HOOK_TIMEOUT_MS: '3000' });
  topo.agents.push(agent);
  await agent.start();

  const lines = () => (existsSync(pgFile) ? readFileSync(pgFile, 'utf8').trim().split('\n') : []);
  /** The newest hook run after the first `seen` ones, once its shell and its sleep both run. */
  const hookGroup = (seen: number): Promise<number> =>
    waitFor(
      () => {
        const l = lines();
        const pgid = l.length > seen ? Number(l[l.length - 1]) : 0;
        return pgid > 0 && groupMembers(pgid).length >= 2 ? pgid : null;
      },
      { what: 'a hook run with its sleep', timeoutMs: 30_000 },
    );

  write(a, 'one.txt', '1\n');
  const first = await hookGroup(0);
  await waitFor(() => groupMembers(first).length === 0, {
    what: () => `every process of the timed-out hook to be gone (left: ${groupMembers(first).join(' ')})`,
    timeoutMs: 15_000,
  });
  await waitFor(() => logged(a, 'notifyCommand timed out; its processes were killed'), {
    what: 'the timeout to be logged',
  });

  // Stop while a hook hangs: once the agent has exited, nothing of the hook is left.
  await agent.stop();
  const slow = new AgentProc(a, { GIT_AUTOSYNC_TEST_HOOK_TIMEOUT_MS: '600000' });
  topo.agents.push(slow);
  await slow.start();
  const seen = lines().length;
  write(a, 'two.txt', '2\n');
  const second = await hookGroup(seen);
  const t0 = Date.now();
  await slow.stop();
  assert.deepEqual(groupMembers(second), [], 'hook processes left after stop');
  assert.ok(Date.now() - t0 < 30_000, `stop took ${Date.now() - t0} ms`);
});

test('settings changed while the agent runs: a new notifyCommand runs at the next push; a restart-only key is named in a warning', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a']));
  const a = topo.clones[0]!;
  const before = join(topo.root, 'before.out');
  const afterOut = join(topo.root, 'after.out');
  git(a, 'config', 'autosync.notifyCommand', `echo "$GIT_AUTOSYNC_REFS" >> '${before}'`);
  const agent = new AgentProc(a);
  topo.agents.push(agent);
  await agent.start();
  write(a, 'one.txt', '1\n');
  await waitFor(() => existsSync(before), { what: 'the first hook', timeoutMs: 30_000 });

  git(a, 'config', 'autosync.notifyCommand', `echo "$GIT_AUTOSYNC_REFS" >> '${afterOut}'`);
  git(a, 'config', 'autosync.repoId', 'some-other-id');
  const changed = (o: Record<string, unknown>) => JSON.stringify(o.keys) === '["autosync.notifyCommand"]';
  await waitFor(
    () => logged(a, 'settings changed in the git config, in use now: autosync.notifyCommand', changed),
    {
      what: 'the reload to be logged',
    },
  );
  await waitFor(
    () =>
      logged(
        a,
        'changed in the git config, used only after a restart (git autosync stop, then start): autosync.repoId',
      ),
    { what: 'the restart warning' },
  );
  const runsBefore = readFileSync(before, 'utf8');
  write(a, 'two.txt', '2\n');
  const head = () => git(a, 'rev-parse', 'HEAD').trim();
  await waitFor(() => existsSync(afterOut) && readFileSync(afterOut, 'utf8').includes(head()), {
    what: 'the new notifyCommand to run after the next push',
    timeoutMs: 30_000,
  });
  assert.equal(readFileSync(before, 'utf8'), runsBefore, 'the old command ran again');
});

test('an agent whose stderr reader has gone still stops and exits (its log lines to stderr are dropped)', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a']));
  const a = topo.clones[0]!;
  const agent = new AgentProc(a);
  topo.agents.push(agent);
  await agent.start();
  // The reader goes away, as when the program that started the agent was killed: every later
  // write to the agent's stderr fails with EPIPE.
  agent.child!.stderr!.destroy();
  write(a, 'after-reader.txt', 'x\n');
  await waitFor(() => git(topo.cloud!, 'ls-tree', '--name-only', 'main').includes('after-reader.txt'), {
    what: 'the change pushed while stderr is gone',
  });
  assert.equal(cli(['-C', a, 'stop']).code, 0);
  await waitFor(() => agent.child!.exitCode !== null || agent.child!.signalCode !== null, {
    what: 'the agent process to exit',
    timeoutMs: 30_000,
  });
  assert.equal(agent.child!.exitCode, 0);
});
