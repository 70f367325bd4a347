// The command line: bad input gets one clear line and the right exit code; hooks; idle is quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { tmpDir, initRepo, write, git, read } from '../helpers/repos.js';
import { cli, converged, type AgentProc } from '../helpers/agents.js';
import { waitFor, settles, staysTheSame } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';

function oneLine(stderr: string, re: RegExp) {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${stderr}`);
  assert.match(lines[0]!, re);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('bad input: clear one-line errors with exit codes 2 (input) and 1 (failure)', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const plain = join(tmp.path, 'plain');
  mkdirSync(plain);
  let r = cli(['-C', plain, 'status']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /not a git repository/);

  const bare = initRepo(join(tmp.path, 'bare.git'), { bare: true });
  r = cli(['-C', bare, 'start']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /bare repository/);

  const repo = initRepo(join(tmp.path, 'repo'));
  write(repo, 'f', 'x');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'x');
  git(repo, 'checkout', '-q', '--detach');
  r = cli(['-C', repo, 'sync']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /HEAD is detached/);
  git(repo, 'checkout', '-q', 'main');

  r = cli(['-C', repo, 'frobnicate']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /unknown verb/);
  r = cli(['-C', repo, 'start', '--bogus']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /no option --bogus/);

  // Unwritable state directory (as root, permissions do not stop us, so a file stands in the way).
  const blocked = initRepo(join(tmp.path, 'blocked'));
  writeFileSync(join(blocked, '.git', 'autosync'), 'not a directory');
  r = cli(['-C', blocked, 'start']);
  assert.equal(r.code, 1);
  oneLine(r.stderr, /cannot write to .*autosync/);

  // git-annex missing in an annex repository.
  const annex = initRepo(join(tmp.path, 'annex'), { annex: true });
  const bin = join(tmp.path, 'bin');
  mkdirSync(bin);
  symlinkSync(execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim(), join(bin, 'git'));
  r = cli(['-C', annex, 'status'], { env: { PATH: bin } });
  assert.equal(r.code, 1);
  oneLine(r.stderr, /git-annex is not installed/);

  // A remote that does not answer: sync names it and exits 1.
  git(repo, 'remote', 'add', 'gone', join(tmp.path, 'no-such-remote'));
  r = cli(['-C', repo, 'sync']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /remote 'gone' failed/);
});

test('start, second start refused, status --json, pause/resume, stop; no remotes is fine', async (t) => {
  const tmp = tmpDir();
  const repo = initRepo(join(tmp.path, 'solo'));
  t.after(() => {
    cli(['-C', repo, 'stop']);
    tmp.cleanup();
  });
  let r = cli(['-C', repo, 'status', '--json']);
  assert.equal(r.code, 0);
  assert.equal(JSON.parse(r.stdout).running, false);
  r = cli(['-C', repo, 'start']);
  assert.equal(r.code, 0, r.stderr);
  r = cli(['-C', repo, 'start']);
  assert.equal(r.code, 1);
  oneLine(r.stderr, /already running/);
  write(repo, 'note.txt', 'kept locally\n');
  await waitFor(() => git(repo, 'log', '--format=%s', '-1').includes('1 added'), { what: 'local commit' });
  const st = JSON.parse(cli(['-C', repo, 'status', '--json']).stdout);
  assert.equal(st.running, true);
  assert.equal(st.mode, 'git');
  assert.equal(st.branch, 'main');
  assert.deepEqual(st.remotes, []);
  assert.equal(st.signal.transport, 'refs-watch');
  assert.match(st.head, /^[0-9a-f]{40}$/);
  assert.equal(cli(['-C', repo, 'pause']).code, 0);
  assert.equal(cli(['-C', repo, 'pause', '--remote', 'nope']).code, 2);
  assert.equal(cli(['-C', repo, 'resume']).code, 0);
  assert.match(cli(['-C', repo, 'status']).stdout, /running, pid/);
  // A clean stop commits what is pending.
  write(repo, 'last.txt', 'pending at stop\n');
  r = cli(['-C', repo, 'stop']);
  assert.equal(r.code, 0);
  assert.equal(git(repo, 'status', '--porcelain').trim(), '');
  assert.ok(!existsSync(join(repo, '.git', 'autosync', 'agent.pid')));
  r = cli(['-C', repo, 'stop']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /no agent is running/);
});

test('notifyCommand runs after each push with the refs; a hanging hook never stalls syncing', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  const out = join(topo.root, 'hook.out');
  git(
    a,
    'config',
    'autosync.notifyCommand',
    `echo "$GIT_AUTOSYNC_REMOTES|$GIT_AUTOSYNC_REFS" >> ${out}; sleep 1000`,
  );
  await topo.startAll();
  write(a, 'one.txt', '1\n');
  await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('refs/heads/main='), {
    what: 'hook ran',
  });
  assert.match(readFileSync(out, 'utf8'), /^b\|refs\/heads\/main=[0-9a-f]{40}/);
  // The first hook is still sleeping; syncing goes on regardless.
  write(a, 'two.txt', '2\n');
  await waitFor(() => read(b, 'two.txt') === '2\n', { what: 'sync while the hook hangs' });
});

test('a quiet network stays quiet: idle agents make no commits, no pushes, no git calls', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  await topo.startAll();
  write(topo.clones[0]!, 'x.txt', 'x\n');
  await converged(topo.clones);
  const logSize = () =>
    topo.clones.map((c) => readFileSync(join(c, '.git', 'autosync', 'agent.log'), 'utf8').split('\n').length);
  const heads = () => topo.clones.map((c) => git(c, 'rev-parse', 'HEAD').trim());
  // Let the echo of the last change settle: the logs stop growing.
  await settles(logSize, { settleMs: 300, what: 'agents to go quiet' });
  const h0 = heads();
  const cpu0 = topo.agents.map((a) => cpuTicks(a.child!.pid!));
  // Nothing may happen for 3 s: no commit, no push/merge/fetch (debug level logs every change).
  await staysTheSame(() => [heads(), logSize()], { forMs: 3000, what: 'heads and logs of idle agents' });
  assert.deepEqual(heads(), h0, 'no commits');
  const cpu1 = topo.agents.map((a) => cpuTicks(a.child!.pid!));
  for (let i = 0; i < cpu0.length; i++) {
    // 100 ticks per second: a polling loop would burn several ticks in 3 s; idle burns ~0.
    assert.ok(cpu1[i]! - cpu0[i]! <= 3, `agent ${i} used ${cpu1[i]! - cpu0[i]!} ticks while idle`);
  }
});

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

test('a paused remote stays paused across a restart, and resume delivers what waited', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  const [agentA] = topo.agents as [AgentProc];
  await topo.startAll();
  assert.equal(cli(['-C', a, 'pause', '--remote', 'b']).code, 0);
  await agentA.stop();
  assert.equal(JSON.parse(cli(['-C', a, 'status', '--json']).stdout).remotes[0].paused, true);
  await agentA.start();
  assert.equal((await agentA.status()).remotes.find((r) => r.name === 'b')!.paused, true);
  write(a, 'held.txt', 'waits for resume\n');
  await waitFor(() => git(a, 'log', '-1', '--format=%s').includes('added'), {
    what: 'local commit while paused',
  });
  await staysTheSame(() => read(b, 'held.txt'), { forMs: 1500, what: 'b while a is paused' });
  assert.equal(cli(['-C', a, 'resume', '--remote', 'b']).code, 0);
  await waitFor(() => read(b, 'held.txt') === 'waits for resume\n', { what: 'delivery after resume' });
});

test('a pid file naming some other live process is stale: start takes over, and nobody is signalled', async (t) => {
  const tmp = tmpDir();
  const repo = initRepo(join(tmp.path, 'r'));
  t.after(() => {
    cli(['-C', repo, 'stop']);
    tmp.cleanup();
  });
  mkdirSync(join(repo, '.git', 'autosync'), { recursive: true });
  // This test process is alive, but it is not the agent that wrote the file (another start time).
  writeFileSync(join(repo, '.git', 'autosync', 'agent.pid'), `${process.pid} 1\n`);
  assert.equal(JSON.parse(cli(['-C', repo, 'status', '--json']).stdout).running, false);
  const r = cli(['-C', repo, 'start']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(cli(['-C', repo, 'stop']).code, 0);
  assert.equal(cli(['-C', repo, 'stop']).stdout.includes('no agent is running'), true);
});

test('sync through a running agent exits 1 for a remote it could push to but not fetch from', async (t) => {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  // Pushes reach b; fetches go to a path that does not exist.
  git(a, 'remote', 'set-url', '--push', 'b', b);
  git(a, 'remote', 'set-url', 'b', join(b, 'gone'));
  await topo.agents[0]!.start();
  write(a, 'x.txt', 'x\n');
  const r = cli(['-C', a, 'sync']);
  assert.equal(r.code, 1, r.stderr);
  oneLine(r.stderr, /remote 'b' failed: fetch failed/);
  // The push half still happened: b has a's commit, x.txt included.
  assert.equal(git(b, 'rev-parse', 'refs/heads/synced/main').trim(), git(a, 'rev-parse', 'HEAD').trim());
  assert.equal(git(b, 'show', 'synced/main:x.txt'), 'x\n');
});
