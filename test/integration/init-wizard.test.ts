// The init wizard, typed at in a real pseudo-terminal (util-linux `script` gives the CLI a pty as
// stdin and stdout): a wrong JID, server or room is asked again with the line that says what is
// wrong, the server is asked with its default found from the JID, the password is never echoed,
// and Ctrl-C leaves the configuration as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpDir, initRepo, git, GIT_ENV } from '../helpers/repos.js';
import { CLI } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';

/** A generous deadline per prompt: the machine may be loaded. */
const PROMPT_MS = 30_000;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The CLI on a pty; `output` is everything the terminal showed (the pty echoes what it echoes). */
function onPty(args: string[]) {
  const cmd = [process.execPath, CLI, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
    env: { ...GIT_ENV, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const p = {
    output: '',
    /** How much of `output` the last `expect` consumed: each prompt is waited for after the last. */
    seen: 0,
    exit: new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1))),
    async expect(text: string): Promise<void> {
      await waitFor(() => p.output.indexOf(text, p.seen) >= 0, {
        timeoutMs: PROMPT_MS,
        what: JSON.stringify(text),
      }).catch((e: Error) => {
        throw new Error(`${e.message}; the terminal shows: ${JSON.stringify(p.output.slice(-400))}`);
      });
      p.seen = p.output.indexOf(text, p.seen) + text.length;
    },
    type(keys: string): void {
      child.stdin.write(keys);
    },
    kill(): void {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (p.output += d));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (p.output += d));
  return p;
}

const config = (repo: string, key: string) =>
  git(repo, 'config', '--get-regexp', `^${key.replace(/\./g, '\\.')}$`)
    .trim()
    .slice(key.length + 1);

test('wizard: wrong answers are asked again, the server is asked, the password is never shown', async (t) => {
  const tmp = tmpDir();
  const repo = initRepo(join(tmp.path, 'r'));
  const pty = onPty(['-C', repo, 'init']);
  t.after(() => {
    pty.kill();
    tmp.cleanup();
  });
  const PASSWORD = 'Zq7-hunter2-sEcret';
  await pty.expect('XMPP account, like alice@example.org [none]: ');
  pty.type('alice\r');
  await pty.expect('autosync.xmpp.jid "alice" is wrong: it must be an XMPP address');
  await pty.expect('XMPP account, like alice@example.org [none]: ');
  pty.type('alice@example.org\r');
  // The server, with its default: found from the JID's domain.
  await pty.expect('XMPP server, xmpp://host:port or xmpps://host:port [found from example.org]: ');
  pty.type('http://x\r');
  await pty.expect('autosync.xmpp.service "http://x" is wrong');
  await pty.expect('[found from example.org]: ');
  pty.type('xmpps://example.org:5223\r');
  await pty.expect(
    'Room shared by the clones, like sync@conference.example.org [none: signal this account only]: ',
  );
  pty.type('myroom\r');
  await pty.expect('autosync.xmpp.room "myroom" is wrong: it must be a room address');
  await pty.expect('[none: signal this account only]: ');
  pty.type('sync@conference.example.org\r');
  await pty.expect('Password (not shown as you type');
  await pty.expect(']: ');
  // Typed a key at a time, with a backspace, as a person types it.
  for (const c of PASSWORD + 'x\x7f') pty.type(c);
  pty.type('\r');
  await pty.expect('is ready');
  assert.equal(await pty.exit, 0, pty.output);

  assert.equal(config(repo, 'autosync.xmpp.jid'), 'alice@example.org');
  assert.equal(config(repo, 'autosync.xmpp.service'), 'xmpps://example.org:5223');
  assert.equal(config(repo, 'autosync.xmpp.room'), 'sync@conference.example.org');
  const file = config(repo, 'autosync.xmpp.passwordFile');
  assert.equal(readFileSync(file, 'utf8'), PASSWORD + '\n');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  // Not the password, not a piece of it, not one '*' per key either.
  for (const piece of [PASSWORD, 'Zq7', 'hunter2', 'sEcret']) assert.ok(!pty.output.includes(piece), piece);
  assert.doesNotMatch(pty.output, /\*{3}/);
});

test('wizard: Enter keeps the values there; Ctrl-C part way changes nothing', async (t) => {
  const tmp = tmpDir();
  const repo = initRepo(join(tmp.path, 'r'));
  git(repo, 'config', 'autosync.xmpp.jid', 'bob@example.net');
  // One clean-up, in order: the wizards are killed before their repository is removed.
  const ptys: Array<{ kill(): void }> = [];
  t.after(() => {
    for (const p of ptys) p.kill();
    tmp.cleanup();
  });

  const first = onPty(['-C', repo, 'init']);
  ptys.push(first);
  await first.expect('[bob@example.net]: ');
  first.type('carol@example.org\r');
  await first.expect('[found from example.org]: ');
  first.type('\x03');
  assert.equal(await first.exit, 1, first.output);
  assert.match(first.output, /setup cancelled; nothing was changed by the wizard/);
  assert.equal(config(repo, 'autosync.xmpp.jid'), 'bob@example.net');

  const second = onPty(['-C', repo, 'init']);
  ptys.push(second);
  await second.expect('[bob@example.net]: ');
  second.type('\r');
  await second.expect('[found from example.net]: ');
  second.type('\r');
  await second.expect('[none: signal this account only]: ');
  second.type('\r');
  await second.expect('[skip]: ');
  second.type('\r');
  assert.equal(await second.exit, 0, second.output);
  assert.equal(config(repo, 'autosync.xmpp.jid'), 'bob@example.net');
  assert.equal(
    git(repo, 'config', '--get-regexp', '^autosync\\.xmpp\\.').trim(),
    'autosync.xmpp.jid bob@example.net',
  );
});
