// What the status/stop/pause/start/sync verbs do and print, as a person meets them: they work with
// a detached HEAD, print no stack traces, say what `sync` did, write no terminal codes into a pipe,
// and the agent's log is private (0600) and, with --debug, verbose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, initRepo, write, git, GIT_ENV } from '../helpers/repos.js';
import { cli, CLI } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from '../../src/core/pidfile.js';

/** No log level from the caller's environment: what the verbs themselves choose is under test. */
const ENV = { GIT_AUTOSYNC_LOG_LEVEL: '' };

/** Whether the process runs: a zombie has stopped (where no init reaps it, as in some containers,
 * kill(pid, 0) still succeeds on it after the agent exited). */
function alive(pid: number): boolean {
  return isAlive(pid);
}

/** A clone with one commit and a bare `origin`, and a cleanup that stops any agent left on it. */
function setup(t: { after: (fn: () => void) => void }): { repo: string; bare: string; root: string } {
  const tmp = tmpDir();
  const bare = initRepo(join(tmp.path, 'origin.git'), { bare: true });
  const repo = initRepo(join(tmp.path, 'clone'));
  write(repo, 'first.txt', '1\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'first');
  git(repo, 'remote', 'add', 'origin', bare);
  t.after(() => {
    git(repo, 'checkout', '-q', '-f', 'main');
    cli(['-C', repo, 'stop'], { env: ENV });
    tmp.cleanup();
  });
  return { repo, bare, root: tmp.path };
}

/** Runs a shell pipeline with bash; the exit code is that of the pipeline's first command. */
function pipeline(cmd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', `${cmd}; exit \${PIPESTATUS[0]}`], {
    env: { ...GIT_ENV, ...ENV },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('a detached HEAD does not lock the user out: status, pause, resume and stop work', async (t) => {
  const { repo } = setup(t);
  let r = cli(['-C', repo, 'start'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  const pid = JSON.parse(cli(['-C', repo, 'status', '--json']).stdout).pid as number;
  assert.ok(alive(pid));
  // As `git rebase -i` and `git checkout <sha>` leave it.
  git(repo, 'checkout', '-q', '--detach');

  r = cli(['-C', repo, 'status', '--json'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  const st = JSON.parse(r.stdout);
  assert.equal(st.running, true);
  assert.equal(st.branch, 'main');
  assert.equal(st.checkedOut, null);
  r = cli(['-C', repo, 'status'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^problem +HEAD is detached, not main; syncing waits until you switch back: git switch main$/m,
  );
  for (const verb of ['pause', 'resume']) {
    r = cli(['-C', repo, verb], { env: ENV });
    assert.equal(r.code, 0, `${verb}: ${r.stderr}`);
  }
  // An edit made while detached waits; stop must still stop, and leave the edit where it is.
  write(repo, 'wip.txt', 'while detached\n');
  await waitFor(() => JSON.parse(cli(['-C', repo, 'status', '--json']).stdout).pendingChanges === 1, {
    what: 'the edit to be seen',
  });
  r = cli(['-C', repo, 'stop'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /agent stopped/);
  assert.equal(alive(pid), false, 'the agent process is gone');
  assert.equal(readFileSync(join(repo, 'wip.txt'), 'utf8'), 'while detached\n');

  // With no agent, status still works and says why start would not; start and sync refuse (exit 2).
  r = cli(['-C', repo, 'status'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /HEAD detached/);
  assert.match(r.stdout, /^problem +HEAD is detached; 'git autosync start' and 'sync' need a branch/m);
  assert.equal(JSON.parse(cli(['-C', repo, 'status', '--json']).stdout).checkedOut, null);
  for (const verb of ['start', 'sync']) {
    r = cli(['-C', repo, verb], { env: ENV });
    assert.equal(r.code, 2, verb);
    assert.match(r.stderr, /^git-autosync: HEAD is detached/);
  }
});

test('start --debug in the background: the agent logs at debug level, into a 0600 agent.log', async (t) => {
  const { repo } = setup(t);
  // A log left by an older version, readable by all: its mode is fixed at start.
  const log = join(repo, '.git', 'autosync', 'agent.log');
  mkdirSync(join(repo, '.git', 'autosync'), { recursive: true, mode: 0o700 });
  writeFileSync(log, '');
  chmodSync(log, 0o644);
  const r = cli(['-C', repo, 'start', '--debug'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(log).mode & 0o777, 0o600);
  write(repo, 'two.txt', '2\n');
  await waitFor(() => git(repo, 'log', '-1', '--format=%s').includes('1 added'), { what: 'the commit' });
  const levels = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { level: number }).level);
  assert.ok(levels.includes(20), `debug lines in agent.log (levels seen: ${[...new Set(levels)].join(',')})`);
  assert.equal(cli(['-C', repo, 'stop']).code, 0);
});

test('a new agent.log is created 0600', async (t) => {
  const { repo } = setup(t);
  assert.equal(cli(['-C', repo, 'start'], { env: ENV }).code, 0);
  assert.equal(statSync(join(repo, '.git', 'autosync', 'agent.log')).mode & 0o777, 0o600);
  assert.equal(statSync(join(repo, '.git', 'autosync', 'agent.out')).mode & 0o777, 0o600);
});

test('no stack traces: a second start --foreground is one line, a closed pipe is a quiet exit 0', async (t) => {
  const { repo } = setup(t);
  assert.equal(cli(['-C', repo, 'start'], { env: ENV }).code, 0);
  const r = cli(['-C', repo, 'start', '--foreground'], { env: ENV });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^git-autosync: an agent is already running for this repository \(pid \d+\); use 'git autosync stop' first\n$/,
  );

  // The reader goes away after three lines; the next write meets EPIPE.
  const p = pipeline(`node ${CLI} -C ${repo} status --watch --json | head -3 >/dev/null`);
  assert.equal(p.stderr, '');
  assert.equal(p.code, 0);
});

test('status --watch into a pipe: no clear-screen escapes, just one picture after another', async (t) => {
  const { repo } = setup(t);
  const p = pipeline(`node ${CLI} -C ${repo} status --watch | head -16`);
  assert.equal(p.code, 0, p.stderr);
  assert.ok(p.stdout.split('\n').filter((l) => l.startsWith('repository')).length >= 2, p.stdout);
  assert.doesNotMatch(p.stdout, /\x1b/);
});

test('sync says what it did: committed N files or nothing to commit, and the remotes synced', async (t) => {
  const { repo, bare } = setup(t);
  write(repo, 'a.txt', 'a\n');
  write(repo, 'b.txt', 'b\n');
  let r = cli(['-C', repo, 'sync'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'git-autosync: committed 2 files; synced with origin\n');
  assert.equal(git(bare, 'rev-parse', 'main').trim(), git(repo, 'rev-parse', 'HEAD').trim());
  r = cli(['-C', repo, 'sync'], { env: ENV });
  assert.equal(r.stdout, 'git-autosync: nothing to commit; synced with origin\n');
  // Through a running agent: it has committed the edit itself by the time we ask.
  assert.equal(cli(['-C', repo, 'start'], { env: ENV }).code, 0);
  write(repo, 'c.txt', 'c\n');
  await waitFor(() => git(repo, 'log', '-1', '--format=%s').includes('1 added'), { what: 'the commit' });
  r = cli(['-C', repo, 'sync'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'git-autosync: nothing to commit; synced with origin\n');
  // A paused remote is left alone, and sync says so (not "no remotes to sync with").
  assert.equal(cli(['-C', repo, 'pause', '--remote', 'origin']).code, 0);
  r = cli(['-C', repo, 'sync'], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'git-autosync: nothing to commit; no remote synced; paused, not synced: origin\n');
});

test('start --foreground on a terminal: log lines are readable, not JSON', async (t) => {
  const { repo } = setup(t);
  // script(1) gives the agent a pseudo-terminal for its stdout and stderr.
  const child = spawn(
    'script',
    ['-qfec', `${process.execPath} ${CLI} -C ${repo} start --foreground`, '/dev/null'],
    {
      env: { ...GIT_ENV, ...ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  t.after(() => child.kill('SIGKILL'));
  await waitFor(() => out.includes('agent running'), {
    timeoutMs: 30_000,
    what: () => `agent running in ${out}`,
  });
  assert.equal(cli(['-C', repo, 'stop'], { env: ENV }).code, 0);
  await exited;
  assert.match(out, /INFO.*agent running/);
  assert.doesNotMatch(out, /"level":/);
  assert.ok(!existsSync(join(repo, '.git', 'autosync', 'agent.pid')));
});
