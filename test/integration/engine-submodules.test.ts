// Submodules: a new commit inside one (a gitlink change, ` M sub`) is committed and pushed by the
// agent, by `sync` and by `stop`; an edit inside its work tree is listed under stuck with what to
// do; a peer whose submodule is behind what it merged does not record its old commit back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { git, initRepo, write } from '../helpers/repos.js';
import { cli } from '../helpers/agents.js';
import { settles, waitFor } from '../helpers/wait.js';
import { cloud, using } from '../helpers/topology.js';

const FILE_OK = ['-c', 'protocol.file.allow=always'];

test('submodules: gitlink changes are committed and pushed (agent, sync, stop); edits inside are explained', async (t) => {
  const topo = using(t, (root) => cloud(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  const bare = topo.cloud!;
  const subsrc = initRepo(join(topo.root, 'subsrc'));
  git(subsrc, 'commit', '-q', '--allow-empty', '-m', 's1');
  git(a, ...FILE_OK, 'submodule', 'add', '-q', subsrc, 'sub');
  git(a, 'commit', '-q', '-m', 'add sub');
  git(a, 'push', '-q', 'origin', 'main');
  git(b, 'pull', '-q', '--ff-only', 'origin', 'main');
  git(b, ...FILE_OK, 'submodule', 'update', '-q', '--init');
  await topo.startAll();
  const sub = join(a, 'sub');
  const subHead = () => git(sub, 'rev-parse', 'HEAD').trim();
  const recorded = (repo: string, rev = 'main') => git(repo, 'rev-parse', `${rev}:sub`).trim();
  const [agentA, agentB] = topo.agents as [(typeof topo.agents)[0], (typeof topo.agents)[0]];

  // The agent: a commit in the submodule is recorded and pushed, with no edit in our work tree.
  git(sub, 'commit', '-q', '--allow-empty', '-m', 's2');
  const s2 = subHead();
  await waitFor(() => recorded(bare) === s2, { timeoutMs: 30_000, what: 'the new gitlink in the cloud' });
  assert.equal(git(a, 'status', '--porcelain').trim(), '');

  // b merged it, but its own submodule is still at s1 (a merge does not check submodules out):
  // that is not a change of b's to record, or the two clones would undo each other.
  await waitFor(() => recorded(b, 'HEAD') === s2, { timeoutMs: 30_000, what: 'b to merge the gitlink' });
  const logB = () => readFileSync(join(b, '.git', 'autosync', 'agent.log'), 'utf8').length;
  await settles(logB, { settleMs: 1_000, timeoutMs: 30_000, what: "b's agent to settle" });
  assert.equal(recorded(b, 'HEAD'), s2, 'b did not record its older submodule commit');
  assert.equal(recorded(bare), s2);
  assert.match(git(b, 'status', '--porcelain'), /^ M sub$/m);

  // An edit inside the submodule's work tree: one clear line under stuck, no raw git error.
  write(a, 'sub/inside.txt', 'inside\n');
  const st = await waitFor(
    async () => {
      const s = await agentA.status();
      return s.stuck?.find((x) => x.path === 'sub/inside.txt');
    },
    { timeoutMs: 30_000, what: 'the edit inside the submodule to be listed under stuck' },
  );
  assert.equal(
    st.error,
    "inside submodule 'sub': commit them in the submodule (git -C sub commit) and the agent will record the new submodule commit",
  );
  assert.equal(git(a, 'ls-files', '-s', 'sub').slice(0, 7), '160000 ', 'the gitlink is still a gitlink');
  // Done as it says: the new submodule commit is recorded, and the stuck entry goes.
  git(sub, 'add', 'inside.txt');
  git(sub, 'commit', '-q', '-m', 's3');
  const s3 = subHead();
  await waitFor(async () => recorded(bare) === s3 && (await agentA.status()).stuck?.length === 0, {
    timeoutMs: 30_000,
    what: 'the submodule commit recorded and stuck empty',
  });

  // `sync` through the running agent, and `stop`: each leaves the gitlink committed and pushed.
  git(sub, 'commit', '-q', '--allow-empty', '-m', 's4');
  const s4 = subHead();
  const viaAgent = cli(['-C', a, 'sync']);
  assert.equal(viaAgent.code, 0, viaAgent.stderr);
  assert.equal(recorded(a), s4);
  assert.equal(recorded(bare), s4);
  git(sub, 'commit', '-q', '--allow-empty', '-m', 's5');
  const s5 = subHead();
  await agentA.stop();
  assert.equal(recorded(a), s5);
  assert.equal(recorded(bare), s5);

  // `sync` with no agent running.
  await agentB.stop();
  git(sub, 'commit', '-q', '--allow-empty', '-m', 's6');
  const s6 = subHead();
  const r = cli(['-C', a, 'sync']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(recorded(a), s6);
  assert.equal(recorded(bare), s6);
});
