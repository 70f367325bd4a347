// `pair --offer --json` and `pair --accept DIR` as processes, with a real Prosody (the two whole
// pairings also on ejabberd, at the end) and a shared remote served by `git daemon` on loopback (a
// network URL, as pairing requires), same-account mode:
// the new device becomes a clone with the same key (0600), its agent starts and comes online, and a
// change made there reaches the offering clone's agent. A wrong code fails on both sides and burns
// the offer: the right code then finds no offer, and nothing is left behind.
import { test, describe, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { lastJson, runCli, startOffer, type Proc } from '../helpers/pair.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startProsody, freePort, type ProsodyServer } from '../helpers/prosody.js';
import { ejabberdMissing, startEjabberd } from '../helpers/ejabberd.js';
import { AgentProc, CLI, cli } from '../helpers/agents.js';
import { GIT_ENV, git, initRepo, read, tmpDir, write } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import { EVEN_WORDS } from '../../src/pair/words.js';

const PASSWORD = 'pairing horse';
let server: ProsodyServer;
let daemon: ChildProcess;
let root: { path: string; cleanup: () => void };
let url = '';

before(async () => {
  server = await startProsody();
  await server.register('anna', PASSWORD);
  await server.register('bert', PASSWORD);
  root = tmpDir('gas-pair-');
  initRepo(join(root.path, 'srv', 'shared.git'), { bare: true });
  const port = await freePort();
  daemon = spawn(
    'git',
    [
      'daemon',
      '--reuseaddr',
      '--export-all',
      '--enable=receive-pack',
      '--listen=127.0.0.1',
      `--port=${port}`,
      `--base-path=${join(root.path, 'srv')}`,
      join(root.path, 'srv'),
    ],
    { stdio: 'ignore' },
  );
  url = `git://127.0.0.1:${port}/shared.git`;
  await waitFor(
    () => {
      try {
        git(root.path, 'ls-remote', url);
        return true;
      } catch {
        return false;
      }
    },
    { what: 'git daemon to serve', timeoutMs: 15_000 },
  );
});
after(async () => {
  daemon?.kill('SIGTERM');
  await server?.stop();
  root?.cleanup();
});

const ENV = { ...GIT_ENV, GIT_AUTOSYNC_XMPP_PASSWORD: PASSWORD };

/** The offering clone: one commit pushed to the shared remote, an XMPP account, a key. */
function offeringClone(name: string): string {
  const a = initRepo(join(root.path, name));
  write(a, 'README', `hello from ${name}\n`);
  git(a, 'add', '-A');
  git(a, 'commit', '-qm', 'first');
  git(a, 'remote', 'add', 'origin', url);
  git(a, 'push', '-q', '--force', 'origin', 'main');
  const r = cli(['-C', a, 'init', '--yes', '--jid', `anna@${server.domain}`, '--service', server.service], {
    env: ENV,
  });
  assert.equal(r.code, 0, r.stderr);
  git(a, 'config', 'autosync.watchRemotes', 'false');
  return a;
}

function run(args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  return runCli(args, { ...ENV, ...opts.env }, opts);
}

async function offer(a: string, timeout = '120'): Promise<{ proc: Proc; code: string; long: string }> {
  const o = await startOffer(a, ENV, timeout);
  assert.match(o.code, /^[0-9]+-[a-z]+-[a-z]+-[a-z]+$/);
  assert.ok(Date.parse(o.expires) > Date.now());
  return o;
}

const acceptArgs = (dir: string) => [
  'pair',
  '--accept',
  dir,
  '--jid',
  `anna@${server.domain}`,
  '--service',
  server.service,
];

const SAME_ACCOUNT =
  'same account, long form: the new device becomes a clone with the key, its agent runs, a change reaches the other side';
/** `under`: a folder of the temp root for this server's clones (their names stay a, b, r, s). */
async function sameAccountLongForm(t: TestContext, under = ''): Promise<void> {
  const a = offeringClone(join(under, 'a'));
  const dir = join(root.path, under, 'b');
  const o = await offer(a);
  // The long form, pasted: it names the account and the server, so no --jid or --service.
  const acc = run(['pair', '--accept', dir], { cwd: root.path, input: o.long + '\n' });
  const [oc, ac] = await Promise.all([o.proc.exit, acc.exit]);
  t.after(() => void cli(['-C', dir, 'stop'], { env: ENV }));
  assert.equal(ac, 0, acc.stderr);
  assert.equal(oc, 0, o.proc.stderr);
  const last = lastJson(o.proc);
  assert.equal(last.paired, true);
  assert.match(String(last.peer), / b$/);
  assert.match(acc.stdout, /paired with ".* a"/);
  // A clone of the same repository, with the same key, 0600, and the account.
  assert.equal(read(dir, 'README'), `hello from ${join(under, 'a')}\n`);
  const keyB = join(dir, '.git/autosync/key');
  assert.equal(readFileSync(keyB, 'utf8'), readFileSync(join(a, '.git/autosync/key'), 'utf8'));
  assert.equal(statSync(keyB).mode & 0o777, 0o600);
  assert.equal(git(dir, 'config', 'autosync.xmpp.jid').trim(), `anna@${server.domain}`);
  // Its agent runs; start A's, and a change made on B reaches A.
  const st = cli(['-C', dir, 'status', '--json'], { env: ENV });
  assert.equal((JSON.parse(st.stdout) as { running: boolean }).running, true);
  git(a, 'config', 'autosync.watchRemotes', 'false');
  const agentA = new AgentProc(a, { GIT_AUTOSYNC_XMPP_PASSWORD: PASSWORD });
  await agentA.start();
  t.after(() => agentA.stop());
  write(dir, 'from-b.txt', 'made on the new device\n');
  await waitFor(() => read(a, 'from-b.txt') === 'made on the new device\n', {
    what: 'the change on the new device to reach the offering clone',
    timeoutMs: 60_000,
  });
}
test(SAME_ACCOUNT, (t) => sameAccountLongForm(t));

test('a wrong code: both sides fail with the wrong-code error, the offer is burned, nothing is left', async () => {
  const a = offeringClone('c');
  const dir = join(root.path, 'd');
  const o = await offer(a);
  const words = o.code.split('-');
  // Another word of the same list at the same place: it passes the local checks and costs the attempt.
  words[2] = EVEN_WORDS.find((w) => w !== words[2])!;
  const acc = run(acceptArgs(dir), { cwd: root.path, input: words.join('-') + '\n' });
  const [oc, ac] = await Promise.all([o.proc.exit, acc.exit]);
  assert.equal(oc, 1);
  assert.equal(ac, 1);
  assert.deepEqual(lastJson(o.proc), { paired: false, error: 'wrong-code' });
  assert.match(acc.stderr, /the pairing stopped after this device proved the code/);
  assert.match(o.proc.stderr, /the code did not match/);
  assert.equal(existsSync(dir), false);
  // The right code now: the offer is gone, so it finds none.
  const again = run(acceptArgs(dir), { cwd: root.path, input: o.code + '\n' });
  assert.equal(await again.exit, 1);
  assert.match(again.stderr, /no device is offering this code/);
  assert.equal(existsSync(dir), false);
});

test('a code that does not parse is refused before anything is sent (exit 2)', async () => {
  const r = run(acceptArgs(join(root.path, 'e')), { cwd: root.path, input: '12-notaword-otter-lucky\n' });
  assert.equal(await r.exit, 2);
  assert.match(r.stderr, /nothing was sent|not a pairing word|check the code/);
  assert.equal(existsSync(join(root.path, 'e')), false);
  // The v1 form, a code in argv: still read, with a warning that argv is visible to others.
  const v1 = run(['pair', '--accept', '12-notaword-otter-lucky', '--jid', `anna@${server.domain}`], {
    cwd: root.path,
  });
  assert.equal(await v1.exit, 2);
  assert.match(v1.stderr, /warning: a code on the command line is visible to other users/);
});

test('an expired code: the offer ends with the expired error', async () => {
  const a = offeringClone('x');
  const o = await offer(a, '1');
  assert.equal(await o.proc.exit, 1);
  assert.deepEqual(lastJson(o.proc), { paired: false, error: 'expired' });
  assert.match(o.proc.stderr, /the code expired/);
});

test('a clone that fails: both sides name the clone step, and nothing is left behind', async () => {
  const a = offeringClone('f');
  git(a, 'remote', 'set-url', 'origin', url.replace('shared.git', 'missing.git'));
  const dir = join(root.path, 'g');
  const o = await offer(a);
  const acc = run(acceptArgs(dir), { cwd: root.path, input: o.code + '\n' });
  const [oc, ac] = await Promise.all([o.proc.exit, acc.exit]);
  assert.equal(oc, 1);
  assert.equal(ac, 1);
  assert.deepEqual(lastJson(o.proc), { paired: false, error: 'apply-failed' });
  assert.match(o.proc.stderr, /clone: git clone failed/);
  assert.match(acc.stderr, /clone: git clone failed/);
  assert.equal(existsSync(dir), false);
});

test('accept into a directory that already holds the repository (code from the environment): configured in place', async (t) => {
  const a = offeringClone('h');
  const dir = join(root.path, 'i');
  git(root.path, 'clone', '-q', url, dir);
  const o = await offer(a);
  const acc = run(acceptArgs(dir), { cwd: root.path, env: { GIT_AUTOSYNC_PAIR_CODE: o.code } });
  const [oc, ac] = await Promise.all([o.proc.exit, acc.exit]);
  t.after(() => void cli(['-C', dir, 'stop'], { env: ENV }));
  assert.equal(ac, 0, acc.stderr);
  assert.equal(oc, 0, o.proc.stderr);
  assert.match(acc.stdout, /configured in place/);
  assert.equal(
    readFileSync(join(dir, '.git/autosync/key'), 'utf8'),
    readFileSync(join(a, '.git/autosync/key'), 'utf8'),
  );
});

const ROOM = 'different accounts: they meet in a room named after the number, from the long form';
async function differentAccountsRoom(t: TestContext, under = ''): Promise<void> {
  const a = offeringClone(join(under, 'r'));
  const room = `sync-r@${server.muc}`;
  git(a, 'config', 'autosync.xmpp.room', room);
  const dir = join(root.path, under, 's');
  const o = await offer(a);
  const long = JSON.parse(o.proc.stdout.split('\n')[0]!) as { long: string };
  const nameplate = o.code.split('-')[0]!;
  const address = JSON.parse(Buffer.from(long.long.split(':')[2]!, 'base64url').toString()) as {
    room: string;
  };
  assert.equal(address.room, `autosync-pair-${nameplate}@${server.muc}`);
  const acc = run(['pair', '--accept', dir, '--jid', `bert@${server.domain}`, '--service', server.service], {
    cwd: root.path,
    input: long.long + '\n',
  });
  const [oc, ac] = await Promise.all([o.proc.exit, acc.exit]);
  t.after(() => void cli(['-C', dir, 'stop'], { env: ENV }));
  assert.equal(ac, 0, acc.stderr);
  assert.equal(oc, 0, o.proc.stderr);
  assert.equal(git(dir, 'config', 'autosync.xmpp.jid').trim(), `bert@${server.domain}`);
  assert.equal(git(dir, 'config', 'autosync.xmpp.room').trim(), room);
}
test(ROOM, (t) => differentAccountsRoom(t));

test('in a terminal, pair asks which side this is, and the code typed is not echoed', async () => {
  const dir = join(root.path, 'tty');
  // script(1) gives the CLI a terminal; what we write to its stdin is typed there.
  const cmd = [process.execPath, CLI, 'pair', '--jid', `anna@${server.domain}`]
    .map((a) => `'${a}'`)
    .join(' ');
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { env: ENV, cwd: root.path, stdio: 'pipe' });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exit = new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
  const answer = async (prompt: string, text: string) => {
    await waitFor(() => out.includes(prompt), {
      what: `the prompt "${prompt}" (got ${JSON.stringify(out)})`,
    });
    child.stdin.write(text + '\r');
  };
  await answer('[o/j]', 'j');
  await answer('Directory for the new clone', dir);
  await answer('Pairing code', '12-brave-otter');
  assert.equal(await exit, 2);
  assert.match(out, /a code has at least 3/);
  assert.doesNotMatch(out, /brave/);
  assert.equal(existsSync(dir), false);
});

// The two pairings again on ejabberd (the other cases test our code, not the server): runs last,
// with `server` pointing at ejabberd meanwhile.
describe('ejabberd', { skip: ejabberdMissing() ?? false }, () => {
  let prosody: ProsodyServer;
  before(async () => {
    prosody = server;
    server = await startEjabberd();
    await server.register('anna', PASSWORD);
    await server.register('bert', PASSWORD);
  });
  after(async () => {
    await server?.stop();
    server = prosody;
  });
  test(SAME_ACCOUNT, (t) => sameAccountLongForm(t, 'ejabberd'));
  test(ROOM, (t) => differentAccountsRoom(t, 'ejabberd'));
});
