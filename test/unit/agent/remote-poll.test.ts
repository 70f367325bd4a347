// Which remotes the last-resort poll fetches, and how its waits spread: pure decisions, table tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RemotePoll, pollDelay, pollTargets } from '../../../src/agent/remote-poll.js';
import { staysTheSame, waitFor } from '../../helpers/wait.js';
import { tmpDir } from '../../helpers/repos.js';

test('pollTargets: network remotes, and only when XMPP is off', (t) => {
  const tmp = tmpDir();
  t.after(() => tmp.cleanup());
  const bare = join(tmp.path, 'cloud.git');
  for (const d of ['HEAD', 'refs', 'objects']) mkdirSync(join(bare, d), { recursive: true });
  const remotes = [
    { name: 'ssh', url: 'ssh://host/srv/repo.git' },
    { name: 'scp', url: 'host:srv/repo.git' },
    { name: 'https', url: 'https://example.org/repo.git' },
    { name: 'bare', url: bare },
    { name: 'relative', url: '../peer' },
    { name: 'file', url: `file://${bare}` },
    { name: 'absent', url: join(tmp.path, 'not-there') },
  ];
  const cases: Array<[string, boolean, string[]]> = [
    ['XMPP off: the network ones', false, ['ssh', 'scp', 'https']],
    ['XMPP on: none (announcements and reconnect catch-up cover them)', true, []],
  ];
  for (const [name, xmpp, want] of cases) assert.deepEqual(pollTargets(remotes, xmpp), want, name);
  assert.deepEqual(pollTargets([], false), [], 'no remotes, nothing to poll');
});

test('pollDelay: 80-120 % of the period', () => {
  const cases: Array<[number, number, number]> = [
    [300_000, 0, 240_000],
    [300_000, 0.5, 300_000],
    [300_000, 0.999999, 360_000],
    [1_000, 0.25, 900],
  ];
  for (const [period, rnd, want] of cases) assert.equal(pollDelay(period, rnd), want, `${period} ${rnd}`);
});

test('RemotePoll.setPeriod: a new period takes effect at once; 0 ends the timer, a period starts it again', async () => {
  const fetched: string[][] = [];
  const poll = new RemotePoll({ periodMs: 0, targets: () => ['ssh'], requestFetch: (r) => fetched.push(r) });
  await poll.start({ fail: () => undefined });
  try {
    // Off at start (period 0): nothing is fetched.
    await staysTheSame(() => fetched.length, { forMs: 100, what: 'polls while off' });
    assert.equal(fetched.length, 0);
    // On, with a short period: fetches come.
    poll.setPeriod(20);
    await waitFor(() => fetched.length >= 2, { what: 'polls after the period was set', timeoutMs: 5_000 });
    // Off again: they stop.
    poll.setPeriod(0);
    await staysTheSame(() => fetched.length, { forMs: 150, what: 'polls after the period was set to 0' });
  } finally {
    await poll.stop();
  }
});
