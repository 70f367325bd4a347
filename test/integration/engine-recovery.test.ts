// Crashes, outages and the failure modes measured in `git annex assistant`: none of them may lose
// data or stop syncing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { read, write, git, initRepo } from '../helpers/repos.js';
import { converged, clean, tree } from '../helpers/agents.js';
import { waitFor } from '../helpers/wait.js';
import { direct, using } from '../helpers/topology.js';

async function pair(t: import('node:test').TestContext) {
  const topo = using(t, (root) => direct(root, ['a', 'b']));
  const [a, b] = topo.clones as [string, string];
  const [agentA, agentB] = topo.agents as [(typeof topo.agents)[0], (typeof topo.agents)[0]];
  return { topo, a, b, agentA, agentB };
}

test('kill -9 in the middle of a burst, then restart: nothing is lost', async (t) => {
  const { topo, a, b, agentA } = await pair(t);
  await topo.startAll();
  mkdirSync(join(a, 'burst'));
  for (let i = 0; i < 2000; i++) {
    writeFileSync(join(a, 'burst', `f${i}.txt`), `content ${i}\n`);
    if (i === 700) await agentA.kill9();
  }
  await agentA.start();
  await waitFor(() => git(b, 'ls-files', 'burst').split('\n').filter(Boolean).length === 2000, {
    timeoutMs: 60_000,
    what: 'all 2,000 files on b after the restart',
  });
  await converged(topo.clones, { timeoutMs: 60_000 });
  assert.equal(read(b, 'burst/f1999.txt'), 'content 1999\n');
  assert.ok(clean(a));
});

test('a peer offline during changes catches up when it starts, in both directions', async (t) => {
  const { topo, a, b, agentA, agentB } = await pair(t);
  await agentA.start();
  write(a, 'while-b-was-down.txt', 'from a\n');
  write(b, 'written-on-b-while-down.txt', 'from b\n');
  // a pushes into b's synced/main even though b's agent is down.
  await waitFor(
    () =>
      git(b, 'for-each-ref', 'refs/heads/synced/main').trim() !== '' &&
      git(a, 'status', '--porcelain').trim() === '',
    {
      what: 'a to commit and push',
    },
  );
  await agentB.start();
  await converged(topo.clones, { what: 'b to catch up at start' });
  assert.equal(read(b, 'while-b-was-down.txt'), 'from a\n');
  assert.equal(read(a, 'written-on-b-while-down.txt'), 'from b\n');
});

test('a remote that is down shows in status, and is caught up when it is back', async (t) => {
  const { topo, a, b, agentA } = await pair(t);
  await topo.startAll();
  git(a, 'config', 'remote.b.url', join(a, '..', 'nowhere'));
  write(a, 'during-outage.txt', 'x\n');
  const st = await waitFor(
    async () => {
      const s = await agentA.status();
      // The push's failure, not only a fetch's (which can come first and leaves lastPushOk as it was).
      return s.remotes.find((r) => r.name === 'b' && r.error && r.lastPushOk === false) ? s : null;
    },
    { what: 'status to report the remote down' },
  );
  assert.equal(st.remotes.find((r) => r.name === 'b')!.lastPushOk, false);
  git(a, 'config', 'remote.b.url', b);
  await waitFor(() => read(b, 'during-outage.txt') === 'x\n', {
    timeoutMs: 30_000,
    what: 'the retry to deliver',
  });
  await waitFor(async () => (await agentA.status()).remotes.every((r) => r.error === null), {
    what: 'status to clear',
  });
});

test('start after kill -9 with a stale index.lock and a half-done merge: no wait, no leftovers', async (t) => {
  const { topo, a, b, agentA } = await pair(t);
  // A conflicting merge left half-done by a human or a dead process.
  write(a, 'm.txt', 'base\n');
  git(a, 'add', '.');
  git(a, 'commit', '-q', '-m', 'base');
  git(b, 'pull', '-q', 'a', 'main');
  write(b, 'm.txt', 'b side\n');
  git(b, 'commit', '-q', '-am', 'b');
  write(a, 'm.txt', 'a side\n');
  git(a, 'commit', '-q', '-am', 'a');
  git(a, 'fetch', '-q', 'b');
  try {
    git(a, 'merge', 'b/main');
  } catch {
    // the conflict is the point
  }
  assert.ok(existsSync(join(a, '.git', 'MERGE_HEAD')));
  // It is the agent's own merge, which died with it (the marker says so).
  writeFileSync(join(a, '.git', 'autosync', 'merging'), git(b, 'rev-parse', 'HEAD'));
  const lock = join(a, '.git', 'index.lock');
  writeFileSync(lock, '');
  utimesSync(lock, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
  writeFileSync(join(a, '.git', 'autosync', 'agent.pid'), '999999\n'); // a dead agent's lock
  const t0 = Date.now();
  await agentA.start();
  write(a, 'after-crash.txt', 'ok\n');
  await topo.agents[1]!.start();
  await waitFor(() => read(b, 'after-crash.txt') === 'ok\n', { what: 'a change after recovery to reach b' });
  assert.ok(Date.now() - t0 < 30_000, 'recovery did not wait out a lock timeout');
  assert.ok(!existsSync(lock));
  assert.ok(!existsSync(join(a, '.git', 'MERGE_HEAD')));
  await converged(topo.clones);
  for (const v of tree(a).values()) assert.ok(!v.includes('<<<<<<<'));
});

test('temp files renamed or deleted before they are added never block later commits', async (t) => {
  const { topo, a, b } = await pair(t);
  await topo.startAll();
  for (let i = 0; i < 200; i++) {
    const tmp = join(a, `.~save${i}.tmp`);
    writeFileSync(tmp, `draft ${i}\n`);
    if (i % 2) rmSync(tmp);
    else renameSync(tmp, join(a, `saved-${i}.txt`));
  }
  write(a, 'final.txt', 'final\n');
  await waitFor(() => read(b, 'final.txt') === 'final\n' && read(b, 'saved-198.txt') === 'draft 198\n', {
    what: 'later files to arrive',
  });
  await converged(topo.clones);
  assert.ok(![...tree(b).keys()].some((p) => p.endsWith('.tmp')), 'no temp file was committed');
});

test('an index.lock held by another git process does not crash the committer', async (t) => {
  const { topo, a, b, agentA } = await pair(t);
  await topo.startAll();
  const pid = (await agentA.status()).pid;
  const lock = join(a, '.git', 'index.lock');
  for (let i = 0; i < 10; i++) {
    writeFileSync(lock, ''); // a fresh lock: another git is working right now
    write(a, `during-lock-${i}.txt`, `${i}\n`);
    await waitFor(() => git(a, 'status', '--porcelain').includes(`during-lock-${i}`), {
      what: 'file visible',
    });
    rmSync(lock);
  }
  await waitFor(() => read(b, 'during-lock-9.txt') === '9\n', {
    what: 'files written under the lock to arrive',
  });
  const st = await agentA.status();
  assert.equal(st.pid, pid, 'same agent process');
  assert.ok(((st.services ?? []) as Array<{ state: string }>).every((s) => s.state === 'running'));
});

test('an edit echoing back from the peer never makes the saved file vanish or change', async (t) => {
  const { topo, a, b } = await pair(t);
  await topo.startAll();
  for (let round = 0; round < 5; round++) {
    const body = `round ${round}\n`.repeat(100);
    write(a, 'echo.txt', body);
    const seenWrong: string[] = [];
    const deadline = Date.now() + 20_000;
    // Watch the writer's copy until the peer has it and has pushed its merge back, and a bit beyond.
    let arrivedAt = 0;
    while (Date.now() < deadline) {
      const here = existsSync(join(a, 'echo.txt')) ? readFileSync(join(a, 'echo.txt'), 'utf8') : null;
      if (here !== body) seenWrong.push(here === null ? 'missing' : 'changed');
      if (!arrivedAt && read(b, 'echo.txt') === body) arrivedAt = Date.now();
      if (arrivedAt && Date.now() - arrivedAt > 300) break;
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(arrivedAt, 'the edit reached b');
    assert.deepEqual(seenWrong, [], `round ${round}: the saved file was never missing or different`);
  }
  await converged(topo.clones);
});

test('a path git refuses (inside a nested repository) is set aside and never blocks other files', async (t) => {
  const { topo, a, b, agentA } = await pair(t);
  await topo.startAll();
  // Someone clones another project into the work tree, then edits inside it.
  initRepo(join(a, 'vendor'));
  write(a, 'vendor/lib.txt', 'nested\n');
  git(join(a, 'vendor'), 'add', '.');
  git(join(a, 'vendor'), 'commit', '-q', '-m', 'nested');
  write(a, 'vendor/lib.txt', 'nested, edited\n');
  write(a, 'ordinary.txt', 'must arrive\n');
  await waitFor(() => read(b, 'ordinary.txt') === 'must arrive\n', { what: 'the ordinary file to arrive' });
  write(a, 'later.txt', 'and later ones too\n');
  await waitFor(() => read(b, 'later.txt') === 'and later ones too\n', { what: 'later commits' });
  // The nested project's files are ordinary files here; its .git is never committed, nor a gitlink.
  assert.doesNotMatch(git(a, 'ls-files', '-s', 'vendor'), /^160000 /m, 'no gitlink was committed');
  assert.equal(git(a, 'ls-files', 'vendor/.git').trim(), '');
  const st = await agentA.status();
  assert.ok(((st.services ?? []) as Array<{ state: string }>).every((s) => s.state === 'running'));
});

test("a user's own merge in progress, or another branch checked out, is left alone until the user is done", async (t) => {
  const { topo, a, b, agentA } = await pair(t);
  write(a, 'm.txt', 'base\n');
  git(a, 'add', '.');
  git(a, 'commit', '-q', '-m', 'base');
  git(b, 'pull', '-q', 'a', 'main');
  git(a, 'checkout', '-q', '-b', 'side');
  write(a, 'm.txt', 'side\n');
  git(a, 'commit', '-q', '-am', 'side');
  git(a, 'checkout', '-q', 'main');
  write(a, 'm.txt', 'main\n');
  git(a, 'commit', '-q', '-am', 'main');
  await topo.startAll();
  // The user's merge (retried if it meets the agent's index.lock, as a person would retry it).
  await waitFor(
    () => {
      try {
        git(a, 'merge', 'side');
      } catch {
        // a conflict (what we want) or a busy index (try again)
      }
      return existsSync(join(a, '.git', 'MERGE_HEAD'));
    },
    { what: 'the user’s merge to stop at its conflict', intervalMs: 100 },
  );
  write(a, 'unrelated.txt', 'saved meanwhile\n');
  let last: unknown = null;
  const st = await waitFor(
    async () => {
      const s = await agentA.status();
      last = { errors: s.errors, pending: s.pendingChanges, services: s.services };
      const why = `${s.errors?.commit ?? ''} ${s.errors?.merge ?? ''}`;
      return why.includes('merge is in progress') ? s : null;
    },
    {
      // The committer retries a refused commit with backoff (0.5 s doubling), so under load the
      // first attempt that meets the merge can come a while after the merge began.
      what: () => `status to say syncing waits for the merge (last status: ${JSON.stringify(last)})`,
      timeoutMs: 45_000,
    },
  );
  assert.ok(st.running);
  assert.ok(existsSync(join(a, '.git', 'MERGE_HEAD')), 'the user’s merge is untouched');
  assert.match(readFileSync(join(a, 'm.txt'), 'utf8'), /<<<<<<</, 'the user’s conflict is untouched');
  // The user resolves and commits; syncing resumes and takes everything along.
  write(a, 'm.txt', 'carefully resolved\n');
  git(a, 'commit', '-q', '-am', 'resolved by hand');
  await waitFor(
    () => read(b, 'm.txt') === 'carefully resolved\n' && read(b, 'unrelated.txt') === 'saved meanwhile\n',
    {
      what: 'the resolution and the waiting file to reach b',
      timeoutMs: 90_000,
    },
  );
  // Another branch checked out: nothing is committed on it and nothing merged into it.
  git(a, 'switch', '-q', '-c', 'feature');
  write(a, 'on-feature.txt', 'not for syncing\n');
  await waitFor(async () => (await agentA.status()).errors?.commit?.includes('HEAD is on branch feature'), {
    what: 'status to say HEAD is elsewhere',
  });
  assert.equal(
    git(a, 'rev-parse', 'feature'),
    git(a, 'rev-parse', 'main'),
    'nothing was committed on feature',
  );
  assert.match(git(a, 'status', '--porcelain'), /\?\? on-feature\.txt/);
  assert.equal(read(b, 'on-feature.txt'), null);
});

test('a peer committing a file with the name of an ignored local file never destroys the local one', async (t) => {
  const { topo, a, b } = await pair(t);
  writeFileSync(join(a, '.git', 'info', 'exclude'), 'local.conf\n');
  write(a, 'local.conf', "a's own settings\n");
  await topo.startAll();
  write(b, 'local.conf', "b's shared settings\n");
  await waitFor(() => read(a, 'local.conf') === "b's shared settings\n", { what: "b's file to arrive on a" });
  const displaced = join(a, '.git', 'autosync', 'displaced');
  const [stamp] = readdirSync(displaced);
  assert.equal(readFileSync(join(displaced, stamp!, 'local.conf'), 'utf8'), "a's own settings\n");
  await converged(topo.clones);
});
