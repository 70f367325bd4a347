// A large file that goes into git itself is committed as always, with a warning in the log and in
// status (autosync.largeFileWarning, set small here so the files stay quick to write and hash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { git, initRepo, tmpDir, write } from '../helpers/repos.js';
import { AgentProc, cli, logged } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import type { TestContext } from 'node:test';
import { join } from 'node:path';

const LIMIT = 100_000;

async function agentOn(t: TestContext, annex: boolean): Promise<{ repo: string; agent: AgentProc }> {
  const tmp = tmpDir();
  const repo = initRepo(join(tmp.path, 'r'), { annex });
  git(repo, 'commit', '-q', '--allow-empty', '-m', 'base');
  git(repo, 'config', 'autosync.largeFileWarning', String(LIMIT));
  if (annex) git(repo, 'config', 'annex.largefiles', 'largerthan=1mb');
  assert.equal(cli(['-C', repo, 'init', '--yes']).code, 0);
  const agent = new AgentProc(repo);
  t.after(async () => {
    await agent.stop().catch(() => agent.kill9());
    tmp.cleanup();
  });
  await agent.start();
  return { repo, agent };
}

const committed = (repo: string, path: string) =>
  git(repo, 'ls-tree', '--name-only', 'HEAD', '--', path).trim() === path;

test('plain git: a file above autosync.largeFileWarning is committed with a warning pointing to git-annex', async (t) => {
  const { repo, agent } = await agentOn(t, false);
  write(repo, 'small.txt', 'small\n');
  write(repo, 'big.bin', randomBytes(2 * LIMIT));
  await waitFor(() => committed(repo, 'big.bin') && committed(repo, 'small.txt'), {
    timeoutMs: 30_000,
    what: 'both files committed',
  });
  const st = await waitFor(
    async () => {
      const s = await agent.status();
      return s.warnings && s.warnings.length > 0 ? s : null;
    },
    { timeoutMs: 10_000, what: 'a warning in status' },
  );
  assert.equal(st.warnings!.length, 1, JSON.stringify(st.warnings));
  const w = st.warnings![0]!;
  assert.equal(w.path, 'big.bin');
  assert.equal(w.size, 2 * LIMIT);
  assert.match(
    w.message,
    /^big\.bin is 0\.2 MiB and went into git itself: .*GitHub warns at 50 MB.*git annex init, then set annex\.largefiles/,
  );
  assert.ok(
    logged(repo, w.message, (o) => o.level === 40 && o.path === 'big.bin'),
    'a warn line in agent.log',
  );
});

test('annex: a large file that went to git says which rule left it there; an annexed one is no warning', async (t) => {
  const { repo, agent } = await agentOn(t, true);
  write(repo, 'mid.bin', randomBytes(2 * LIMIT)); // below largerthan=1mb: git
  write(repo, '.big', randomBytes(2 * LIMIT)); // a dotfile: git, whatever largefiles says
  write(repo, 'huge.bin', randomBytes(12 * LIMIT)); // annexed
  await waitFor(() => ['mid.bin', '.big', 'huge.bin'].every((p) => committed(repo, p)), {
    timeoutMs: 60_000,
    what: 'the three files committed',
  });
  assert.match(git(repo, 'cat-file', '-p', 'HEAD:huge.bin'), /^\/annex\/objects\//);
  const st = await waitFor(
    async () => {
      const s = await agent.status();
      return s.warnings && s.warnings.length >= 2 ? s : null;
    },
    { timeoutMs: 10_000, what: 'two warnings in status' },
  );
  const by = new Map(st.warnings!.map((w) => [w.path, w.message]));
  assert.deepEqual([...by.keys()].sort(), ['.big', 'mid.bin']);
  assert.match(by.get('mid.bin')!, /annex\.largefiles in git config \(largerthan=1mb\) does not match it/);
  assert.match(by.get('.big')!, /leaves dotfiles to git unless annex\.dotfiles is true/);
});
