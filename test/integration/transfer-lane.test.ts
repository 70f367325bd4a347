// The git-annex lane on its own (real git-annex): pipelined keys are answered in order, including
// git-annex's bare blank line for "nothing to do"; a killed lane fails the running key and hands the
// pipelined ones back as not started. And the pool's fallback when the cheapest holder is down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { git, write } from '../helpers/repos.js';
import { waitFor } from '../helpers/wait.js';
import {
  addAndCommit,
  annex,
  hasKey,
  initAnnex,
  initBareAnnex,
  startService,
  syncGit,
  writeBig,
  scratch,
} from '../helpers/annex.js';
import { AnnexLane } from '../../src/transfer/batch.js';
import { EventBus } from '../../src/core/bus.js';

test('lane: pipelined keys are answered in order, blank line included', { timeout: 30_000 }, async (t) => {
  const d = scratch(t);
  const C = initBareAnnex(join(d.path, 'C'), 'cloud');
  const A = initAnnex(join(d.path, 'A'), 'A');
  git(A, 'remote', 'add', 'cloud', C);
  write(A, 'one.txt', 'one\n');
  write(A, 'two.txt', 'two\n');
  const [k1, k2] = addAndCommit(A, ['one.txt', 'two.txt']);
  annex(A, 'sync', '--no-content', '--quiet');
  const unknown = 'SHA256E-s5--0000000000000000000000000000000000000000000000000000000000000000.txt';
  const lane = new AnnexLane({ repoDir: A, direction: 'upload', remote: 'cloud' });
  lane.start();
  d.defer(() => lane.killAndWait());
  const results = await Promise.all([lane.transfer(k1!), lane.transfer(unknown), lane.transfer(k2!)]);
  assert.deepEqual(
    results.map((r) => [r.key, r.ok, r.noop]),
    [
      [k1, true, false],
      [unknown, true, true],
      [k2, true, false],
    ],
  );
  await lane.close();
  assert.ok(hasKey(C, k1!) && hasKey(C, k2!));
  // Closing the lane committed the location log to the git-annex branch.
  assert.match(
    git(
      A,
      'show',
      'git-annex:' + annex(A, 'examinekey', '--format=${hashdirlower}', k1!).trim() + k1! + '.log',
    ),
    /\d/,
  );
});

test(
  'lane: a kill fails the running key and returns pipelined keys as not started',
  { timeout: 30_000 },
  async (t) => {
    const d = scratch(t);
    const C = initBareAnnex(join(d.path, 'C'), 'cloud');
    const A = initAnnex(join(d.path, 'A'), 'A');
    git(A, 'remote', 'add', 'cloud', C);
    writeBig(join(A, 'big.bin'), 32 * 1024 * 1024);
    write(A, 'small.txt', 'small\n');
    const [kb, ks] = addAndCommit(A, ['big.bin', 'small.txt']);
    annex(A, 'sync', '--no-content', '--quiet');
    let progressed = 0;
    const lane = new AnnexLane({
      repoDir: A,
      direction: 'upload',
      remote: 'cloud',
      bwlimit: '4MiB',
      onProgress: (_k, bytes) => (progressed = bytes),
    });
    lane.start();
    const p1 = lane.transfer(kb!);
    const p2 = lane.transfer(ks!);
    assert.equal(lane.inFlight, 2);
    assert.equal(lane.busyKey, kb);
    await waitFor(() => progressed > 0, { what: 'progress on the big key' });
    lane.kill();
    const [r1, r2] = await Promise.all([p1, p2]);
    assert.equal(r1.ok, false);
    assert.ok(!r1.notStarted);
    assert.match(r1.error ?? '', /killed by SIG(TERM|KILL)/);
    assert.equal(r2.ok, false);
    assert.equal(r2.notStarted, true);
    assert.equal(lane.alive, false);
    assert.equal(hasKey(C, ks!), false);
  },
);

test(
  'download falls back at once to the next holder when the cheapest is unreachable',
  { timeout: 60_000 },
  async (t) => {
    const d = scratch(t);
    const near = initBareAnnex(join(d.path, 'near'), 'near');
    const far = initBareAnnex(join(d.path, 'far'), 'far');
    const A = initAnnex(join(d.path, 'A'), 'A');
    const B = initAnnex(join(d.path, 'B'), 'B');
    for (const r of [A, B]) {
      git(r, 'remote', 'add', 'near', near);
      git(r, 'remote', 'add', 'far', far);
    }
    write(A, 'f.txt', 'payload\n');
    const [k] = addAndCommit(A, ['f.txt']);
    annex(A, 'copy', '--quiet', '--to=near', 'f.txt');
    annex(A, 'copy', '--quiet', '--to=far', 'f.txt');
    syncGit(A);
    syncGit(B);
    // B's "near" is now somewhere it cannot reach, but still the cheapest by configuration.
    git(B, 'config', 'remote.near.url', 'ssh://127.0.0.1:1/nowhere');
    git(B, 'config', 'remote.near.annex-cost', '10');
    git(B, 'config', 'remote.far.annex-cost', '300');
    const events: string[] = [];
    const bus = new EventBus();
    bus.on('transferChanged', (e) => events.push(`${e.remote}:${e.state}`));
    // Only B's own copy counts for "wanted": A is not a remote of B.
    const b = await startService(B, { bus });
    d.defer(b.stop);
    await waitFor(() => hasKey(B, k!), { timeoutMs: 30_000, what: 'content on B from far' });
    assert.ok(events.includes('near:fallback'), events.join(' '));
    await waitFor(() => events.includes('far:done'), { what: `far:done in ${events.join(' ')}` });
    assert.equal(b.svc.status().failed, 0);
  },
);
