// loadConfig: what `git config -z --get-regexp ^autosync\.` prints becomes the agent's settings.
// A fake runner prints it (git's -z format: "key\nvalue\0", or "key\0" for a key with no value);
// one test reads a real repository's config to show the fake prints what git does. The checks of
// each key have their own table test (config-checks.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type AgentConfig } from '../../../src/agent/config.js';
import { Runner, type RunOptions, type RunResult } from '../../../src/git/runner.js';
import { UserError } from '../../../src/core/errors.js';
import type { RepoInfo } from '../../../src/git/repo.js';
import { initRepo, tmpDir } from '../../helpers/repos.js';

/**
 * Answers `git config -z --get-regexp <re>` and `git config -z --get-all <key>` from the given
 * entries the way git does (exit 1 and no output when nothing matches); any other command fails
 * the test, so a new call shape is noticed here.
 */
class ConfigRunner extends Runner {
  readonly calls: Array<{ args: readonly string[]; okCodes?: readonly number[] }> = [];
  constructor(private readonly entries: Array<[string, string | null]>) {
    super('/nonexistent');
  }
  override async git(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ args, okCodes: opts.okCodes });
    const [cmd, z, how, what] = args;
    assert.equal(cmd, 'config');
    assert.equal(z, '-z');
    let stdout: string;
    if (how === '--get-regexp') {
      const re = new RegExp(what ?? '');
      stdout = this.entries
        .filter(([k]) => re.test(k))
        .map(([k, v]) => (v === null ? `${k}\0` : `${k}\n${v}\0`))
        .join('');
    } else if (how === '--get-all') {
      stdout = this.entries
        .filter(([k]) => k === what?.toLowerCase())
        .map(([, v]) => `${v ?? ''}\0`)
        .join('');
    } else return assert.fail(`unexpected git ${args.join(' ')}`);
    return { stdout, stderr: '', code: stdout === '' ? 1 : 0 };
  }
}

const info = {
  workTree: '/home/u/notes',
  gitDir: '/home/u/notes/.git',
  stateDir: '/home/u/notes/.git/autosync',
  branch: 'main',
  mode: 'git',
  annexUuid: null,
} as RepoInfo;

const DEFAULTS: AgentConfig = {
  xmpp: { jid: null, service: null, room: null, resource: null, passwordFile: null },
  keyFile: '/home/u/notes/.git/autosync/key',
  repoId: null,
  watchRemotes: true,
  notifyCommand: null,
  retryMaxMs: 30 * 60_000,
  transferSlots: 2,
  pollMs: 5 * 60_000,
  largeFileWarning: 50 * 1024 * 1024,
  planner: 'tree',
  ignore: [],
};

test('no autosync keys: every default', async () => {
  const runner = new ConfigRunner([]);
  assert.deepEqual(await loadConfig(runner, info), DEFAULTS);
  // Exit 1 is git's "no such key", an answer: every call says so.
  assert.ok(runner.calls.length > 0);
  for (const c of runner.calls) assert.deepEqual(c.okCodes, [1], c.args.join(' '));
});

test('every key set: its value, numbers in ms, paths resolved against the work tree', async () => {
  // git prints the section and key names in lower case.
  const runner = new ConfigRunner([
    ['autosync.xmpp.jid', 'alice@example.org'],
    ['autosync.xmpp.service', 'xmpps://example.org:5223'],
    ['autosync.xmpp.room', 'notes@conference.example.org'],
    ['autosync.xmpp.resource', 'laptop'],
    ['autosync.xmpp.passwordfile', 'secrets/pw'],
    ['autosync.keyfile', '/etc/autosync/key'],
    ['autosync.repoid', 'notes-1'],
    ['autosync.watchremotes', 'off'],
    ['autosync.notifycommand', 'notify-send "synced"'],
    ['autosync.retrymaxinterval', '600'],
    ['autosync.transferslots', '4'],
    ['autosync.pollinterval', '0'],
    ['autosync.largefilewarning', '1024'],
    ['autosync.planner', 'flood'],
    ['autosync.ignore', '*.bak'],
    ['autosync.ignore', '!*.tmp'],
    ['autosync.somethingnew', 'left alone'],
  ]);
  assert.deepEqual(await loadConfig(runner, info), {
    xmpp: {
      jid: 'alice@example.org',
      service: 'xmpps://example.org:5223',
      room: 'notes@conference.example.org',
      resource: 'laptop',
      passwordFile: '/home/u/notes/secrets/pw',
    },
    keyFile: '/etc/autosync/key',
    repoId: 'notes-1',
    watchRemotes: false,
    notifyCommand: 'notify-send "synced"',
    retryMaxMs: 600_000,
    transferSlots: 4,
    pollMs: 0,
    largeFileWarning: 1024,
    planner: 'flood',
    ignore: ['*.bak', '!*.tmp'],
  } satisfies AgentConfig);
});

test('a relative keyFile is resolved against the work tree', async () => {
  const c = await loadConfig(new ConfigRunner([['autosync.keyfile', 'keys/notes']]), info);
  assert.equal(c.keyFile, '/home/u/notes/keys/notes');
});

test('a key with no "= value" is true, as git reads it', async () => {
  const c = await loadConfig(new ConfigRunner([['autosync.watchremotes', null]]), info);
  assert.equal(c.watchRemotes, true);
});

test('a value with a newline in it is kept whole', async () => {
  const c = await loadConfig(new ConfigRunner([['autosync.notifycommand', 'echo a\necho b']]), info);
  assert.equal(c.notifyCommand, 'echo a\necho b');
});

test('the last of a repeated key wins', async () => {
  const c = await loadConfig(
    new ConfigRunner([
      ['autosync.transferslots', '3'],
      ['autosync.transferslots', '5'],
    ]),
    info,
  );
  assert.equal(c.transferSlots, 5);
});

test('a wrong value stops with a UserError (exit 2) that names the key', async () => {
  const cases: Array<[string, string | null, RegExp]> = [
    [
      'autosync.transferslots',
      '0',
      /^git config autosync\.transferSlots "0" is wrong: it must be a whole number/,
    ],
    ['autosync.watchremotes', 'maybe', /^git config autosync\.watchRemotes "maybe" is wrong/],
    ['autosync.keyfile', null, /^git config autosync\.keyFile "" is wrong/],
  ];
  for (const [key, value, want] of cases) {
    await assert.rejects(
      loadConfig(new ConfigRunner([[key, value]]), info),
      (e: unknown) => e instanceof UserError && e.exitCode === 2 && want.test(e.message),
      `${key} = ${String(value)}`,
    );
  }
});

test("a real repository's config reads as the fake prints it", async (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const repo = initRepo(join(tmp.path, 'r'));
  writeFileSync(
    join(repo, '.git', 'config'),
    '[autosync]\n\twatchRemotes\n\tpollInterval = 60\n\tnotifyCommand = "echo a; echo b"\n[autosync "xmpp"]\n\tpasswordFile = pw\n',
    { flag: 'a' },
  );
  const c = await loadConfig(new Runner(repo), {
    ...info,
    workTree: repo,
    stateDir: join(repo, '.git/autosync'),
  });
  assert.equal(c.watchRemotes, true);
  assert.equal(c.pollMs, 60_000);
  assert.equal(c.notifyCommand, 'echo a; echo b');
  assert.equal(c.xmpp.passwordFile, join(repo, 'pw'));
  assert.equal(c.keyFile, join(repo, '.git/autosync/key'));
});
