// The command line: bad input gets one clear line and the right exit code; hooks; idle is quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpDir, initRepo, write, git, read, GIT_ENV } from '../helpers/repos.js';
import { cli, converged, CLI, type AgentProc } from '../helpers/agents.js';
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
  // notify answers an unknown remote as pause does: bad input, exit 2, while the agent runs.
  r = cli(['-C', repo, 'notify', '--remote', 'nope']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /'nope' is not a remote of this repository/);
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

test('arguments: values after a space work as after "="; unknown, extra and misused ones are refused', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const repo = initRepo(join(tmp.path, 'r'));
  const cfg = (k: string) => git(repo, 'config', '--get-regexp', `^autosync\\.xmpp\\.${k}$`).trim();
  // Written as the README shows it: every value after a space.
  let r = cli([
    '-C',
    repo,
    'init',
    '--yes',
    '--jid',
    'alice@example.org',
    '--room',
    'sync@conference.example.org',
    '--service',
    'xmpps://example.org:5223',
    '--resource',
    'laptop',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(cfg('jid'), 'autosync.xmpp.jid alice@example.org');
  assert.equal(cfg('room'), 'autosync.xmpp.room sync@conference.example.org');
  assert.equal(cfg('service'), 'autosync.xmpp.service xmpps://example.org:5223');
  assert.equal(cfg('resource'), 'autosync.xmpp.resource laptop');
  r = cli(['-C', repo, 'init', '--yes', '--jid=bob@example.org']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(cfg('jid'), 'autosync.xmpp.jid bob@example.org');

  const refused: Array<[string[], RegExp]> = [
    [['status', '-x'], /'status' has no option -x; see 'git autosync help status'/],
    [['stop', 'now'], /'stop' takes no arguments \(got 'now'\); see 'git autosync help stop'/],
    [['status', '--json=yes'], /--json takes no value.*'git autosync help status'/],
    [['start', '--foreground=no'], /--foreground takes no value.*'git autosync help start'/],
    [['init', '--jid='], /--jid needs a value.*'git autosync help init'/],
    [['init', '--yes', '--jid'], /--jid needs a value/],
    [['init', '--yes', 'extra'], /'init' takes no arguments \(got 'extra'\)/],
    [
      ['init', '--yes', '--jid', 'carol'],
      /--jid: autosync\.xmpp\.jid "carol" is wrong: .*alice@example\.org/,
    ],
    [['help', 'nosuch'], /unknown verb 'nosuch'/],
  ];
  for (const [argv, re] of refused) {
    r = cli(['-C', repo, ...argv]);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
    oneLine(r.stderr, re);
  }
  // Nothing refused was written: the JID is still the last right one, and no agent started.
  assert.equal(cfg('jid'), 'autosync.xmpp.jid bob@example.org');
  assert.ok(!existsSync(join(repo, '.git', 'autosync', 'agent.pid')));

  // -C on a file, or on nothing: what is wrong, not "spawn ENOTDIR".
  writeFileSync(join(tmp.path, 'afile'), 'x');
  r = cli(['-C', join(tmp.path, 'afile'), 'status']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /afile is not a directory; pass -C <repository>$/);
  r = cli(['-C', join(tmp.path, 'nothing'), 'status']);
  assert.equal(r.code, 2);
  oneLine(r.stderr, /nothing does not exist; pass -C <repository>$/);
});

test('help: --help, help VERB and VERB --help list every option; git autosync --help opens the man page', async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  let r = cli(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: git autosync/);
  assert.match(r.stdout, /^  pair \(--offer \[--json\] \[--timeout S\] \| --accept \[DIR\]\)$/m);
  assert.match(r.stdout, /^  cancel KEY /m);
  for (const argv of [
    ['help', 'init'],
    ['init', '--help'],
    ['init', '-h'],
  ]) {
    r = cli(argv);
    assert.equal(r.code, 0, argv.join(' '));
    for (const f of ['--yes', '--jid J', '--room R', '--service URI', '--resource N', '-C <path>', '--debug'])
      assert.match(r.stdout, new RegExp(`^  ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'), f);
    assert.match(r.stdout, /^exit status:/m);
  }
  r = cli(['start', '--help']);
  assert.match(r.stdout, /^  --foreground +keep the agent attached/m);
  // Asking for help wins over what else is wrong with the line.
  r = cli(['start', '--bogus', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^usage: git autosync \[-C <path>\] start \[--foreground\]$/m);
  assert.doesNotMatch(r.stdout, /daemon-child/);

  // git turns `git autosync --help` into `man git-autosync`: the page the package ships answers.
  const bin = join(tmp.path, 'bin');
  const man1 = join(tmp.path, 'man', 'man1');
  mkdirSync(bin);
  mkdirSync(man1, { recursive: true });
  writeFileSync(join(bin, 'git-autosync'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, {
    mode: 0o755,
  });
  symlinkSync(join(dirname(CLI), '..', '..', '..', 'man', 'git-autosync.1'), join(man1, 'git-autosync.1'));
  const env = {
    ...GIT_ENV,
    PATH: `${bin}:${process.env.PATH}`,
    MANPATH: join(tmp.path, 'man'),
    MANPAGER: 'cat',
    PAGER: 'cat',
    MANWIDTH: '80',
  };
  const viaGit = spawnSync('git', ['-c', 'help.format=man', 'autosync', '--help'], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(viaGit.status, 0, viaGit.stderr);
  assert.match(viaGit.stdout, /GIT-AUTOSYNC\(1\)/);
  assert.match(viaGit.stdout, /--foreground/);
  // Run directly (not through git), --help prints the usage.
  const direct = spawnSync(join(bin, 'git-autosync'), ['--help'], { env, encoding: 'utf8' });
  assert.equal(direct.status, 0);
  assert.match(direct.stdout, /^usage: git autosync/);
  // After the verb, git passes --help through: the verb's own help.
  const verb = spawnSync('git', ['autosync', 'status', '--help'], { env, encoding: 'utf8' });
  assert.match(verb.stdout, /^usage: git autosync \[-C <path>\] status \[--json\] \[--watch\]/);
});

test('bad configuration: exit 2 at init and at start (background and foreground), naming the key', async (t) => {
  const tmp = tmpDir();
  const repo = initRepo(join(tmp.path, 'r'));
  t.after(() => {
    cli(['-C', repo, 'stop']);
    tmp.cleanup();
  });
  const cases: Array<[string, string, RegExp]> = [
    ['autosync.xmpp.jid', 'alice', /autosync\.xmpp\.jid "alice" is wrong: .*like alice@example\.org/],
    [
      'autosync.xmpp.service',
      'http://x',
      /autosync\.xmpp\.service "http:\/\/x" is wrong: .*xmpps:\/\/host:port/,
    ],
    [
      'autosync.xmpp.room',
      'myroom',
      /autosync\.xmpp\.room "myroom" is wrong: .*like sync@conference\.example\.org/,
    ],
    ['autosync.transferSlots', '1.5', /autosync\.transferSlots "1\.5" is wrong: it must be a whole number/],
    ['autosync.watchRemotes', 'banana', /autosync\.watchRemotes "banana" is wrong: it must be true or false/],
    ['autosync.pollInterval', '', /autosync\.pollInterval "" is wrong: it must be a whole number/],
  ];
  for (const [key, value, re] of cases) {
    if (key.startsWith('autosync.xmpp.') && key !== 'autosync.xmpp.jid')
      git(repo, 'config', 'autosync.xmpp.jid', 'alice@example.org');
    git(repo, 'config', key, value);
    for (const argv of [['init', '--yes'], ['start'], ['start', '--foreground']]) {
      const r = cli(['-C', repo, ...argv]);
      assert.equal(r.code, 2, `${key}=${value}, ${argv.join(' ')}: ${r.stdout}${r.stderr}`);
      oneLine(r.stderr, re);
    }
    spawnSync('git', ['config', '--remove-section', 'autosync'], { cwd: repo });
    spawnSync('git', ['config', '--remove-section', 'autosync.xmpp'], { cwd: repo });
  }
  // And with the config right again, start works.
  const r = cli(['-C', repo, 'start']);
  assert.equal(r.code, 0, r.stderr);
});
