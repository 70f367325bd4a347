// A commit the user makes by hand while the agent runs moves the branch without touching the
// committer; it must be pushed all the same, and status must say how far ahead of a remote we are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { git } from '../helpers/repos.js';
import { settles, waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';
import { controlRequest } from '../../src/control/client.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const remoteHead = (bare: string) => git(bare, 'rev-parse', 'refs/heads/main').trim();
const head = (repo: string) => git(repo, 'rev-parse', 'HEAD').trim();

test('hand commits are pushed by themselves, one and ten in a row; status shows ahead while paused', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a']));
  await topo.startAll();
  const [a] = topo.clones as [string];
  const bare = topo.cloud!;
  const agent = topo.agents[0]!;
  await waitFor(async () => (await agent.status()).remotes[0]?.ahead === 0, {
    timeoutMs: 30_000,
    what: 'status to show origin ahead 0 at start',
  });
  // The start-up fetch and push are over (nothing more is logged): from here on, nothing but the
  // moved branch can start a push.
  const logSize = () => readFileSync(join(a, '.git', 'autosync', 'agent.log'), 'utf8').length;
  await settles(logSize, { settleMs: 1_000, timeoutMs: 30_000, what: 'the start-up pass to end' });

  // `--allow-empty`: a commit that touches no file, so the committer has no event at all and only
  // the moved branch can make the push happen.
  git(a, 'commit', '-q', '--allow-empty', '-m', 'by hand 0');
  await waitFor(() => remoteHead(bare) === head(a), {
    timeoutMs: 30_000,
    what: 'the hand commit in the cloud',
  });

  for (let i = 1; i <= 10; i++) git(a, 'commit', '-q', '--allow-empty', '-m', `by hand ${i}`);
  await waitFor(() => remoteHead(bare) === head(a), {
    timeoutMs: 30_000,
    what: 'ten hand commits in the cloud',
  });
  assert.equal(git(bare, 'log', '-1', '--format=%s', 'main').trim(), 'by hand 10');
  assert.equal(git(bare, 'rev-parse', 'refs/heads/synced/main').trim(), head(a));

  await controlRequest(agent.sock, { cmd: 'pause', remote: 'origin' }, 10_000);
  git(a, 'commit', '-q', '--allow-empty', '-m', 'while paused 1');
  git(a, 'commit', '-q', '--allow-empty', '-m', 'while paused 2');
  const st = await waitFor(
    async () => {
      const s = await agent.status();
      return s.remotes[0]?.ahead === 2 ? s : null;
    },
    { timeoutMs: 30_000, what: 'status to show origin 2 ahead while paused' },
  );
  assert.equal(st.remotes[0]!.paused, true);
  assert.notEqual(remoteHead(bare), head(a), 'a paused remote gets nothing');

  await controlRequest(agent.sock, { cmd: 'resume', remote: 'origin' }, 10_000);
  await waitFor(async () => remoteHead(bare) === head(a) && (await agent.status()).remotes[0]?.ahead === 0, {
    timeoutMs: 30_000,
    what: 'resume to push the paused commits and status to show ahead 0',
  });
});
